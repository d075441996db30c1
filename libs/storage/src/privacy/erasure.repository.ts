import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { parseJson } from '../identity/identity-graph.repository.js';
import type { Tables } from '../schema.js';

/**
 * Columns that hold a profile id. A table with one of them — or with an identifier's `type` and `value` — holds
 * something about a person, so it must appear in {@link ERASURE_PLAN} (a test fails otherwise).
 */
export const PROFILE_COLUMNS = ['profile_id', 'winner', 'loser', 'merged_into', 'people'] as const;

/** What an erasure does to each table that holds something about a person. */
export const ERASURE_PLAN: Readonly<Record<string, string>> = {
  profiles: 'deleted: the profile and every profile merged into it',
  profile_identifiers: 'deleted',
  identity_observations: 'deleted (the source records as ingested)',
  profile_events: 'deleted',
  identity_merges: 'deleted where the person is winner or loser',
  identity_flags: "rows of the person's identifiers deleted; the profile taken out of other rows' people",
  identity_separations: "rows of the person's identifiers deleted",
  identity_fingerprints: 'deleted (hashes of the records last stored for the person, and the profile id)',
  audience_members: 'deleted; the audiences’ sizes lowered',
  audience_changes: 'deleted',
  profile_computed_traits: 'deleted',
  quarantine: "raw records containing any of the person's identifiers deleted",
  privacy_requests: 'kept as proof of the request, without identifier values or export documents',
  privacy_frozen_profiles: 'deleted',
  privacy_pending_ledger: 'kept until the ledger rows are erased; holds only the profile id',
  profile_changes_pending: 'deleted (nothing is left to re-evaluate)',
  written_values: "the person's rows deleted (hashes of what a destination wrote into a CRM record of theirs)",
};

/**
 * Tables another part of the hub owns and erases through its own port: activation's ledger keeps the hashed
 * items sent per member and erases them with `ActivationHoldings.eraseMember` once no platform holds the person.
 */
export const DELEGATED_TABLE_PREFIXES: Readonly<Record<string, string>> = {
  activation_: 'ActivationHoldings.eraseMember (the ledger’s member rows)',
};

export interface ErasureTarget {
  /** The live profile and every profile merged into it. */
  profileIds: string[];
  /** The person's identifiers, normalised. */
  identifiers: Array<{ type: string; value: string }>;
  /**
   * Lower-cased strings whose presence in a quarantined raw record marks it as the person's (identifier values);
   * `digits` are phone numbers' digits, matched against the record's digits (a raw `(415) 555-2671`).
   */
  needles: string[];
  digits: string[];
  /** The request doing the erasure: its own row keeps what it needs until it ends. */
  requestId?: string;
}

/** Rows erased per table. */
export type ErasureCounts = Record<string, number>;

const count = (result: { numAffectedRows?: bigint; rows: unknown[] }): number =>
  Number(result.numAffectedRows ?? result.rows.length);

/**
 * Erases a person from the profile store. Every statement is a bulk statement over the person's ids and
 * identifiers; call it inside a transaction that holds the identifiers' lock buckets, so no ingestion batch
 * interleaves with it.
 */
@Injectable()
export class ErasureRepository {
  /** The profiles and every profile merged into them, transitively. */
  async profileTree(db: Kysely<Tables>, profileIds: string | string[]): Promise<string[]> {
    const roots = typeof profileIds === 'string' ? [profileIds] : profileIds;
    const { rows } = await sql<{ id: string }>`with recursive tree(id) as (
        select unnest(${roots}::uuid[])
        union
        select p.id from profiles p join tree t on p.merged_into = t.id
      ) select id::text as id from tree`.execute(db);
    return rows.map((r) => r.id);
  }

