import { ConnectorError } from '@plexus/sdk';
import { readStream } from '@plexus/sdk/testing';
import source from '../../connectors/hubspot/index.js';
import type { HubSpotCheckpoint, HubSpotContact } from '../../connectors/hubspot/index.js';
import { startHubSpot, syntheticHubSpotContacts, type HubSpotEmulator } from '../emulators/index.js';

const TOKEN = 'hs-faults-token';
const CONTACTS = 120;

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(error)}`);
  return error;
}

describe('HubSpot source under faults', () => {
  let hubspot: HubSpotEmulator;
  const config = (extra: Record<string, unknown> = {}) => ({
    accessToken: TOKEN,
    baseUrl: hubspot.url,
    pageSize: 40,
    requestsPerSecond: 100,
    ...extra,
  });
  const ids = (records: unknown[]) => (records as HubSpotContact[]).map((c) => c.id);

  beforeEach(async () => {
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(CONTACTS),
      rateLimit: { max: 1000 },
    });
  });
  afterEach(() => hubspot.close());

  it('retries a burst of 429 (TEN_SECONDLY_ROLLING) answers and reads every contact once', async () => {
    hubspot.faults.inject({ kind: '429', times: 3, path: '/crm/v3/objects/contacts$' });
    const result = await readStream(source, 'contacts', config());
    expect(new Set(ids(result.records)).size).toBe(CONTACTS);
    expect(result.records).toHaveLength(CONTACTS);
    expect(hubspot.requests.filter((r) => r.status === 429)).toHaveLength(3);
    expect(result.logs.filter((l) => /retrying .* after 429/.test(l.message))).toHaveLength(3);
  });

  it('respects the emulated rate limit: 429s from real throttling are waited out, not failed', async () => {
    await hubspot.close();
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(CONTACTS),
      rateLimit: { max: 20 },
    });
    // 2 requests/s allowed; the connector is told 10/s, so the emulator throttles it.
    const result = await readStream(source, 'contacts', config({ requestsPerSecond: 10 }));
    expect(result.records).toHaveLength(CONTACTS);
    expect(hubspot.state.throttled.SECONDLY).toBeGreaterThan(0);
  });

  it('turns a spent DAILY limit into a transient failure with a long retryAfter, at once', async () => {
    await hubspot.close();
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(CONTACTS),
      rateLimit: { max: 1000, daily: 2 },
    });
    const started = Date.now();
    const error = await failureOf(readStream(source, 'contacts', config()));
    expect(error.failureType).toBe('transient');
    expect(error.details.retryAfterMs).toBeGreaterThanOrEqual(15 * 60_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hubspot.state.throttled.DAILY).toBe(1);
  });

  it('retries 5xx answers', async () => {
    hubspot.faults.inject({ kind: '5xx', status: 502, times: 2 });
    const result = await readStream(source, 'contacts', config());
    expect(result.records).toHaveLength(CONTACTS);
    expect(hubspot.requests.filter((r) => r.status === 502)).toHaveLength(2);
  });

  it('fails fast with a config failure naming the private app token when the token expires', async () => {
    hubspot.faults.inject({ kind: 'expired-token', times: 1, path: '/crm/v3/objects/contacts$' });
    const error = await failureOf(readStream(source, 'contacts', config()));
    expect(error.failureType).toBe('config');
    expect(error.message).toMatch(/401.*check the accessToken setting.*private app/);
    expect(error.message).not.toContain(TOKEN);
    expect(hubspot.requests).toHaveLength(1);
  });

  it('retries a truncated page, and fails transient when every answer is cut', async () => {
    hubspot.faults.inject({ kind: 'truncated', times: 1, path: '/crm/v3/objects/contacts$' });
    const result = await readStream(source, 'contacts', config());
    expect(result.records).toHaveLength(CONTACTS);
    expect(hubspot.faults.fired.filter((f) => f.kind === 'truncated')).toHaveLength(1);

    hubspot.faults.inject({ kind: 'truncated', times: 50 });
    const error = await failureOf(readStream(source, 'contacts', config()));
    expect(error.failureType).toBe('transient');
  });

  it('hands a malformed record to the mapping, which rejects it with the reason', async () => {
    hubspot.faults.inject({ kind: 'malformed-record', times: 1, path: '/crm/v3/objects/contacts$' });
    const result = await readStream(source, 'contacts', config());
    const broken = hubspot.faults.fired.find((f) => f.kind === 'malformed-record')!.detail!;
    expect(result.mappingErrors).toEqual([
      { record: expect.objectContaining({ id: broken }), error: `contact ${broken}: properties are missing (null)` },
    ]);
    expect(result.profiles).toHaveLength(CONTACTS - 1);
  });

  it('moves the search window instead of paging past 10,000 results', async () => {
    await hubspot.close();
    const count = 10_300;
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(count, { startMs: Date.UTC(2025, 0, 1), stepMs: 7 }),
      rateLimit: false,
    });
    const from: HubSpotCheckpoint = {
      modified: { since: Date.UTC(2024, 0, 1), ids: [] },
      archived: { since: Date.now(), ids: [] },
    };
    const result = await readStream(source, 'contacts', config(), from);
    expect(result.records).toHaveLength(count);
    expect(new Set(ids(result.records)).size).toBe(count);
    const searches = hubspot.requests.filter((r) => r.path.endsWith('/search'));
    expect(searches.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([]);
    expect(searches.length).toBeGreaterThan(count / 200);
    expect(hubspot.state.throttled.SEARCH).toBe(0);
  }, 30_000);

  it('reads every contact once when more than a page share one lastmodifieddate', async () => {
    await hubspot.close();
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(450, { startMs: Date.UTC(2025, 0, 1), stepMs: 0 }),
      rateLimit: false,
    });
    const from: HubSpotCheckpoint = { modified: { since: 0, ids: [] }, archived: { since: Date.now(), ids: [] } };
    const result = await readStream(source, 'contacts', config({ searchPageSize: 100 }), from);
    expect(result.records).toHaveLength(450);
    expect(new Set(ids(result.records)).size).toBe(450);
    // A later run from that checkpoint reads nothing again.
    const again = await readStream(source, 'contacts', config({ searchPageSize: 100 }), result.lastCheckpoint);
    expect(again.records).toHaveLength(0);
  });

  it('sends contacts archived since the last run as deletes, once', async () => {
    const first = await readStream(source, 'contacts', config());
    hubspot.state.contacts.archive('17');
    hubspot.state.contacts.archive('18');
    const second = await readStream(source, 'contacts', config(), first.lastCheckpoint);
    expect(second.records).toHaveLength(0);
    expect(second.deletedIds.sort()).toEqual(['17', '18']);
    const third = await readStream(source, 'contacts', config(), second.lastCheckpoint);
    expect(third.deletedIds).toEqual([]);
    expect(source.streams[0].deletedIdentifier!('17', { connectionId: 'src_x' } as never)).toEqual({
      type: 'external_id',
      value: 'src_x:contact:17',
    });
  });
});
