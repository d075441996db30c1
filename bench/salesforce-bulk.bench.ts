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
import salesforceSource, { SalesforceConfig } from '../connectors/salesforce/index.js';
import { lazyRecords, startSalesforce, syntheticSalesforceRecords } from '../test/emulators/index.js';
import type { Benchmark, Figure } from './harness.js';
import { deleteRedisPrefix } from '../test/support/redis.js';

const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CONTACTS = Number(process.env.BENCH_SALESFORCE_CONTACTS ?? 200_000);
const TOKEN = 'bench-salesforce-token';
const ADMIN_KEY = `plx_bench_${randomBytes(12).toString('hex')}`;
/** Contacts only: the bench measures the Bulk API 2.0 path, not the activity streams. */
const SOURCE_CONFIG = { accessToken: TOKEN, fullSyncMethod: 'bulk', activities: [], requestsPerSecond: 100 };

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function json(url: string, method = 'GET', body?: unknown, attempt = 0): Promise<any> {
  // The emulator shares this process: under load a polled keep-alive socket can close under a request.
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  }).catch((error: unknown) => {
    if (method !== 'GET' || attempt >= 3) throw error;
    return undefined;
  });
  if (!res) return json(url, method, body, attempt + 1);
  const parsed: unknown = await res.json();
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

/** Real-looking addresses: the default identity rules drop example.org as a placeholder domain. */
function contacts() {
  const base = syntheticSalesforceRecords('Contact', CONTACTS);
  return lazyRecords(CONTACTS, (i) => {
    const c = base.at(i);
    return { ...c, Email: String(c.Email).replace('@example.org', '@plexus-bench.io') };
  });
}

/** Reads the contacts stream as the hub would (Redis rate budget included) but stores nothing. */
async function readWithoutHub(prefix: string): Promise<{ seconds: number; requests: number }> {
  const salesforce = await startSalesforce({ tokens: [TOKEN], contacts: contacts(), maxRecordedRequests: 10_000 });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  try {
    const { config } = await validateConfig(SalesforceConfig, { ...SOURCE_CONFIG, baseUrl: salesforce.url });
    const ctx = createConnectorContext({
      definition: salesforceSource,
      config: config!,
      connectionId: 'bench-alone',
      redis,
      redisPrefix: prefix,
    });
    const started = performance.now();
    let records = 0;
    const stream = salesforceSource.streams.find((s) => s.name === 'contacts')!;
    for await (const batch of stream.read(ctx, undefined)) records += batch.records.length;
    const seconds = (performance.now() - started) / 1000;
    if (records !== CONTACTS) throw new Error(`read ${records} contacts, expected ${CONTACTS}`);
    return { seconds, requests: salesforce.state.apiUsage.used };
  } finally {
    redis.disconnect();
    await salesforce.close();
  }
}

/**
 * A full Salesforce sync of 200,000 Contacts through the hub (API and workers in this process, PostgreSQL,
 * Redis) by one Bulk API 2.0 query job whose CSV results are paged with Sforce-Locator (50,000 rows a page):
 * records per second, and how few API requests the sync spends.
 */
const bench: Benchmark = {
  name: 'salesforce-bulk',
  description: `full Salesforce sync of ${CONTACTS.toLocaleString('en-US')} contacts through the hub via a Bulk API 2.0 query job`,
  async run(): Promise<Figure[]> {
    const salesforce = await startSalesforce({ tokens: [TOKEN], contacts: contacts(), maxRecordedRequests: 10_000 });
    const database = `plexus_bench_salesforce_${randomBytes(4).toString('hex')}`;
    const prefix = `plexus-bench-salesforce-${randomBytes(4).toString('hex')}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'plexus-bench-salesforce-'));
    await admin(`create database ${database}`);
    const env = loadEnvironment({
      DATA_DIR: dataDir,
      DATABASE_URL: POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      PORT: '0',
      OUTBOUND_ALLOW: '127.0.0.1', // the Salesforce emulator
    });
    const app = await createApiApp(env, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
    try {
      await app.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      const source = await json(`${url}/v1/sources`, 'POST', {
        name: 'Salesforce bench',
        connector: 'salesforce',
        config: { ...SOURCE_CONFIG, baseUrl: salesforce.url, contactUserIdField: 'Customer_ID__c' },
      });
      const before = salesforce.state.apiUsage.used;
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
      const requests = salesforce.state.apiUsage.used - before;
      const pages = salesforce.requests.filter((r) => r.path.endsWith('/results')).length;
      const alone = await readWithoutHub(prefix);
      return [
        { name: 'contacts synced through the hub', value: run.stats.read, unit: 'contacts' },
        { name: 'hub: duration', value: seconds, unit: 's' },
        { name: 'hub: throughput', value: CONTACTS / seconds, unit: 'records/s' },
        { name: 'hub: Salesforce API requests', value: requests, unit: 'requests' },
        { name: 'hub: bulk result pages', value: pages, unit: 'pages' },
        { name: 'connector alone (nothing stored): throughput', value: CONTACTS / alone.seconds, unit: 'records/s' },
        { name: 'connector alone: Salesforce API requests', value: alone.requests, unit: 'requests' },
      ];
    } finally {
      await app.close();
      await salesforce.close();
      await admin(`drop database if exists ${database} with (force)`);
      await deleteRedisPrefix(prefix, REDIS_URL);
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
export default bench;
