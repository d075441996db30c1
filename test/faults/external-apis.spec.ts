import { createTestDatabase } from '../support/database.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { until } from '../support/wait.js';
import type { FaultSpec, HubSpotEmulator } from '../emulators/index.js';
import { Cluster, type HubProcess } from './support/cluster.js';
import { settled } from './support/oracle.js';
import {
  activateBoth,
  activation,
  activationRuns,
  consentingVisitors,
  deliveredCount,
  deliveredState,
  platformState,
  QUICK_HTTP,
  startPlatforms,
  type FullState,
  type Platforms,
} from './support/misbehaving.js';
import {
  createAudiences,
  createEventsSource,
  createHubSpotSource,
  run,
  sendWithRetries,
  startFaultHubSpot,
  startSync,
  waitForRun,
} from './support/workload.js';

const CONTACTS = 300;
const VISITORS = 120;
/** The audience the destinations receive: the consenting visitors with an email (HubSpot contacts are not sendable). */
const ACTIVATED = 2; // 'Reachable by email'
const HUBSPOT_PAGES = '/crm/v3/objects/contacts';
const META_WRITES = '/users$';
const GOOGLE_WRITES = ':ingest$';
const GOOGLE_WRITES_RE = new RegExp(GOOGLE_WRITES);

interface Deployment {
  api: HubProcess;
  databaseUrl: string;
  platforms: Platforms;
  hubspot: HubSpotEmulator;
}

/**
 * Source and destination APIs misbehave under a running deployment: throttling storms, 5xx, hanging requests,
 * pages cut mid-JSON, a token revoked mid-run, and one destination broken while another is healthy. The end
 * state — profiles, ledger, what each platform holds — must equal the same work against well-behaved APIs, and a
 * revoked token must stop the work with a configuration error instead of retrying forever.
 */
