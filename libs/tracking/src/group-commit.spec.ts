import { GroupCommitter, type SinkResult } from './group-commit.js';

const rec = (id: string) => ({ identifiers: [{ type: 'anonymous_id' as const, value: id }] });

/** A sink that records each call and answers every record with a profile id (rejecting ids starting with "bad"). */
function recordingSink(options: { failWhen?: (ids: string[]) => boolean; gate?: Promise<void> } = {}) {
  const calls: string[][] = [];
  const sink = async (records: any[]): Promise<SinkResult> => {
    const ids = records.map((r) => r.identifiers[0].value as string);
    calls.push(ids);
    await options.gate;
    if (options.failWhen?.(ids)) throw new Error('poisoned batch');
    return {
      profileIds: ids.map((id) => (id.startsWith('bad') ? null : `p-${id}`)),
      rejected: ids.flatMap((id, index) => (id.startsWith('bad') ? [{ index, reason: `refused ${id}` }] : [])),
    };
  };
  return { calls, sink };
}

describe('GroupCommitter', () => {
  it('writes concurrent submissions of one source in one call and answers each with its own slice', async () => {
    const { calls, sink } = recordingSink();
    const committer = new GroupCommitter(sink, { maxRecords: 100, maxWaitMs: 5, maxConcurrent: 2 });
    const [a, b, c] = await Promise.all([
      committer.submit('s1', {}, [rec('a1'), rec('a2')]),
      committer.submit('s1', {}, [rec('bad-b1'), rec('b2')]),
      committer.submit('s1', {}, [rec('c1')]),
    ]);
    expect(calls).toEqual([['a1', 'a2', 'bad-b1', 'b2', 'c1']]);
    expect(a).toEqual({ profileIds: ['p-a1', 'p-a2'], rejected: [] });
    expect(b).toEqual({ profileIds: [null, 'p-b2'], rejected: [{ index: 0, reason: 'refused bad-b1' }] });
    expect(c).toEqual({ profileIds: ['p-c1'], rejected: [] });
  });

  it('keeps sources apart and cuts a group at maxRecords', async () => {
    const { calls, sink } = recordingSink();
    const committer = new GroupCommitter(sink, { maxRecords: 3, maxWaitMs: 5, maxConcurrent: 4 });
    await Promise.all([
      committer.submit('s1', {}, [rec('a'), rec('b'), rec('c')]),
      committer.submit('s1', {}, [rec('d')]),
      committer.submit('s2', {}, [rec('x')]),
    ]);
    expect(calls).toHaveLength(3);
    expect(calls).toEqual(expect.arrayContaining([['a', 'b', 'c'], ['d'], ['x']]));
  });

  it('lets groups grow while every writer is busy', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { calls, sink } = recordingSink({ gate });
    const committer = new GroupCommitter(sink, { maxRecords: 100, maxWaitMs: 1, maxConcurrent: 1 });
    const first = committer.submit('s', {}, [rec('1')]);
    await new Promise((r) => setTimeout(r, 10)); // the first group is being written (held by the gate)
    const rest = [2, 3, 4].map((n) => committer.submit('s', {}, [rec(String(n))]));
    await new Promise((r) => setTimeout(r, 10));
    open();
    await Promise.all([first, ...rest]);
    expect(calls).toEqual([['1'], ['2', '3', '4']]);
  });

  it('retries a failed group request by request, so only the culprit fails', async () => {
    const { calls, sink } = recordingSink({ failWhen: (ids) => ids.includes('poison') });
    const committer = new GroupCommitter(sink, { maxRecords: 100, maxWaitMs: 5, maxConcurrent: 1 });
    const good = committer.submit('s', {}, [rec('g1')]);
    const bad = committer.submit('s', {}, [rec('poison')]);
    await expect(good).resolves.toEqual({ profileIds: ['p-g1'], rejected: [] });
    await expect(bad).rejects.toThrow('poisoned batch');
    expect(calls).toEqual([['g1', 'poison'], ['g1'], ['poison']]);
  });

  it('drain writes what is pending at once', async () => {
    const { calls, sink } = recordingSink();
    const committer = new GroupCommitter(sink, { maxRecords: 100, maxWaitMs: 60_000, maxConcurrent: 1 });
    const pending = committer.submit('s', {}, [rec('late')]);
    await committer.drain();
    expect(calls).toEqual([['late']]);
    await expect(pending).resolves.toEqual({ profileIds: ['p-late'], rejected: [] });
  });
});
