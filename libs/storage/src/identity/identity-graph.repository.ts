import { Injectable } from '@nestjs/common';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { JsonText, jsonRows } from '../json-rows.js';
import type { Tables } from '../schema.js';
import type { StoredConsent, StoredTrait } from './identity.tables.js';

/** A link of the identity graph: one identifier value and the profile holding it. */
export interface IdentifierLink {
  type: string;
  value: string;
  profileId: string;
  lastSeen: Date;
}

export interface LockedProfile {
  id: string;
  createdAt: Date;
  mergedInto: string | null;
  traits: Record<string, StoredTrait>;
  consent: Record<string, StoredConsent>;
}

export interface FlagRow {
  type: string;
  value: string;
  people: string[];
  flagged: boolean;
}

/** One side of an undone merge: a profile may not hold identifiers of both sides of one `mergeId`. */
export interface SeparationRow {
  type: string;
  value: string;
  mergeId: number;
  side: 0 | 1;
}

/** Everything one resolved batch changes, written with a handful of bulk statements. */
export interface GraphChanges {
  newProfiles: Array<{ id: string; createdAt: Date; mergedInto: string | null; traits: unknown; consent: unknown }>;
  updatedProfiles: Array<{ id: string; mergedInto: string | null; traits: unknown; consent: unknown }>;
  /** Existing profiles merged away: their identifiers, observations and events move to the winner. */
  moves: Array<{ loser: string; winner: string }>;
  /**
   * Identifier links to write. `isNew`: the caller holds the identifier's bucket lock and saw no row for it, so
   * a plain insert does (about a third cheaper than the upsert, which every other link takes).
   */
  links: Array<{ type: string; value: string; profileId: string; sourceId: string; seen: Date; isNew?: boolean }>;
  detach: Array<{ type: string; value: string }>;
  observations: Array<{
    id: number | null;
    profileId: string;
    sourceId: string;
    runId: string | null;
    observedAt: Date;
    identifiers: string;
    traits: string | null;
    traitExpiry: string | null;
    consent: string | null;
  }>;
  events: Array<{
    profileId: string;
    observationId: number | null;
    sourceId: string;
    eventId: string | null;
    name: string;
    occurredAt: Date;
    properties: string;
  }>;
  merges: Array<{
    winner: string;
    loser: string;
    causedBy: string;
    observationId: number | null;
    sourceId: string | null;
    runId: string | null;
  }>;
  flags: Array<{ type: string; value: string; people: string[]; flagged: boolean; reason: string | null }>;
}

// Advisory lock namespace for identifier buckets; any constant shared by every Plexus process.
const LOCK_NAMESPACE = 747_212;
/**
 * Identifiers are locked by bucket, not one by one: PostgreSQL's shared lock table holds about
 * 64 × max_connections locks, and a 1,000-record batch has thousands of identifiers.
 */
export const IDENTIFIER_LOCK_BUCKETS = 512;

/**
 * One identifier's row by key, as a lateral subquery over `k(type, value)`. `limit 1` (the key is unique) keeps
 * the planner from flattening it into a hash join over the whole table: the batch's few thousand keys are
 * always index probes, even when the table's statistics are stale (a fresh database, a large first import,
 * autovacuum off).
 */
const probeIdentifier = sql`select profile_id from profile_identifiers where type = k.type and value = k.value limit 1`;

/** All SQL of the identity graph. Every method takes the transaction it runs in. */
/** A locked `profiles` row as the driver returns it. */
interface ProfileLockRow {
  id: string;
  created_at: Date;
  merged_into: string | null;
  traits: Record<string, StoredTrait>;
  consent: Record<string, StoredConsent>;
}

function toLockedProfile(r: ProfileLockRow): LockedProfile {
  return {
    id: r.id,
    createdAt: new Date(r.created_at),
    mergedInto: r.merged_into,
    traits: parseJson(r.traits),
    consent: parseJson(r.consent),
  };
}