describe('external APIs misbehaving', () => {
  let oracle: FullState;
  let oracleGoogleMs = 0;
  const cleanups: Array<() => Promise<void>> = [];

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  async function deploy(label: string, contacts = CONTACTS): Promise<Deployment> {
    const db = await createTestDatabase(`faults_ext_${label}`);
    const cluster = new Cluster({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, env: QUICK_HTTP });
    const hubspot = await startFaultHubSpot(contacts);
    const platforms = await startPlatforms();
    cleanups.push(
      () => db.drop(),
      () => hubspot.close(),
      () => platforms.close(),
      () => cluster.close(),
    );
    const api = await cluster.api();
    await cluster.worker();
    return { api, databaseUrl: db.url, platforms, hubspot };
  }

  /**
   * The work: a HubSpot sync and a burst of consenting visitors, delivered to Meta and Google. `faults` is armed
   * once the activations exist, before any data arrives, so it hits the source and the platforms mid-work.
   */
  async function work(d: Deployment, faults: () => void = () => undefined) {
    const audiences = await createAudiences(d.api.url);
    const activations = await activateBoth(d.api.url, d.platforms, audiences[ACTIVATED]);
    faults();
    const runId = await startSync(d.api.url, await createHubSpotSource(d.api.url, d.hubspot, 50));
    const events = await createEventsSource(d.api.url);
    await sendWithRetries(() => [d.api.url], events.writeKey, consentingVisitors(VISITORS));
    const finished = await waitForRun(() => d.api.url, runId, 90_000);
    return { runId, finished, activations, audienceId: audiences[ACTIVATED] };
  }

  const delivered = async (d: Deployment, activationId: string) => {
    const [ledger, members] = await deliveredCount(d.databaseUrl, activationId);
    return members > 0 && ledger >= members;
  };

  const fired = (d: Deployment, kind: FaultSpec['kind']) => ({
    hubspot: d.hubspot.faults.fired.filter((f) => f.kind === kind).length,
    meta: d.platforms.meta.faults.fired.filter((f) => f.kind === kind).length,
    google: d.platforms.google.faults.fired.filter((f) => f.kind === kind).length,
  });

  it('runs the work against well-behaved APIs (the oracle)', async () => {
    const d = await deploy('oracle');
    const { finished, activations, audienceId } = await work(d);
    expect(finished.status).toBe('succeeded');
    oracle = await deliveredState(d.databaseUrl, d.platforms, [activations.meta, activations.google]);
    expect(oracle.profiles.graph.length).toBeGreaterThanOrEqual(VISITORS);
    expect(oracle.platforms.meta).toHaveLength(VISITORS);
    expect(oracle.platforms.google).toHaveLength(VISITORS);
    expect(oracle.ledger.ledger.Meta.filter((m) => m.endsWith('| held'))).toHaveLength(VISITORS);
    expect(oracle.ledger).toMatchObject({ engineRetries: 0, deadLetters: 0 });

    // How long a healthy Google delivery of the whole audience takes, for the broken-destination bound below.
    const started = Date.now();
    const again = await activateBoth(d.api.url, d.platforms, audienceId);
    await until(() => delivered(d, again.google), 60_000, 100);
    oracleGoogleMs = Date.now() - started;
  });

  it('429 storms and 5xx from HubSpot, Meta and Google: retried within budget, the same end state', async () => {
    const d = await deploy('storms');
    const { finished, activations } = await work(d, () => {
      d.hubspot.faults.inject(
        { kind: '429', times: 3, path: HUBSPOT_PAGES },
        { kind: '5xx', status: 502, times: 2, path: HUBSPOT_PAGES },
      );
      d.platforms.meta.faults.inject(
        { kind: '429', times: 3, path: META_WRITES },
        { kind: '5xx', times: 2, path: META_WRITES },
      );
      d.platforms.google.faults.inject(
        { kind: '429', times: 2, path: GOOGLE_WRITES },
        { kind: '5xx', status: 500, times: 2, path: GOOGLE_WRITES },
      );
    });
    expect(finished.status).toBe('succeeded');
    const state = await deliveredState(d.databaseUrl, d.platforms, [activations.meta, activations.google]);
    expect(fired(d, '429')).toEqual({ hubspot: 3, meta: 3, google: 2 });
    expect(fired(d, '5xx')).toEqual({ hubspot: 2, meta: 2, google: 2 });
    expect(state).toEqual(oracle);
    // Google's RESOURCE_EXHAUSTED carries RetryInfo (1 s): the next request waits at least that long.
    const google = d.platforms.google.requests.filter((r) => GOOGLE_WRITES_RE.test(r.path));
    const throttled = google.findIndex((r) => r.status === 429);
    expect(google[throttled + 1].at - google[throttled].at).toBeGreaterThanOrEqual(950);
  });

  it('hanging requests and pages cut mid-JSON: timed out or refused as transient, retried, never half-stored', async () => {
    const d = await deploy('hangs');
    const hang = { kind: 'slow' as const, delayMs: 5_000 };
    const { finished, activations } = await work(d, () => {
      d.hubspot.faults.inject(
        { ...hang, times: 2, path: HUBSPOT_PAGES },
        { kind: 'truncated', times: 2, path: HUBSPOT_PAGES },
      );
      d.platforms.meta.faults.inject(
        { ...hang, times: 1, path: META_WRITES },
        { kind: 'truncated', times: 2, path: META_WRITES },
      );
      d.platforms.google.faults.inject(
        { ...hang, times: 1, path: GOOGLE_WRITES },
        { kind: 'truncated', times: 2, path: GOOGLE_WRITES },
      );
    });
    expect(finished.status).toBe('succeeded');
    const state = await deliveredState(d.databaseUrl, d.platforms, [activations.meta, activations.google]);
    expect(fired(d, 'slow')).toEqual({ hubspot: 2, meta: 1, google: 1 });
    expect(fired(d, 'truncated')).toEqual({ hubspot: 2, meta: 2, google: 2 });
    expect(state).toEqual(oracle);
  });

  it('a token revoked mid-run: the sync and the delivery stop with a config error naming it, without endless retries', async () => {
    // Enough pages at 2 requests a second that the token can be revoked after the first is stored.
    const d = await deploy('revoked', 1_500);
    const audiences = await createAudiences(d.api.url);
    const activations = await activateBoth(d.api.url, d.platforms, audiences[ACTIVATED]);
    // Meta: the first write is refused with error 190 (the token was revoked).
    d.platforms.meta.faults.inject({ kind: 'expired-token', times: 1000, path: META_WRITES });
    const runId = await startSync(d.api.url, await createHubSpotSource(d.api.url, d.hubspot, 2));
    const events = await createEventsSource(d.api.url);
    await sendWithRetries(() => [d.api.url], events.writeKey, consentingVisitors(VISITORS));
    // HubSpot: revoked once the first page is stored.
    await until(async () => ((await run(() => d.api.url, runId)).stats?.read >= 100 ? true : undefined), 60_000, 25);
    d.hubspot.faults.inject({ kind: 'expired-token', times: 1000 });

    const failed = await waitForRun(() => d.api.url, runId, 60_000);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({
      type: 'config',
      message: expect.stringMatching(/HubSpot rejected the access token \(401\).*accessToken/),
    });
    const stopped = await until(
      async () => {
        const a = await activation(d.api.url, activations.meta);
        return a.status === 'stopped' ? a : undefined;
      },
      60_000,
      200,
    );
    expect(stopped.error).toMatchObject({
      type: 'config',
      message: expect.stringMatching(/Meta rejected the access token.*#190/),
    });
    expect((await activationRuns(d.api.url, activations.meta))[0]).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('#190'),
    });
    // Nothing keeps knocking with the dead token.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(fired(d, 'expired-token')).toEqual({ hubspot: 1, meta: 1, google: 0 });
    expect(d.platforms.meta.state.audiences.size).toBe(1);
    expect(platformState(d.platforms).meta).toEqual([]);
    // Google is not held up by Meta's failure.
    expect(platformState(d.platforms).google).toHaveLength(VISITORS);
  });

  it('one destination hanging does not delay the other: Google is delivered while Meta still retries', async () => {
    const d = await deploy('broken');
    const audiences = await createAudiences(d.api.url);
    const runId = await startSync(d.api.url, await createHubSpotSource(d.api.url, d.hubspot, 50));
    const events = await createEventsSource(d.api.url);
    await sendWithRetries(() => [d.api.url], events.writeKey, consentingVisitors(VISITORS));
    expect((await waitForRun(() => d.api.url, runId, 60_000)).status).toBe('succeeded');
    await settled(d.databaseUrl);

    // Every write to Meta hangs past the hub's timeout and is then refused: a write whose client gave up is still
    // applied by a platform that received it, so the refusal keeps Meta empty however long Google takes.
    d.platforms.meta.faults.inject(
      { kind: 'slow', delayMs: 20_000, times: 10_000, path: META_WRITES },
      { kind: '5xx', times: 10_000, path: META_WRITES },
    );
    const started = Date.now();
    const activations = await activateBoth(d.api.url, d.platforms, audiences[ACTIVATED]);
    await until(() => delivered(d, activations.google), 60_000, 100);
    const googleMs = Date.now() - started;

    expect(platformState(d.platforms).google).toEqual(oracle.platforms.google);
    // Meta has received nothing yet: its writes hang and are retried.
    expect(platformState(d.platforms).meta).toEqual([]);
    expect((await deliveredCount(d.databaseUrl, activations.meta))[0]).toBe(0);
    expect((await activation(d.api.url, activations.meta)).status).toBe('active');
    // Generous for a loaded machine, far below what waiting for Meta's retries would take.
    expect(googleMs).toBeLessThan(Math.max(3 * oracleGoogleMs, oracleGoogleMs + 15_000));
  });
});
