import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { parseMetrics, valueOf } from '../support/metrics.js';
import { until as waitUntil } from '../support/wait.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const ROWS = 30000;

const until = <T>(probe: () => Promise<T | undefined | false>, timeoutMs = 60000): Promise<T> =>
  waitUntil(probe, timeoutMs, 50);

/** Runs a compiled entry point and returns its exit code and output (the build happens once, in beforeAll below). */
function runEntry(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 30000,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', './scripts/register.mjs', entry, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr, stdout });
    });
  });
}

/** A TCP port free on loopback now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * The real thing: a separate worker process is killed with SIGKILL in the middle of a file import; a second
 * worker takes the job over when its lock expires and resumes from the last committed checkpoint. The file's
 * rows must all be there exactly once.
 */
describe('a worker killed mid-run', () => {
  let t: TestApp;
  let dir: string;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    // The server only: a console build would empty dist/console under the browser tests running alongside.
    execFileSync('npm', ['run', 'build:server', '--silent'], { cwd: ROOT, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'plexus-crash-'));
    t = await startTestApp({ label: 'crash', env: { RUN_WORKERS: 'false' } });
  }, 180000);
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(dataDir = t.env.DATA_DIR, extra: Record<string, string> = {}): ChildProcess {
    const worker = spawn(process.execPath, ['--import', './scripts/register.mjs', 'dist/apps/worker/src/main.js'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATA_DIR: dataDir,
        DATABASE_URL: t.env.DATABASE_URL,
        REDIS_URL: t.env.REDIS_URL,
        QUEUE_PREFIX: t.env.QUEUE_PREFIX,
        JOB_LOCK_MS: '2000',
        LOG_LEVEL: 'warn',
        ...extra,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    workers.push(worker);
    return worker;
  }

  it('stops at start with one message naming every bad variable', async () => {
    const result = await runEntry('dist/apps/api/src/main.js', {
      PORT: 'eighty',
      REDIS_URL: 'localhost',
      DATA_DIR: dir,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Invalid environment/);
    expect(result.stderr).toMatch(/PORT="eighty"/);
    expect(result.stderr).toMatch(/REDIS_URL="localhost"/);
  }, 60000);

  it('exits with a clear message when Redis is unreachable, API and worker alike', async () => {
    for (const entry of ['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js']) {
      const result = await runEntry(entry, { REDIS_URL: 'redis://127.0.0.1:1', DATA_DIR: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
      expect(result.stderr).toMatch(/redis-server/);
    }
  }, 90000);

  it('the CLI migrates the embedded database and validates the connectors', async () => {
    const env = { DATA_DIR: join(dir, 'cli') };
    const first = await runEntry('dist/apps/cli/src/main.js', env, ['migrate']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied 0001_core, 0002_connections/);
    const again = await runEntry('dist/apps/cli/src/main.js', env, ['migrate']);
    expect(again.stdout).toMatch(/^nothing to apply/);
    const validate = await runEntry('dist/apps/cli/src/main.js', env, ['connectors', 'validate']);
    expect(validate.stdout).toMatch(/^ok\s+file-import 0\.1\.0 \(source\)/m);
    expect(validate.code).toBe(0);
    const unknown = await runEntry('dist/apps/cli/src/main.js', env, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
  }, 180000);

  it('resumes from the last committed checkpoint with every row exactly once', async () => {
    const file = join(t.importDir, 'people.csv');
    writeFileSync(
      file,
      ['id,email,name', ...Array.from({ length: ROWS }, (_, i) => `${i},person${i}@example.io,Person ${i}`)].join(
        '\n',
      ) + '\n',
    );
    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'crash',
        connector: 'file-import',
        config: {
          path: file,
          format: 'csv',
          mapping: { identifiers: { email: 'email', external_id: 'id' }, traits: { name: 'name' } },
        },
      },
    });
    expect(source.status).toBe(201);
    const { body } = await call(t.url, 'POST', `/v1/sources/${source.body.id}/sync`, { headers: t.auth });
    const runId = body.runId as string;

    const first = startWorker();
    const midway = await until(async () => {
      const run = (await call(t.url, 'GET', `/v1/runs/${runId}`, { headers: t.auth })).body;
      return run.stats.read >= 3000 && run.stats.read < ROWS - 3000 ? run : undefined;
    });
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(midway.status).toBe('running');

    startWorker();
    const run = await until(async () => {
      const r = (await call(t.url, 'GET', `/v1/runs/${runId}`, { headers: t.auth })).body;
      return ['succeeded', 'partial', 'failed'].includes(r.status) ? r : undefined;
    }, 120000);
    expect(run.status).toBe('succeeded');
    expect(run.stats).toEqual({ read: ROWS, written: ROWS, quarantined: 0, deleted: 0, suppressed: 0, unchanged: 0 });

    const exported = await fetch(`${t.url}/v1/profiles/export`, { headers: t.auth });
    const lines = (await exported.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(ROWS);
    const emails = new Set(
      lines.flatMap((p: { identifiers: Array<{ type: string; value: string }> }) =>
        p.identifiers.filter((i) => i.type === 'email').map((i) => i.value),
      ),
    );
    expect(emails.size).toBe(ROWS);
  }, 240000);

  it('imports a file uploaded to the API-only process in a worker process that shares none of its disk', async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'uploaded',
        connector: 'file-import',
        config: {
          url: 'https://files.example.com/none.csv',
          format: 'csv',
          mapping: { identifiers: { email: 'email', external_id: 'id' }, traits: { name: 'name' } },
        },
      },
    });
    expect(source.status).toBe(201);
    const rows = 2000;
    const csv = ['id,email,name', ...Array.from({ length: rows }, (_, i) => `u${i},uploaded${i}@example.io,U ${i}`)];
    const res = await fetch(`${t.url}/v1/sources/${source.body.id}/upload`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      body: csv.join('\n') + '\n',
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    // Nothing runs it in the API process (RUN_WORKERS=false): it waits for a worker.
    expect((await call(t.url, 'GET', `/v1/runs/${runId}`, { headers: t.auth })).body.status).toBe('queued');

    // Its own data folder (the API's disk is not shared), and its metrics on a port of its own.
    const metricsPort = await freePort();
    startWorker(mkdtempSync(join(dir, 'worker-disk-')), {
      WORKER_METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
    });
    const run = await until(async () => {
      const r = (await call(t.url, 'GET', `/v1/runs/${runId}`, { headers: t.auth })).body;
      return ['succeeded', 'partial', 'failed'].includes(r.status) ? r : undefined;
    }, 120000);
    expect(run.status).toBe('succeeded');
    expect(run.stats).toEqual({ read: rows, written: rows, quarantined: 0, deleted: 0, suppressed: 0, unchanged: 0 });
    const found = await call(
      t.url,
      'GET',
      `/v1/profiles?identifier=${encodeURIComponent('email:uploaded7@example.io')}`,
      {
        headers: t.auth,
      },
    );
    expect(found.body.data).toHaveLength(1);
    // What the worker did is counted in the worker, and scraped from its metrics port.
    const scraped = parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const labels = { source: source.body.id, connector: 'file-import' };
    expect(valueOf(scraped, 'plexus_source_records_total', { ...labels, outcome: 'written' })).toBe(rows);
    expect(valueOf(scraped, 'plexus_identity_profiles_created_total')).toBe(rows);
    expect(
      valueOf(scraped, 'plexus_job_duration_seconds_count', {
        queue: 'sync',
        job: 'source.sync',
        outcome: 'completed',
      }),
    ).toBe(1);
  }, 180000);
});
