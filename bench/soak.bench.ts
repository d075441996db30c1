import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startHubSpot, startMeta, type HubSpotEmulator, type MetaEmulator } from '../test/emulators/index.js';
import { deleteRedisPrefix } from '../test/support/redis.js';
import { freePort, hubProcessArgs, waitForHealth, type Benchmark, type Figure } from './harness.js';
import { renderCharts, type Chart, type Series } from './soak-charts.js';

const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const EVENTS_PER_SECOND = Number(process.env.BENCH_SOAK_EVENTS_PER_SECOND ?? 2_000);
const SAMPLE_SECONDS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 5);
const WORKERS = Number(process.env.BENCH_SOAK_WORKERS ?? 1);
/** The HubSpot source's schedule: a sync every this many seconds. */
const SYNC_EVERY_SECONDS = Number(process.env.BENCH_SOAK_SYNC_SECONDS ?? 30);
/** A full re-evaluation of the trait audience is asked for through the API this often. */
const EVALUATE_EVERY_SECONDS = Number(process.env.BENCH_SOAK_EVALUATE_SECONDS ?? 120);
/** Where the graphs and the samples go (relative to the working directory). */
const OUT_DIR = resolve(process.env.BENCH_SOAK_OUT ?? 'docs/soak');
/** How long the hub may take to work off what is left once the load stops. */
const DRAIN_TIMEOUT_MS = 300_000;

/** Events per `/v1/batch` request: analytics-node's and the mobile SDKs' shape. */
const BATCH = 20;
/** Known users the events are spread over; HubSpot holds some of them as contacts (same email). */
const USERS = 10_000;
const HUBSPOT_SEED = 2_000;
/** Requests the load generator lets be in flight; beyond that it skips (and counts) instead of queueing. */
const MAX_IN_FLIGHT = 64;
const PROBE_TIMEOUT_MS = 180_000;
const DOMAIN = 'soak-bench.io';
const HUBSPOT_TOKEN = 'soak-hubspot-token';
const META_TOKEN = 'soak-meta-token';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const percentile = (values: number[], p: number): number | null => {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const mx = mean(points.map(([x]) => x));
  const my = mean(points.map(([, y]) => y));
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null; // the process is gone
  }
}

interface Sample {
  minute: number;
  load1: number;
  rss: Record<string, number | null>;
  /** waiting + active + prioritized jobs per queue. */
  queued: Record<string, number>;
  delayed: number;
  pendingProfileChanges: number;
  /** Audience changes the activations have not delivered yet, plus re-checks queued for them. */
  activationBacklog: number;
  eventsAcknowledgedPerSecond: number;
  latencyP50: number | null;
  latencyP99: number | null;
  probe: { eventToProfile: number | null; eventToAudience: number | null; eventToMeta: number | null };
}

interface PlexusProcess {
  name: string;
  child: ChildProcess;
}

