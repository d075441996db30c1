import { ConnectorError, type ProfileRecord } from '@plexus/sdk';
import { readStream } from '@plexus/sdk/testing';
import source from '../../connectors/salesforce/index.js';
import type { SalesforceCheckpoint, SalesforceRecord } from '../../connectors/salesforce/index.js';
import {
  salesforceId,
  startSalesforce,
  syntheticSalesforceRecords,
  type SalesforceEmulator,
} from '../emulators/index.js';

const TOKEN = 'sf-bulk-token';
const CONTACTS = 5_000;

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(error)}`);
  return error;
}

const keyOf = (p: ProfileRecord) => p.identifiers.find((i) => i.type === 'external_id')!.value;
const byKey = (profiles: ProfileRecord[]) => [...profiles].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));

describe('Salesforce full syncs through Bulk API 2.0 query jobs', () => {
  let salesforce: SalesforceEmulator;
  const config = (extra: Record<string, unknown> = {}) => ({
    accessToken: TOKEN,
    baseUrl: salesforce.url,
    batchSize: 500,
    bulkPageSize: 2_000,
    contactUserIdField: 'Customer_ID__c',
    requestsPerSecond: 1000,
    activities: [],
    ...extra,
  });
  const jobPosts = () => salesforce.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs/query'));

  beforeEach(async () => {
    salesforce = await startSalesforce({
      tokens: [TOKEN],
      contacts: syntheticSalesforceRecords('Contact', CONTACTS),
      bulkPollsBeforeComplete: 2,
    });
  });
  afterEach(() => salesforce.close());

  it('creates one job, polls it to JobComplete, pages the CSV by Sforce-Locator, and maps rows as REST does', async () => {
    const bulk = await readStream(source, 'contacts', config());
    expect(bulk.records).toHaveLength(CONTACTS);
    const [create] = jobPosts();
    expect(create.body).toEqual({
      operation: 'query',
      query: expect.stringMatching(/^SELECT Id, .*Customer_ID__c FROM Contact$/),
      contentType: 'CSV',
      lineEnding: 'LF',
    });
    const polls = salesforce.requests.filter((r) => /\/jobs\/query\/750\w+$/.test(r.path));
    expect(polls).toHaveLength(3); // InProgress twice, then JobComplete
    const pages = salesforce.requests.filter((r) => r.path.endsWith('/results'));
    expect(pages.map((r) => [r.query.maxRecords, r.query.locator])).toEqual([
      ['2000', undefined],
      ['2000', Buffer.from('2000').toString('base64')],
      ['2000', Buffer.from('4000').toString('base64')],
    ]);
    expect(bulk.batches.map((b) => b.records.length)).toEqual(Array(10).fill(500));
    // Results come gzip-compressed, as Salesforce sends them to clients that accept it.
    expect(pages[0].headers['accept-encoding']).toMatch(/gzip/);
    expect(salesforce.requests.filter((r) => /\/v62\.0\/query(All)?(\/|$)/.test(r.path))).toEqual([]);

    // The same rows read through REST map to the same profiles: CSV text is typed back (booleans, nulls).
    const rest = await readStream(source, 'contacts', config({ fullSyncMethod: 'rest' }));
    expect(byKey(bulk.profiles)).toEqual(byKey(rest.profiles));
    expect(bulk.profiles.some((p) => p.consent?.email === false)).toBe(true);
  });

  it('resumes inside a results page from its checkpoint, on the same job', async () => {
    const full = await readStream(source, 'contacts', config());
    // Batch 5 is the first 500 rows of the second page.
    const fifth = full.batches[4].checkpoint as SalesforceCheckpoint;
    expect(fifth.bulk).toMatchObject({ locator: Buffer.from('2000').toString('base64'), skip: 500 });
    const rest = await readStream(source, 'contacts', config(), fifth);
    const ids = (records: unknown[]) => (records as SalesforceRecord[]).map((r) => r.Id);
    expect(ids(rest.records)).toEqual(full.batches.slice(5).flatMap((b) => ids(b.records)));
    expect(jobPosts()).toHaveLength(1);
  });

  it('starts a new job when the one in the checkpoint is gone, and reads everything again', async () => {
    const full = await readStream(source, 'contacts', config());
    const mid = full.batches[4].checkpoint as SalesforceCheckpoint;
    salesforce.state.bulkJobs.clear();
    const again = await readStream(source, 'contacts', config(), mid);
    expect(again.records).toHaveLength(CONTACTS);
    expect(jobPosts()).toHaveLength(2);
  });

  it('fails as transient when a page has fewer rows than Sforce-NumberOfRecords', async () => {
    salesforce.faults.inject({ kind: 'truncated', times: 1, path: '/results$' });
    const error = await failureOf(readStream(source, 'contacts', config()));
    expect(error.failureType).toBe('transient');
    expect(error.message).toMatch(/ended after \d+ of 2000 rows/);
  });

  it('quarantines a row whose CSV values do not map, with the reason', async () => {
    salesforce.faults.inject({ kind: 'malformed-record', times: 1, path: '/results$' });
    const result = await readStream(source, 'contacts', config());
    const broken = salesforce.faults.fired[0].detail!;
    expect(result.mappingErrors).toEqual([
      {
        record: expect.objectContaining({ Id: broken }),
        error: `Contact ${broken}: SystemModstamp is not a datetime ("not-a-date")`,
      },
    ]);
  });

  it('reads changes after a bulk load through REST queryAll, deletes included', async () => {
    const full = await readStream(source, 'contacts', config());
    const last = full.lastCheckpoint as SalesforceCheckpoint;
    expect(last.initial).toBeUndefined();
    expect(last.bulk).toBeUndefined();
    expect(last.since).toBe(Date.UTC(2024, 0, 1) + (CONTACTS - 1) * 1_000);
    const changed = salesforce.state.contacts.update(salesforceId('Contact', 12), { Title: 'CTO' });
    salesforce.state.contacts.delete(salesforceId('Contact', 13));
    const before = salesforce.requests.length;
    const next = await readStream(source, 'contacts', config(), last);
    expect((next.records as SalesforceRecord[]).map((r) => r.Id)).toEqual([changed.Id]);
    expect(next.deletedIds).toEqual([salesforceId('Contact', 13)]);
    expect(salesforce.requests.slice(before).map((r) => r.path)).toEqual([expect.stringMatching(/\/queryAll$/)]);
  });
});
