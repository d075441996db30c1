import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { securePrivateTree } from './data-dir.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { Tables } from './schema.js';

// int8 (count(*), bigserial) as a JS number, as PGlite returns it: our counters stay far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number(value));

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, an embedded PGlite database is opened under `dataDir`. */
  url?: string;
  /** Folder of the embedded database (`<dataDir>/db`); `memory://` keeps it in memory. */
  dataDir?: string;
  /** Connections in the pool (PostgreSQL only). */
  poolSize?: number;
  /**
   * Connections of the separate reader pool that splits a large read-only statement (a full audience evaluation)
   * into parts read at once (PostgreSQL only; 0 or 1 = no split). Default 2.
   */
  parallelReads?: number;
  /** The size of the table a split read goes over (bytes) from which it is split. Default 64 MiB. */
  splitReadsFrom?: number;
  /**
   * Statements marked `PREPARED` are prepared once per connection (PostgreSQL only). Default true; false behind a
   * pooler that does not keep named statements across transactions (PgBouncer before 1.21 in transaction mode).
   */
  preparedStatements?: boolean;
}

/** A pool of its own for the parts of a split read, so they never wait behind connections held by transactions. */
export interface ReaderPool {
  db: Kysely<Tables>;
  /** Its connections: how many parts a read is split into. */
  count: number;
  /** Reads over a smaller table than this (bytes) are not split: below it, splitting costs more than it saves. */
  fromBytes: number;
}

/**
 * The one handle on the database. `db` is the typed query builder for ordinary queries; hot bulk paths
 * use `sql` templates through the same connections so they run unchanged on PostgreSQL and PGlite.
 */
export class Database {
  private constructor(
    readonly kind: DatabaseKind,
    readonly db: Kysely<Tables>,
    readonly description: string,
    readonly readers?: ReaderPool,
    /** Statements marked `PREPARED` are prepared (PostgreSQL with `preparedStatements` on). */
    readonly prepares = false,
  ) {}

  static async open(options: DatabaseOptions): Promise<Database> {
    if (options.url) {
      const prepares = options.preparedStatements ?? true;
      const pool = watched(new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10 }), prepares);
      const readerCount = options.parallelReads ?? 2;
      const readers =
        readerCount >= 2
          ? {
              db: new Kysely<Tables>({
                dialect: new PostgresDialect({
                  pool: watched(new pg.Pool({ connectionString: options.url, max: readerCount })),
                }),
              }),
              count: readerCount,
              fromBytes: options.splitReadsFrom ?? 64 * 1024 * 1024,
            }
          : undefined;
      const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
      return new Database('postgres', db, redactUrl(options.url), readers, prepares);
    }
    const dataDir = options.dataDir ?? './.plexus';
    let pglite: PGlite;
    let description: string;
    if (dataDir === 'memory://') {
      pglite = await PGlite.create();
      description = 'embedded PGlite (in memory)';
    } else {
      const dir = resolve(dataDir, 'db');
      securePrivateTree(dataDir);
      pglite = await PGlite.create(dir);
      // PGlite creates its files world-readable and writable (0666): close them again once it has opened.
      securePrivateTree(dir);
      description = `embedded PGlite at ${join(dataDir, 'db')}`;
    }
    return new Database('pglite', new Kysely<Tables>({ dialect: new PGliteDialect(pglite) }), description);
  }

  /** True when the database answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.db.destroy(), this.readers?.db.destroy()]);
  }
}

/**
 * Marks a statement to be prepared once per connection (PostgreSQL, unless `preparedStatements` is false; ignored
 * on PGlite): put it first in the statement's text. For a hot statement whose planning costs more than its
 * execution — the real-time check of a few profiles against every audience plans for 5–8 ms and runs in 1.
 * Prepared, it is parsed once per connection, and PostgreSQL may keep one generic plan for it (its caller can ask
 * for that with `plan_cache_mode`). Its text must vary between calls only by its parameters (the same rules compile
 * to the same text).
 */
export const PREPARED = '/* plexus:prepared */';

/** Named statements a connection keeps at most; texts beyond it run unnamed (a rule changed many times over). */
const MAX_PREPARED_PER_CONNECTION = 64;

/** Logs connections the server closes instead of letting an unheard `error` event crash the process. */
function watched(pool: pg.Pool, prepare = false): pg.Pool {
  // An idle pooled connection that the server closes (restart, failover, terminate) must not crash the
  // process: pg emits it on the pool, which throws when nobody listens. The pool replaces the connection.
  pool.on('error', (error) => new Logger('Database').warn(`idle connection lost: ${error.message}`));
  // A checked-out connection (inside a transaction, between statements) that the server closes emits on the
  // client instead, where nobody listens either: log it; the statement in flight fails and its work retries.
  pool.on('connect', (client) => {
    client.on('error', (error) => new Logger('Database').warn(`connection lost: ${error.message}`));
    if (prepare) prepareMarked(client);
  });
  return pool;
}

/**
 * Sends the statements marked `PREPARED` as named statements: node-postgres parses a name once per connection
 * and binds it afterwards. The name is a digest of the text, so a changed text is another statement.
 */
function prepareMarked(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const names = new Map<string, string>();
  client.query = ((config: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof config === 'string' && config.startsWith(PREPARED) && Array.isArray(values) && rest.length === 0) {
      let name = names.get(config);
      if (name === undefined && names.size < MAX_PREPARED_PER_CONNECTION) {
        name = `plexus_${createHash('sha256').update(config).digest('hex').slice(0, 32)}`;
        names.set(config, name);
      }
      if (name !== undefined) return query({ name, text: config, values });
    }
    return query(config, values, ...rest);
  }) as typeof client.query;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}
