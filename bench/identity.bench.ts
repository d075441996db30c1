import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { IdentityResolver, IdentityRulesService, IngestService } from '@plexus/identity';
import type { ProfileRecord } from '@plexus/sdk';
import { Database, IdentityGraphRepository, IdentityRulesRepository, migrate } from '@plexus/storage';
import { withPeakRss, type Benchmark, type Figure } from './harness.js';

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RECORDS = Number(process.env.BENCH_IDENTITY_RECORDS ?? 1_000_000);
const PGLITE_RECORDS = Number(process.env.BENCH_IDENTITY_PGLITE_RECORDS ?? 100_000);
const BATCH = 1000;
/** Batches in flight: one normalises in Node while the other is in PostgreSQL. */
const IN_FLIGHT = 2;

/**
 * Record j belongs to person j mod P, so each person's three records land far apart in the stream (later
 * ones find and extend the profile the first created). Three identifiers per record, from a mix of types.
 */
function record(j: number, people: number): ProfileRecord {
  const p = j % people;
  const round = Math.floor(j / people) % 3;
  const email = { type: 'email' as const, value: `Person.${p}@Bench-Mail.io` };
  const userId = { type: 'user_id' as const, value: `u${p}` };
  const observedAt = new Date(Date.UTC(2026, 0, 1) + j * 1000).toISOString();
  switch (round) {
    case 0:
      return {
        identifiers: [
          email,
          { type: 'phone', value: `07400 ${String(100000 + p).padStart(6, '0')}` },
          { type: 'cookie_id', value: `ck${p}` },
        ],
        traits: { plan: 'free', round },
        country: 'GB',
        observedAt,
      };
    case 1:
      return {
        identifiers: [email, userId, { type: 'anonymous_id', value: `an${p}` }],
        traits: { plan: 'pro' },
        observedAt,
      };
    default:
      return {
        identifiers: [userId, { type: 'cookie_id', value: `ck${p}` }, { type: 'device_id', value: deviceOf(p) }],
        consent: { ads: true },
        observedAt,
      };
  }
}

function deviceOf(p: number): string {
  const hex = p.toString(16).padStart(12, '0');
  return `6f9619ff-8b86-4011-b42d-${hex}`;
}

async function resolveInto(
  database: Database,
  total: number,
): Promise<{ seconds: number; peakRssMb: number; profiles: number; identifiers: number }> {
  const graphs = new IdentityGraphRepository();
  const rules = new IdentityRulesService(new IdentityRulesRepository(database));
  const ingest = new IngestService(database, rules, new IdentityResolver(graphs), graphs);
  const people = Math.ceil(total / 3);
  const started = performance.now();
  const { peakRssMb } = await withPeakRss(async () => {
    let next = 0;
    const lane = async (): Promise<void> => {
      for (;;) {
        const from = next;
        if (from >= total) return;
        next += BATCH;
        const batch: ProfileRecord[] = [];
        for (let j = from; j < Math.min(from + BATCH, total); j++) batch.push(record(j, people));
        const result = await ingest.ingest(batch, { sourceId: 'bench' });
        if (result.rejected.length > 0) throw new Error(`bench records rejected: ${result.rejected[0].reason}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  });
  const seconds = (performance.now() - started) / 1000;
  const counts = await sql<{ profiles: number; identifiers: number }>`
    select (select count(*) from profiles where merged_into is null)::int as profiles,
           (select count(*) from profile_identifiers)::int as identifiers`.execute(database.db);
  return { seconds, peakRssMb, ...counts.rows[0] };
}

const bench: Benchmark = {
  name: 'identity',
  description: `identity resolution end to end (normalise + resolve + store): ${RECORDS.toLocaleString('en-US')} records × 3 identifiers on PostgreSQL, then the same again, ${PGLITE_RECORDS.toLocaleString('en-US')} on PGlite`,
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    const name = `plexus_bench_identity_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const database = await Database.open({ url: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), poolSize: 4 });
      try {
        await migrate(database);
        const r = await resolveInto(database, RECORDS);
        figures.push(
          { name: 'PostgreSQL records/s', value: RECORDS / r.seconds, unit: 'records/s', goal: '≥ 25,000' },
          { name: 'PostgreSQL total', value: r.seconds, unit: 's', goal: '≤ 40 s for 1M' },
          { name: 'PostgreSQL peak RSS', value: r.peakRssMb, unit: 'MiB', goal: '≤ 512' },
          { name: 'PostgreSQL profiles', value: r.profiles, unit: 'profiles' },
          { name: 'PostgreSQL identifiers', value: r.identifiers, unit: 'identifiers' },
        );
        // The same records again: nothing new to link, only observations to store.
        const again = await resolveInto(database, RECORDS);
        if (again.profiles !== r.profiles || again.identifiers !== r.identifiers)
          throw new Error('re-ingesting the same records changed the graph');
        figures.push(
          {
            name: 'PostgreSQL re-ingest records/s',
            value: RECORDS / again.seconds,
            unit: 'records/s',
            goal: '≥ 50,000',
          },
          { name: 'PostgreSQL re-ingest peak RSS', value: again.peakRssMb, unit: 'MiB', goal: '≤ 512' },
        );
      } finally {
        await database.close();
        // pg's pool.end() resolves before the server has seen every socket close; a forced drop would then
        // kill a closing connection and crash the run with an unhandled pool error.
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
    const lite = await Database.open({ dataDir: 'memory://' });
    try {
      await migrate(lite);
      const r = await resolveInto(lite, PGLITE_RECORDS);
      figures.push(
        { name: 'PGlite records/s', value: PGLITE_RECORDS / r.seconds, unit: 'records/s' },
        { name: 'PGlite total', value: r.seconds, unit: 's' },
        { name: 'PGlite peak RSS', value: r.peakRssMb, unit: 'MiB' },
      );
    } finally {
      await lite.close();
    }
    return figures;
  },
};
export default bench;
