import { Redis } from 'ioredis';
import { createConnectorContext, validateConfig } from '@plexus/sdk';
import hubspotSource, { HubSpotConfig } from '../connectors/hubspot/index.js';
import { contactsAtDomain, startHubSpot, syntheticHubSpotContacts } from '../test/emulators/index.js';
import type { Benchmark, Figure } from './harness.js';
import { rateFigures, REDIS_URL, startHubInProcess } from './hub-in-process.js';

const CONTACTS = Number(process.env.BENCH_HUBSPOT_CONTACTS ?? 200_000);
/** The emulated account's limit: 1,000 requests per 10 s, so 100 per second (the per-second window binds). */
const EMULATOR_MAX_PER_10S = Number(process.env.BENCH_HUBSPOT_MAX ?? 1_000);
const ALLOWED_PER_SECOND = Math.ceil(EMULATOR_MAX_PER_10S / 10);
/**
 * The connector's budget: a little under the account's limit, as docs/CONNECTORS.md advises (a budget equal to
 * the vendor's rolling window meets 429s from arrival-time jitter, each costing a pause). BENCH_HUBSPOT_BUDGET
 * sets it in requests per second.
 */
const BUDGET_PER_SECOND = Number(
  process.env.BENCH_HUBSPOT_BUDGET ?? Math.max(1, Math.floor(ALLOWED_PER_SECOND * 0.95)),
);
const TOKEN = 'bench-hubspot-token';

/** Reads the whole contacts stream as the hub would (Redis rate budget included) but stores nothing. */
async function readWithoutHub(prefix: string): Promise<{ seconds: number; requests: number; throttled: number }> {
  const hubspot = await startHubSpot({
    tokens: [TOKEN],
    contacts: syntheticHubSpotContacts(CONTACTS),
    rateLimit: { max: EMULATOR_MAX_PER_10S },
    maxRecordedRequests: 10_000,
  });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    const raw = { accessToken: TOKEN, baseUrl: hubspot.url, requestsPerSecond: BUDGET_PER_SECOND };
    const { config } = await validateConfig(HubSpotConfig, raw);
    const definition = hubspotSource;
    const ctx = createConnectorContext({
      definition,
      config: config!,
      connectionId: 'bench-alone',
      redis,
      redisPrefix: prefix,
    });
    const started = performance.now();
    let records = 0;
    for await (const batch of definition.streams[0].read(ctx, undefined)) records += batch.records.length;
    const seconds = (performance.now() - started) / 1000;
    if (records !== CONTACTS) throw new Error(`read ${records} contacts, expected ${CONTACTS}`);
    const throttled = Object.values(hubspot.state.throttled).reduce((a, b) => a + b, 0);
    return { seconds, requests: hubspot.state.dailyUsed(), throttled };
  } finally {
    redis.disconnect();
    await hubspot.close();
  }
}

/**
 * A full HubSpot sync of 200,000 contacts through the hub (API + workers in this process, PostgreSQL, Redis)
 * against the emulator limited to 100 requests/s, with the connector's budget set to the same 100/s: how much
 * of the allowed request rate the sync uses, and the contacts per second that makes.
 */
const bench: Benchmark = {
  name: 'hubspot-sync',
  description: `full HubSpot sync of ${CONTACTS.toLocaleString('en-US')} contacts through the hub, emulator limited to ${ALLOWED_PER_SECOND} requests/s, connector budget ${BUDGET_PER_SECOND}/s`,
  async run(): Promise<Figure[]> {
    const contacts = contactsAtDomain(syntheticHubSpotContacts(CONTACTS), 'plexus-bench.io');
    const hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts,
      rateLimit: { max: EMULATOR_MAX_PER_10S },
      maxRecordedRequests: 10_000,
    });
    const hub = await startHubInProcess('hubspot');
    try {
      const source = await hub.api('POST', '/v1/sources', {
        name: 'HubSpot bench',
        connector: 'hubspot',
        config: {
          accessToken: TOKEN,
          baseUrl: hubspot.url,
          requestsPerSecond: BUDGET_PER_SECOND,
          userIdProperty: 'customer_id',
        },
      });
      const before = hubspot.state.dailyUsed();
      const run = await hub.sync(source.id as string);
      if (run.status !== 'succeeded' || run.stats.read !== CONTACTS) {
        throw new Error(`the sync ended ${run.status}: ${JSON.stringify(run)}`);
      }
      const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
      const hubRequests = hubspot.state.dailyUsed() - before;
      const hubThrottled = Object.values(hubspot.state.throttled).reduce((a, b) => a + b, 0);

      // The connector alone, with the same Redis budget and no ingestion: what the source side can draw.
      await new Promise((r) => setTimeout(r, 1_100));
      const alone = await readWithoutHub(hub.prefix);
      return [
        { name: 'contacts synced through the hub', value: run.stats.read, unit: 'contacts' },
        { name: 'hub: duration', value: seconds, unit: 's' },
        ...rateFigures(
          'hub',
          { seconds, requests: hubRequests, throttled: hubThrottled },
          CONTACTS,
          'contacts',
          ALLOWED_PER_SECOND,
        ),
        ...rateFigures('connector alone', alone, CONTACTS, 'contacts', ALLOWED_PER_SECOND),
      ];
    } finally {
      await hub.close();
      await hubspot.close();
    }
  },
};
export default bench;
