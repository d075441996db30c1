import { ConnectorError } from '@plexus/sdk';
import { readStream } from '@plexus/sdk/testing';
import source from '../../connectors/salesforce/index.js';
import type { SalesforceCheckpoint, SalesforceRecord } from '../../connectors/salesforce/index.js';
import {
  salesforceId,
  startSalesforce,
  syntheticSalesforceRecords,
  type SalesforceEmulator,
} from '../emulators/index.js';

const TOKEN = 'sf-faults-token';
const CONTACTS = 500;

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(error)}`);
  return error;
}

describe('Salesforce source under faults', () => {
  let salesforce: SalesforceEmulator;
  const config = (extra: Record<string, unknown> = {}) => ({
    accessToken: TOKEN,
    baseUrl: salesforce.url,
    batchSize: 200,
    requestsPerSecond: 100,
    // REST paging, throttling and lookback; full syncs through Bulk API 2.0 are in salesforce-bulk.spec.ts.
    fullSyncMethod: 'rest',
    activities: [],
    ...extra,
  });
  const ids = (records: unknown[]) => (records as SalesforceRecord[]).map((r) => r.Id);

  beforeEach(async () => {
    salesforce = await startSalesforce({ tokens: [TOKEN], contacts: syntheticSalesforceRecords('Contact', CONTACTS) });
  });
  afterEach(() => salesforce.close());

  it('pages with nextRecordsUrl, asks for the batch size, orders by SystemModstamp', async () => {
    const result = await readStream(source, 'contacts', config());
    expect(result.records).toHaveLength(CONTACTS);
    expect(result.batches).toHaveLength(3);
    const [first, ...rest] = salesforce.requests;
    expect(first.headers['sforce-query-options']).toBe('batchSize=200');
    expect(String(first.query.q)).toMatch(/FROM Contact ORDER BY SystemModstamp ASC, Id ASC$/);
    expect(rest.map((r) => r.path)).toEqual([
      expect.stringMatching(/^\/services\/data\/v62\.0\/query\/[^/]+-200$/),
      expect.stringMatching(/-400$/),
    ]);
  });

  it('retries ConcurrentPerOrgLongTxn (403 REQUEST_LIMIT_EXCEEDED) and 5xx answers', async () => {
    salesforce.faults.inject({ kind: '429', times: 1 }, { kind: '5xx', status: 500, times: 1 });
    const result = await readStream(source, 'contacts', config());
    expect(new Set(ids(result.records)).size).toBe(CONTACTS);
    expect(salesforce.requests.filter((r) => r.status === 403 || r.status === 500)).toHaveLength(2);
  });

  it('turns a spent daily allowance (TotalRequests Limit exceeded) into a transient failure with a long delay', async () => {
    salesforce.state.apiUsage.used = salesforce.state.apiUsage.limit;
    const error = await failureOf(readStream(source, 'contacts', config()));
    expect(error.failureType).toBe('transient');
    expect(error.details.retryAfterMs).toBe(60 * 60_000);
    expect(salesforce.requests).toHaveLength(1);
  });

  it('fails with a config failure on INVALID_SESSION_ID, saying what to fix', async () => {
    salesforce.faults.inject({ kind: 'expired-token', times: 1 });
    const error = await failureOf(readStream(source, 'contacts', config()));
    expect(error.failureType).toBe('config');
    expect(error.message).toMatch(/INVALID_SESSION_ID.*update the accessToken setting/);
    expect(error.message).not.toContain(TOKEN);
  });

  it('fails with a config failure when the configured user id field does not exist', async () => {
    const error = await failureOf(readStream(source, 'contacts', config({ contactUserIdField: 'Member_Number__c' })));
    expect(error.failureType).toBe('config');
    expect(error.message).toMatch(/Member_Number__c.*contactUserIdField/);
  });

  it('retries a truncated page', async () => {
    salesforce.faults.inject({ kind: 'truncated', times: 1, path: '/query/' });
    const result = await readStream(source, 'contacts', config());
    expect(result.records).toHaveLength(CONTACTS);
    expect(salesforce.faults.fired.map((f) => f.kind)).toEqual(['truncated']);
  });

  it('rejects a malformed row in the mapping with its reason', async () => {
    salesforce.faults.inject({ kind: 'malformed-record', times: 1 });
    const result = await readStream(source, 'contacts', config());
    const broken = salesforce.faults.fired[0].detail!;
    expect(result.mappingErrors).toEqual([
      {
        record: expect.objectContaining({ Id: broken }),
        error: `Contact ${broken}: SystemModstamp is not a datetime ("not-a-date")`,
      },
    ]);
  });

  it('re-reads the lookback window, skipping rows already read, and catches rows committed late', async () => {
    const full = await readStream(source, 'contacts', config());
    const last = full.lastCheckpoint as SalesforceCheckpoint;
    // A long transaction commits a row stamped two minutes before the last row read.
    const late = salesforce.state.contacts.insert(
      { LastName: 'Late', Email: 'late@plexus-test.io' },
      last.since! - 120_000,
    );
    const before = salesforce.requests.length;
    const again = await readStream(source, 'contacts', config(), last);
    expect(ids(again.records)).toEqual([late.Id]);
    expect(String(salesforce.requests[before].query.q)).toMatch(/WHERE SystemModstamp >= 2024-01-01T00:03:19Z /);
    // Without a lookback the late row would be missed.
    const later = salesforce.state.contacts.insert({ LastName: 'Later' }, last.since! - 60_000);
    const none = await readStream(source, 'contacts', config({ lookbackMinutes: 0 }), again.lastCheckpoint);
    expect(ids(none.records)).not.toContain(later.Id);
  });

  it('reads Opportunities of a single-currency org with the configured currency, and says so when it is missing', async () => {
    const single = await startSalesforce({
      tokens: [TOKEN],
      multiCurrency: false,
      opportunities: [
        {
          Id: salesforceId('Opportunity', 1),
          IsDeleted: false,
          Name: 'Renewal',
          Amount: 1200,
          StageName: 'Closed Won',
          IsClosed: true,
          IsWon: true,
          CloseDate: '2024-03-01',
          CreatedDate: '2024-02-01T00:00:00.000+0000',
          SystemModstamp: '2024-03-01T00:00:00.000+0000',
        },
      ],
      contactRoles: [
        {
          Id: salesforceId('OpportunityContactRole', 1),
          OpportunityId: salesforceId('Opportunity', 1),
          ContactId: salesforceId('Contact', 1),
          Role: 'Decision Maker',
          IsPrimary: true,
          SystemModstamp: '2024-02-01T00:00:00.000+0000',
        },
      ],
    });
    try {
      const deals = { ...config({ activities: ['Opportunity'] }), baseUrl: single.url };
      const error = await failureOf(readStream(source, 'opportunities', deals));
      expect(error.failureType).toBe('config');
      expect(error.message).toMatch(/CurrencyIsoCode.*set currencyIsoCode/);
      const read = await readStream(source, 'opportunities', { ...deals, currencyIsoCode: 'USD' });
      expect(read.profiles[0].events?.map((e) => [e.name, e.properties?.amount, e.properties?.currency])).toEqual([
        ['Opportunity Created', 1200, 'USD'],
        ['Opportunity Won', 1200, 'USD'],
      ]);
    } finally {
      await single.close();
    }
  });

  it("keeps openCases current: closing or deleting a Case recounts its Contact's open Cases", async () => {
    const contact = salesforceId('Contact', 1);
    const first = salesforce.state.cases.insert(
      { ContactId: contact, Status: 'New', IsClosed: false },
      Date.UTC(2024, 5, 1),
    );
    salesforce.state.cases.insert({ ContactId: contact, Status: 'New', IsClosed: false }, Date.UTC(2024, 5, 2));
    const cases = config({ activities: ['Case'] });
    const full = await readStream(source, 'cases', cases);
    expect(full.profiles.map((p) => p.traits)).toEqual([{ openCases: 2 }, { openCases: 2 }]);
    salesforce.state.cases.delete(first.Id);
    const next = await readStream(source, 'cases', cases, full.lastCheckpoint);
    expect(next.profiles).toEqual([
      {
        identifiers: [{ type: 'external_id', value: `test-connection:contact:${contact}` }],
        traits: { openCases: 1 },
        observedAt: expect.any(String),
      },
    ]);
  });

  it('sends rows deleted since the last run as deletes (queryAll), once', async () => {
    const full = await readStream(source, 'contacts', config());
    const gone = salesforceId('Contact', 42);
    salesforce.state.contacts.delete(gone);
    const before = salesforce.requests.length;
    const next = await readStream(source, 'contacts', config(), full.lastCheckpoint);
    expect(next.records).toEqual([]);
    expect(next.deletedIds).toEqual([gone]);
    expect(salesforce.requests[before].path).toMatch(/\/queryAll$/);
    const after = await readStream(source, 'contacts', config(), next.lastCheckpoint);
    expect(after.deletedIds).toEqual([]);
  });
});