  async erase(db: Kysely<Tables>, target: ErasureTarget): Promise<ErasureCounts> {
    const ids = target.profileIds;
    const types = target.identifiers.map((i) => i.type);
    const values = target.identifiers.map((i) => i.value);
    const out: ErasureCounts = {};
    const run = async (table: string, query: ReturnType<typeof sql>): Promise<void> => {
      out[table] = (out[table] ?? 0) + count(await query.execute(db));
    };
    await sql`update audiences a set size = greatest(a.size - m.n, 0)
      from (select audience_id, count(*)::int as n from audience_members where profile_id = any(${ids}::uuid[])
            group by audience_id) m
      where a.id = m.audience_id`.execute(db);
    await run('audience_members', sql`delete from audience_members where profile_id = any(${ids}::uuid[])`);
    await run('audience_changes', sql`delete from audience_changes where profile_id = any(${ids}::uuid[])`);
    await run(
      'profile_computed_traits',
      sql`delete from profile_computed_traits where profile_id = any(${ids}::uuid[])`,
    );
    await run('profile_events', sql`delete from profile_events where profile_id = any(${ids}::uuid[])`);
    await run('identity_observations', sql`delete from identity_observations where profile_id = any(${ids}::uuid[])`);
    await run('identity_fingerprints', sql`delete from identity_fingerprints where profile_id = any(${ids}::uuid[])`);
    // Two statements, each on its index: an `or` of both would scan the whole table.
    await run('profile_identifiers', sql`delete from profile_identifiers where profile_id = any(${ids}::uuid[])`);
    if (types.length > 0)
      await run(
        'profile_identifiers',
        sql`delete from profile_identifiers pi
          where (pi.type, pi.value) in (select * from unnest(${types}::text[], ${values}::text[]))`,
      );
    await run(
      'identity_merges',
      sql`delete from identity_merges where winner = any(${ids}::uuid[]) or loser = any(${ids}::uuid[])`,
    );
    if (types.length > 0)
      await run(
        'identity_flags',
        sql`delete from identity_flags f
          where (f.type, f.value) in (select * from unnest(${types}::text[], ${values}::text[]))`,
      );
    await run(
      'identity_flags',
      sql`update identity_flags set people = array(select p from unnest(people) as p where p <> all(${ids}::text[]))
        where people && ${ids}::text[]`,
    );
    if (types.length > 0)
      await run(
        'identity_separations',
        sql`delete from identity_separations s
          where (s.type, s.value) in (select * from unnest(${types}::text[], ${values}::text[]))`,
      );
    if (target.needles.length > 0 || target.digits.length > 0)
      await run(
        'quarantine',
        sql`delete from quarantine q
          where exists (select 1 from unnest(${target.needles}::text[]) n where strpos(lower(q.record::text), n) > 0)
             or exists (select 1 from unnest(${target.digits}::text[]) d
                        where strpos(regexp_replace(q.record::text, '[^0-9]', '', 'g'), d) > 0)`,
      );
    await run(
      'profile_changes_pending',
      sql`delete from profile_changes_pending where profile_id = any(${ids}::uuid[])`,
    );
    await run('written_values', sql`delete from written_values where profile_id = any(${ids}::text[])`);
    await run(
      'privacy_frozen_profiles',
      sql`delete from privacy_frozen_profiles where profile_id = any(${ids}::uuid[])`,
    );
    await run(
      'privacy_requests',
      sql`update privacy_requests
        set identifier_value = null, working_identifiers = null,
            result = case when type = 'export' then '{"erased": true}'::jsonb else result end, updated_at = now()
        where profile_id = any(${ids}::uuid[]) and id is distinct from ${target.requestId ?? null}::uuid`,
    );
    await run('profiles', sql`delete from profiles where id = any(${ids}::uuid[])`);
    return out;
  }

  /** Every identifier the person's stored source records carried (including ones resolution dropped). */
  async observedIdentifiers(db: Kysely<Tables>, profileIds: string[]): Promise<Array<[string, string]>> {
    if (profileIds.length === 0) return [];
    const { rows } = await sql<{ type: string; value: string }>`select distinct i ->> 0 as type, i ->> 1 as value
      from identity_observations o, jsonb_array_elements(o.identifiers) as i
      where o.profile_id = any(${profileIds}::uuid[])`.execute(db);
    return rows.map((r) => [r.type, r.value]);
  }

  /** The person's stored source records (what export shows as "records received"). */
  async observations(
    db: Kysely<Tables>,
    profileIds: string[],
  ): Promise<
    Array<{ id: number; sourceId: string; observedAt: Date; identifiers: unknown; traits: unknown; consent: unknown }>
  > {
    if (profileIds.length === 0) return [];
    const rows = await db
      .selectFrom('identity_observations')
      .select(['id', 'source_id', 'observed_at', 'identifiers', 'traits', 'consent'])
      .where('profile_id', 'in', profileIds)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      sourceId: r.source_id,
      observedAt: r.observed_at,
      identifiers: parseJson(r.identifiers),
      traits: r.traits === null ? null : parseJson(r.traits),
      consent: r.consent === null ? null : parseJson(r.consent),
    }));
  }

  async computedTraits(
    db: Kysely<Tables>,
    profileIds: string[],
  ): Promise<Array<{ name: string; value: unknown; computedAt: Date }>> {
    if (profileIds.length === 0) return [];
    const rows = await db
      .selectFrom('profile_computed_traits as p')
      .innerJoin('computed_traits as t', 't.id', 'p.trait_id')
      .select(['t.name', 'p.value', 'p.computed_at'])
      .where('p.profile_id', 'in', profileIds)
      .orderBy('t.name')
      .execute();
    return rows.map((r) => ({ name: r.name, value: parseJson(r.value), computedAt: r.computed_at }));
  }

  /** Profiles still holding any of these identifiers (an ingestion that raced the erasure re-created them). */
  async holders(db: Kysely<Tables>, identifiers: Array<{ type: string; value: string }>): Promise<string[]> {
    if (identifiers.length === 0) return [];
    const { rows } = await sql<{ profile_id: string }>`select distinct pi.profile_id::text as profile_id
      from unnest(${identifiers.map((i) => i.type)}::text[], ${identifiers.map((i) => i.value)}::text[]) as k(type, value)
      join profile_identifiers pi on pi.type = k.type and pi.value = k.value`.execute(db);
    return rows.map((r) => r.profile_id);
  }

  /** Every table and column of the public schema: what the coverage test compares with {@link ERASURE_PLAN}. */
  async columns(db: Kysely<Tables>): Promise<Array<{ table: string; column: string }>> {
    const { rows } = await sql<{ table_name: string; column_name: string }>`select table_name, column_name
      from information_schema.columns c
      where table_schema = current_schema()
        and exists (select 1 from information_schema.tables t where t.table_schema = c.table_schema
                    and t.table_name = c.table_name and t.table_type = 'BASE TABLE')`.execute(db);
    return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
  }
}
