import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured figure: a value with its unit and, optionally, the goal it is held against. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  goal?: string;
}

/** A benchmark: `bench/<name>.bench.ts` default-exports one. `npm run bench [name…]` runs them. */
export interface Benchmark {
  name: string;
  description: string;
  /** Runs only when named (`npm run bench -- <name>`), not in a plain `npm run bench` (long soaks). */
  onlyWhenNamed?: boolean;
  run(): Promise<Figure[]>;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** Samples RSS every 50 ms while `fn` runs; returns its result and the peak in MiB. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

export function formatFigure(f: Figure): string {
  const value = f.value >= 100 ? Math.round(f.value).toLocaleString('en-US') : f.value.toFixed(2);
  return `  ${f.name}: ${value} ${f.unit}${f.goal ? `   (goal: ${f.goal})` : ''}`;
}

/** A TCP port nobody listens on now (for a spawned API process). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until a spawned API answers /health (throws if it exits or takes longer than `timeoutMs`). */
export async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the API did not become healthy');
}

/** CPU seconds (user + system) a process has used so far, read from /proc; undefined where there is none. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  const fields = statFields(pid);
  return fields && (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ
}

/**
 * CPU seconds of the children a process has reaped (cutime + cstime): for PostgreSQL's postmaster, what its
 * parallel workers and the backends that have exited used. Undefined where /proc does not say.
 */
export function reapedChildrenCpuSeconds(pid: number | undefined): number | undefined {
  const fields = statFields(pid);
  return fields && (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime in USER_HZ
}

/** The parent process id of a process, from /proc. */
export function parentPid(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields && Number(fields[1]);
}

/** The fields of /proc/<pid>/stat after the command name (the first is the state); undefined if unreadable. */
function statFields(pid: number | undefined): string[] | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * The arguments that start a compiled hub entry point as the start commands do: with this process's node options,
 * which `npm run bench` sets like every start script (`--max-semi-space-size=64 --import ./scripts/register.mjs`).
 */
export function hubProcessArgs(main: string): string[] {
  return [...process.execArgv, main];
}

/** Starts the compiled API (dist) as its own process on a free port, with its own DATA_DIR and Redis prefix. */
export async function spawnApi(options: {
  databaseUrl: string;
  redisUrl: string;
  adminKey: string;
  runWorkers: boolean;
}): Promise<{ api: ChildProcess; url: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plexus-bench-'));
  const port = await freePort();
  const main = fileURLToPath(new URL('../apps/api/src/main.js', import.meta.url));
  const api = spawn(process.execPath, hubProcessArgs(main), {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      DATA_DIR: dataDir,
      REDIS_URL: options.redisUrl,
      QUEUE_PREFIX: `plexus-bench-${randomBytes(3).toString('hex')}`,
      ADMIN_API_KEY: options.adminKey,
      RUN_WORKERS: String(options.runWorkers),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { api, url: `http://127.0.0.1:${port}`, dataDir };
}
