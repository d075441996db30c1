import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { Database } from '../database.js';
import type { Tables } from '../schema.js';
import { parseJson } from './identity-graph.repository.js';

export interface StoredRules {
  rules: unknown;
  version: number;
  updatedAt: Date;
}

@Injectable()
export class IdentityRulesRepository {
  constructor(private readonly database: Database) {}

  async get(db: Kysely<Tables> = this.database.db): Promise<StoredRules | undefined> {
    const row = await db.selectFrom('identity_rules').selectAll().where('id', '=', 1).executeTakeFirst();
    return row ? { rules: parseJson(row.rules), version: row.version, updatedAt: row.updated_at } : undefined;
  }

  /** Stores new rules and bumps the version. */
  async put(rules: unknown): Promise<StoredRules> {
    const { rows } = await sql<{ version: number; updated_at: Date }>`
      insert into identity_rules (id, rules, version) values (1, ${JSON.stringify(rules)}::jsonb, 1)
      on conflict (id) do update set rules = excluded.rules, version = identity_rules.version + 1, updated_at = now()
      returning version, updated_at`.execute(this.database.db);
    return { rules, version: rows[0].version, updatedAt: rows[0].updated_at };
  }
}
