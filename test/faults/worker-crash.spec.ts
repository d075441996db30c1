import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { until } from '../support/wait.js';
import type { HubSpotEmulator } from '../emulators/index.js';
import { Cluster } from './support/cluster.js';
import { settled, type EndState } from './support/oracle.js';
import {
  burst,
  createAudiences,
  createEventsSource,
  createHubSpotSource,
  run,
  sendWithRetries,
  startFaultHubSpot,
  startSync,
  waitForRun,
} from './support/workload.js';

const CONTACTS = 2_000;
const PEOPLE = 300;

interface Deployment {
  db: TestDatabase;
  cluster: Cluster;
}

/**
 * `kill -9` of a worker in the middle of a source sync and of the audience evaluations it triggers, and of an API
 * process in the middle of a tracking burst. The end state must equal the same work done without the kills.
 */
describe('processes killed with SIGKILL mid-work', () => {
  let hubspot: HubSpotEmulator;
  const deployments: Deployment[] = [];
  let oracle: EndState;

  async function deploy(label: string): Promise<Deployment> {
    const db = await createTestDatabase(`faults_${label}`);
    const cluster = new Cluster({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL });
    const d = { db, cluster };
    deployments.push(d);
    return d;
  }

  beforeAll(async () => {
    hubspot = await startFaultHubSpot(CONTACTS);
  });
  afterAll(async () => {
    for (const d of deployments) {
      await d.cluster.close();
      await d.db.drop();
    }
    await hubspot?.close();
  });

  it('runs the work without faults (the oracle)', async () => {
    const { db, cluster } = await deploy('oracle');
    const api = await cluster.api();
    await cluster.worker();
    await createAudiences(api.url);
    const source = await createHubSpotSource(api.url, hubspot, 50);
    const events = await createEventsSource(api.url);
    const runId = await startSync(api.url, source);
    await sendWithRetries(() => [api.url], events.writeKey, burst(PEOPLE, 4));
    expect(await waitForRun(() => api.url, runId)).toMatchObject({ status: 'succeeded' });
    oracle = await settled(db.url);
    expect(oracle.graph.length).toBeGreaterThan(CONTACTS / 2);
    expect(oracle.events).toHaveLength(PEOPLE * 4);
    expect(Object.keys(oracle.memberships).sort()).toEqual(['Buyers', 'Pro visitors', 'Reachable by email']);
  });

  it('ends in the same state when the worker and an API process are killed mid-sync and mid-burst', async () => {
    const { db, cluster } = await deploy('killed');
    const api1 = await cluster.api();
    const api2 = await cluster.api();
    const worker1 = await cluster.worker();
    await createAudiences(api1.url);
    const source = await createHubSpotSource(api1.url, hubspot, 4);
    const events = await createEventsSource(api1.url);
    const runId = await startSync(api1.url, source);
    const apis = () => [api1, api2].filter((a) => a.running).map((a) => a.url);
    const sending = sendWithRetries(apis, events.writeKey, burst(PEOPLE, 4), 20);

    // Mid-sync and mid-evaluation: some batches committed, more to come, and profiles they changed that audience
    // evaluation has not finished with (marked pending in PostgreSQL until their evaluation commits).
    const pending = async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('select count(*) as n from profile_changes_pending');
        return Number(rows[0].n);
      } finally {
        await client.end();
      }
    };
    await until(
      async () => ((await run(() => api2.url, runId)).stats?.read >= 300 && (await pending()) > 0 ? true : undefined),
      60_000,
      50,
    );
    await worker1.kill('SIGKILL');
    await api1.kill('SIGKILL');
    // The kill left evaluation work behind: only a worker clears it, and none runs now.
    const leftBehind = await pending();
    expect(leftBehind).toBeGreaterThan(0);
    const retries = await sending;
    await cluster.worker();

    const done = await waitForRun(() => api2.url, runId);
    expect(done.status).toBe('succeeded');
    const state = await settled(db.url);
    expect(state.observations).toEqual(oracle.observations);
    expect(state.graph).toEqual(oracle.graph);
    expect(state.events).toEqual(oracle.events);
    expect(state.memberships).toEqual(oracle.memberships);
    // And the restarted worker finished it.
    await until(async () => ((await pending()) === 0 ? true : undefined), 60_000, 100);
    expect(retries).toBeGreaterThanOrEqual(0);
  });
});
