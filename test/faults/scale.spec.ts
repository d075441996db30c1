import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import type { HubSpotEmulator } from '../emulators/index.js';
import { Cluster, type HubProcess } from './support/cluster.js';
import { settled, type EndState } from './support/oracle.js';
import {
  burst,
  createAudiences,
  createEventsSource,
  createHubSpotSource,
  sendWithRetries,
  startFaultHubSpot,
  startSync,
  waitForRun,
} from './support/workload.js';

const CONTACTS = 1_500;
const PEOPLE = 200;

/**
 * Many processes on overlapping data, and a rolling deployment: two sources reading the same people (so their
 * records merge) and a tracking burst spread over the API processes. The identity graph, events and memberships
 * must equal those of one process doing the same work.
 */
describe('scale-out and rolling deployment', () => {
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

  async function deployment(label: string): Promise<{ db: TestDatabase; cluster: Cluster }> {
    const db = await createTestDatabase(`faults_${label}`);
    const cluster = new Cluster({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL });
    cleanups.push(
      () => db.drop(),
      () => cluster.close(),
    );
    return { db, cluster };
  }

  /** The work: two overlapping sources synced at once and the burst sent through `apis`. */
  async function work(apis: () => string[], duringWork: () => Promise<void> = async () => undefined) {
    const [first] = apis();
    await createAudiences(first);
    const a = await createHubSpotSource(first, hubspot, 8);
    const b = await createHubSpotSource(first, hubspot, 8);
    const events = await createEventsSource(first);
    const runs = [await startSync(first, a), await startSync(first, b)];
    const sending = sendWithRetries(apis, events.writeKey, burst(PEOPLE, 4), 20);
    await duringWork();
    await sending;
    const api = () => apis()[0];
    return Promise.all(runs.map((id) => waitForRun(api, id)));
  }

  it('runs the work in one process (the oracle)', async () => {
    const { db, cluster } = await deployment('scale_oracle');
    const api = await cluster.api();
    await cluster.worker();
    const runs = await work(() => [api.url]);
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    oracle = await settled(db.url);
    expect(oracle.events).toHaveLength(PEOPLE * 4);
  });

  it('4 workers and 2 API processes end in the same state', async () => {
    const { db, cluster } = await deployment('scale_many');
    const apis = [await cluster.api(), await cluster.api()];
    for (let i = 0; i < 4; i++) await cluster.worker();
    const runs = await work(() => apis.map((a) => a.url));
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(await settled(db.url)).toEqual(oracle);
  });

  it('a rolling deployment (SIGTERM to every process in turn, under load) loses and doubles nothing', async () => {
    const { db, cluster } = await deployment('scale_rolling');
    const live: HubProcess[] = [
      await cluster.api(),
      await cluster.api(),
      await cluster.worker(),
      await cluster.worker(),
    ];
    const apis = () => live.filter((p) => p.role === 'api' && p.running).map((p) => p.url);
    const runs = await work(apis, async () => {
      for (const old of [...live]) {
        // Start the replacement first, as an orchestrator does, then stop the old process gracefully.
        const replacement = old.role === 'api' ? await cluster.api() : await cluster.worker();
        live.push(replacement);
        await old.kill('SIGTERM');
        live.splice(live.indexOf(old), 1);
      }
    });
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(await settled(db.url)).toEqual(oracle);
  });
});
