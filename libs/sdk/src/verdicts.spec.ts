import { ConfigurationError, TransientError } from './errors.js';
import { sendInChunks, verdictsForFailure, writeAddsThenRemoves } from './verdicts.js';

describe('destination verdict helpers', () => {
  it('turns a failure into retry or abort verdicts with its failure type', () => {
    expect(verdictsForFailure(new TransientError('slow down', { retryAfterMs: 1500 }), 2)).toEqual([
      { retryInMs: 1500, reason: 'slow down' },
      { retryInMs: 1500, reason: 'slow down' },
    ]);
    expect(verdictsForFailure(new ConfigurationError('token expired'), 1)).toEqual([
      { abort: 'token expired', failureType: 'config' },
    ]);
    expect(verdictsForFailure(new Error('boom'), 1)).toEqual([{ abort: 'boom', failureType: 'system' }]);
  });

  it('sends chunks in order and gives the failed chunk and the rest its verdict, unsent', async () => {
    const sent: number[][] = [];
    const result = await sendInChunks([1, 2, 3, 4, 5], 2, async (chunk) => {
      sent.push(chunk);
      if (chunk[0] === 3) throw new ConfigurationError('audience deleted');
      return {
        verdicts: chunk.map(() => ({ ok: true as const })),
        requests: [{ operation: 'add', items: chunk.length }],
      };
    });
    expect(sent).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(result.verdicts).toEqual([
      { ok: true },
      { ok: true },
      ...Array.from({ length: 3 }, () => ({ abort: 'audience deleted', failureType: 'config' })),
    ]);
    expect(result.requests).toEqual([{ operation: 'add', items: 2 }]);
    expect(result.failure).toBeInstanceOf(ConfigurationError);
  });

  it('skips the removals after failed additions, with the same verdict', async () => {
    let removalsSent = false;
    const result = await writeAddsThenRemoves(
      [1],
      [2, 3],
      (items) => sendInChunks(items, 10, () => Promise.reject(new TransientError('throttled', { retryAfterMs: 10 }))),
      async (items) => {
        removalsSent = true;
        return { verdicts: items.map(() => ({ ok: true as const })), requests: [] };
      },
    );
    expect(removalsSent).toBe(false);
    expect(result.removes).toEqual([
      { retryInMs: 10, reason: 'throttled' },
      { retryInMs: 10, reason: 'throttled' },
    ]);
  });
});
