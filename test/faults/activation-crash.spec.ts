import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { call } from '../support/http.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { until } from '../support/wait.js';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';
import { rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AUTH, Cluster, PrivateRedis } from './support/cluster.js';
import { settled } from './support/oracle.js';
import { createEventsSource, sendWithRetries } from './support/workload.js';

const PEOPLE = 400;
const TOKEN = 'meta-faults-token';

/** Identify calls with ads consent: `plan` decides who is in the audience. */
function identifies(plan: (p: number) => string, round: number): object[] {
  return Array.from({ length: PEOPLE }, (_, p) => ({
    type: 'identify',
    messageId: `identify-${round}-${p}`,
    userId: `user-${p}`,
    traits: { email: `visitor${p}@plexus-faults.io`, plan: plan(p) },
    context: { consent: { ads: true } },
    timestamp: new Date(Date.UTC(2026, 0, 1, round, 0, p % 60)).toISOString(),
  }));
}

/** Email hashes in the /users requests Meta received (for one audience if named), with how often each was sent. */
function sent(meta: MetaEmulator, method: 'POST' | 'DELETE', platformId = ''): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of meta.requests)
    if (r.method === method && r.path.endsWith(`${platformId}/users`))
      for (const row of (r.body as { payload: { data: string[][] } }).payload.data)
        counts.set(row[0], (counts.get(row[0]) ?? 0) + 1);
  return counts;
}

/**
 * `kill -9` of the worker while a delivery to Meta is in flight (the platform answers slowly): after a restart the
 * activation finishes, the ledger and the platform's list equal a run without the kill, and only the batch that
 * was unconfirmed at the kill may have been sent again — confirmed batches never are.
 */
describe('worker killed mid-activation', () => {
  const dbs: TestDatabase[] = [];
  const clusters: Cluster[] = [];
  const metas: MetaEmulator[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.close();
    for (const d of dbs) await d.drop();
    for (const m of metas) await m.close();
  });

  async function scenario(kill: boolean) {
    const meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false });
    metas.push(meta);
    const db = await createTestDatabase(`faults_act_${kill ? 'killed' : 'oracle'}`);
    dbs.push(db);
    const cluster = new Cluster({
      databaseUrl: db.url,
      redisUrl: TEST_REDIS_URL,
      env: { ACTIVATION_LEASE_MS: '3000' },
    });
    clusters.push(cluster);
    const api = await cluster.api();
    const worker = await cluster.worker();
    const events = await createEventsSource(api.url);
    const audience = await call(api.url, 'POST', '/v1/audiences', {
      headers: AUTH,
      body: { name: 'Pro', rule: { trait: 'plan', op: 'eq', value: 'pro' } },
    });
    const destination = await call(api.url, 'POST', '/v1/destinations', {
      headers: AUTH,
      body: {
        name: 'Meta',
        connector: 'meta-custom-audiences',
        config: { accessToken: TOKEN, adAccountId: '1000', baseUrl: meta.url, requestsPerSecond: 100 },
      },
    });
    expect(destination.status).toBe(201);
    await sendWithRetries(
      () => [api.url],
      events.writeKey,
      identifies(() => 'pro', 0),
    );
    await settled(db.url);
    if (kill) meta.faults.inject({ kind: 'slow', path: '/users$', method: 'POST', delayMs: 4_000 });
    const activation = await call(api.url, 'POST', '/v1/activations', {
      headers: AUTH,
      body: { audienceId: audience.body.id, destinationId: destination.body.id, mode: 'upsert' },
    });
    expect(activation.status).toBe(201);
    if (kill) {
      // The add is in flight at Meta: the worker dies before it can record the answer.
      await until(async () => meta.faults.fired.length > 0, 60_000, 50);
      await worker.kill('SIGKILL');
      await cluster.worker();
    }
    const view = () => call(api.url, 'GET', `/v1/activations/${activation.body.id}`, { headers: AUTH });
    await until(async () => (await view()).body.members.held === PEOPLE, 90_000, 250);
    // A third leave the audience: their removals must reach Meta.
    await sendWithRetries(
      () => [api.url],
      events.writeKey,
      identifies((p) => (p % 3 === 0 ? 'free' : 'pro'), 1),
    );
    const leaving = Math.ceil(PEOPLE / 3);
    await until(async () => (await view()).body.members.removed === leaving, 90_000, 250);
    const end = await settled(db.url);
    const platformId = (await view()).body.externalId as string;
    return { meta, end, platformId, members: (await view()).body.members };
  }

  it('ends with the same memberships, ledger and platform list as a run without the kill', async () => {
    const oracle = await scenario(false);
    const killed = await scenario(true);
    expect(killed.end.memberships).toEqual(oracle.end.memberships);
    expect(killed.members).toEqual(oracle.members);
    expect(killed.meta.state.members(killed.platformId)).toHaveLength(
      oracle.meta.state.members(oracle.platformId).length,
    );
    // The oracle sent each member once; the killed run sent each at least once, and more only for the one
    // batch unconfirmed at the kill (sent again whole): no confirmed batch was repeated.
    const oracleAdds = sent(oracle.meta, 'POST');
    const killedAdds = sent(killed.meta, 'POST');
    expect([...oracleAdds.values()].every((n) => n === 1)).toBe(true);
    expect([...killedAdds.keys()].sort()).toEqual([...oracleAdds.keys()].sort());
    expect([...killedAdds.values()].every((n) => n <= 2)).toBe(true);
    // The kill did land mid-send: the batch in flight was sent again after the restart.
    expect([...killedAdds.values()].some((n) => n === 2)).toBe(true);
    expect(sent(killed.meta, 'DELETE')).toEqual(sent(oracle.meta, 'DELETE'));
    expect([...sent(killed.meta, 'DELETE').values()].every((n) => n === 1)).toBe(true);
  });
});

