import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { processCpuSeconds, spawnApi, waitForHealth, type Benchmark, type Figure } from './harness.js';

const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_KEY = 'plx_bench_admin_key_0123456789abcdef';
/** Distinct visitors the events are spread over: identity resolution sees both new and returning people. */
const VISITORS = 20_000;

interface Scenario {
  name: string;
  path: '/v1/batch' | '/v1/track';
  eventsPerRequest: number;
  connections: number;
  /** Requests sent (the run is bounded by count), and a time cap in seconds. */
  requests: number;
  maxSeconds: number;
}

/**
 * Server SDKs (analytics-node, RudderStack) send batches of about 20 events; browsers send one call per event.
 * Both run against one API process (workers off) on loopback, load generator in this process.
 */
const ALL_SCENARIOS: Scenario[] = [
  {
    name: 'batch of 20',
    path: '/v1/batch',
    eventsPerRequest: 20,
    connections: Number(process.env.BENCH_BATCH_CONNECTIONS ?? 8),
    requests: 6_000,
    maxSeconds: 60,
  },
  { name: 'single track', path: '/v1/track', eventsPerRequest: 1, connections: 32, requests: 20_000, maxSeconds: 60 },
];
/** `BENCH_TRACKING_ONLY=single` (or `batch`) runs one of them. */
const SCENARIOS = ALL_SCENARIOS.filter(
  (s) => !process.env.BENCH_TRACKING_ONLY || s.name.startsWith(process.env.BENCH_TRACKING_ONLY),
);

function event(n: number, runId: string): Record<string, unknown> {
  const visitor = n % VISITORS;
  return {
    type: n % 4 === 0 ? 'page' : 'track',
    event: 'Product Viewed',
    name: 'Product',
    anonymousId: `anon-${runId}-${visitor}`,
    messageId: `${runId}-${n}`,
    timestamp: new Date().toISOString(),
    sentAt: new Date().toISOString(),
    properties: { sku: `SKU-${n % 500}`, price: (n % 100) + 0.99, currency: 'EUR' },
    context: {
      ip: '203.0.113.42',
      userAgent: 'Mozilla/5.0 (bench)',
      locale: 'de-DE',
      library: { name: 'analytics-node', version: '6.0.0' },
    },
  };
}

/** Tracking API load on loopback: events/s, latency, and every acknowledged event counted in PostgreSQL afterwards. */
const bench: Benchmark = {
  name: 'tracking',
  description: `Segment tracking API, one API process (workers off, PostgreSQL, LOG_LEVEL=warn), autocannon on loopback, ${VISITORS.toLocaleString('en-US')} visitors`,
  async run(): Promise<Figure[]> {
    const dbName = `plexus_bench_tracking_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    const databaseUrl = POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
    const { api, url, dataDir } = await spawnApi({
      databaseUrl,
      redisUrl: REDIS_URL,
      adminKey: ADMIN_KEY,
      runWorkers: false,
    });
    const figures: Figure[] = [];
    const db = new pg.Client({ connectionString: databaseUrl });
    try {
      await waitForHealth(url, api);
      await db.connect();
      const created = await fetch(`${url}/v1/sources`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bench', connector: 'http-events', config: {} }),
      });
      const source = (await created.json()) as { id: string; writeKey: string };
      if (!source.writeKey) throw new Error(`could not create the source: ${JSON.stringify(source)}`);
      const authorization = `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`;

      for (const [index, scenario] of SCENARIOS.entries()) {
        const runId = `s${index}${randomBytes(3).toString('hex')}`;
        let n = 0;
        const before = Number((await db.query('select count(*) as n from profile_events')).rows[0].n);
        const apiCpuBefore = processCpuSeconds(api.pid);
        const result = await autocannon({
          url: `${url}${scenario.path}`,
          connections: scenario.connections,
          amount: scenario.requests,
          duration: scenario.maxSeconds,
          timeout: 30,
          requests: [
            {
              method: 'POST',
              headers: { authorization, 'content-type': 'application/json' },
              setupRequest: (request) => {
                const body =
                  scenario.path === '/v1/batch'
                    ? { batch: Array.from({ length: scenario.eventsPerRequest }, () => event(n++, runId)) }
                    : event(n++, runId);
                return { ...request, body: JSON.stringify(body) };
              },
            },
          ],
        });
        const apiCpuAfter = processCpuSeconds(api.pid);
        const after = Number((await db.query('select count(*) as n from profile_events')).rows[0].n);
        const acknowledged = result['2xx'] * scenario.eventsPerRequest;
        const stored = after - before;
        const seconds = result.duration;
        figures.push(
          {
            name: `${scenario.name}: events acknowledged`,
            value: acknowledged / seconds,
            unit: 'events/s',
            goal: '≥ 5,000',
          },
          { name: `${scenario.name}: requests`, value: result.requests.average, unit: 'requests/s' },
          { name: `${scenario.name}: latency p50`, value: result.latency.p50, unit: 'ms' },
          { name: `${scenario.name}: latency p99`, value: result.latency.p99, unit: 'ms', goal: '≤ 50' },
          {
            name: `${scenario.name}: non-2xx answers + errors`,
            value: result.non2xx + result.errors,
            unit: 'requests',
            goal: '0',
          },
          {
            name: `${scenario.name}: events acknowledged but not stored`,
            value: acknowledged - stored,
            unit: 'events',
            goal: '0',
          },
          { name: `${scenario.name}: events stored`, value: stored, unit: 'events' },
        );
        // The API process's own CPU per event: what the machine's load and the load generator move least.
        if (apiCpuBefore !== undefined && apiCpuAfter !== undefined && stored > 0)
          figures.push({
            name: `${scenario.name}: API process CPU per event`,
            value: ((apiCpuAfter - apiCpuBefore) * 1e6) / stored,
            unit: 'µs',
          });
      }
    } finally {
      api.kill('SIGTERM');
      await new Promise((r) => (api.exitCode !== null ? r(null) : api.once('exit', r)));
      await db.end().catch(() => undefined);
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
      rmSync(dataDir, { recursive: true, force: true });
    }
    return figures;
  },
};
export default bench;
