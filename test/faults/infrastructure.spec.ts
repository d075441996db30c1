import { rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { call } from '../support/http.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { until } from '../support/wait.js';
import type { HubSpotEmulator } from '../emulators/index.js';
import { AUTH, Cluster, PrivatePostgres, PrivateRedis } from './support/cluster.js';
import { settled, type EndState } from './support/oracle.js';
import {
  createAudiences,
  createHubSpotSource,
  run,
  startFaultHubSpot,
  startSync,
  waitForRun,
} from './support/workload.js';

const CONTACTS = 2_000;

/**
 * Redis and PostgreSQL fail under a running deployment: Redis restarted with and without its data, PostgreSQL
 * stopped like a crash and started again. Processes must reconnect by themselves and the end state must equal the
 * same work done without the outage.
 */
describe('Redis and PostgreSQL restarted mid-run', () => {
  let hubspot: HubSpotEmulator;
  let oracle: EndState;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    hubspot = await startFaultHubSpot(CONTACTS);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await hubspot?.close();
  });

  async function database(label: string): Promise<TestDatabase> {
    const db = await createTestDatabase(`faults_${label}`);
    cleanups.push(() => db.drop());
    return db;
  }
  function cluster(databaseUrl: string, redisUrl: string): Cluster {
    const c = new Cluster({ databaseUrl, redisUrl });
    cleanups.push(() => c.close());
    return c;
  }
  const midSync = (api: () => string, runId: string) =>
    until(async () => ((await run(api, runId)).stats?.read >= 300 ? true : undefined), 60_000, 50);

  it('runs the work without faults (the oracle)', async () => {
    const db = await database('infra_oracle');
    const c = cluster(db.url, TEST_REDIS_URL);
    const api = await c.api();
    await c.worker();
    await createAudiences(api.url);
    const runId = await startSync(api.url, await createHubSpotSource(api.url, hubspot, 50));
    expect(await waitForRun(() => api.url, runId)).toMatchObject({ status: 'succeeded' });
    oracle = await settled(db.url);
    expect(oracle.graph.length).toBeGreaterThan(CONTACTS / 2);
  });

  it('Redis killed and restarted with its data: processes reconnect and the run finishes', async () => {
    const redis = await PrivateRedis.start({ persistent: true });
    cleanups.push(() => redis.stop());
    const db = await database('infra_redis_kept');
    const c = cluster(db.url, redis.url);
    const api = await c.api();
    await c.worker();
    await createAudiences(api.url);
    const runId = await startSync(api.url, await createHubSpotSource(api.url, hubspot, 4));
    await midSync(() => api.url, runId);
    await redis.kill();
    await new Promise((r) => setTimeout(r, 2_000));
    await redis.start();
    expect((await waitForRun(() => api.url, runId)).status).toBe('succeeded');
    expect(await settled(db.url)).toEqual(oracle);
  });

  it('Redis restarted without its data: schedulers come back and the lost run is recovered from PostgreSQL', async () => {
    const redis = await PrivateRedis.start({ persistent: false });
    cleanups.push(() => redis.stop());
    const db = await database('infra_redis_lost');
    const c = cluster(db.url, redis.url);
    const api = await c.api();
    await c.worker();
    await createAudiences(api.url);
    const sourceId = await createHubSpotSource(api.url, hubspot, 4);
    const runId = await startSync(api.url, sourceId);
    // A second, scheduled source: its scheduler lives in Redis only until the hub re-creates it.
    const scheduled = await call(api.url, 'POST', '/v1/sources', {
      headers: AUTH,
      body: {
        name: 'Scheduled',
        connector: 'hubspot',
        config: { accessToken: 'hs-faults-token', baseUrl: hubspot.url, pageSize: 100, requestsPerSecond: 50 },
        schedule: { everySeconds: 3 },
      },
    });
    expect(scheduled.status).toBe(201);
    await midSync(() => api.url, runId);
    await redis.kill();
    for (const f of readdirSync(redis.dir)) rmSync(join(redis.dir, f), { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 1_000));
    const restartedAt = Date.now();
    await redis.start();

    expect((await waitForRun(() => api.url, runId)).status).toBe('succeeded');
    await until(
      async () => {
        const runs = await call(api.url, 'GET', `/v1/sources/${scheduled.body.id}/runs`, { headers: AUTH });
        return runs.body.data.some(
          (r: any) => r.trigger === 'schedule' && Date.parse(r.createdAt ?? r.startedAt) > restartedAt,
        );
      },
      60_000,
      500,
    );
    const state = await settled(db.url);
    // The scheduled source synced the same contacts under its own name: compare the first source's share.
    expect(state.observations.HubSpot).toBe(oracle.observations.HubSpot);
  });

  it('PostgreSQL crashed mid-run: the API answers 503 while it is down, then the run finishes without a restart', async () => {
    const pg = await PrivatePostgres.start();
    cleanups.push(() => pg.destroy());
    const url = pg.createDatabase('plexus_faults');
    const c = cluster(url, TEST_REDIS_URL);
    const api = await c.api();
    await c.worker();
    await createAudiences(api.url);
    const runId = await startSync(api.url, await createHubSpotSource(api.url, hubspot, 4));
    await midSync(() => api.url, runId);
    await pg.stop('immediate');

    const down = await call(api.url, 'GET', '/v1/sources', { headers: AUTH });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect((await call(api.url, 'GET', '/ready')).status).toBe(503);
    await new Promise((r) => setTimeout(r, 2_000));
    await pg.start();

    await until(async () => (await call(api.url, 'GET', '/v1/sources', { headers: AUTH })).status === 200, 30_000, 200);
    const ended = await waitForRun(() => api.url, runId, 60_000).catch(async (e) => {
      console.log('run at the timeout', JSON.stringify(await run(() => api.url, runId)));
      for (const p of c.processes) console.log(p.role, 'output', p.output.slice(-40).join('\n'));
      throw e;
    });
    expect(ended.status).toBe('succeeded');
    expect(await settled(url)).toEqual(oracle);
  });
});
