import { QueueService } from '@plexus/queue';
import { startTestApp, type TestApp } from '../support/app.js';
import { waitForRun } from '../support/hub.js';
import { call } from '../support/http.js';
import { until } from '../support/wait.js';
import { startHubSpot, syntheticHubSpotContacts, type HubSpotEmulator } from '../emulators/index.js';

const TOKEN = 'hs-parking-token';
const CONTACTS = 120;

/**
 * A HubSpot account whose DAILY limit is spent: the run must wait for the reset (status `waiting`, `resumeAt`),
 * not burn BullMQ's retries against a limit that will not lift for hours, and go on from its checkpoint after.
 */
describe('a run parked on a vendor limit', () => {
  let t: TestApp;
  let hubspot: HubSpotEmulator;
  let queues: QueueService;

  const source = async (): Promise<string> => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: `HubSpot ${Math.random()}`,
        connector: 'hubspot',
        config: {
          accessToken: TOKEN,
          baseUrl: hubspot.url,
          pageSize: 20,
          recordsPerBatch: 20,
          prefetchPages: 1,
          companyDetails: false,
          requestsPerSecond: 100,
        },
      },
    });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };
  const runOf = async (runId: string): Promise<any> =>
    (await call(t.url, 'GET', `/v1/runs/${runId}`, { headers: t.auth })).body;
  const parked = (runId: string): Promise<any> =>
    until(async () => {
      const run = await runOf(runId);
      return run.status === 'waiting' ? run : undefined;
    }, 20_000);

  beforeAll(async () => {
    hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts: syntheticHubSpotContacts(CONTACTS),
      rateLimit: { max: 1000, daily: 3 },
    });
    t = await startTestApp({ label: 'hubspot-parking' });
    queues = t.app.get(QueueService);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await hubspot?.close();
  });

  it('waits for the DAILY reset without spending retries, then resumes from its checkpoint', async () => {
    const sourceId = await source();
    const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    const runId = started.body.runId as string;

    const waiting = await parked(runId);
    const resumeAt = Date.parse(waiting.resumeAt as string);
    expect(resumeAt).toBeGreaterThanOrEqual(Date.now() + 14 * 60_000); // HubSpot: next midnight UTC, ≥ 15 min
    expect(waiting.error).toEqual({ type: 'transient', message: expect.stringMatching(/daily/i) });
    expect(waiting.stats.read).toBeGreaterThan(0); // the pages allowed before the limit are committed
    expect(waiting.stats.read).toBeLessThan(CONTACTS);

    // The job sleeps as a delayed job until then, with no attempt spent; the source keeps its one active run.
    expect(await queues.jobState('sync', runId)).toBe('delayed');
    const job = await queues.queue('sync').getJob(runId);
    expect(job!.attemptsMade).toBe(0);
    expect(job!.delay).toBeGreaterThanOrEqual(14 * 60_000);
    expect(hubspot.state.throttled.DAILY).toBe(1);
    const again = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    expect(again.status).toBe(409);
    expect(again.body.details).toEqual({ runId, status: 'waiting' });

    // The day rolls over (emulator), and the clock reaches resumeAt (the delayed job is due now).
    hubspot.state.resetDaily(1_000);
    await job!.promote();
    const run = await waitForRun(t, runId);
    expect(run.status).toBe('succeeded');
    expect(run.resumeAt).toBeUndefined();
    // Counters add up over both attempts: resumed after the committed pages, nothing read twice.
    expect(run.stats).toMatchObject({ read: CONTACTS, written: CONTACTS, quarantined: 0 });
    expect(hubspot.state.throttled.DAILY).toBe(1);
    const lists = hubspot.requests.filter((r) => r.path === '/crm/v3/objects/contacts' && r.status === 200);
    expect(lists.length).toBeLessThanOrEqual(CONTACTS / 20 + 2);
  }, 60_000);

  it('cancels a waiting run at once and drops its delayed job', async () => {
    hubspot.state.resetDaily(0);
    const sourceId = await source();
    const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    const runId = started.body.runId as string;
    await parked(runId);
    const cancelled = await call(t.url, 'POST', `/v1/runs/${runId}/cancel`, { headers: t.auth });
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('cancelled');
    expect(await queues.jobState('sync', runId)).toBeUndefined();
    expect((await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth })).status).toBe(202);
  }, 60_000);
});
