import { createConnectorContext, validateConfig } from '@plexus/sdk';
import hubspotSource, { HubSpotConfig } from '../connectors/hubspot/index.js';
import {
  contactsAtDomain,
  startHubSpot,
  syntheticHubSpotContacts,
  syntheticHubSpotCrm,
  type HubSpotEmulator,
} from '../test/emulators/index.js';
import type { Benchmark, Figure } from './harness.js';
import { rateFigures, startHubInProcess, type ReadMeasure } from './hub-in-process.js';

const DEALS = Number(process.env.BENCH_HUBSPOT_DEALS ?? 20_000);
const CONTACTS = Number(process.env.BENCH_HUBSPOT_DEAL_CONTACTS ?? Math.ceil(DEALS / 2));
/** The emulated account's limit: 1,000 requests per 10 s (100/s), as in the contacts benchmark. */
const EMULATOR_MAX_PER_10S = Number(process.env.BENCH_HUBSPOT_MAX ?? 1_000);
const ALLOWED_PER_SECOND = Math.ceil(EMULATOR_MAX_PER_10S / 10);
const BUDGET_PER_SECOND = Math.max(1, Math.floor(ALLOWED_PER_SECOND * 0.95));
const TOKEN = 'bench-hubspot-deals-token';

/** Reads the whole deals stream as the hub would (its own rate budget) but stores nothing. */
async function readWithoutHub(hubspot: HubSpotEmulator): Promise<ReadMeasure> {
  const raw = { accessToken: TOKEN, baseUrl: hubspot.url, requestsPerSecond: BUDGET_PER_SECOND, objects: ['deals'] };
  const { config } = await validateConfig(HubSpotConfig, raw);
  const ctx = createConnectorContext({ definition: hubspotSource, config: config!, connectionId: 'bench-alone' });
  const deals = hubspotSource.streams.find((s) => s.name === 'deals')!;
  const before = hubspot.state.dailyUsed();
  const started = performance.now();
  let records = 0;
  const throttledBefore = Object.values(hubspot.state.throttled).reduce((a, b) => a + b, 0);
  for await (const batch of deals.read(ctx, undefined)) records += batch.records.length;
  if (records !== DEALS) throw new Error(`read ${records} deals, expected ${DEALS}`);
  const throttled = Object.values(hubspot.state.throttled).reduce((a, b) => a + b, 0) - throttledBefore;
  return { seconds: (performance.now() - started) / 1000, requests: hubspot.state.dailyUsed() - before, throttled };
}

/**
 * A full sync of the deals stream through the hub: every deal with its stage history, its contact (associations
 * v4), its line items when closed, and each contact's deal totals recomputed from all of the contact's deals, then
 * stored as events and traits. The contacts are synced first (their own run), so the figure is the deals alone.
 */
const bench: Benchmark = {
  name: 'hubspot-deals',
  description: `full sync of ${DEALS.toLocaleString('en-US')} HubSpot deals over ${CONTACTS.toLocaleString('en-US')} contacts through the hub, emulator limited to ${ALLOWED_PER_SECOND} requests/s, connector budget ${BUDGET_PER_SECOND}/s`,
  async run(): Promise<Figure[]> {
    const contacts = contactsAtDomain(syntheticHubSpotContacts(CONTACTS), 'plexus-bench.io');
    const { deals, line_items, associations } = syntheticHubSpotCrm({ deals: DEALS }, { contacts: CONTACTS });
    const hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts,
      deals,
      line_items,
      associations,
      rateLimit: { max: EMULATOR_MAX_PER_10S },
      maxRecordedRequests: 10_000,
    });
    const hub = await startHubInProcess('hubspot_deals');
    try {
      const config = { accessToken: TOKEN, baseUrl: hubspot.url, requestsPerSecond: BUDGET_PER_SECOND };
      const source = await hub.api('POST', '/v1/sources', {
        name: 'HubSpot deals bench',
        connector: 'hubspot',
        config,
      });
      const contactRun = await hub.sync(source.id as string);
      if (contactRun.status !== 'succeeded') throw new Error(`the contact sync ended ${contactRun.status}`);
      await hub.api('PATCH', `/v1/sources/${source.id}`, { config: { objects: ['deals'] } });

      const throttledSoFar = () => Object.values(hubspot.state.throttled).reduce((a, b) => a + b, 0);
      const before = hubspot.state.dailyUsed();
      const throttledBefore = throttledSoFar();
      const run = await hub.sync(source.id as string);
      if (run.status !== 'succeeded' || run.stats.read !== DEALS) {
        throw new Error(`the deal sync ended ${run.status}: ${JSON.stringify(run)}`);
      }
      const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
      const requests = hubspot.state.dailyUsed() - before;
      const throttled = throttledSoFar() - throttledBefore;
      await new Promise((r) => setTimeout(r, 11_000)); // the emulator's 10-second window empties
      const alone = await readWithoutHub(hubspot);
      return [
        { name: 'deals synced through the hub', value: run.stats.read, unit: 'deals' },
        { name: 'hub: duration', value: seconds, unit: 's' },
        { name: 'requests per 100 deals', value: (100 * requests) / DEALS, unit: 'requests' },
        ...rateFigures('hub', { seconds, requests, throttled }, DEALS, 'deals', ALLOWED_PER_SECOND),
        ...rateFigures('connector alone', alone, DEALS, 'deals', ALLOWED_PER_SECOND),
      ];
    } finally {
      await hub.close();
      await hubspot.close();
    }
  },
};
export default bench;
