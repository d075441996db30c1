import { sql } from 'kysely';
import type { Database } from '@plexus/storage';
import { generatePopulation, labelledRecords, pairwiseQuality, SHARED_DMP_COOKIE } from '../fixtures/population.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { identityServices } from './support.js';

describe('resolution quality against a synthetic population with ground truth (PostgreSQL)', () => {
  let tdb: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase('identity_quality');
    database = await tdb.open();
  });
  afterAll(async () => {
    await database.close();
    await tdb.drop();
  });

  it('generates the same population for the same seed', () => {
    const a = generatePopulation({ people: 200, seed: 7 });
    const b = generatePopulation({ people: 200, seed: 7 });
    expect(labelledRecords(a)).toEqual(labelledRecords(b));
    expect(labelledRecords(generatePopulation({ people: 200, seed: 8 }))).not.toEqual(labelledRecords(a));
  });

  it('reaches pairwise precision ≥ 0.999 and recall ≥ 0.99', async () => {
    const population = generatePopulation({ people: 4000, seed: 20260501 });
    const records = labelledRecords(population);
    // The noise is really there.
    expect(population.crm.contacts.some((c) => c.email === 'n/a' || c.email === 'test@example.com')).toBe(true);
    expect(population.dmp.rows.some((r) => r.idfa === '00000000-0000-0000-0000-000000000000')).toBe(true);
    expect(population.dmp.rows.filter((r) => r.cookie_id === SHARED_DMP_COOKIE).length).toBeGreaterThan(5);
    expect(population.crm.contacts.some((c) => c.email !== null && c.email !== c.email.trim().toLowerCase())).toBe(
      true,
    );

    const { ingest } = identityServices(database);
    const profileOf: (string | null)[] = [];
    for (let i = 0; i < records.length; i += 500) {
      const slice = records.slice(i, i + 500);
      // One batch per source, as sync jobs deliver them.
      const bySource = new Map<string, number[]>();
      slice.forEach((r, j) => bySource.set(r.sourceId, [...(bySource.get(r.sourceId) ?? []), i + j]));
      for (const [sourceId, indexes] of bySource) {
        const result = await ingest.ingest(
          indexes.map((k) => records[k].record),
          { sourceId },
        );
        indexes.forEach((k, j) => (profileOf[k] = result.profileIds[j] ?? null));
      }
    }
    const { rows } = await sql<{
      id: string;
      merged_into: string | null;
    }>`select id, merged_into from profiles`.execute(database.db);
    const mergedInto = new Map(rows.map((r) => [r.id, r.merged_into]));
    const live = (id: string): string => {
      let current = id;
      for (let next = mergedInto.get(current); next; next = mergedInto.get(current)) current = next;
      return current;
    };
    const quality = pairwiseQuality(
      records.map((r, i) => ({ personId: r.personId, profileId: profileOf[i] ? live(profileOf[i]) : null })),
    );
    process.stdout.write(`identity quality on ${records.length} records: ${JSON.stringify(quality)}\n`);
    expect(quality.truePairs).toBeGreaterThan(10_000);
    expect(quality.precision).toBeGreaterThanOrEqual(0.999);
    expect(quality.recall).toBeGreaterThanOrEqual(0.99);

    const flagged = await sql<{
      type: string;
      value: string;
    }>`select type, value from identity_flags where flagged`.execute(database.db);
    expect(flagged.rows).toEqual(expect.arrayContaining([{ type: 'cookie_id', value: SHARED_DMP_COOKIE }]));
  }, 120_000);
});
