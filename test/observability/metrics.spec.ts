import { startTestApp, type TestApp } from '../support/app.js';
import { waitForRun } from '../support/hub.js';
import { basicAuth, call } from '../support/http.js';
import { scrape, valueOf, type Sample } from '../support/metrics.js';

/**
 * `/metrics` counts what the hub committed, exactly: records per source and outcome (sync runs and the tracking
 * API), profiles created, merges and unmerges, audience sizes and changes, and job durations per queue.
 */
describe('metrics of ingestion, identity, audiences and jobs', () => {
  let t: TestApp;
  let sourceId: string;
  const api = (method: string, path: string, body?: unknown) => call(t.url, method, path, { headers: t.auth, body });
  const upload = async (csv: string): Promise<any> => {
    const res = await fetch(`${t.url}/v1/sources/${sourceId}/upload`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(res.status).toBe(202);
    return waitForRun(t, ((await res.json()) as { runId: string }).runId);
  };
  const records = (m: Sample[], source: string, outcome: string) =>
    valueOf(m, 'plexus_source_records_total', { source, outcome });

  beforeAll(async () => {
    t = await startTestApp({ label: 'metrics' });
    const created = await api('POST', '/v1/sources', {
      name: 'CRM export',
      connector: 'file-import',
      config: {
        url: 'https://files.example.com/crm.csv',
        format: 'csv',
        defaultCountry: 'FR',
        mapping: { identifiers: { email: 'Email', phone: 'Phone' }, traits: { country: 'Country' } },
      },
    });
    expect(created.status).toBe(201);
    sourceId = created.body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts a sync run’s records by outcome as its batches commit, and the profiles it created', async () => {
    const before = await scrape(t);
    const run = await upload('Email,Phone,Country\nann@acme.io,,FR\n,06 12 34 56 78,FR\nbob@acme.io,,FR\n,,FR\n');
    expect(run).toMatchObject({ status: 'partial', stats: { read: 4, written: 3, quarantined: 1 } });
    const after = await scrape(t);
    expect(records(after, sourceId, 'read') - records(before, sourceId, 'read')).toBe(4);
    expect(records(after, sourceId, 'written') - records(before, sourceId, 'written')).toBe(3);
    expect(records(after, sourceId, 'quarantined') - records(before, sourceId, 'quarantined')).toBe(1);
    expect(valueOf(after, 'plexus_source_records_total', { source: sourceId, connector: 'file-import' })).toBe(8);
    expect(
      valueOf(after, 'plexus_identity_profiles_created_total') -
        valueOf(before, 'plexus_identity_profiles_created_total'),
    ).toBe(3);
    // The run's job ran on the sync queue and was timed.
    expect(
      valueOf(after, 'plexus_job_duration_seconds_count', { queue: 'sync', job: 'source.sync', outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts a merge and its unmerge', async () => {
    const before = await scrape(t);
    const run = await upload('Email,Phone,Country\nann@acme.io,06 12 34 56 78,FR\n');
    expect(run).toMatchObject({ status: 'succeeded', stats: { written: 1 } });
    const merged = await scrape(t);
    expect(valueOf(merged, 'plexus_identity_merges_total') - valueOf(before, 'plexus_identity_merges_total')).toBe(1);
    expect(valueOf(merged, 'plexus_identity_unmerges_total')).toBe(0);
    const ann = (await api('GET', '/v1/profiles?identifier=email:ann@acme.io')).body.data[0].id;
    expect((await api('POST', `/v1/profiles/${ann}/unmerge`, {})).status).toBe(200);
    expect(valueOf(await scrape(t), 'plexus_identity_unmerges_total')).toBe(1);
  });

  it('shows each audience’s size as stored and counts the changes its evaluations committed', async () => {
    const created = await api('POST', '/v1/audiences', {
      name: 'Known by email',
      rule: { identifier: 'email' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect(created.body.size).toBe(2);
    const m = await scrape(t);
    expect(valueOf(m, 'plexus_audience_size', { audience: id, name: 'Known by email' })).toBe(2);
    expect(valueOf(m, 'plexus_audience_changes_total', { audience: id, change: 'entered' })).toBe(2);
    expect(valueOf(m, 'plexus_audience_evaluations_total', { kind: 'full' })).toBeGreaterThanOrEqual(1);
    expect((await api('DELETE', `/v1/audiences/${id}`)).status).toBe(204);
    expect(valueOf(await scrape(t), 'plexus_audience_size', { audience: id })).toBe(0);
  });

  it('counts the tracking API’s messages: stored, and refused into the quarantine', async () => {
    const site = await api('POST', '/v1/sources', { name: 'Website', connector: 'http-events', config: {} });
    expect(site.status).toBe(201);
    const res = await call(t.url, 'POST', '/v1/batch', {
      headers: basicAuth(site.body.writeKey),
      body: {
        batch: [
          { type: 'identify', userId: 'u-1', traits: { email: 'carol@acme.io' } },
          { type: 'track', event: 'Order Completed' }, // neither userId nor anonymousId
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.refused).toBe(1);
    const m = await scrape(t);
    const of = (outcome: string) =>
      valueOf(m, 'plexus_source_records_total', { source: site.body.id, connector: 'http-events', outcome });
    expect([of('read'), of('written'), of('quarantined'), of('suppressed')]).toEqual([2, 1, 1, 0]);
  });
});
