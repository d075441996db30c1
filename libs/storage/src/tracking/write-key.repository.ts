import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';

/** The source a valid write key belongs to, with what tracking needs of its configuration. */
export interface WriteKeyOwner {
  sourceId: string;
  connector: string;
  config: Record<string, unknown>;
}

export interface WriteKeyInfo {
  id: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/** All SQL of write keys. Keys arrive hashed; this class never sees a key. */
@Injectable()
export class WriteKeyRepository {
  constructor(private readonly database: Database) {}

  async insert(sourceId: string, keyHash: string, prefix: string): Promise<WriteKeyInfo> {
    const row = await this.database.db
      .insertInto('write_keys')
      .values({ id: randomUUID(), source_id: sourceId, key_hash: keyHash, prefix })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { id: row.id, prefix: row.prefix, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  /**
   * Adds a key and lets the source's other live keys expire after `graceSeconds` (0: at once), in one
   * transaction. Returns when the previous keys stop working (null when there were none).
   */
  async rotate(
    sourceId: string,
    keyHash: string,
    prefix: string,
    graceSeconds: number,
  ): Promise<{ key: WriteKeyInfo; previousValidUntil: Date | null }> {
    return this.database.db.transaction().execute(async (trx) => {
      const until = new Date(Date.now() + graceSeconds * 1000);
      const expired = await trx
        .updateTable('write_keys')
        .set({
          expires_at: sql<Date>`least(coalesce(expires_at, ${until.toISOString()}::timestamptz), ${until.toISOString()}::timestamptz)`,
        })
        .where('source_id', '=', sourceId)
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
        .returning('id')
        .execute();
      const row = await trx
        .insertInto('write_keys')
        .values({ id: randomUUID(), source_id: sourceId, key_hash: keyHash, prefix })
        .returningAll()
        .executeTakeFirstOrThrow();
      return {
        key: { id: row.id, prefix: row.prefix, createdAt: row.created_at, expiresAt: null },
        previousValidUntil: expired.length > 0 ? until : null,
      };
    });
  }

  /** The owner of a live key (not revoked, not expired, source still there), or undefined. */
  async owner(keyHash: string): Promise<WriteKeyOwner | undefined> {
    const row = await this.database.db
      .selectFrom('write_keys as k')
      .innerJoin('connections as c', 'c.id', 'k.source_id')
      .select(['c.id as sourceId', 'c.connector as connector', 'c.config as config'])
      .where('k.key_hash', '=', keyHash)
      .where('k.revoked_at', 'is', null)
      .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', new Date())]))
      .where('c.kind', '=', 'source')
      .executeTakeFirst();
    return row ? { sourceId: row.sourceId, connector: row.connector, config: row.config } : undefined;
  }

  async list(sourceId: string): Promise<WriteKeyInfo[]> {
    const rows = await this.database.db
      .selectFrom('write_keys')
      .selectAll()
      .where('source_id', '=', sourceId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date())]))
      .orderBy('created_at')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      prefix: row.prefix,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    }));
  }
}
