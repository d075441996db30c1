import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  ActivationRepository,
  emptyBatchPayload,
  LeaseLostError,
  type MemberOutcome,
  type MirrorState,
} from '@plexus/storage';
import { openTestStorage } from '../support/database.js';
import { insertActivation } from './support.js';

/**
 * A worker that lost its lease still records the answers of the batches it had in flight (the platform's answers
 * are facts), possibly after the new lease holder sent the same batches again, recorded them and went on. Such a
 * late record must not take the cursor, the mirror state or a member's ledger row back.
 */
describe.each(['postgres', 'pglite'] as const)('late batch records (%s)', (kind) => {
  let storage: Awaited<ReturnType<typeof openTestStorage>>;
  let repository: ActivationRepository;

  beforeAll(async () => {
    storage = await openTestStorage(kind, 'activation_cursor');
    repository = new ActivationRepository(storage.database);
  }, 120_000);
  afterAll(() => storage.close());

  async function batch(activationId: string, seq: number, cursorTo: number): Promise<string> {
    const id = randomUUID();
    await repository.insertBatch({
      id,
      activationId,
      runId: null,
      seq,
      kind: 'write',
      cursorTo,
      session: null,
      payload: emptyBatchPayload(),
    });
    return id;
  }

  const record = (
    activationId: string,
    batchId: string,
    cursorTo: number,
    extra: { members?: MemberOutcome[]; mirror?: MirrorState } = {},
  ) =>
    repository.recordBatch({
      activationId,
      batchId,
      state: 'confirmed',
      accepted: extra.members?.length ?? 0,
      invalid: 0,
      failed: 0,
      answer: [],
      members: extra.members ?? [],
      cursorTo,
      ...(extra.mirror ? { mirror: extra.mirror } : {}),
    });

  const activation = () => insertActivation(repository);

  it('move the cursor forward only, for a batch the new lease holder has not recorded yet', async () => {
    const id = await activation();
    const older = await batch(id, 1, 10_000);
    const newer = await batch(id, 2, 20_000);

    expect(await record(id, newer, 20_000)).toBe(true); // recorded by the new lease holder
    expect((await repository.get(id))?.cursor).toBe(20_000);
    expect(await record(id, older, 10_000)).toBe(true); // the old holder's answer, still the first for this batch
    expect((await repository.get(id))?.cursor).toBe(20_000);
    expect((await repository.batchesByIds([older]))[0].state).toBe('confirmed');

    const next = await batch(id, 3, 30_000);
    await record(id, next, 30_000);
    expect((await repository.get(id))?.cursor).toBe(30_000);
  });

  it('are refused whole for a batch already recorded: ledger rows, cursor and mirror state stay', async () => {
    const id = await activation();
    const profileId = randomUUID();
    const item = { EMAIL: 'a'.repeat(64) };
    const mirror = (batchSeq: number): MirrorState => ({
      sessionId: 7,
      batchSeq,
      cursor: 5,
      afterProfileId: profileId,
    });
    const first = await batch(id, 1, 10_000);
    const second = await batch(id, 2, 20_000);
    const added: MemberOutcome = { profileId, state: 'held', event: 'add', item, fingerprints: [] };
    // The new lease holder sent the first batch again and recorded it, then a later change removed the member.
    expect(await record(id, first, 10_000, { members: [added], mirror: mirror(1) })).toBe(true);
    const removed: MemberOutcome = { profileId, state: 'removed', event: 'remove', reason: 'exited' };
    expect(await record(id, second, 20_000, { members: [removed], mirror: mirror(2) })).toBe(true);
    // The old holder's answer for the first batch arrives now.
    expect(await record(id, first, 10_000, { members: [added], mirror: mirror(1) })).toBe(false);
    const [row] = await repository.ledgerOf(profileId);
    expect(row).toMatchObject({ state: 'removed', reason: 'exited', removeBatch: second });
    const after = await repository.get(id);
    expect(after?.cursor).toBe(20_000);
    expect(after?.mirror).toMatchObject({ batchSeq: 2 });
  });

  it('a record given the one before commits after it, and not at all if that one failed', async () => {
    const id = await activation();
    const [ann, bob, cid] = [randomUUID(), randomUUID(), randomUUID()];
    const held = (profileId: string): MemberOutcome => ({
      profileId,
      state: 'held',
      event: 'add',
      item: { EMAIL: profileId },
      fingerprints: [],
    });
    const recordAfter = (batchId: string, cursorTo: number, profileId: string, before: Promise<unknown>) =>
      repository.recordBatch(
        {
          activationId: id,
          batchId,
          state: 'confirmed',
          accepted: 1,
          invalid: 0,
          failed: 0,
          answer: [],
          members: [held(profileId)],
          cursorTo,
        },
        before,
      );
    const first = await batch(id, 1, 10_000);
    const second = await batch(id, 2, 20_000);
    // The second answer arrives first: its record waits for the first one's.
    let firstRecorded!: Promise<boolean>;
    const gate = new Promise<void>((resolve) => setTimeout(resolve, 300)).then(() => {
      firstRecorded = record(id, first, 10_000, { members: [held(ann)] });
      return firstRecorded;
    });
    let secondDone = false;
    const secondRecorded = recordAfter(second, 20_000, bob, gate).then((ok) => {
      secondDone = true;
      return ok;
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(secondDone).toBe(false);
    expect((await repository.get(id))?.cursor).toBe(0);
    expect(await secondRecorded).toBe(true);
    expect(await firstRecorded).toBe(true);
    expect((await repository.get(id))?.cursor).toBe(20_000);
    expect((await repository.ledgerOf(bob)).map((m) => m.state)).toEqual(['held']);

    // When the record before fails, this one writes nothing: its batch stays planned, to be sent again.
    const third = await batch(id, 3, 30_000);
    const failed = Promise.reject(new Error('the record before failed'));
    failed.catch(() => undefined);
    await expect(recordAfter(third, 30_000, cid, failed)).rejects.toThrow('the record before failed');
    expect((await repository.batchesByIds([third]))[0].state).toBe('planned');
    expect(await repository.ledgerOf(cid)).toEqual([]);
    expect((await repository.get(id))?.cursor).toBe(20_000);
  });

  it('a batch is stored only by the worker holding the lease: a late worker cannot add one or move the mirror', async () => {
    const id = await activation();
    expect(await repository.claimLease(id, 'new-holder', 60_000)).toBeDefined();
    const stored = (leaseOwner: string, seq: number) =>
      repository.insertBatch({
        id: randomUUID(),
        activationId: id,
        runId: null,
        seq,
        kind: 'replace',
        cursorTo: null,
        session: 7,
        payload: emptyBatchPayload(),
        mirror: { sessionId: 7, batchSeq: seq, cursor: 5 },
        leaseOwner,
      });
    await expect(stored('old-holder', 1)).rejects.toBeInstanceOf(LeaseLostError);
    expect(await repository.openBatches(id)).toEqual([]);
    expect((await repository.get(id))?.mirror).toBeNull();
    await stored('new-holder', 1);
    expect((await repository.openBatches(id)).map((b) => b.seq)).toEqual([1]);
    expect((await repository.get(id))?.mirror).toMatchObject({ batchSeq: 1 });
    const { rows } = await sql<{ lease_owner: string }>`select lease_owner from activations
      where id = ${id}::uuid`.execute(repository.db);
    expect(rows[0].lease_owner).toBe('new-holder');
  });
});
