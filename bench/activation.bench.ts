import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { sql } from 'kysely';
import pg from 'pg';
import {
  ActivationEngine,
  ActivationService,
  DestinationAccess,
  planBatch,
  type Intent,
  type PlanContext,
  type ProfileSnapshot,
} from '@plexus/activation';
import { AudienceChangeLog } from '@plexus/audiences';
import { loadEnvironment } from '@plexus/config';
import { ConnectionService } from '@plexus/connectors';
import { CoreModule, DOMAIN_MODULES } from '@plexus/core';
import { ActivationRepository, Database, migrate } from '@plexus/storage';
import { META_SCHEMA, metaRow, type MetaItem } from '../connectors/meta-custom-audiences/index.js';
import {
  parentPid,
  processCpuSeconds,
  reapedChildrenCpuSeconds,
  withPeakRss,
  type Benchmark,
  type Figure,
} from './harness.js';

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MEMBERS = Number(process.env.BENCH_ACTIVATION_MEMBERS ?? 1_000_000);
/** The Meta emulator's limit (requests per second on the ad account). */
const RATE = Number(process.env.BENCH_META_RATE ?? 2);
/**
 * The destination's budget (`requestsPerSecond`): 95 % of the limit by default, as docs/CONNECTORS.md advises: a
 * budget equal to the limit meets the platform's throttling whenever two arrivals jitter closer than they were sent.
 */
const BUDGET = Number(process.env.BENCH_META_BUDGET ?? RATE * 0.95);

/**
 * Seeds with generate_series: member g has an email, a phone, first and last name, city, ZIP and country, and ads
 * consent; all of them entered one audience (its change log holds one `entered` per member).
 */
async function seed(database: Database, audienceId: string): Promise<void> {
  const trait = (value: string) => sql`jsonb_build_object('v', ${sql.raw(value)}, 's', 'bench', 't', 0)`;
  await sql`insert into profiles (id, traits, consent)
    select md5(g::text)::uuid,
      jsonb_build_object('firstName', ${trait(`'Ada' || (g % 997)`)}, 'lastName', ${trait(`'Lovelace' || (g % 991)`)},
        'city', ${trait(`'Menlo Park'`)}, 'postalCode', ${trait(`(10000 + g % 89999)::text`)},
        'country', ${trait(`'US'`)}),
      jsonb_build_object('ads', jsonb_build_object('g', true, 's', 'bench', 't', 0))
    from generate_series(1, ${MEMBERS}::int) g`.execute(database.db);
  await sql`insert into profile_identifiers (type, value, profile_id, source_id, first_seen, last_seen)
    select 'email', 'member' || g || '@bench-shop.io', md5(g::text)::uuid, 'bench', now(), now()
    from generate_series(1, ${MEMBERS}::int) g
    union all
    select 'phone', '+1415' || lpad((g % 10000000)::text, 7, '0'), md5(g::text)::uuid, 'bench', now(), now()
    from generate_series(1, ${MEMBERS}::int) g`.execute(database.db);
  await sql`insert into audiences (id, name, rule, size) values
    (${audienceId}::uuid, 'bench members', ${JSON.stringify({ consent: 'ads' })}::jsonb, ${MEMBERS}::int)`.execute(
    database.db,
  );
  await sql`insert into audience_members (audience_id, profile_id, entered_at)
    select ${audienceId}::uuid, md5(g::text)::uuid, now() from generate_series(1, ${MEMBERS}::int) g`.execute(
    database.db,
  );
  // Each change with the reason an evaluation of this rule writes.
  const reason = {
    matched: true,
    evaluation: 'full',
    because: [{ path: 'rule', condition: { consent: 'ads' }, ok: true, value: true }],
  };
  await sql`insert into audience_changes (audience_id, profile_id, change, reason)
    select ${audienceId}::uuid, md5(g::text)::uuid, 'entered', ${JSON.stringify(reason)}::jsonb
    from generate_series(1, ${MEMBERS}::int) g order by g`.execute(database.db);
  await sql`analyze`.execute(database.db);
}

/**
 * CPU seconds used so far by the PostgreSQL server processes serving `database` (their command line names it),
 * read from /proc, plus what the postmaster's reaped children used: the parallel workers those backends start
 * (whose command lines do not name the database) live only as long as one statement. Undefined where there is no
 * /proc. Backends that exit meanwhile move from the first sum to the second, so the pool must stay open; the
 * machine's other databases must be idle.
 */