/**
 * Redis restarted without its data while activations exist: the activation tick, the scheduler of a scheduled
 * activation and the pending deliveries come back from PostgreSQL, so changes made after the loss reach Meta.
 */
describe('Redis restarted without its data under activations', () => {
  it('delivers changes made after the loss and runs the scheduled activation again', async () => {
    const meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false });
    const redis = await PrivateRedis.start({ persistent: false });
    const db = await createTestDatabase('faults_act_redis');
    const cluster = new Cluster({ databaseUrl: db.url, redisUrl: redis.url, env: { ACTIVATION_LEASE_MS: '3000' } });
    try {
      const api = await cluster.api();
      await cluster.worker();
      const events = await createEventsSource(api.url);
      const post = async (path: string, body: unknown) => {
        const res = await call(api.url, 'POST', path, { headers: AUTH, body });
        if (res.status !== 201) throw new Error(`${path} → ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.id as string;
      };
      const pro = await post('/v1/audiences', { name: 'Pro', rule: { trait: 'plan', op: 'eq', value: 'pro' } });
      const all = await post('/v1/audiences', { name: 'All', rule: { identifier: 'email' } });
      const destinationId = await post('/v1/destinations', {
        name: 'Meta',
        connector: 'meta-custom-audiences',
        config: { accessToken: TOKEN, adAccountId: '1000', baseUrl: meta.url, requestsPerSecond: 100 },
      });
      await sendWithRetries(
        () => [api.url],
        events.writeKey,
        identifies((p) => (p < 100 ? 'pro' : 'free'), 0),
      );
      await settled(db.url);
      const realTime = await post('/v1/activations', { audienceId: pro, destinationId, mode: 'upsert' });
      const scheduled = await post('/v1/activations', {
        audienceId: all,
        destinationId,
        mode: 'upsert',
        schedule: { everySeconds: 5 },
      });
      const held = async (id: string) =>
        (await call(api.url, 'GET', `/v1/activations/${id}`, { headers: AUTH })).body.members.held as number;
      await until(async () => (await held(realTime)) === 100 && (await held(scheduled)) === PEOPLE, 60_000, 250);

      await redis.kill();
      for (const f of readdirSync(redis.dir)) rmSync(join(redis.dir, f), { recursive: true, force: true });
      await redis.start();
      // After the loss: everyone becomes pro, and new people arrive for the scheduled activation.
      await sendWithRetries(
        () => [api.url],
        events.writeKey,
        identifies(() => 'pro', 1),
      );
      const newcomers = Array.from({ length: 50 }, (_, i) => ({
        type: 'identify',
        messageId: `newcomer-${i}`,
        userId: `newcomer-${i}`,
        traits: { email: `newcomer${i}@plexus-faults.io`, plan: 'pro' },
        context: { consent: { ads: true } },
      }));
      await sendWithRetries(() => [api.url], events.writeKey, newcomers);
      await until(
        async () => (await held(realTime)) === PEOPLE + 50 && (await held(scheduled)) === PEOPLE + 50,
        90_000,
        500,
      );
      const platform = (id: string) =>
        call(api.url, 'GET', `/v1/activations/${id}`, { headers: AUTH }).then((r) => r.body.externalId as string);
      for (const id of [realTime, scheduled]) {
        const platformId = await platform(id);
        expect(meta.state.members(platformId)).toHaveLength(PEOPLE + 50);
        // Each member added once: nothing confirmed before the loss was sent again.
        const adds = sent(meta, 'POST', platformId);
        expect(adds.size).toBe(PEOPLE + 50);
        expect([...adds.values()].every((n) => n === 1)).toBe(true);
      }
    } finally {
      await cluster.close();
      await db.drop();
      await redis.stop();
      await meta.close();
    }
  });
});
