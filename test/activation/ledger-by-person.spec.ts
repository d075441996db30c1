import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ActivationRepository, emptyBatchPayload, type MemberOutcome } from '@plexus/storage';
import { openTestStorage } from '../support/database.js';
import { insertActivation } from './support.js';

/**
 * The ledger is keyed by (activation, profile) alone: the lookups of one person (privacy's holdings and erasure,
 * forced removals, re-checks after a consent or identifier change) probe that key once per activation. They must
 * find the person in every activation — a stopped or deleted one included where the lookup covers it — and nobody
 * else.
 */
describe.each(['postgres', 'pglite'] as const)('ledger lookups of one person across activations (%s)', (kind) => {
  let storage: Awaited<ReturnType<typeof openTestStorage>>;
  let repository: ActivationRepository;

  beforeAll(async () => {
    storage = await openTestStorage(kind, 'activation_ledger_person');
    repository = new ActivationRepository(storage.database);
  }, 120_000);
  afterAll(() => storage.close());

  const activation = () => insertActivation(repository);

  async function record(activationId: string, members: MemberOutcome[]): Promise<void> {
    const batchId = randomUUID();
    await repository.insertBatch({
      id: batchId,
      activationId,
      runId: null,
      seq: await repository.nextSeq(activationId),
      kind: 'write',
      cursorTo: null,
      session: null,
      payload: emptyBatchPayload(),
    });
    await repository.recordBatch({
      activationId,
      batchId,
      state: 'confirmed',
      accepted: members.length,
      invalid: 0,
      failed: 0,
      answer: [],
      members,
    });
  }

  const held = (profileId: string): MemberOutcome => ({
    profileId,
    state: 'held',
    event: 'add',
    item: { EMAIL: [`hash-${profileId}`] },
    fingerprints: [],
  });

  it('holdings, the ledger of a person, forced removal and erasure reach every activation and only that person', async () => {
    const [ann, bob, cid] = [randomUUID(), randomUUID(), randomUUID()];
    const first = await activation();
    const second = await activation();
    const stopped = await activation();
    await record(first, [held(ann), held(bob)]);
    await record(second, [held(ann), { profileId: cid, state: 'not_sendable', reason: 'no consent for ads' }]);
    await record(stopped, [held(ann)]);
    await repository.update(stopped, { status: 'stopped' });

    const holdings = await repository.holdings(ann);
    expect(holdings.map((h) => h.activationId).sort()).toEqual([first, second, stopped].sort());
    expect(holdings.every((h) => h.state === 'held' && !h.removalPending)).toBe(true);
    expect((await repository.holdings(cid)).length).toBe(0); // not sendable: the platform holds nothing
    expect((await repository.ledgerOf(cid)).map((m) => [m.activationId, m.state])).toEqual([[second, 'not_sendable']]);

    // A consent change re-checks the person where the ledger names them, in live activations only.
    expect(await repository.recheckProfiles([ann, cid])).toBe(3);
    const rechecked = (
      await sql<{ activation_id: string; profile_id: string }>`select activation_id, profile_id
      from activation_rechecks order by activation_id, profile_id`.execute(storage.database.db)
    ).rows;
    expect(rechecked).toEqual(
      [
        { activation_id: first, profile_id: ann },
        { activation_id: second, profile_id: ann },
        { activation_id: second, profile_id: cid },
      ].sort((a, b) => (a.activation_id + a.profile_id).localeCompare(b.activation_id + b.profile_id)),
    );

    // A forced removal marks every held row of the person, stopped activation included, and queues its removal.
    expect(await repository.forceRemoval([ann], 'erasure requested')).toBe(3);
    const after = await repository.ledgerOf(ann);
    expect(after.map((m) => [m.activationId, m.state, m.reason]).sort()).toEqual(
      [
        [first, 'removing', 'erasure requested'],
        [second, 'removing', 'erasure requested'],
        [stopped, 'removing', 'erasure requested'],
      ].sort(),
    );
    expect((await repository.holdings(ann)).every((h) => h.removalPending)).toBe(true);
    expect((await repository.ledgerOf(bob)).map((m) => m.state)).toEqual(['held']);

    // Re-checks everywhere: the ledger's rows in live activations, plus the audiences that have the person.
    const everywhere = await repository.recheckEverywhere([bob]);
    expect(everywhere.map((a) => a.id)).toEqual([first]);

    // Erasure deletes the person's rows everywhere (re-checks included) and leaves the others'.
    expect(await repository.eraseMember(ann)).toBe(3 + 3);
    expect(await repository.ledgerOf(ann)).toEqual([]);
    expect((await repository.ledgerOf(bob)).length).toBe(1);
    expect((await repository.ledgerOf(cid)).length).toBe(1);
  });
});