function databaseCpuSeconds(database: string): number | undefined {
  let seconds = 0;
  let postmaster: number | undefined;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `)) continue;
      } catch {
        continue; // The process ended meanwhile.
      }
      seconds += processCpuSeconds(Number(pid)) ?? 0;
      postmaster ??= parentPid(Number(pid));
    }
  } catch {
    return undefined;
  }
  return seconds + (reapedChildrenCpuSeconds(postmaster) ?? 0);
}

interface EmulatorStats {
  members: number;
  throttled: number;
  /** Arrival times of the requests its rate limit admitted (ms since the epoch), in order. */
  admitted: number[];
  cpuSeconds: number;
}

/** Starts the Meta emulator in its own process; resolves with its URL and a way to ask for its state. */
async function startEmulatorProcess() {
  const child = spawn(
    process.execPath,
    ['--import', './scripts/register.mjs', fileURLToPath(new URL('./meta-emulator.child.js', import.meta.url))],
    { env: { ...process.env, META_RATE: String(RATE) }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  // The emulator stands for a platform that runs on its own machines. Sharing this machine's two cores, it would be
  // descheduled while the hub and PostgreSQL run, and stamp a request's arrival (which its rate limit judges) when
  // it next gets a core, tens of milliseconds late: ahead of them, it stamps arrivals as they come. Raising a
  // priority needs root; without it the emulator keeps the default and the bench says so.
  let prioritised = true;
  try {
    setPriority(child.pid!, -10);
  } catch {
    prioritised = false;
  }
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the emulator exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const stats = () =>
    new Promise<EmulatorStats>((resolve) => {
      child.once('message', (m) => resolve(m as EmulatorStats));
      child.send('stats');
    });
  return {
    url: (JSON.parse(line) as { url: string }).url,
    prioritised,
    stats,
    stop: () => child.kill('SIGTERM'),
  };
}

const bench: Benchmark = {
  name: 'activation',
  description: `an audience of ${MEMBERS.toLocaleString('en-US')} members activated to the Meta emulator (${RATE} requests/s allowed, a budget of ${BUDGET}/s, 10,000 rows a request), on PostgreSQL`,
  async run(): Promise<Figure[]> {
    const dbName = `plexus_bench_activation_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'plexus-bench-activation-'));
    const audienceId = randomUUID();
    const emulator = await startEmulatorProcess();
    try {
      const database = await Database.open({ url: databaseUrl });
      await migrate(database);
      const seeding = Date.now();
      await seed(database, audienceId);
      const seedSeconds = (Date.now() - seeding) / 1000;
      await database.close();

      const env = loadEnvironment({
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        REDIS_URL,
        QUEUE_PREFIX: `plexus-bench-${randomBytes(3).toString('hex')}`,
        RUN_WORKERS: 'false',
        LOG_LEVEL: 'warn',
        OUTBOUND_ALLOW: '127.0.0.1',
      });
      const app = await NestFactory.createApplicationContext(
        CoreModule.forRoot({ env, runWorkers: false, imports: DOMAIN_MODULES }),
        { logger: ['error', 'warn'] },
      );
      await app.init();
      try {
        const destination = await app.get(ConnectionService).create('destination', {
          name: 'Meta (bench)',
          connector: 'meta-custom-audiences',
          config: { accessToken: 'bench-token', adAccountId: '1000', baseUrl: emulator.url, requestsPerSecond: BUDGET },
        });
        const activation = await app.get(ActivationService).create({
          audienceId,
          destinationId: destination.id,
          mode: 'upsert',
        });
        const engine = app.get(ActivationEngine);

        // 1. The local work alone: read the change log and the profiles, normalise, hash, build the request bodies.
        const info = (await app.get(DestinationAccess).info(destination.id))!;
        const context: PlanContext = {
          definition: info.definition,
          types: new Set(info.definition.accepts),
          fingerprints: engine.fingerprints,
        };
        const changeLog = app.get(AudienceChangeLog);
        const repository = app.get(ActivationRepository);
        const planCpu = process.cpuUsage();
        const planStarted = Date.now();
        let planned = 0;
        let bodyBytes = 0;
        for (let cursor = 0; ;) {
          const changes = await changeLog.steps(audienceId, cursor, 10_000);
          if (changes.length === 0) break;
          cursor = changes[changes.length - 1].cursor;
          const intents = new Map<string, Intent>(changes.map((c) => [c.profileId, { present: true }]));
          const snapshots = await repository.profileSnapshots([...intents.keys()], Date.now());
          const profiles = new Map(snapshots.map((p) => [p.id, p as ProfileSnapshot]));
          const payload = planBatch(intents, () => undefined, profiles, context);
          const body = JSON.stringify({
            payload: { schema: META_SCHEMA, data: payload.adds.map((m) => metaRow(m.item as MetaItem)) },
          });
          planned += payload.adds.length;
          bodyBytes += body.length;
        }
        const planUsed = process.cpuUsage(planCpu);
        const planCpuSeconds = (planUsed.user + planUsed.system) / 1e6;
        const planSeconds = (Date.now() - planStarted) / 1000;

        // 2. The whole delivery through the engine: plan, store, send within the rate budget, record.
        const emulatorCpuBefore = (await emulator.stats()).cpuSeconds;
        const databaseCpuBefore = databaseCpuSeconds(dbName);
        const cpu = process.cpuUsage();
        const started = Date.now();
        const loopDelay = monitorEventLoopDelay({ resolution: 10 });
        loopDelay.enable();
        const { peakRssMb } = await withPeakRss(async () => {
          for (;;) {
            const result = await engine.deliver(activation.id, { budgetMs: 3_600_000 });
            if (result.state !== 'more') return result;
          }
        });
        const seconds = (Date.now() - started) / 1000;
        loopDelay.disable();
        const databaseCpuAfter = databaseCpuSeconds(dbName);
        const used = process.cpuUsage(cpu);
        const cpuSeconds = (used.user + used.system) / 1e6;
        const counts = await repository.memberCounts(activation.id);
        const batches = await repository.batches(activation.id, 10_000);
        const requests = batches.reduce((n, b) => n + (Array.isArray(b.answer) ? b.answer.length : 0), 0);
        const { members, throttled, admitted, cpuSeconds: emulatorCpuAfter } = await emulator.stats();
        // The platform's view: from the first request it admitted during the delivery to the last one.
        const arrivals = admitted.filter((t) => t >= started);
        const steadyRate = (arrivals.length - 1) / ((arrivals[arrivals.length - 1] - arrivals[0]) / 1000);
        if (members !== MEMBERS || counts.held !== MEMBERS)
          throw new Error(`expected ${MEMBERS} members, the emulator holds ${members} and the ledger ${counts.held}`);
        // The first request goes out at once; each later one waits for the budget: n requests need (n − 1) / rate s.
        const ideal = (requests - 1) / RATE;
        return [
          { name: 'seeded (profiles, identifiers, change log)', value: seedSeconds, unit: 's' },
          {
            name: `local CPU to read changes and profiles, normalise, hash and build request bodies (${planned.toLocaleString('en-US')} members, ${(bodyBytes / 2 ** 20).toFixed(0)} MiB of bodies)`,
            value: planCpuSeconds,
            unit: 's',
            goal: `≤ ${((20 * MEMBERS) / 1_000_000).toFixed(1)} s (20 s per million)`,
          },
          { name: 'the same, wall time (database reads included)', value: planSeconds, unit: 's' },
          { name: 'members held by the platform and the ledger', value: members, unit: 'members' },
          { name: 'delivery wall time', value: seconds, unit: 's' },
          { name: 'requests sent (10,000 rows each)', value: requests, unit: 'requests' },
          {
            name: 'send rate vs the emulator limit',
            value: (100 * ideal) / seconds,
            unit: `% of ${RATE} requests/s`,
            goal: '≥ 90 %',
          },
          { name: 'requests throttled by the emulator', value: throttled, unit: 'requests' },
          {
            name: "the emulator process's CPU priority (nice; raised only as root, else 0)",
            value: emulator.prioritised ? -10 : 0,
            unit: '',
          },
          {
            name: `the same seen by the emulator: ${arrivals.length} requests admitted, first to last arrival`,
            value: (100 * steadyRate) / RATE,
            unit: `% of ${RATE} requests/s`,
          },
          {
            name: "the hub's event loop during the delivery: delay p99",
            value: loopDelay.percentile(99) / 1e6,
            unit: 'ms',
          },
          { name: 'the same, longest delay', value: loopDelay.max / 1e6, unit: 'ms' },
          {
            name: 'hub process CPU of the whole delivery (planning, HTTP, recording the ledger)',
            value: cpuSeconds,
            unit: 's',
          },
          { name: 'peak RSS of the hub process', value: peakRssMb, unit: 'MiB' },
          {
            name: 'emulator process CPU of the whole delivery (parsing and applying the requests)',
            value: emulatorCpuAfter - emulatorCpuBefore,
            unit: 's',
          },
          ...(databaseCpuBefore === undefined || databaseCpuAfter === undefined
            ? []
            : [
                {
                  name: "PostgreSQL CPU of the whole delivery (the bench database's server processes and parallel workers)",
                  value: databaseCpuAfter - databaseCpuBefore,
                  unit: 's',
                },
              ]),
        ];
      } finally {
        await app.close();
      }
    } finally {
      emulator.stop();
      rmSync(dataDir, { recursive: true, force: true });
      const cleanup = new pg.Client({ connectionString: ADMIN_URL });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${dbName} with (force)`);
      await cleanup.end();
    }
  },
};

export default bench;
