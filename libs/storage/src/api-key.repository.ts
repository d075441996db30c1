import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Database } from './database.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Generates `plx_` + 32 random bytes in base64url: 256 bits, so a fast hash is a safe way to store it. */
export function generateApiKey(): string {
  return `plx_${randomBytes(32).toString('base64url')}`;
}

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly database: Database) {}

  /** Stores a key by its hash. Idempotent: storing the same key twice keeps one row. */
  async insert(name: string, key: string): Promise<ApiKeyRecord> {
    const row = await this.database.db
      .insertInto('api_keys')
      .values({ id: randomUUID(), name, prefix: key.slice(0, 8), key_hash: hashApiKey(key) })
      .onConflict((oc) => oc.column('key_hash').doUpdateSet((eb) => ({ name: eb.ref('api_keys.name') })))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  /** Returns the key's record when it exists and is not revoked, and notes when it was last used. */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.database.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date() })
      .where('key_hash', '=', hashApiKey(key))
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async countActive(): Promise<number> {
    const row = await this.database.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async list(limit: number, after?: string): Promise<ApiKeyRecord[]> {
    let query = this.database.db.selectFrom('api_keys').selectAll().orderBy('id').limit(limit);
    if (after) query = query.where('id', '>', after);
    return (await query.execute()).map(toRecord);
  }

  async revoke(id: string): Promise<boolean> {
    const result = await this.database.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

function toRecord(row: {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