@Injectable()
export class IdentityGraphRepository {
  /**
   * Takes transaction-scoped advisory locks on the buckets of these identifier hashes, in ascending order so
   * concurrent batches never deadlock on them. Two transactions touching one identifier run one after the other.
   */
  async lockBuckets(db: Kysely<Tables>, buckets: number[]): Promise<void> {
    if (buckets.length === 0) return;
    const sorted = [...new Set(buckets)].sort((a, b) => a - b);
    // JIT off for the rest of the transaction: without fresh statistics (a fresh database, a large first
    // import, autovacuum behind) the planner overestimates the batch's index probes a hundredfold, and
    // compiling them costs more than running them (100–150 ms a statement, measured).
    await sql`select set_config('jit', 'off', true), count(pg_advisory_xact_lock(${LOCK_NAMESPACE}::int4, b))
      from (select b from unnest(${sorted}::int4[]) as b order by b) s`.execute(db);
  }

  async lookup(db: Kysely<Tables>, types: string[], values: string[]): Promise<IdentifierLink[]> {
    if (types.length === 0) return [];
    const { rows } = await sql<{ type: string; value: string; profile_id: string; last_seen: Date }>`
      select pi.type, pi.value, pi.profile_id, pi.last_seen
      from unnest(${types}::text[], ${values}::text[]) as k(type, value)
      join profile_identifiers pi on pi.type = k.type and pi.value = k.value`.execute(db);
    return rows.map((r) => ({
      type: r.type,
      value: r.value,
      profileId: r.profile_id,
      lastSeen: new Date(r.last_seen),
    }));
  }

  /** Locks the profiles' rows (in id order) for the rest of the transaction and returns them. */
  async lockProfiles(db: Kysely<Tables>, ids: string[]): Promise<LockedProfile[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<ProfileLockRow>`select id, created_at, merged_into, traits, consent from profiles
       where id = any(${[...ids].sort()}::uuid[]) order by id for update`.execute(db);
    return rows.map(toLockedProfile);
  }

  /**
   * Looks the identifiers up and locks the rows of the profiles holding them (in id order) in one statement.
   * Call after {@link lockBuckets}: the lookup's snapshot is taken once the buckets are held, and the locked
   * rows are their latest versions (a profile merged away meanwhile shows `mergedInto`).
   */
  async lookupAndLock(db: Kysely<Tables>, types: string[], values: string[]): Promise<LockedProfile[]> {
    if (types.length === 0) return [];
    const { rows } = await sql<ProfileLockRow>`select id, created_at, merged_into, traits, consent from profiles
       where id = any(array(
         select distinct pi.profile_id from unnest(${types}::text[], ${values}::text[]) as k(type, value)
         cross join lateral (${probeIdentifier}) pi))
       order by id for update`.execute(db);
    return rows.map(toLockedProfile);
  }

