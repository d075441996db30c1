import {
  DELEGATED_TABLE_PREFIXES,
  ERASURE_PLAN,
  ErasureRepository,
  PROFILE_COLUMNS,
  type Database,
} from '@plexus/storage';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Every table that can hold something about a person must say what an erasure does to it. A table added later
 * with a profile column (or an identifier's type and value) fails here until it is added to ERASURE_PLAN and
 * handled by ErasureRepository.erase — or belongs to a part that erases it through its own port.
 */
describe('erasure covers every table that holds something about a person (PostgreSQL)', () => {
  let tdb: TestDatabase;
  let database: Database;
  let columns: Array<{ table: string; column: string }>;
  beforeAll(async () => {
    tdb = await createTestDatabase('privacy_coverage');
    database = await tdb.open();
    columns = await new ErasureRepository().columns(database.db);
  });
  afterAll(async () => {
    await database.close();
    await tdb.drop();
  });

  const delegated = (table: string): boolean => Object.keys(DELEGATED_TABLE_PREFIXES).some((p) => table.startsWith(p));

  it('finds the tables with a profile column or an identifier, and each is in the plan', () => {
    const byTable = new Map<string, Set<string>>();
    for (const { table, column } of columns) byTable.set(table, (byTable.get(table) ?? new Set()).add(column));
    const personal = [...byTable]
      .filter(
        ([, cols]) =>
          PROFILE_COLUMNS.some((c) => cols.has(c)) ||
          [...cols].some((c) => c.endsWith('_profile_id')) ||
          (cols.has('type') && cols.has('value')),
      )
      .map(([table]) => table)
      .sort();
    // The check itself finds what it should.
    expect(personal).toEqual(
      expect.arrayContaining(['profiles', 'profile_identifiers', 'profile_events', 'identity_merges']),
    );
    expect(personal.filter((t) => !(t in ERASURE_PLAN) && !delegated(t))).toEqual([]);
  });

  it('names only tables that exist', () => {
    const tables = new Set(columns.map((c) => c.table));
    expect(Object.keys(ERASURE_PLAN).filter((t) => !tables.has(t))).toEqual([]);
  });
});
