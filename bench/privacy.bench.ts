import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { IdentityResolver, IdentityRulesService, IngestService, ProfileChanges } from '@plexus/identity';
import { HoldingsLocator, IdentifierHasher, PersonErasure, RetentionService, SuppressionGate } from '@plexus/privacy';
import { normalizeRecord } from '@plexus/profile';
import type { QueueService } from '@plexus/queue';
import type { ProfileRecord } from '@plexus/sdk';
import {
  Database,
  ErasureRepository,
  IdentityGraphRepository,
  IdentityRulesRepository,
  migrate,
  ProfileChangeRepository,
  PrivacyRequestRepository,
  RetentionRepository,
  SecretBox,
  SuppressionRepository,
} from '@plexus/storage';
import type { Benchmark, Figure } from './harness.js';

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RECORDS = Number(process.env.BENCH_PRIVACY_RECORDS ?? 100_000);
const SUPPRESSED = Number(process.env.BENCH_PRIVACY_SUPPRESSED ?? 20_000);
const ANONYMOUS = Number(process.env.BENCH_PRIVACY_ANONYMOUS ?? 5_000);
const EVENTS = Number(process.env.BENCH_PRIVACY_EVENTS ?? 10_000);
const BATCH = 1000;
const DAY = 86_400_000;

const person = (p: number, tag: string, observedAt?: string): ProfileRecord => ({
  identifiers: [
    { type: 'email', value: `${tag}.${p}@bench-mail.io` },
    { type: 'user_id', value: `${tag}-u${p}` },
    { type: 'cookie_id', value: `${tag}-ck${p}` },
  ],
  traits: { plan: 'pro' },
  ...(observedAt ? { observedAt } : {}),
});

async function ingestAll(ingest: IngestService, total: number, tag: string, observedAt?: string): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < total; from += BATCH) {
    const batch: ProfileRecord[] = [];
    for (let p = from; p < Math.min(from + BATCH, total); p++) batch.push(person(p, tag, observedAt));
    await ingest.ingest(batch, { sourceId: 'bench' });
  }
  return (performance.now() - started) / 1000;
}

const bench: Benchmark = {
  name: 'privacy',
  description:
    `privacy on PostgreSQL: ingestion of ${RECORDS.toLocaleString('en-US')} records × 3 identifiers with and without the ` +
    `suppression check (${SUPPRESSED.toLocaleString('en-US')} people suppressed), erasure of a person with ` +
    `${EVENTS.toLocaleString('en-US')} events, a retention sweep of ${ANONYMOUS.toLocaleString('en-US')} expired anonymous profiles`,
  async run(): Promise<Figure[]> {
    const figures: Figure[] = [];
    const name = `plexus_bench_privacy_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    try {
      const database = await Database.open({ url: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`), poolSize: 4 });
      try {
        await migrate(database);
        const graphs = new IdentityGraphRepository();
        const rules = new IdentityRulesService(new IdentityRulesRepository(database));
        const suppressions = new SuppressionRepository(database);
        const hasher = new IdentifierHasher(new SecretBox(randomBytes(32)));
        const gate = new SuppressionGate(hasher, suppressions);
        const plain = new IngestService(database, rules, new IdentityResolver(graphs), graphs);
        const gated = new IngestService(
          database,
          rules,
          new IdentityResolver(graphs),
          graphs,
          new ProfileChanges(new ProfileChangeRepository(database)),
          gate,
        );

        const hashes: string[] = [];
        for (let p = 0; p < SUPPRESSED; p++) hashes.push(hasher.hash('email', `gone.${p}@bench-mail.io`));
        await suppressions.add(hashes, 'delete', '00000000-0000-4000-8000-000000000000');

        const without = await ingestAll(plain, RECORDS, 'a');
        const withGate = await ingestAll(gated, RECORDS, 'b');
        figures.push(
          { name: 'ingest without the check', value: RECORDS / without, unit: 'records/s' },
          { name: 'ingest with the check', value: RECORDS / withGate, unit: 'records/s', goal: '≤ 10 % slower' },
        );
        const normalized = Array.from({ length: BATCH }, (_, p) => {
          const r = normalizeRecord(person(p, 'c'));
          if (!r.ok) throw new Error(r.reason);
          return r.record;
        });
        const checkStarted = performance.now();
        const rounds = Math.max(1, Math.floor(RECORDS / BATCH));
        for (let i = 0; i < rounds; i++) await gate.refused(normalized);
        figures.push({
          name: 'suppression check alone',
          value: (rounds * BATCH) / ((performance.now() - checkStarted) / 1000),
          unit: 'records/s',
        });

        // One person with many events: the erase step of a delete request.
        const erasure = new PersonErasure(
          database,
          new ErasureRepository(),
          graphs,
          new ProfileChanges(new ProfileChangeRepository(database)),
        );
        const [big] = (await plain.ingest([person(0, 'big')], { sourceId: 'bench' })).profileIds;
        await sql`insert into profile_events (profile_id, source_id, name, occurred_at, properties)
          select ${big}::uuid, 'bench', 'Page Viewed', now() - (g || ' minutes')::interval, '{}'::jsonb
          from generate_series(1, ${EVENTS}) g`.execute(database.db);
        const target = await erasure.person(big, []);
        const eraseStarted = performance.now();
        const counts = await erasure.erase(target);
        if (counts.profile_events !== EVENTS) throw new Error(`erased ${counts.profile_events} events`);
        figures.push({
          name: `erase a person with ${EVENTS} events`,
          value: performance.now() - eraseStarted,
          unit: 'ms',
        });

        // Anonymous profiles unseen for 100 days: detached and deleted by one sweep.
        const old = new Date(Date.now() - 100 * DAY).toISOString();
        for (let from = 0; from < ANONYMOUS; from += BATCH) {
          const batch: ProfileRecord[] = [];
          for (let p = from; p < Math.min(from + BATCH, ANONYMOUS); p++)
            batch.push({ identifiers: [{ type: 'cookie_id', value: `anon-ck${p}` }], observedAt: old });
          await plain.ingest(batch, { sourceId: 'bench' });
        }
        // The sweep re-queues lost request jobs; there are none here, so no queue is needed.
        const noQueue = { ensureJob: () => Promise.resolve(false) } as unknown as QueueService;
        const retention = new RetentionService(
          database,
          new RetentionRepository(database),
          graphs,
          rules,
          erasure,
          HoldingsLocator.of(undefined),
          new PrivacyRequestRepository(database),
          noQueue,
        );
        const sweepStarted = performance.now();
        const run = await retention.sweep();
        const seconds = (performance.now() - sweepStarted) / 1000;
        if (run.removed.profilesDeleted !== ANONYMOUS) throw new Error(`deleted ${run.removed.profilesDeleted}`);
        figures.push(
          { name: 'retention sweep total', value: seconds, unit: 's' },
          {
            name: 'retention: identifiers scanned',
            value: (RECORDS * 2 + ANONYMOUS + 1) / seconds,
            unit: 'cookie ids/s',
          },
          { name: 'retention: anonymous profiles deleted', value: ANONYMOUS / seconds, unit: 'profiles/s' },
        );
      } finally {
        await database.close();
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
    return figures;
  },
};

export default bench;