  /**
   * Every identifier of these (locked) profiles, last seen in epoch ms; the guard's flags of the batch's
   * identifiers; and the separations (undone merges) any of those identifiers is on a side of: one statement,
   * read after the profile locks so it sees every committed change to them. Flags and separations are rare:
   * while their table is empty, their branch is skipped as a whole instead of probing it once per identifier.
   */
  async graphOf(
    db: Kysely<Tables>,
    profileIds: string[],
    types: string[],
    values: string[],
  ): Promise<{
    links: Array<{ type: string; value: string; profileId: string; lastSeen: number }>;
    flags: FlagRow[];
    separations: SeparationRow[];
  }> {
    const links: Array<{ type: string; value: string; profileId: string; lastSeen: number }> = [];
    const flags: FlagRow[] = [];
    const separations: SeparationRow[] = [];
    if (profileIds.length === 0 && types.length === 0) return { links, flags, separations };
    const { rows } = await sql<{
      kind: number;
      type: string;
      value: string;
      profile_id: string | null;
      seen: number | null;
      people: string[] | null;
      flagged: boolean | null;
    }>`with l as not materialized (
         select pi.type, pi.value, pi.profile_id, floor(extract(epoch from pi.last_seen) * 1000)::float8 as seen
         from unnest(${profileIds}::uuid[]) as k(id)
         cross join lateral (select * from profile_identifiers where profile_id = k.id offset 0) pi),
       b as not materialized (select * from unnest(${types}::text[], ${values}::text[]) as k(type, value))
       select 0 as kind, type, value, profile_id, seen, null::text[] as people, null::bool as flagged from l
       union all
       select 1, f.type, f.value, null, null, f.people, f.flagged
       from b as k
       cross join lateral (select * from identity_flags where type = k.type and value = k.value limit 1) f
       where (select exists (select 1 from identity_flags))
       union all
       select 2, s.type, s.value, null, s.merge_id::float8, null, s.side = 1
       from (select type, value from l union select type, value from b) as k
       cross join lateral (select * from identity_separations where type = k.type and value = k.value) s
       where (select exists (select 1 from identity_separations))`.execute(db);
    for (const r of rows) {
      const kind = Number(r.kind);
      if (kind === 0) links.push({ type: r.type, value: r.value, profileId: r.profile_id!, lastSeen: Number(r.seen) });
      else if (kind === 1)
        flags.push({ type: r.type, value: r.value, people: r.people ?? [], flagged: r.flagged === true });
      else separations.push({ type: r.type, value: r.value, mergeId: Number(r.seen), side: r.flagged ? 1 : 0 });
    }
    return { links, flags, separations };
  }

  /** Every separation (undone merge) of these identifiers; all of them without a filter. */
  async separations(db: Kysely<Tables>, keys?: { types: string[]; values: string[] }): Promise<SeparationRow[]> {
    const { rows } = keys
      ? await sql<{ type: string; value: string; merge_id: string; side: number }>`
          select s.type, s.value, s.merge_id, s.side
          from unnest(${keys.types}::text[], ${keys.values}::text[]) as k(type, value)
          join identity_separations s on s.type = k.type and s.value = k.value`.execute(db)
      : await sql<{ type: string; value: string; merge_id: string; side: number }>`
          select type, value, merge_id, side from identity_separations order by merge_id`.execute(db);
    return rows.map((r) => ({ type: r.type, value: r.value, mergeId: Number(r.merge_id), side: r.side === 1 ? 1 : 0 }));
  }

  /** Records what an unmerge keeps apart. */
  async addSeparations(db: Kysely<Tables>, rows: SeparationRow[]): Promise<void> {
    if (rows.length === 0) return;
    await sql`insert into identity_separations (type, value, merge_id, side)
      select * from unnest(${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.value)}::text[],
                           ${rows.map((r) => r.mergeId)}::int8[], ${rows.map((r) => r.side)}::int2[])
      on conflict do nothing`.execute(db);
  }

  async identifiersOf(db: Kysely<Tables>, profileIds: string[]): Promise<IdentifierLink[]> {
    if (profileIds.length === 0) return [];
    const { rows } = await sql<{ type: string; value: string; profile_id: string; last_seen: Date }>`
      select type, value, profile_id, last_seen from profile_identifiers
      where profile_id = any(${profileIds}::uuid[])`.execute(db);
    return rows.map((r) => ({
      type: r.type,
      value: r.value,
      profileId: r.profile_id,
      lastSeen: new Date(r.last_seen),
    }));
  }

  async flags(db: Kysely<Tables>, types: string[], values: string[]): Promise<FlagRow[]> {
    if (types.length === 0) return [];
    const { rows } = await sql<FlagRow>`
      select f.type, f.value, f.people, f.flagged
      from unnest(${types}::text[], ${values}::text[]) as k(type, value)
      join identity_flags f on f.type = k.type and f.value = k.value`.execute(db);
    return rows;
  }

