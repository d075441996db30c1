import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { sql } from 'kysely';
import { MAX_BATCHES_IN_FLIGHT } from '@plexus/activation';
import { sha256Hex } from '@plexus/sdk';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { until } from '../support/wait.js';
import { startActivationApp } from './support.js';

type Harness = Awaited<ReturnType<typeof startActivationApp>>;

const TOKEN = 'meta-batches-token';
/** More than MAX_BATCHES_IN_FLIGHT batches of 10,000 rows (the last one short). */
const MEMBERS = 10_000 * MAX_BATCHES_IN_FLIGHT + 2_500;

/** Adds Meta accepted, per email hash, over every /users request answered 200. */
function addsByEmail(meta: MetaEmulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of meta.requests)
    if (r.method === 'POST' && r.path.endsWith('/users') && r.status === 200)
      for (const row of (r.body as { payload: { data: string[][] } }).payload.data)
        counts.set(row[0], (counts.get(row[0]) ?? 0) + 1);
  return counts;
}

/**
 * An audience of several 10,000-row batches: they are sent several at once and recorded in order, so the ledger,
 * the cursor and the platform's list end as one batch after the other would leave them, also when the platform
 * refuses a batch while later ones are on their way.
 */
describe('activation to Meta in several batches at once', () => {
  let h: Harness;
  let meta: MetaEmulator;
  let audienceId: string;
  let destinationId: string;

  const metaDestination = (name: string): Promise<string> =>
    h.createDestination(name, 'meta-custom-audiences', {
      accessToken: TOKEN,
      adAccountId: '1000',
      baseUrl: meta.url,
      requestsPerSecond: 100,
    });

  /** The ledger and Meta's audience both hold every member of the audience, once; returns the activation. */
  const expectEveryoneHeld = async (activationId: string): Promise<{ cursor: number; externalId: string }> => {
    const view = (await h.api('GET', `/v1/activations/${activationId}`)).body;
    expect(view.members).toEqual({ held: MEMBERS });
    expect(meta.state.members(view.externalId)).toHaveLength(MEMBERS);
    return view;
  };

  beforeAll(async () => {
    meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false, maxRecordedRequests: 1_000 });
    // The shortest lease (renewed every third of a second), so a test can take it away mid-delivery.
    h = await startActivationApp('activation_meta_batches', 'postgres', { ACTIVATION_LEASE_MS: '1000' });
    audienceId = randomUUID();
    const db = h.repository.db;
    await sql`insert into profiles (id, traits, consent)
      select md5('batches' || g)::uuid, jsonb_build_object('firstName', jsonb_build_object('v', 'Ada' || g, 's', 'crm', 't', 0)),
        jsonb_build_object('ads', jsonb_build_object('g', true, 's', 'crm', 't', 0))
      from generate_series(1, ${MEMBERS}::int) g`.execute(db);
    await sql`insert into profile_identifiers (type, value, profile_id, source_id, first_seen, last_seen)
      select 'email', 'member' || g || '@batches.io', md5('batches' || g)::uuid, 'crm', now(), now()
      from generate_series(1, ${MEMBERS}::int) g`.execute(db);
    await sql`insert into audiences (id, name, rule, size)
      values (${audienceId}::uuid, 'everyone', '{"consent":"ads"}'::jsonb, ${MEMBERS}::int)`.execute(db);
    await sql`insert into audience_members (audience_id, profile_id, entered_at)
      select ${audienceId}::uuid, md5('batches' || g)::uuid, now() from generate_series(1, ${MEMBERS}::int) g`.execute(
      db,
    );
    await sql`insert into audience_changes (audience_id, profile_id, change, reason)
      select ${audienceId}::uuid, md5('batches' || g)::uuid, 'entered', '{}'::jsonb
      from generate_series(1, ${MEMBERS}::int) g order by g`.execute(db);
    destinationId = await metaDestination('Meta');
  }, 180_000);
  afterAll(async () => {
    await h.t.close();
    await meta.close();
  });

  it('adds every member once; a batch refused while others are on their way is sent again after the resume', async () => {
    // The first request is answered late; the next one is refused (the token expired) meanwhile.
    meta.faults.inject({ kind: 'slow', path: '/users$', method: 'POST', delayMs: 2_000, times: 1 });
    const activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
    const first = h.deliverAll(activationId);
    await until(async () => meta.faults.fired.length > 0, 60_000, 20);
    meta.faults.inject({ kind: 'expired-token', path: '/users$', method: 'POST', times: 1 });
    expect((await first).state).toBe('stopped');
    // The next batches went out while the first was still waiting for its answer.
    const posts = meta.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/users'));
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts[1].at - posts[0].at).toBeLessThan(2_000);
    const stopped = (await h.api('GET', `/v1/activations/${activationId}`)).body;
    expect(stopped.status).toBe('stopped');
    // The late batch was recorded as confirmed; the refused one waits.
    expect(stopped.members.held).toBeGreaterThanOrEqual(10_000);
    expect(stopped.members.held).toBeLessThanOrEqual(MEMBERS - 10_000);

    expect((await h.api('PATCH', `/v1/activations/${activationId}`, { paused: false })).status).toBe(200);
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    const view = await expectEveryoneHeld(activationId);
    // Accepted once each: no confirmed batch was sent again.
    const adds = addsByEmail(meta);
    expect(adds.size).toBe(MEMBERS);
    expect([...adds.values()].every((n) => n === 1)).toBe(true);
    expect(adds.has(sha256Hex('member1@batches.io'))).toBe(true);
    const lastChange = await sql<{ id: number }>`select max(id) as id from audience_changes
      where audience_id = ${audienceId}::uuid`.execute(h.repository.db);
    expect(view.cursor).toBe(Number(lastChange.rows[0].id));
    // Nothing is left to send.
    const requests = meta.requests.length;
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    expect(meta.requests.length).toBe(requests);
    expect(await h.repository.openBatches(activationId)).toEqual([]);
  }, 180_000);

  it('stops planning and sending once another worker has taken its lease, and that worker finishes the job', async () => {
    // The first request is answered late: the batches after it are in flight, the last one waits for a slot.
    meta.faults.inject({ kind: 'slow', path: '/users$', method: 'POST', delayMs: 5_000, times: 1 });
    const second = await metaDestination('Meta (second)');
    const activationId = await h.activate({ audienceId, destinationId: second, mode: 'upsert' });
    const before = meta.requests.length;
    const posts = () =>
      meta.requests.slice(before).filter((r) => r.method === 'POST' && r.path.endsWith('/users')).length;
    const delivery = h.engine.deliver(activationId, { budgetMs: 60_000 });
    // Every slot is taken: the slow request and the batches after it have been sent.
    await until(async () => posts() >= MAX_BATCHES_IN_FLIGHT, 60_000, 20);
    // What a worker that stalled past its lease sees: another one holds the activation now.
    await sql`update activations set lease_owner = 'another-worker', lease_until = now() + interval '1 minute'
      where id = ${activationId}::uuid`.execute(h.repository.db);
    expect((await delivery).state).toBe('busy');
    // The batches already on their way were answered and recorded; the last one was never sent.
    expect(posts()).toBe(MAX_BATCHES_IN_FLIGHT);
    const row = await sql<{ lease_owner: string }>`select lease_owner from activations
      where id = ${activationId}::uuid`.execute(h.repository.db);
    expect(row.rows[0].lease_owner).toBe('another-worker');

    // The other worker's lease runs out; whoever holds the next one sends the rest, and nothing twice.
    await sql`update activations set lease_until = now() - interval '1 second'
      where id = ${activationId}::uuid`.execute(h.repository.db);
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    expect(posts()).toBe(MAX_BATCHES_IN_FLIGHT + 1);
    await expectEveryoneHeld(activationId);
  }, 180_000);

  it('does not store a batch planned after another worker took its lease: the new holder plans it again', async () => {
    const third = await metaDestination('Meta (third)');
    const activationId = await h.activate({ audienceId, destinationId: third, mode: 'upsert' });
    const before = meta.requests.length;
    const posts = () => meta.requests.slice(before).filter((r) => r.method === 'POST' && r.path.endsWith('/users'));
    const batches = async () =>
      (
        await sql<{ seq: number }>`select seq from activation_batches
          where activation_id = ${activationId}::uuid order by seq`.execute(h.repository.db)
      ).rows.map((r) => Number(r.seq));
    // Another worker claims the lease just as this one stores its second batch, before any renewal could tell.
    const insert = h.repository.insertBatch.bind(h.repository);
    let inserts = 0;
    const spy = jest.spyOn(h.repository, 'insertBatch').mockImplementation(async (b) => {
      if (++inserts === 2)
        await sql`update activations set lease_owner = 'another-worker', lease_until = now() + interval '1 minute'
          where id = ${activationId}::uuid`.execute(h.repository.db);
      return insert(b);
    });
    try {
      expect((await h.engine.deliver(activationId, { budgetMs: 60_000 })).state).toBe('busy');
    } finally {
      spy.mockRestore();
    }
    // Only the first batch was stored and sent; the second stopped at its store.
    expect(inserts).toBe(2);
    expect(await batches()).toEqual([1]);
    expect(posts()).toHaveLength(1);

    await sql`update activations set lease_until = now() - interval '1 second'
      where id = ${activationId}::uuid`.execute(h.repository.db);
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    await expectEveryoneHeld(activationId);
    // Every member was sent once, in batches numbered one after the other.
    const rows = posts().flatMap((r) => (r.body as { payload: { data: string[][] } }).payload.data);
    expect(rows).toHaveLength(MEMBERS);
    expect(new Set(rows.map((row) => row[0])).size).toBe(MEMBERS);
    const seqs = await batches();
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }, 180_000);
  it('reads the next page of changes and its profiles while the batch before it is planned and sent', async () => {
    const fourth = await metaDestination('Meta (fourth)');
    const activationId = await h.activate({ audienceId, destinationId: fourth, mode: 'upsert' });
    const events: string[] = [];
    const snapshots = h.repository.profileSnapshots.bind(h.repository);
    const insert = h.repository.insertBatch.bind(h.repository);
    const reads = jest.spyOn(h.repository, 'profileSnapshots').mockImplementation((ids, now) => {
      events.push('profiles');
      return snapshots(ids, now);
    });
    const stores = jest.spyOn(h.repository, 'insertBatch').mockImplementation((b) => {
      events.push('store');
      return insert(b);
    });
    try {
      expect((await h.deliverAll(activationId)).state).toBe('idle');
    } finally {
      reads.mockRestore();
      stores.mockRestore();
    }
    // The second page's profiles were asked for before the first batch was stored.
    expect(events.slice(0, 3)).toEqual(['profiles', 'profiles', 'store']);
    await expectEveryoneHeld(activationId);
  }, 180_000);

  it("looks for or creates the platform's audience while the first batch is planned", async () => {
    const sixth = await metaDestination('Meta (sixth)');
    const activationId = await h.activate({ audienceId, destinationId: sixth, mode: 'upsert' });
    const before = meta.requests.length;
    // The earlier tests' audience carries this audience's marker: it is found (GET), not created again (POST).
    const created = () => meta.requests.slice(before).some((r) => r.path.endsWith('/act_1000/customaudiences'));
    const snapshots = h.repository.profileSnapshots.bind(h.repository);
    let createdDuringPlanning: boolean | undefined;
    // The first batch's planning waits for the platform to be asked for the audience: planned first and asked
    // after, the request never comes and the wait gives up.
    const reads = jest.spyOn(h.repository, 'profileSnapshots').mockImplementation(async (ids, now) => {
      if (createdDuringPlanning === undefined) {
        createdDuringPlanning = await until(async () => created(), 5_000, 10).then(
          () => true,
          () => false,
        );
      }
      return snapshots(ids, now);
    });
    try {
      expect((await h.deliverAll(activationId)).state).toBe('idle');
    } finally {
      reads.mockRestore();
    }
    expect(createdDuringPlanning).toBe(true);
    await expectEveryoneHeld(activationId);
  }, 180_000);

  it('plans a page again, with what the platform answered, when it names a member of a batch not recorded yet', async () => {
    // A second audience: 10,000 members enter (one batch), then one of them leaves and 10 more enter.
    const leaving = 5;
    const small = randomUUID();
    const db = h.repository.db;
    await sql`insert into audiences (id, name, rule, size)
      values (${small}::uuid, 'small', '{"consent":"ads"}'::jsonb, 10009)`.execute(db);
    await sql`insert into audience_members (audience_id, profile_id, entered_at)
      select ${small}::uuid, md5('batches' || g)::uuid, now() from generate_series(1, 10010) g
      where g <> ${leaving}::int`.execute(db);
    await sql`insert into audience_changes (audience_id, profile_id, change, reason)
      select ${small}::uuid, md5('batches' || g)::uuid, 'entered', '{}'::jsonb
      from generate_series(1, 10000) g order by g`.execute(db);
    await sql`insert into audience_changes (audience_id, profile_id, change, reason)
      values (${small}::uuid, md5('batches' || ${leaving}::int)::uuid, 'exited', '{}'::jsonb)`.execute(db);
    await sql`insert into audience_changes (audience_id, profile_id, change, reason)
      select ${small}::uuid, md5('batches' || g)::uuid, 'entered', '{}'::jsonb
      from generate_series(10001, 10010) g order by g`.execute(db);
    const fifth = await metaDestination('Meta (fifth)');
    // The first batch is answered late: the second page is planned (and read ahead) while it is on its way.
    meta.faults.inject({ kind: 'slow', path: '/users$', method: 'POST', delayMs: 1_500, times: 1 });
    const activationId = await h.activate({ audienceId: small, destinationId: fifth, mode: 'upsert' });
    expect((await h.deliverAll(activationId)).state).toBe('idle');
    const view = (await h.api('GET', `/v1/activations/${activationId}`)).body;
    expect(view.members).toEqual({ held: 10_009, removed: 1 });
    const held = meta.state.members(view.externalId);
    expect(held).toHaveLength(10_009);
    expect(meta.state.has(view.externalId, 'EMAIL', sha256Hex(`member${leaving}@batches.io`))).toBe(false);
    // It was added with the first batch, then removed.
    const removals = meta.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(`${view.externalId}/users`));
    expect(removals).toHaveLength(1);
    expect(meta.state.has(view.externalId, 'EMAIL', sha256Hex('member10010@batches.io'))).toBe(true);
  }, 180_000);
});
