import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Database, migrate } from '@plexus/storage';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MIGRATIONS = join(ROOT, 'libs/storage/migrations');
/** A lock older than this belongs to a builder that died: the next one takes over. */
const STALE_LOCK_MS = 180_000;

/**
 * What the template depends on: the PGlite release (its initdb and on-disk format) and every migration's name
 * and text. A change to either gives another folder, so a template is never older than the code it serves.
 */
function templateKey(): string {
  const require = createRequire(import.meta.url);
  const pglite = JSON.parse(
    readFileSync(join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json'), 'utf8'),
  ) as { version: string };
  const hash = createHash('sha256').update(`pglite ${pglite.version}\n`);
  for (const file of readdirSync(MIGRATIONS).sort())
    hash.update(`${file}\n`).update(readFileSync(join(MIGRATIONS, file)));
  return hash.digest('hex').slice(0, 16);
}

async function build(target: string): Promise<void> {
  const building = `${target}.building-${process.pid}-${randomBytes(3).toString('hex')}`;
  const database = await Database.open({ dataDir: building });
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
  renameSync(building, target);
}

/** Waits until `ready()` or the lock is released or stale; returns whether it became ready. */
async function waitForBuilder(lock: string, ready: () => boolean): Promise<boolean> {
  for (;;) {
    if (ready()) return true;
    let age: number;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      return ready();
    }
    if (age > STALE_LOCK_MS) {
      rmSync(lock, { recursive: true, force: true });
      return ready();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Puts a migrated embedded database into `dataDir` (as `<dataDir>/db`, where `Database.open` looks), copied from
 * a template made once per PGlite release and set of migrations. PGlite's first open of an empty folder runs
 * initdb, which costs seconds of CPU per test file; a copy costs tens of milliseconds. The template is exactly
 * what a fresh `initdb` + `migrate` leaves; the fresh path itself stays tested (storage.spec.ts, the CLI's
 * `migrate` in processes.spec.ts). Test files running in parallel build it once between them (a lock folder).
 */
export async function seedEmbeddedDatabase(dataDir: string): Promise<void> {
  const root = join(tmpdir(), 'plexus-test-embedded');
  mkdirSync(root, { recursive: true });
  const template = join(root, templateKey());
  const ready = (): boolean => existsSync(join(template, 'db', 'PG_VERSION'));
  while (!ready()) {
    const lock = `${template}.lock`;
    try {
      mkdirSync(lock);
    } catch {
      if (await waitForBuilder(lock, ready)) break;
      continue;
    }
    try {
      if (!ready()) await build(template);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  mkdirSync(dataDir, { recursive: true });
  cpSync(join(template, 'db'), join(dataDir, 'db'), { recursive: true });
}
