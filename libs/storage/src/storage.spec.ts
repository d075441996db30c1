import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { Database } from './database.js';
import { migrate } from './migrator.js';
import { resolveMasterKey, SecretBox } from './secret-box.js';

describe('migrations', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('migrate');
  });
  afterAll(async () => {
    await testDb.drop();
  });

  it('apply once when several processes start at the same time (advisory lock)', async () => {
    const handles = await Promise.all([1, 2, 3].map(() => Database.open({ url: testDb.url, poolSize: 2 })));
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
