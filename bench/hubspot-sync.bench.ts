import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadEnvironment } from '@plexus/config';
import { createConnectorContext, validateConfig } from '@plexus/sdk';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import hubspotSource, { HubSpotConfig } from '../connectors/hubspot/index.js';
import { lazyRecords, startHubSpot, syntheticHubSpotContacts } from '../test/emulators/index.js';
import type { Benchmark, Figure } from './harness.js';
import { deleteRedisPrefix } from '../test/support/redis.js';

const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONTACTS = Number(process.env.BENCH_HUBSPOT_CONTACTS ?? 200_000);
/** The emulated account's limit: 1,000 requests per 10 s, so 100 per second (the per-second window binds). */
const EMULATOR_MAX_PER_10S = Number(process.env.BENCH_HUBSPOT_MAX ?? 1_000);
const ALLOWED_PER_SECOND = Math.ceil(EMULATOR_MAX_PER_10S / 10);
/**
 * The connector's budget: a little under the account's limit, as docs/CONNECTORS.md advises (a budget equal to
 * the vendor's rolling window meets 429s from arrival-time jitter, each costing a pause). BENCH_HUBSPOT_BUDGET
 * sets it in requests per second.
 */
const BUDGET_PER_SECOND = Number(
  process.env.BENCH_HUBSPOT_BUDGET ?? Math.max(1, Math.floor(ALLOWED_PER_SECOND * 0.95)),
);
const TOKEN = 'bench-hubspot-token';
const ADMIN_KEY = `plx_bench_${randomBytes(12).toString('hex')}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Reads the whole contacts stream as the hub would (Redis rate budget included) but stores nothing. */
async function readWithoutHub(prefix: string): Promise<{ seconds: number; requests: number; throttled: number }> {
  const hubspot = await startHubSpot({
    tokens: [TOKEN],
    contacts: syntheticHubSpotContacts(CONTACTS),
    rateLimit: { max: EMULATOR_MAX_PER_10S },
    maxRecordedRequests: 10_000,
  });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    const raw = { accessToken: TOKEN, baseUrl: hubspot.url, requestsPerSecond: BUDGET_PER_SECOND };
    const { config } = await validateConfig(HubSpotConfig, raw);
    const definition = hubspotSource;
    const ctx = createConnectorContext({
      definition,
      config: config!,
      connectionId: 'bench-alone',
      redis,
      redisPrefix: prefix,
    });
    const started = performance.now();
    let records = 0;
    for await (const batch of definition.streams[0].read(ctx, undefined)) records += batch.records.length;
    const seconds = (performance.now() - started) / 1000;
    if (records !== CONTACTS) throw new Error(`read ${records} contacts, expected ${CONTACTS}`);
    const throttled = Object.values(hubspot.state.throttled).reduce((a, b) => a + b, 0);
    return { seconds, requests: hubspot.state.dailyUsed(), throttled };
  } finally {
    redis.disconnect();
    await hubspot.close();
  }
}

async function json(url: string, method = 'GET', body?: unknown): Promise<any> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const parsed: unknown = await res.json();
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/**
 * A full HubSpot sync of 200,000 contacts through the hub (API + workers in this process, PostgreSQL, Redis)
 * against the emulator limited to 100 requests/s, with the connector's budget set to the same 100/s: how much
 * of the allowed request rate the sync uses, and the contacts per second that makes.
 */
const bench: Benchmark = {
  name: 'hubspot-sync',
  description: `full HubSpot sync of ${CONTACTS.toLocaleString('en-US')} contacts through the hub, emulator limited to ${ALLOWED_PER_SECOND} requests/s, connector budget ${BUDGET_PER_SECOND}/s`,
  async run(): Promise<Figure[]> {
    const base = syntheticHubSpotContacts(CONTACTS);
    // Real-looking addresses: the default identity rules drop example.org as a placeholder domain.
    const contacts = lazyRecords(CONTACTS, (i) => {
      const c = base.at(i);
      return {
        ...c,
        properties: { ...c.properties, email: c.properties.email!.replace('@example.org', '@plexus-bench.io') },
      };
    });
    const hubspot = await startHubSpot({
      tokens: [TOKEN],
      contacts,
      rateLimit: { max: EMULATOR_MAX_PER_10S },
      maxRecordedRequests: 10_000,
    });
    const database = `plexus_bench_hubspot_${randomBytes(4).toString('hex')}`;
    const prefix = `plexus-bench-hubspot-${randomBytes(4).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'plexus-bench-hubspot-'));
    await admin(`create database ${database}`);
    const env = loadEnvironment({
      DATA_DIR: dataDir,
      DATABASE_URL: POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      PORT: '0',
      OUTBOUND_ALLOW: '127.0.0.1', // the HubSpot emulator
    });
    const app = await createApiApp(env, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      await app.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      const source = await json(`${url}/v1/sources`, 'POST', {
        name: 'HubSpot bench',
        connector: 'hubspot',
        config: {
          accessToken: TOKEN,
          baseUrl: hubspot.url,
          requestsPerSecond: BUDGET_PER_SECOND,
          userIdProperty: 'customer_id',
        },
      });
      const before = hubspot.state.dailyUsed();
      const { runId } = await json(`${url}/v1/sources/${source.id}/sync`, 'POST');
      let run: any;
      for (;;) {
        run = await json(`${url}/v1/runs/${runId}`);
        if (['succeeded', 'partial', 'failed', 'cancelled'].includes(run.status)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (run.status !== 'succeeded' || run.stats.read !== CONTACTS) {
        throw new Error(`the sync ended ${run.status}: ${JSON.stringify(run)}`);
      }
      const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
      const hubRequests = hubspot.state.dailyUsed() - before;
      const hubThrottled = Object.values(hubspot.state.throttled).reduce((a, b) => a + b, 0);

      // The connector alone, with the same Redis budget and no ingestion: what the source side can draw.
      await new Promise((r) => setTimeout(r, 1_100));
      const alone = await readWithoutHub(prefix);
      return [
        { name: 'contacts synced through the hub', value: run.stats.read, unit: 'contacts' },
        { name: 'hub: duration', value: seconds, unit: 's' },
        { name: 'hub: throughput', value: CONTACTS / seconds, unit: 'contacts/s' },
        { name: 'hub: request rate', value: hubRequests / seconds, unit: 'requests/s' },
        {
          name: 'hub: share of the allowed request rate used',
          value: (100 * hubRequests) / seconds / ALLOWED_PER_SECOND,
          unit: '%',
          goal: '≥ 90 %',
        },
        { name: 'hub: 429 answers', value: hubThrottled, unit: 'answers' },
        { name: 'connector alone: throughput', value: CONTACTS / alone.seconds, unit: 'contacts/s' },
        { name: 'connector alone: request rate', value: alone.requests / alone.seconds, unit: 'requests/s' },
        {
          name: 'connector alone: share of the allowed request rate used',
          value: (100 * alone.requests) / alone.seconds / ALLOWED_PER_SECOND,
          unit: '%',
          goal: '≥ 90 %',
        },
        { name: 'connector alone: 429 answers', value: alone.throttled, unit: 'answers' },
      ];
    } finally {
      await app.close();
      await hubspot.close();
      await admin(`drop database if exists ${database} with (force)`);
      await deleteRedisPrefix(prefix, REDIS_URL);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
export default bench;