/** Starts a compiled Plexus entry point (`api` or `worker`) with the shared settings; stderr goes to `log`. */
function spawnPlexus(kind: 'api' | 'worker', env: Record<string, string>, log: string): ChildProcess {
  const main = fileURLToPath(new URL(`../apps/${kind}/src/main.js`, import.meta.url));
  const fd = openSync(log, 'a');
  return spawn(process.execPath, hubProcessArgs(main), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', fd],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * A tracking message of the load: mostly `track` by a known user, one in ten an `identify` with the email. The
 * user shifts every 1,000 messages: with `n * 7919 % USERS` alone, the last digit of `n` fixes the user's, so the
 * users who `identify` (n ending in 0) would never `track`, and every 25th message would fall on the same 400 users.
 */
function message(n: number, tag: string): Record<string, unknown> {
  const user = (n * 7_919 + Math.floor(n / 1_000)) % USERS;
  const base = {
    userId: `soak-${user}`,
    messageId: `${tag}-${n}`,
    timestamp: new Date().toISOString(),
    context: {
      ip: '203.0.113.42',
      userAgent: 'Mozilla/5.0 (soak)',
      library: { name: 'analytics-node', version: '6.0.0' },
      consent: { categoryPreferences: { advertising: true, analytics: true } },
    },
  };
  if (n % 10 === 0) return { ...base, type: 'identify', traits: { email: `u${user}@${DOMAIN}` } };
  const order = n % 25 === 1;
  return {
    ...base,
    type: 'track',
    event: order ? 'Order Completed' : 'Product Viewed',
    properties: order ? { total: 20 + (n % 180), currency: 'EUR' } : { sku: `SKU-${n % 500}`, price: 9.99 },
  };
}

/**
 * Ten minutes (BENCH_SOAK_MINUTES) of everything at once against spawned processes — one API (workers off) and
 * BENCH_SOAK_WORKERS workers on PostgreSQL and Redis: the tracking API paced at 2,000 events/s, a HubSpot source
 * synced on a short schedule while its contacts change, audiences re-evaluated in real time, on their schedule and
 * in full on request, and three activations to the Meta emulator. Samples every few seconds; at the end waits for
 * the backlog to drain, checks that nothing was lost, and draws the graphs into docs/soak/.
 */
const bench: Benchmark = {
  name: 'soak',
  onlyWhenNamed: true,
  description: `${MINUTES} min: tracking at ${EVENTS_PER_SECOND.toLocaleString('en-US')} events/s + HubSpot every ${SYNC_EVERY_SECONDS} s + audiences + Meta activations; 1 API + ${WORKERS} worker process(es)`,
  async run(): Promise<Figure[]> {
    const tag = randomBytes(3).toString('hex');
    const dbName = `plexus_bench_soak_${tag}`;
    const databaseUrl = POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
    const adminKey = `plx_bench_${randomBytes(12).toString('hex')}`;
    const work = mkdtempSync(join(tmpdir(), 'plexus-soak-'));
    const logFile = join(work, 'processes.log');
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);

    const hubspot: HubSpotEmulator = await startHubSpot({ tokens: [HUBSPOT_TOKEN], maxRecordedRequests: 100 });
    const meta: MetaEmulator = await startMeta({
      tokens: [META_TOKEN],
      adAccounts: ['1000'],
      rateLimit: { max: 20, windowMs: 1000 },
      maxRecordedRequests: 100,
    });
    const stages = ['customer', 'lead', 'opportunity'];
    for (let i = 0; i < HUBSPOT_SEED; i++)
      hubspot.state.contacts.create({ email: `u${i}@${DOMAIN}`, firstname: `U${i}`, lifecyclestage: stages[i % 3] });

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const queuePrefix = `plexus-bench-soak-${tag}`;
    const shared = {
      DATABASE_URL: databaseUrl,
      REDIS_URL,
      QUEUE_PREFIX: queuePrefix,
      ADMIN_API_KEY: adminKey,
      PLEXUS_MASTER_KEY: randomBytes(32).toString('hex'),
      OUTBOUND_ALLOW: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const processes: PlexusProcess[] = [];
    const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    const figures: Figure[] = [];
    try {
      const api = spawnPlexus(
        'api',
        { ...shared, PORT: String(port), HOST: '127.0.0.1', RUN_WORKERS: 'false', DATA_DIR: join(work, 'api') },
        logFile,
      );
      processes.push({ name: 'api', child: api });
      await waitForHealth(url, api, 120_000); // the API migrates the database before it listens
      for (let i = 0; i < WORKERS; i++)
        processes.push({
          name: `worker ${i + 1}`,
          child: spawnPlexus('worker', { ...shared, DATA_DIR: join(work, `worker-${i}`) }, logFile),
        });

      const call = async (method: string, path: string, body?: unknown): Promise<any> => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const parsed: unknown = await res.json();
        if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
        return parsed;
      };
      const web = await call('POST', '/v1/sources', { name: 'web', connector: 'http-events', config: {} });
      const writeKey = `Basic ${Buffer.from(`${web.writeKey as string}:`).toString('base64')}`;
      await call('POST', '/v1/sources', {
        name: 'HubSpot',
        connector: 'hubspot',
        config: { accessToken: HUBSPOT_TOKEN, baseUrl: hubspot.url, requestsPerSecond: 15 },
        schedule: { everySeconds: SYNC_EVERY_SECONDS },
      });
      const audiences = {
        buyers: await call('POST', '/v1/audiences', {
          name: 'repeat buyers',
          rule: {
            all: [{ consent: 'ads' }, { event: 'Order Completed', within: '1d', count: { op: 'gte', value: 2 } }],
          },
        }),
        customers: await call('POST', '/v1/audiences', {
          name: 'active HubSpot customers',
          rule: {
            all: [
              { trait: 'lifecycleStage', op: 'eq', value: 'customer' },
              { event: 'Product Viewed', within: '1d' },
            ],
          },
        }),
        probes: await call('POST', '/v1/audiences', {
          name: 'soak probes',
          rule: { event: 'Soak Probe', within: '1d' },
        }),
      };
      const destination = await call('POST', '/v1/destinations', {
        name: 'Meta',
        connector: 'meta-custom-audiences',
        config: { accessToken: META_TOKEN, adAccountId: '1000', baseUrl: meta.url, requestsPerSecond: 10 },
      });
      const activations: Record<string, string> = {};
      for (const [name, audience] of Object.entries(audiences)) {
        const activation = await call('POST', '/v1/activations', {
          audienceId: audience.id,
          destinationId: destination.id,
          mode: 'upsert',
        });
        activations[name] = activation.id as string;
      }
      const count = async (text: string, params: unknown[] = []): Promise<number> =>
        Number((await db.query(text, params)).rows[0].n);

      // ---- the load -------------------------------------------------------------------------------------------
      const started = Date.now();
      const endsAt = started + MINUTES * 60_000;
      const minute = (): number => (Date.now() - started) / 60_000;
      const latencies: number[] = [];
      let windowLatencies: number[] = [];
      let windowEvents = 0;
      let acknowledgedEvents = 0;
      /** `track` messages acknowledged: each must be one stored event (identifies store none). */
      let acknowledgedTracks = 0;
      let sentRequests = 0;
      let skippedRequests = 0;
      let inFlight = 0;
      let non2xx = 0;
      let errors = 0;
      const statuses: Record<string, number> = {};
      let n = 0;
      const send = async (): Promise<void> => {
        const batch = Array.from({ length: BATCH }, () => message(n++, tag));
        const tracks = batch.filter((m) => m.type === 'track').length;
        const t0 = performance.now();
        inFlight++;
        try {
          const res = await fetch(`${url}/v1/batch`, {
            method: 'POST',
            headers: { authorization: writeKey, 'content-type': 'application/json' },
            body: JSON.stringify({ batch }),
          });
          await res.arrayBuffer();
          const ms = performance.now() - t0;
          latencies.push(ms);
          windowLatencies.push(ms);
          if (res.ok) {
            acknowledgedEvents += BATCH;
            acknowledgedTracks += tracks;
            windowEvents += BATCH;
          } else {
            non2xx++;
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          }
        } catch {
          errors++;
        } finally {
          inFlight--;
        }
      };
      const requestsPerSecond = EVENTS_PER_SECOND / BATCH;
      const pending = new Set<Promise<void>>();
      const load = (async () => {
        while (Date.now() < endsAt) {
          const due = Math.floor(((Date.now() - started) / 1000) * requestsPerSecond) - sentRequests - skippedRequests;
          for (let i = 0; i < due; i++) {
            if (inFlight >= MAX_IN_FLIGHT) {
              skippedRequests++;
              continue;
            }
            sentRequests++;
            const p = send();
            pending.add(p);
            void p.finally(() => pending.delete(p));
          }
          await sleep(10);
        }
        await Promise.all(pending);
      })();

      // HubSpot keeps changing: new contacts and lifecycle stages moving, so every scheduled sync has work.
      let nextContact = HUBSPOT_SEED;
      let hubspotChanges = 0;
      const mutator = setInterval(() => {
        for (let i = 0; i < 20 && nextContact < USERS; i++, nextContact++) {
          hubspot.state.contacts.create({
            email: `u${nextContact}@${DOMAIN}`,
            firstname: `U${nextContact}`,
            lifecyclestage: stages[nextContact % 3],
          });
          hubspotChanges++;
        }
        for (let i = 0; i < 50; i++) {
          const id = String(1 + Math.floor(Math.random() * hubspot.state.contacts.count));
          hubspot.state.contacts.update(id, { lifecyclestage: stages[Math.floor(Math.random() * 3)] });
          hubspotChanges++;
        }
      }, 10_000);

      let fullEvaluations = 0;
      const evaluator = setInterval(() => {
        call('POST', `/v1/audiences/${audiences.customers.id as string}/evaluate`).then(
          () => fullEvaluations++,
          (error: unknown) => process.stderr.write(`soak: evaluate: ${(error as Error).message}\n`),
        );
      }, EVALUATE_EVERY_SECONDS * 1000);

      // ---- probes: one fresh person per sample, timed through every stage -------------------------------------
      const probes: Array<Sample['probe']> = [];
      let probeTimeouts = 0;
      const platformHas = (hash: string): boolean =>
        [...meta.state.audiences.values()].some((a) => a.index.has(`EMAIL:${hash}`));
      const probe = async (i: number, into: Sample['probe']): Promise<void> => {
        const email = `probe-${tag}-${i}@${DOMAIN}`;
        const t0 = performance.now();
        const res = await fetch(`${url}/v1/track`, {
          method: 'POST',
          headers: { authorization: writeKey, 'content-type': 'application/json' },
          body: JSON.stringify({
            userId: `probe-${tag}-${i}`,
            event: 'Soak Probe',
            messageId: `probe-${tag}-${i}`,
            context: { traits: { email }, consent: { categoryPreferences: { advertising: true } } },
          }),
        });
        await res.arrayBuffer();
        if (!res.ok) return;
        const deadline = t0 + PROBE_TIMEOUT_MS;
        // The answer comes after the event is stored; check that the profile lookup sees it.
        for (; performance.now() < deadline; await sleep(50)) {
          const found = await fetch(`${url}/v1/profiles?identifier=email:${encodeURIComponent(email)}`, {
            headers: { authorization: `Bearer ${adminKey}` },
          });
          await found.arrayBuffer();
          if (found.ok) {
            into.eventToProfile = performance.now() - t0;
            break;
          }
        }
        for (; performance.now() < deadline; await sleep(100)) {
          const member = await count(
            `select count(*) as n from audience_members am
               join profile_identifiers pi on pi.profile_id = am.profile_id
              where am.audience_id = $1 and pi.type = 'email' and pi.value = $2`,
            [audiences.probes.id, email],
          );
          if (member > 0) {
            into.eventToAudience = performance.now() - t0;
            break;
          }
        }
        const hash = sha256(email);
        for (; performance.now() < deadline; await sleep(100)) {
          if (platformHas(hash)) {
            into.eventToMeta = performance.now() - t0;
            return;
          }
        }
        probeTimeouts++;
      };

      // ---- sampling ---------------------------------------------------------------------------------------------
      const samples: Sample[] = [];
      const probeRuns: Array<Promise<void>> = [];
      const queueBacklog = async (): Promise<{ queued: Record<string, number>; delayed: number }> => {
        const { data } = (await call('GET', '/v1/queues')) as {
          data: Array<{ name: string; counts: Record<string, number> }>;
        };
        const queued: Record<string, number> = {};
        let delayed = 0;
        for (const q of data) {
          queued[q.name] = (q.counts.waiting ?? 0) + (q.counts.active ?? 0) + (q.counts.prioritized ?? 0);
          delayed += q.counts.delayed ?? 0;
        }
        return { queued, delayed };
      };
      const activationBacklog = (): Promise<number> =>
        count(`select (select count(*) from audience_changes c join activations a on a.audience_id = c.audience_id
                 where a.status = 'active' and c.id > a.cursor)
               + (select count(*) from activation_rechecks) as n`);
      const takeSample = async (): Promise<Sample> => {
        const { queued, delayed } = await queueBacklog();
        const windowSeconds = SAMPLE_SECONDS;
        const lat = windowLatencies;
        const events = windowEvents;
        windowLatencies = [];
        windowEvents = 0;
        const rss: Record<string, number | null> = { bench: process.memoryUsage.rss() / 2 ** 20 };
        for (const p of processes) rss[p.name] = rssMb(p.child.pid);
        return {
          minute: minute(),
          load1: loadavg()[0],
          rss,
          queued,
          delayed,
          pendingProfileChanges: await count('select count(*) as n from profile_changes_pending'),
          activationBacklog: await activationBacklog(),
          eventsAcknowledgedPerSecond: events / windowSeconds,
          latencyP50: percentile(lat, 50),
          latencyP99: percentile(lat, 99),
          probe: { eventToProfile: null, eventToAudience: null, eventToMeta: null },
        };
      };
      let probeIndex = 0;
      const loadDone = load.then(() => undefined);
      let loadRunning = true;
      void loadDone.then(() => (loadRunning = false));
      while (loadRunning) {
        await sleep(SAMPLE_SECONDS * 1000);
        const sample = await takeSample();
        samples.push(sample);
        probes.push(sample.probe);
        probeRuns.push(probe(probeIndex++, sample.probe).catch(() => undefined));
        const q = Object.values(sample.queued).reduce((a, b) => a + b, 0);
        process.stdout.write(
          `  [${sample.minute.toFixed(1)} min] ${sample.eventsAcknowledgedPerSecond.toFixed(0)} events/s, p99 ${sample.latencyP99?.toFixed(0) ?? '-'} ms, ` +
            `queued ${q}, pending changes ${sample.pendingProfileChanges}, activation backlog ${sample.activationBacklog}, ` +
            `RSS ${Object.entries(sample.rss)
              .map(([k, v]) => `${k} ${v?.toFixed(0) ?? '-'}`)
              .join(' / ')} MiB, load ${sample.load1.toFixed(1)}\n`,
        );
      }
      clearInterval(mutator);
      clearInterval(evaluator);
      const loadSeconds = (Date.now() - started) / 1000;

      // ---- drain: the hub works off what is left; then nothing may be missing -----------------------------------
      const drainStarted = Date.now();
      let drained = false;
      let syncsActiveAtEnd = 0;
      while (Date.now() - drainStarted < DRAIN_TIMEOUT_MS) {
        await sleep(SAMPLE_SECONDS * 1000);
        const sample = await takeSample();
        samples.push(sample);
        const queuedNow = Object.values(sample.queued).reduce((a, b) => a + b, 0);
        if (queuedNow === 0 && sample.pendingProfileChanges === 0 && sample.activationBacklog === 0) {
          // Scheduled syncs go on for ever: one running now is the schedule's work in progress, not backlog.
          syncsActiveAtEnd = await count(
            `select count(*) as n from sync_runs where status in ('queued', 'running', 'waiting')`,
          );
          drained = true;
          break;
        }
      }
      await Promise.all(probeRuns);
      const drainSeconds = (Date.now() - drainStarted) / 1000;
      const final = samples[samples.length - 1];

      const stored = await count(`select count(*) as n from profile_events where source_id = $1 and event_id like $2`, [
        web.id,
        `${tag}-%`,
      ]);
      const identifies = await count(`select count(*) as n from profile_identifiers where type = 'user_id'`);
      // What the trait audience can match: profiles with HubSpot's stage, and of them those with a tracked user id.
      const withStage = await count(
        `select count(*) as n from profiles where merged_into is null and traits->'lifecycleStage'->>'v' = 'customer'`,
      );
      const withStageAndUser = await count(
        `select count(distinct p.id) as n from profiles p join profile_identifiers pi on pi.profile_id = p.id
          where p.merged_into is null and pi.type = 'user_id' and p.traits->'lifecycleStage'->>'v' = 'customer'`,
      );
      const syncRuns = await db.query(
        `select status, count(*)::int as n, sum(read_count)::int as read from sync_runs group by status`,
      );
      const platformCounts: Record<string, { held: number; platform: number; audience: number }> = {};
      for (const [name, id] of Object.entries(activations)) {
        const view = await call('GET', `/v1/activations/${id}`);
        const audience = await call('GET', `/v1/audiences/${view.audienceId as string}`);
        const platform = view.externalId ? meta.state.members(view.externalId as string).length : 0;
        platformCounts[name] = { held: view.members?.held ?? 0, platform, audience: audience.size ?? 0 };
      }
      // Bytes per row (heap, indexes and TOAST) of the big tables: the sizing arithmetic in docs/OPERATIONS.md.
      const tableSizes: Array<{ table: string; rows: number; bytes: number }> = [];
      for (const table of [
        'profiles',
        'profile_identifiers',
        'identity_observations',
        'profile_events',
        'audience_members',
        'audience_changes',
        'activation_members',
      ]) {
        const rows = await count(`select count(*) as n from ${table}`);
        const bytes = await count(`select pg_total_relation_size('${table}') as n`);
        tableSizes.push({ table, rows, bytes });
      }
      const logText = readFileSync(logFile, 'utf8');
      const logLines = logText.split('\n').filter((l) => l.trim() !== '');

      // ---- figures ------------------------------------------------------------------------------------------------
      const steady = samples.filter((s) => s.minute >= MINUTES * 0.2 && s.minute <= MINUTES);
      const memory = (name: string): { first: number; last: number; slope: number } => {
        const pts = steady.flatMap((s) => (s.rss[name] == null ? [] : [[s.minute, s.rss[name]] as [number, number]]));
        const span = Math.max(1, Math.floor(pts.length / 5));
        return {
          first: mean(pts.slice(0, span).map(([, y]) => y)),
          last: mean(pts.slice(-span).map(([, y]) => y)),
          slope: slope(pts),
        };
      };
      const probeValues = (key: keyof Sample['probe']): number[] =>
        probes.flatMap((p) => (p[key] === null ? [] : [p[key]]));
      const loads = samples.filter((s) => s.minute <= MINUTES).map((s) => s.load1);
      figures.push(
        { name: 'duration of the load', value: loadSeconds / 60, unit: 'min' },
        {
          name: 'events acknowledged (mean rate)',
          value: acknowledgedEvents / loadSeconds,
          unit: 'events/s',
          goal: `${EVENTS_PER_SECOND.toLocaleString('en-US')}`,
        },
        { name: 'events acknowledged', value: acknowledgedEvents, unit: 'events' },
        {
          name: 'track events acknowledged but not stored',
          value: acknowledgedTracks - stored,
          unit: `events (${stored.toLocaleString('en-US')} stored)`,
          goal: '0',
        },
        { name: 'requests skipped (64 already in flight)', value: skippedRequests, unit: 'requests', goal: '0' },
        {
          name: `non-2xx answers + errors ${JSON.stringify(statuses)}`,
          value: non2xx + errors,
          unit: 'requests',
          goal: '0',
        },
        { name: 'latency p50 (whole run)', value: percentile(latencies, 50) ?? 0, unit: 'ms' },
        { name: 'latency p99 (whole run)', value: percentile(latencies, 99) ?? 0, unit: 'ms' },
        {
          name: 'worst 5-second p99',
          value: Math.max(...samples.flatMap((s) => (s.latencyP99 === null ? [] : [s.latencyP99]))),
          unit: 'ms',
        },
      );
      for (const key of ['eventToProfile', 'eventToAudience', 'eventToMeta'] as const) {
        const values = probeValues(key);
        figures.push(
          { name: `probe ${key} p50`, value: percentile(values, 50) ?? Number.NaN, unit: 'ms' },
          { name: `probe ${key} p99`, value: percentile(values, 99) ?? Number.NaN, unit: 'ms' },
        );
      }
      figures.push(
        { name: 'probes', value: probes.length, unit: 'probes' },
        { name: 'probes not on Meta within 180 s', value: probeTimeouts, unit: 'probes', goal: '0' },
      );
      for (const row of syncRuns.rows as Array<{ status: string; n: number; read: number | null }>)
        figures.push({
          name: `HubSpot sync runs ${row.status} (records read)`,
          value: row.n,
          unit: `(${row.read ?? 0})`,
        });
      figures.push(
        { name: 'HubSpot contacts created or changed during the run', value: hubspotChanges, unit: 'changes' },
        { name: 'full audience evaluations asked through the API', value: fullEvaluations, unit: 'evaluations' },
        { name: 'profiles with a user id', value: identifies, unit: 'profiles' },
        { name: 'profiles whose HubSpot stage is customer', value: withStage, unit: 'profiles' },
        { name: '… of them with a tracked user id', value: withStageAndUser, unit: 'profiles' },
      );
      for (const [name, c] of Object.entries(platformCounts))
        figures.push({
          name: `activation ${name}: audience size / ledger holds / Meta holds`,
          value: c.platform,
          unit: `(${c.audience} / ${c.held} / ${c.platform})`,
          goal: 'ledger = Meta',
        });
      figures.push(
        {
          name: 'backlog drained after the load',
          value: drained ? 1 : 0,
          unit: drained ? '(yes)' : '(no)',
          goal: 'yes',
        },
        { name: 'time to drain', value: drainSeconds, unit: 's' },
        {
          name: 'backlog at the end (queued jobs + pending changes + activation backlog)',
          value:
            Object.values(final.queued).reduce((a, b) => a + b, 0) +
            final.pendingProfileChanges +
            final.activationBacklog,
          unit: 'items',
          goal: '0',
        },
      );
      for (const name of ['api', ...processes.filter((p) => p.name !== 'api').map((p) => p.name), 'bench']) {
        const m = memory(name);
        figures.push(
          {
            name: `RSS ${name}: first → last fifth of the steady part`,
            value: m.last - m.first,
            unit: `MiB (${m.first.toFixed(0)} → ${m.last.toFixed(0)})`,
          },
          { name: `RSS ${name}: growth (least squares, steady part)`, value: m.slope, unit: 'MiB/min', goal: '≈ 0' },
        );
      }
      for (const t of tableSizes)
        figures.push({
          name: `${t.table}: rows, bytes per row (with indexes)`,
          value: t.rows === 0 ? 0 : t.bytes / t.rows,
          unit: `B/row (${t.rows.toLocaleString('en-US')} rows, ${(t.bytes / 2 ** 20).toFixed(0)} MiB)`,
        });
      figures.push(
        { name: 'load average (1 min) during the load: min', value: Math.min(...loads), unit: '' },
        { name: 'load average (1 min) during the load: mean', value: mean(loads), unit: '' },
        { name: 'load average (1 min) during the load: max', value: Math.max(...loads), unit: '' },
        { name: 'warning and error lines logged by the processes', value: logLines.length, unit: 'lines' },
      );
      figures.push({
        name: 'sync runs in progress when drained (the schedule goes on)',
        value: syncsActiveAtEnd,
        unit: 'runs',
      });

      // ---- graphs and raw samples --------------------------------------------------------------------------------
      mkdirSync(OUT_DIR, { recursive: true });
      const names = Object.keys(samples[0]?.rss ?? {});
      const points = (f: (s: Sample) => number | null): Array<[number, number | null]> =>
        samples.map((s) => [s.minute, f(s)]);
      const mark = { x: loadSeconds / 60, label: 'load stops' };
      const charts: Chart[] = [
        {
          file: 'rss',
          mark,
          title: `Resident memory per process (MiB)`,
          yLabel: 'MiB',
          series: names.map((name): Series => ({ name, points: points((s) => s.rss[name]) })),
        },
        {
          file: 'queues',
          mark,
          title: 'Backlog: queued jobs, profile changes not yet evaluated, changes not yet delivered',
          yLabel: 'items',
          series: [
            ...Object.keys(final.queued).map((q): Series => ({
              name: `${q} jobs`,
              points: points((s) => s.queued[q]),
            })),
            { name: 'pending profile changes', points: points((s) => s.pendingProfileChanges) },
            { name: 'activation backlog', points: points((s) => s.activationBacklog) },
          ],
        },
        {
          file: 'latency',
          mark,
          title: 'Tracking API /v1/batch latency per 5 s window (ms)',
          yLabel: 'ms',
          logY: true,
          series: [
            { name: 'p50', points: points((s) => s.latencyP50) },
            { name: 'p99', points: points((s) => s.latencyP99) },
          ],
        },
        {
          file: 'lag',
          mark,
          title: 'Probe event → profile stored, → audience member, → on Meta (ms)',
          yLabel: 'ms',
          logY: true,
          series: [
            { name: 'event → profile', points: points((s) => s.probe.eventToProfile) },
            { name: 'event → audience', points: points((s) => s.probe.eventToAudience) },
            { name: 'event → Meta', points: points((s) => s.probe.eventToMeta) },
          ],
        },
        {
          file: 'throughput',
          mark,
          title: 'Events acknowledged per second, and the 1-minute load average',
          yLabel: 'events/s · load × 100',
          series: [
            { name: 'events/s', points: points((s) => s.eventsAcknowledgedPerSecond) },
            { name: 'load average × 100', points: points((s) => s.load1 * 100) },
          ],
        },
      ];
      const header = [
        'minute',
        'load1',
        ...names.map((n) => `rss_${n.replace(/\s/g, '_')}_mib`),
        ...Object.keys(final.queued).map((q) => `queued_${q}`),
        'delayed',
        'pending_profile_changes',
        'activation_backlog',
        'events_acknowledged_per_s',
        'latency_p50_ms',
        'latency_p99_ms',
        'probe_event_to_profile_ms',
        'probe_event_to_audience_ms',
        'probe_event_to_meta_ms',
      ];
      const fmt = (v: number | null | undefined): string =>
        v === null || v === undefined ? '' : String(+v.toFixed(2));
      const rows = samples.map((s) =>
        [
          s.minute,
          s.load1,
          ...names.map((n) => s.rss[n]),
          ...Object.keys(final.queued).map((q) => s.queued[q]),
          s.delayed,
          s.pendingProfileChanges,
          s.activationBacklog,
          s.eventsAcknowledgedPerSecond,
          s.latencyP50,
          s.latencyP99,
          s.probe.eventToProfile,
          s.probe.eventToAudience,
          s.probe.eventToMeta,
        ]
          .map(fmt)
          .join(','),
      );
      writeFileSync(join(OUT_DIR, 'samples.csv'), `${header.join(',')}\n${rows.join('\n')}\n`);
      try {
        await renderCharts(charts, OUT_DIR);
      } catch (error) {
        // Ten minutes of load are not lost to a missing browser: the figures and the samples are out first.
        process.stdout.write('  the graphs could not be drawn; the figures measured:\n');
        for (const f of figures) process.stdout.write(`    ${f.name}: ${f.value} ${f.unit}\n`);
        throw error;
      }
      if (logLines.length > 0) {
        process.stdout.write(`  process log (${logLines.length} lines), first lines:\n`);
        for (const line of logLines.slice(0, 10)) process.stdout.write(`    ${line.slice(0, 300)}\n`);
      }
      return figures;
    } finally {
      for (const p of [...processes].reverse()) await stop(p.child);
      await db.end().catch(() => undefined);
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
      await deleteRedisPrefix(queuePrefix, REDIS_URL).catch(() => undefined);
      await hubspot.close();
      await meta.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
};
export default bench;
