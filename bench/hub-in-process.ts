import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadEnvironment } from '@plexus/config';
import { createApiApp } from '../apps/api/src/bootstrap.js';
import { deleteRedisPrefix } from '../test/support/redis.js';
import type { Figure } from './harness.js';

export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** The hub (API and workers in this process) on a fresh PostgreSQL database and Redis prefix. */
export interface HubInProcess {
  url: string;
  /** The Redis key prefix of this hub (its queues and rate budgets). */
  prefix: string;
  /** A JSON call of the admin API; throws on a 4xx/5xx answer. */
  api(method: string, path: string, body?: unknown): Promise<any>;
  /** Starts a sync of the source and waits for the run to end; returns the run. */
  sync(sourceId: string): Promise<any>;
  close(): Promise<void>;
}

/** Starts the hub for a benchmark; `label` names its database and Redis prefix. */
export async function startHubInProcess(label: string): Promise<HubInProcess> {
  const adminKey = `plx_bench_${randomBytes(12).toString('hex')}`;
  const database = `plexus_bench_${label}_${randomBytes(4).toString('hex')}`;
  const prefix = `plexus-bench-${label}-${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), `plexus-bench-${label}-`));
  await admin(`create database ${database}`);
  const env = loadEnvironment({
    DATA_DIR: dataDir,
    DATABASE_URL: POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ADMIN_API_KEY: adminKey,
    LOG_LEVEL: 'warn',
    PORT: '0',
    OUTBOUND_ALLOW: '127.0.0.1', // the vendor emulators
  });
  const app = await createApiApp(env, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const parsed: unknown = await res.json();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  return {
    url,
    prefix,
    api,
    async sync(sourceId) {
      const { runId } = await api('POST', `/v1/sources/${sourceId}/sync`);
      for (;;) {
        const run = await api('GET', `/v1/runs/${runId}`);
        if (['succeeded', 'partial', 'failed', 'cancelled'].includes(run.status)) return run;
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async close() {
      await app.close();
      await admin(`drop database if exists ${database} with (force)`);
      await deleteRedisPrefix(prefix, REDIS_URL);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What one read of a vendor API took: time, requests and 429 answers. */
export interface ReadMeasure {
  seconds: number;
  requests: number;
  throttled: number;
}

/**
 * The figures of a sync measured against an account's request limit: throughput of `records` (named `unit`),
 * request rate, the share of `allowedPerSecond` used (goal ≥ 90 %) and the 429s, each name prefixed by `label`.
 */
export function rateFigures(
  label: string,
  measure: ReadMeasure,
  records: number,
  unit: string,
  allowedPerSecond: number,
): Figure[] {
  return [
    { name: `${label}: throughput`, value: records / measure.seconds, unit: `${unit}/s` },
    { name: `${label}: request rate`, value: measure.requests / measure.seconds, unit: 'requests/s' },
    {
      name: `${label}: share of the allowed request rate used`,
      value: (100 * measure.requests) / measure.seconds / allowedPerSecond,
      unit: '%',
      goal: '≥ 90 %',
    },
    { name: `${label}: 429 answers`, value: measure.throttled, unit: 'answers' },
  ];
}
