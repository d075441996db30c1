import { randomUUID } from 'node:crypto';
import { ActivationRepository, type BatchPayload } from '@plexus/storage';
import { openTestStorage } from '../support/database.js';

const empty = (): BatchPayload => ({ adds: [], removes: [], notSendable: [], closed: [], rechecks: [] });

/**
 * The cursor commits with each batch's record and only moves forward: a worker that lost its lease still records
 * the answers of the batches it had in flight (the platform's answers are facts), possibly after the new lease
 * holder recorded later batches. That late record must not send the cursor back over changes already handled.
 */
describe.each(['postgres', 'pglite'] as const)('activation cursor (%s)', (kind) => {
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
      payload: empty(),
    });
    return id;
  }

  const record = (activationId: string, batchId: string, cursorTo: number) =>
    repository.recordBatch({
      activationId,
      batchId,
      state: 'confirmed',
      accepted: 0,
      invalid: 0,
      failed: 0,
      answer: [],
      members: [],
      cursorTo,
    });

  it('advances with each record and never goes back for a late record of an older batch', async () => {
    const id = randomUUID();
    await repository.insert({
      id,
      audienceId: randomUUID(),
      destinationId: randomUUID(),
      mode: 'upsert',
      identifiers: [],
      schedule: null,
      externalId: null,
      cursor: 0,
      mirror: null,
    });
    const older = await batch(id, 1, 10_000);
    const newer = await batch(id, 2, 20_000);

    await record(id, newer, 20_000); // the new lease holder resent and recorded both, the newer last
    expect((await repository.get(id))?.cursor).toBe(20_000);
    await record(id, older, 10_000); // the old holder's answer arrives late
    expect((await repository.get(id))?.cursor).toBe(20_000);
    expect((await repository.batchesByIds([older]))[0].state).toBe('confirmed');

    const next = await batch(id, 3, 30_000);
    await record(id, next, 30_000);
    expect((await repository.get(id))?.cursor).toBe(30_000);
  });
});
