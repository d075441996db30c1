import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOPBACK_ALLOW } from '../../support/app.js';
import { until } from '../../support/wait.js';

/**
 * The pieces of a multi-process Plexus for the fault suite: the real `api` and `worker` entry points as child
 * processes, and a Redis and a PostgreSQL of the test's own (started from the machine's binaries on free ports),
 * so a scenario can kill, stop and restart any of them without touching the services other tests use.
 */

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const ADMIN_KEY = 'plx_faults_admin_key_0123456789abcdef';
export const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

/** A redis-server of the test's own. `persistent`: append-only file on, so a restart keeps the data. */
export class PrivateRedis {
  private child?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'plexus-faults-redis-'));
  private constructor(
    readonly port: number,
    private readonly persistent: boolean,
  ) {}

  static async start(options: { persistent: boolean }): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options.persistent);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir];
    args.push('--appendonly', this.persistent ? 'yes' : 'no', '--appendfsync', 'always');
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    await until(async () => {
      const ping = spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' });
      return ping.stdout.trim() === 'PONG';
    }, 10_000);
  }

  /** SIGKILL: what it held in memory is gone; with `persistent`, the append-only file brings it back on start. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await exited(this.child);
    this.child = undefined;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const PG_BIN = (() => {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(base, version, 'bin') : undefined;
})();

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary folder, trust auth, fsync off). As root it runs
 * as the `postgres` user, which PostgreSQL requires.
 */
export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'plexus-faults-pg-'));
  private constructor(readonly port: number) {}

  static available(): boolean {
    return PG_BIN !== undefined;
  }

  static async start(): Promise<PrivatePostgres> {
    if (!PG_BIN) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql');
    const pg = new PrivatePostgres(await freePort());
    if (process.getuid?.() === 0) chownSync(pg.dir, uidOf('postgres'), gidOf('postgres'));
    pg.run('initdb', ['-D', pg.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await pg.start();
    return pg;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  private run(tool: string, args: string[]): void {
    const asPostgres = process.getuid?.() === 0;
    const command = asPostgres ? 'runuser' : join(PG_BIN!, tool);
    const argv = asPostgres ? ['-u', 'postgres', '--', join(PG_BIN!, tool), ...args] : args;
    const result = spawnSync(command, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    this.run('pg_ctl', ['-D', this.data, '-o', options, '-l', join(this.dir, 'log'), '-w', 'start']);
    await Promise.resolve();
  }

  /** `immediate`: like a crash (no checkpoint; recovery replays the WAL on start). */
  async stop(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', 'stop']);
    await Promise.resolve();
  }

  createDatabase(name: string): string {
    const result = spawnSync('psql', [this.url(), '-v', 'ON_ERROR_STOP=1', '-c', `create database ${name}`], {
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`create database failed: ${result.stderr}`);
    return this.url(name);
  }

  async destroy(): Promise<void> {
    try {
      await this.stop('immediate');
    } catch {
      /* already stopped */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function idOf(flag: '-u' | '-g', user: string): number {
  return Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
}
const uidOf = (user: string) => idOf('-u', user);
const gidOf = (user: string) => idOf('-g', user);

export interface ClusterOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Variables for every process over the suite's defaults. */
  env?: Record<string, string>;
}

/** One `api` or `worker` process of the hub, spawned from the compiled entry points. */
export class HubProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;

  constructor(
    readonly role: 'api' | 'worker',
    private readonly env: Record<string, string>,
    readonly port?: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<this> {
    const entry = this.role === 'api' ? 'dist/apps/api/src/main.js' : 'dist/apps/worker/src/main.js';
    const child = spawn(process.execPath, ['--import', './scripts/register.mjs', entry], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...this.env, ...(this.port ? { PORT: String(this.port) } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output.push(...d.toString('utf8').split('\n').filter(Boolean));
      if (this.output.length > 2000) this.output.splice(0, this.output.length - 2000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    await until(
      async () => {
        if (!this.running) throw new Error(`${this.role} exited at start:\n${this.output.slice(-30).join('\n')}`);
        if (this.role === 'worker') return this.output.some((l) => l.includes('worker started'));
        try {
          return (await fetch(`${this.url}/health`)).ok;
        } catch {
          return false;
        }
      },
      60_000,
      100,
    );
    return this;
  }

  /** Sends `signal` and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child || !this.running) return;
    const child = this.child;
    child.kill(signal);
    await exited(child);
  }

  async exit(): Promise<void> {
    if (this.child) await exited(this.child);
  }
}

/** The processes of one deployment sharing a database, a Redis and a queue prefix. */
export class Cluster {
  readonly processes: HubProcess[] = [];
  readonly dataDir = mkdtempSync(join(tmpdir(), 'plexus-faults-'));
  readonly prefix = `plexus-faults-${randomBytes(4).toString('hex')}`;
  private readonly masterKey = randomBytes(32).toString('hex');

  constructor(private readonly options: ClusterOptions) {
    mkdirSync(join(this.dataDir, 'imports'), { recursive: true });
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      DATA_DIR: this.dataDir,
      DATABASE_URL: this.options.databaseUrl,
      REDIS_URL: this.options.redisUrl,
      QUEUE_PREFIX: this.prefix,
      ADMIN_API_KEY: ADMIN_KEY,
      PLEXUS_MASTER_KEY: this.masterKey,
      OUTBOUND_ALLOW: LOOPBACK_ALLOW,
      LOG_LEVEL: 'warn',
      JOB_LOCK_MS: '3000',
      SHUTDOWN_TIMEOUT_MS: '10000',
      RUN_STALE_MS: '4000',
      RUN_REAPER_INTERVAL_MS: '1000',
      AUTH_FAILURE_LIMIT: '100000',
      WRITE_KEY_RATE_LIMIT: '0',
      ...this.options.env,
      ...extra,
    };
  }

  async api(extra: Record<string, string> = {}): Promise<HubProcess> {
    const api = new HubProcess('api', this.env({ RUN_WORKERS: 'false', ...extra }), await freePort());
    this.processes.push(api);
    return api.start();
  }

  async worker(extra: Record<string, string> = {}): Promise<HubProcess> {
    // Info level: the worker says "worker started" when its queues are open.
    const worker = new HubProcess('worker', this.env({ LOG_LEVEL: 'info', ...extra }));
    this.processes.push(worker);
    return worker.start();
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
