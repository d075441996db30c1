import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { Database } from './database.js';
import type { Tables } from './schema.js';

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** The key's first characters (≥ 12), or a fingerprint of its hash for short configured keys. */
  prefix: string;
  scopes: string[];
  expiresAt: Date | null;
  /** The key that created this one (null for seeded keys). */
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface NewApiKey {
  name: string;
  key: string;
  scopes: string[];
  expiresAt?: Date | null;
  createdBy?: string | null;
}

export type RevokeOutcome = 'revoked' | 'not-found' | 'last-admin';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Generates `plx_` + 32 random bytes in base64url: 256 bits, so a fast hash is a safe way to store it. */
export function generateApiKey(): string {
  return `plx_${randomBytes(32).toString('base64url')}`;
}

/**
 * What identifies a key in lists: its first 16 characters when the key is long enough that they give nothing
 * useful away (a generated key keeps 184 secret bits), else `#` and 12 hex digits of its hash.
 */
export function apiKeyPrefix(key: string): string {
  return key.length >= 40 ? key.slice(0, 16) : `#${hashApiKey(key).slice(0, 12)}`;
}

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly database: Database) {}

  /** Stores a key by its hash. Idempotent: storing the same key twice keeps one row (and its first scopes). */
  async insert(input: NewApiKey): Promise<ApiKeyRecord> {
    const row = await this.database.db
      .insertInto('api_keys')
      .values({
        id: randomUUID(),
        name: input.name,
        prefix: apiKeyPrefix(input.key),
        key_hash: hashApiKey(input.key),
        scopes: input.scopes,
        expires_at: input.expiresAt ?? null,
        created_by: input.createdBy ?? null,
      })
      .onConflict((oc) => oc.column('key_hash').doUpdateSet((eb) => ({ name: eb.ref('api_keys.name') })))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRecord(row);
  }

  /** Returns the key's record when it exists, is not revoked and has not expired; notes when it was last used. */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.database.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date() })
      .where('key_hash', '=', hashApiKey(key))
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .returningAll()
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.database.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
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

  /**
   * Revokes a key, unless it is the last live admin key. The live admin keys are locked first, so two
   * requests revoking the last two admin keys at once cannot both succeed.
   */
  async revoke(id: string): Promise<RevokeOutcome> {
    return this.database.db.transaction().execute(async (trx) => {
      const admins = await liveAdminIds(trx);
      const target = await trx
        .selectFrom('api_keys')
        .select(['id', 'scopes'])
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .forUpdate()
        .executeTakeFirst();
      if (!target) return 'not-found';
      if (admins.includes(id) && admins.length <= 1) return 'last-admin';
      await trx.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', id).execute();
      return 'revoked';
    });
  }
}

async function liveAdminIds(trx: Kysely<Tables>): Promise<string[]> {
  const rows = await trx
    .selectFrom('api_keys')
    .select('id')
    .where('revoked_at', 'is', null)
    .where(sql<boolean>`'admin' = any(scopes)`)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('id')
    .forUpdate()
    .execute();
  return rows.map((r) => r.id);
}

function toRecord(row: {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  expires_at: Date | null;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
