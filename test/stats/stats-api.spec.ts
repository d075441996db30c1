import { IngestService } from '@plexus/identity';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { ingestTwoPeopleAndAMerge } from './support.js';

describe.each(['postgres', 'pglite'] as const)('the overview stats API on %s', (storage) => {
  let t: TestApp;
  const get = (path: string) => call(t.url, 'GET', path, { headers: t.auth });
  const today = () => new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    t = await startTestApp({ label: `stats_${storage}`, storage, env: { RUN_WORKERS: 'false' } });
    const ingest = t.app.get(IngestService);
    const now = new Date().toISOString();
    await ingestTwoPeopleAndAMerge(ingest, [now, '2020-01-01T00:00:00Z']);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
  }, 120_000);

  it('counts stored records per day and source', async () => {
    const records = await get('/v1/stats/records?days=7');
    expect(records.status).toBe(200);
    expect(records.body).toEqual({
      data: [
        { day: today(), sourceId: 'crm', records: 1 },
        { day: today(), sourceId: 'shop', records: 2 },
      ],
    });
  });

  it('counts events per minute by arrival, whenever they happened', async () => {
    const events = await get('/v1/stats/events?minutes=10');
    expect(events.status).toBe(200);
    expect(events.body.data.reduce((sum: number, m: { events: number }) => sum + m.events, 0)).toBe(2);
    for (const m of events.body.data) expect(m.minute).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/);
  });

  it('counts profiles created and merges per day, and the profiles live now', async () => {
    const profiles = await get('/v1/stats/profiles?days=30');
    expect(profiles.status).toBe(200);
    expect(profiles.body).toEqual({ live: 1, data: [{ day: today(), created: 2, merged: 1 }] });
  });

  it('refuses a window out of range with a 400 naming the field', async () => {
    const bad = await get('/v1/stats/records?days=0');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('days');
    expect((await get('/v1/stats/events?minutes=5000')).status).toBe(400);
  });
});