  /** Reserves observation ids, so events can point at their observation without a round trip per record. */
  async reserveObservationIds(db: Kysely<Tables>, count: number): Promise<number[]> {
    if (count === 0) return [];
    const { rows } = await sql<{ id: number }>`
      select nextval('identity_observations_id_seq')::int8 as id from generate_series(1, ${count}::int4)`.execute(db);
    return rows.map((r) => Number(r.id));
  }

  /**
   * Writes a batch's changes. Moves and detaches (rare: merges, upstream deletes) run first on their own; every
   * other change — new and updated profiles, identifier links, observations, events, merges, flags — goes in
   * one statement of data-modifying CTEs, i.e. one round trip. They touch disjoint rows, so no CTE needs to see
   * another's effect.
   */
  async write(db: Kysely<Tables>, c: GraphChanges): Promise<void> {
    if (c.moves.length > 0) {
      const losers = c.moves.map((m) => m.loser);
      const winners = c.moves.map((m) => m.winner);
      await sql`with m as (select * from unnest(${losers}::uuid[], ${winners}::uuid[]) as m(loser, winner)),
        i as (update profile_identifiers t set profile_id = m.winner from m where t.profile_id = m.loser),
        o as (update identity_observations t set profile_id = m.winner from m where t.profile_id = m.loser)
        update profile_events t set profile_id = m.winner from m where t.profile_id = m.loser`.execute(db);
    }
    if (c.detach.length > 0) {
      // The profiles that lost an identifier lose their re-ingest fingerprints: a record carrying it again must
      // attach it again.
      await sql`with d as (delete from profile_identifiers t
          using unnest(${c.detach.map((d) => d.type)}::text[], ${c.detach.map((d) => d.value)}::text[]) as k(type, value)
          where t.type = k.type and t.value = k.value returning t.profile_id)
        delete from identity_fingerprints f where f.profile_id in (select profile_id from d)`.execute(db);
    }
    const parts: RawBuilder<unknown>[] = [];
    // Each statement's rows travel as one JSON document (see `jsonRows`), read in order by a function scan.
    // New profiles (fresh time-ordered ids) are plain inserts; changed ones an upsert, whose conflict check
    // probes the primary key row by row, so an update never turns into a scan of the table, whatever the
    // planner's statistics say.
    if (c.newProfiles.length > 0) {
      const rows = jsonRows(c.newProfiles.map((p) => [p.id, p.createdAt, p.mergedInto, p.traits, p.consent]));
      parts.push(sql`insert into profiles (id, created_at, updated_at, merged_into, traits, consent)
        select (r ->> 0)::uuid, (r ->> 1)::timestamptz, (r ->> 1)::timestamptz, (r ->> 2)::uuid, (r -> 3)::jsonb, (r -> 4)::jsonb
        from ${rows}`);
    }
    if (c.updatedProfiles.length > 0) {
      const rows = jsonRows(c.updatedProfiles.map((p) => [p.id, p.mergedInto, p.traits, p.consent]));
      parts.push(sql`insert into profiles (id, merged_into, traits, consent)
        select (r ->> 0)::uuid, (r ->> 1)::uuid, (r -> 2)::jsonb, (r -> 3)::jsonb from ${rows}
        on conflict (id) do update set traits = excluded.traits, consent = excluded.consent,
          merged_into = excluded.merged_into, updated_at = now()`);
    }
    const added: unknown[][] = [];
    const upserted: unknown[][] = [];
    for (const l of c.links)
      (l.isNew === true ? added : upserted).push([l.type, l.value, l.profileId, l.sourceId, l.seen]);
    const linkColumns = sql`(r ->> 0), (r ->> 1), (r ->> 2)::uuid, (r ->> 3), (r ->> 4)::timestamptz, (r ->> 4)::timestamptz`;
    if (added.length > 0) {
      parts.push(sql`insert into profile_identifiers (type, value, profile_id, source_id, first_seen, last_seen)
        select ${linkColumns} from ${jsonRows(added)}`);
    }
    if (upserted.length > 0) {
      parts.push(sql`insert into profile_identifiers (type, value, profile_id, source_id, first_seen, last_seen)
        select ${linkColumns} from ${jsonRows(upserted)}
        on conflict (type, value) do update set
          profile_id = excluded.profile_id,
          first_seen = least(profile_identifiers.first_seen, excluded.first_seen),
          last_seen = greatest(profile_identifiers.last_seen, excluded.last_seen)`);
    }
    if (c.observations.length > 0) {
      const o = c.observations;
      const withIds = o[0].id !== null;
      const rows = jsonRows(
        o.map((r) => [
          r.id ?? 0,
          r.profileId,
          r.sourceId,
          r.runId,
          r.observedAt,
          new JsonText(r.identifiers),
          new JsonText(r.traits),
          new JsonText(r.traitExpiry),
          new JsonText(r.consent),
        ]),
      );
      parts.push(sql`insert into identity_observations
          (${sql.raw(withIds ? 'id, ' : '')}profile_id, source_id, run_id, observed_at, identifiers, traits, trait_expiry, consent)
        select ${sql.raw(withIds ? '(r ->> 0)::int8, ' : '')}(r ->> 1)::uuid, (r ->> 2), (r ->> 3), (r ->> 4)::timestamptz,
          (r -> 5)::jsonb, nullif((r -> 6)::jsonb, 'null'), nullif((r -> 7)::jsonb, 'null'),
          nullif((r -> 8)::jsonb, 'null')
        from ${rows}`);
    }
    if (c.events.length > 0) {
      const rows = jsonRows(
        c.events.map((e) => [
          e.profileId,
          e.observationId,
          e.sourceId,
          e.eventId,
          e.name,
          e.occurredAt,
          new JsonText(e.properties),
        ]),
      );
      parts.push(sql`insert into profile_events (profile_id, observation_id, source_id, event_id, name, occurred_at, properties)
        select (r ->> 0)::uuid, (r ->> 1)::int8, (r ->> 2), (r ->> 3), (r ->> 4), (r ->> 5)::timestamptz, (r -> 6)::jsonb
        from ${rows}
        on conflict (source_id, event_id) where event_id is not null do nothing`);
    }
    if (c.merges.length > 0) {
      const rows = jsonRows(
        c.merges.map((m) => [m.winner, m.loser, new JsonText(m.causedBy), m.observationId, m.sourceId, m.runId]),
      );
      parts.push(sql`insert into identity_merges (winner, loser, caused_by, observation_id, source_id, run_id)
        select (r ->> 0)::uuid, (r ->> 1)::uuid, (r -> 2)::jsonb, (r ->> 3)::int8, (r ->> 4), (r ->> 5)
        from ${rows}`);
    }
    if (c.flags.length > 0) {
      const rows = jsonRows(c.flags.map((f) => [f.type, f.value, f.people, f.flagged, f.reason]));
      parts.push(sql`insert into identity_flags (type, value, people, flagged, reason)
        select (r ->> 0), (r ->> 1), array(select jsonb_array_elements_text((r -> 2)::jsonb)), (r ->> 3)::bool, (r ->> 4)
        from ${rows}
        on conflict (type, value) do update set people = excluded.people, flagged = excluded.flagged,
          reason = coalesce(excluded.reason, identity_flags.reason), updated_at = now()`);
    }
    if (parts.length === 0) return;
    if (parts.length === 1) {
      await parts[0].execute(db);
      return;
    }
    const ctes = parts.map((part, i) => sql`${sql.raw(`w${i}`)} as (${part})`);
    await sql`with ${sql.join(ctes, sql`, `)} select 1`.execute(db);
  }
}

/** PGlite and pg both parse jsonb; a string here means a value stored as a JSON string. */
export function parseJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
