import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { Database, PREPARED } from './database.js';
import { migrate } from './migrator.js';
import { resolveMasterKey, SecretBox } from './secret-box.js';

/** A database of its own for the enclosing `describe`: the returned function gives it once `beforeAll` has run. */
function ownTestDatabase(name: string): () => TestDatabase {
  let testDb: TestDatabase | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase(name);
  });
  afterAll(async () => {
    await testDb?.drop();
  });
  return () => testDb!;
}

describe('migrations', () => {
  const ownDb = ownTestDatabase('migrate');

  it('apply once when several processes start at the same time (advisory lock)', async () => {
    const handles = await Promise.all([1, 2, 3].map(() => Database.open({ url: ownDb().url, poolSize: 2 })));
    try {
      const results = await Promise.all(handles.map((h) => migrate(h)));
      const appliedLists = results.map((r) => r.applied);
      expect(appliedLists.filter((a) => a.length > 0)).toHaveLength(1);
      const versions = await sql<{ version: string }>`select version from schema_migrations order by version`.execute(
        handles[0].db,
      );
      expect(versions.rows.map((r) => r.version)).toEqual(appliedLists.find((a) => a.length > 0));
      expect((await migrate(handles[0])).applied).toEqual([]);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('run the same files on embedded PGlite, persisted under DATA_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-pglite-'));
    try {
      const first = await Database.open({ dataDir: dir });
      const applied = (await migrate(first)).applied;
      expect(applied.length).toBeGreaterThan(0);
      await first.close();
      const again = await Database.open({ dataDir: dir });
      expect((await migrate(again)).applied).toEqual([]);
      expect(await again.ping()).toBe(true);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180000);
});

describe('statements marked PREPARED', () => {
  const ownDb = ownTestDatabase('prepared');

  const prepared = (db: Database['db']) =>
    sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements
      order by prepare_time`.execute(db);

  it('are prepared once per connection under a name from their text, and answer as unmarked ones', async () => {
    const database = await Database.open({ url: ownDb().url, poolSize: 1 });
    try {
      const marked = (n: number) =>
        sql<{ n: number }>`${sql.raw(PREPARED)} select ${n}::int * 2 as n`.execute(database.db);
      expect(database.prepares).toBe(true);
      // More executions than PostgreSQL plans afresh before it may keep a generic plan: answers stay right.
      for (let n = 1; n <= 8; n++) expect((await marked(n)).rows).toEqual([{ n: 2 * n }]);
      await sql`select ${1}::int as unmarked`.execute(database.db);
      const first = (await prepared(database.db)).rows;
      expect(first).toHaveLength(1);
      expect(first[0].name).toMatch(/^plexus_[0-9a-f]{32}$/);
      expect(first[0].statement.startsWith(PREPARED)).toBe(true);
      // Another text is another statement; the same text again is not prepared twice.
      expect(
        (await sql<{ n: number }>`${sql.raw(PREPARED)} select ${5}::int + 1 as n`.execute(database.db)).rows,
      ).toEqual([{ n: 6 }]);
      await marked(9);
      const names = (await prepared(database.db)).rows.map((r) => r.name);
      expect(names).toHaveLength(2);
      expect(new Set(names).size).toBe(2);
    } finally {
      await database.close();
    }
  });

  it('are kept to 64 texts a connection; further texts run unnamed', async () => {
    const database = await Database.open({ url: ownDb().url, poolSize: 1 });
    try {
      for (let i = 0; i < 70; i++) {
        const { rows } = await sql<{
          n: number;
        }>`${sql.raw(PREPARED)} select ${i}::int + ${sql.raw(String(i))} as n`.execute(database.db);
        expect(rows).toEqual([{ n: 2 * i }]);
      }
      expect((await prepared(database.db)).rows).toHaveLength(64);
    } finally {
      await database.close();
    }
  });

  it.each([
    ['when prepared statements are turned off (a pooler that cannot keep them)', 'off'],
    ['on embedded PGlite', 'pglite'],
  ] as const)('run unnamed %s', async (_label, where) => {
    const database = await Database.open(
      where === 'off' ? { url: ownDb().url, poolSize: 1, preparedStatements: false } : { dataDir: 'memory://' },
    );
    try {
      expect(database.prepares).toBe(false);
      expect(
        (await sql<{ n: number }>`${sql.raw(PREPARED)} select ${3}::int * 2 as n`.execute(database.db)).rows,
      ).toEqual([{ n: 6 }]);
      expect((await prepared(database.db)).rows).toEqual([]);
    } finally {
      await database.close();
    }
  });
});

describe('SecretBox', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));

  it('round-trips and seals equal secrets differently', () => {
    const a = box.seal('hunter2');
    const b = box.seal('hunter2');
    expect(a).not.toEqual(b);
    expect(a).not.toContain('hunter2');
    expect(box.open(a)).toBe('hunter2');
    expect(box.isSealed(a)).toBe(true);
    expect(box.isSealed('hunter2')).toBe(false);
  });

  it('refuses a tampered value or a wrong key', () => {
    const sealed = box.seal('token');
    const parts = sealed.split(':');
    parts[3] = Buffer.from('tampered').toString('base64');
    expect(() => box.open(parts.join(':'))).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed)).toThrow();
  });

  it('generates a master key into DATA_DIR with mode 0600 and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-key-'));
    try {
      const first = resolveMasterKey(undefined, dir);
      expect(first.generatedAt).toBe(join(dir, 'master.key'));
      expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
      const second = resolveMasterKey(undefined, dir);
      expect(second.generatedAt).toBeUndefined();
      expect(second.key.equals(first.key)).toBe(true);
      expect(resolveMasterKey('a'.repeat(64), dir).key.equals(Buffer.alloc(32, 0xaa))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
