import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { Database } from '../database.js';
import { parseJson } from '../identity/identity-graph.repository.js';
import type { Tables } from '../schema.js';
import type { ComputedTraitDefinition } from './audience-rule.types.js';
import { computedTraitValues } from './rule.compiler.js';

export interface ComputedTraitRow {
  id: string;
  name: string;
  /** The definition as the admin sent it. */
  definition: unknown;
  timeDependent: boolean;
  createdAt: Date;
  updatedAt: Date;
}

type RawRow = {
  id: string;
  name: string;
  definition: unknown;
  time_dependent: boolean;
  created_at: Date;
  updated_at: Date;
};

const toRow = (r: RawRow): ComputedTraitRow => ({
  id: r.id,
  name: r.name,
  definition: parseJson(r.definition),
  timeDependent: r.time_dependent,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Computed trait definitions and their values per profile. */
@Injectable()
export class ComputedTraitRepository {
  constructor(private readonly database: Database) {}

  get db(): Kysely<Tables> {
    return this.database.db;
  }

  async insert(db: Kysely<Tables>, row: Omit<ComputedTraitRow, 'createdAt' | 'updatedAt'>): Promise<void> {
    await db
      .insertInto('computed_traits')
      .values({
        id: row.id,
        name: row.name,
        definition: JSON.stringify(row.definition),
        time_dependent: row.timeDependent,
      })
      .execute();
  }

  async update(
    db: Kysely<Tables>,
    id: string,
    patch: { name?: string; definition?: unknown; timeDependent?: boolean },
  ): Promise<void> {
    await db
      .updateTable('computed_traits')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.definition !== undefined ? { definition: JSON.stringify(patch.definition) } : {}),
        ...(patch.timeDependent !== undefined ? { time_dependent: patch.timeDependent } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
  }

  async get(id: string, db: Kysely<Tables> = this.db): Promise<ComputedTraitRow | undefined> {
    const row = await db.selectFrom('computed_traits').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  async all(db: Kysely<Tables> = this.db): Promise<ComputedTraitRow[]> {
    return (await db.selectFrom('computed_traits').selectAll().orderBy('name').execute()).map(toRow);
  }

  async delete(db: Kysely<Tables>, id: string): Promise<boolean> {
    const r = await db.deleteFrom('computed_traits').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Recomputes one trait's values (for every profile, or these profiles) in one statement: changed values are
   * written, values of profiles left without matching events are removed. Returns the rows written.
   */
  async refresh(
    db: Kysely<Tables>,
    traitId: string,
    definition: ComputedTraitDefinition,
    now: Date,
    profileIds?: string[],
  ): Promise<number> {
    const only = profileIds ? sql`and t.profile_id = any(${profileIds}::uuid[])` : sql``;
    const { rows } = await sql<{ written: number }>`
      with v as (${computedTraitValues(definition, { now, profileIds })}),
      gone as (
        delete from profile_computed_traits t where t.trait_id = ${traitId}::uuid ${only}
          and not exists (select 1 from v where v.profile_id = t.profile_id and v.value is not null)),
      put as (
        insert into profile_computed_traits (trait_id, profile_id, value, computed_at)
        select ${traitId}::uuid, v.profile_id, v.value, ${now.toISOString()}::timestamptz from v where v.value is not null
        on conflict (trait_id, profile_id) do update set value = excluded.value, computed_at = excluded.computed_at
          where profile_computed_traits.value is distinct from excluded.value
        returning 1)
      select count(*) as written from put`.execute(db);
    return Number(rows[0]?.written ?? 0);
  }

  /** A profile's computed trait values, by trait name. */
  async valuesOf(profileId: string): Promise<Array<{ name: string; value: unknown; computedAt: Date }>> {
    const rows = await this.db
      .selectFrom('profile_computed_traits as v')
      .innerJoin('computed_traits as t', 't.id', 'v.trait_id')
      .select(['t.name', 'v.value', 'v.computed_at'])
      .where('v.profile_id', '=', profileId)
      .orderBy('t.name')
      .execute();
    // Written by SQL as jsonb (never a JSON-encoded string): a string value is a string.
    return rows.map((r) => ({ name: r.name, value: r.value, computedAt: r.computed_at }));
  }
}
