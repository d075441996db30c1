import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Database, migrate, ProfileRepository, type DatabaseOptions } from '@plexus/storage';
import { seedEmbeddedDatabase } from './embedded-template.js';

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** Opens a migrated {@link Database} on it (each call a new pool). */
  open(options?: Omit<DatabaseOptions, 'url'>): Promise<Database>;
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL database for one test file (`plexus_test_<random>`), so files run in parallel.
 * Call `drop()` in afterAll; it terminates leftover connections first.
 */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `plexus_${label.replace(/\W/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    name,
    url,
    async open(options = {}) {
      const database = await Database.open({ ...options, url });
      await migrate(database);
      return database;
    },
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A migrated embedded (PGlite) database in a temporary folder of its own, seeded from the shared template (see
 * `seedEmbeddedDatabase`); `close()` closes it and removes the folder.
 */
export async function openEmbeddedTestDatabase(label = 'test'): Promise<Database> {
  const dataDir = mkdtempSync(join(tmpdir(), `plexus-${label.replace(/\W/g, '_')}-`));
  await seedEmbeddedDatabase(dataDir);
  const database = await Database.open({ dataDir });
  await migrate(database);
  const close = database.close.bind(database);
  database.close = async () => {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return database;
}

/**
 * A migrated database of either kind for one test file: a fresh PostgreSQL database (see `createTestDatabase`) or
 * an embedded PGlite in a folder of its own (see `openEmbeddedTestDatabase`). `close()` closes it and drops the
 * PostgreSQL one or removes the folder.
 */
export async function openTestStorage(
  kind: 'postgres' | 'pglite',
  label: string,
): Promise<{ database: Database; close(): Promise<void> }> {
  if (kind === 'pglite') {
    const database = await openEmbeddedTestDatabase(label);
    return { database, close: () => database.close() };
  }
  const testDb = await createTestDatabase(label);
  const database = await testDb.open();
  return {
    database,
    async close() {
      await database.close();
      await testDb.drop();
    },
  };
}

/** The id of the profile holding an identifier (as stored, i.e. normalised), read straight from the database. */
export function profileIdOf(database: Database, type: string, value: string): Promise<string | undefined> {
  return new ProfileRepository(database).findIdByIdentifier(type, value);
}
