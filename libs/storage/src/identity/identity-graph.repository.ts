import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
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

/** Everything one resolved batch changes, written with a handful of bulk statements. */
export interface GraphChanges {
  newProfiles: Array<{ id: string; createdAt: Date; mergedInto: string | null; traits: unknown; consent: unknown }>;
  updatedProfiles: Array<{ id: string; mergedInto: string | null; traits: unknown; consent: unknown }>;
  /** Existing profiles merged away: their identifiers, observations and events move to the winner. */
  moves: Array<{ loser: string; winner: string }>;
  links: Array<{ type: string; value: string; profileId: string; sourceId: string; seen: Date }>;
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

const iso = (d: Date): string => d.toISOString();

/** All SQL of the identity graph. Every method takes the transaction it runs in. */
@Injectable()
export class IdentityGraphRepository {
  /**
   * Takes transaction-scoped advisory locks on the buckets of these identifier hashes, in ascending order so
   * concurrent batches never deadlock on them. Two transactions touching one identifier run one after the other.
   */
  async lockBuckets(db: Kysely<Tables>, buckets: number[]): Promise<void> {
    if (buckets.length === 0) return;
    const sorted = [...new Set(buckets)].sort((a, b) => a - b);
    await sql`select count(pg_advisory_xact_lock(${LOCK_NAMESPACE}::int4, b))
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
    const { rows } = await sql<{
      id: string;
      created_at: Date;
      merged_into: string | null;
      traits: Record<string, StoredTrait>;
      consent: Record<string, StoredConsent>;
    }>`select id, created_at, merged_into, traits, consent from profiles
       where id = any(${[...ids].sort()}::uuid[]) order by id for update`.execute(db);
    return rows.map((r) => ({
      id: r.id,
      createdAt: new Date(r.created_at),
      mergedInto: r.merged_into,
      traits: parseJson(r.traits),
      consent: parseJson(r.consent),
    }));
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

  async write(db: Kysely<Tables>, c: GraphChanges): Promise<void> {
    if (c.newProfiles.length > 0) {
      await sql`insert into profiles (id, created_at, updated_at, merged_into, traits, consent)
        select id, created_at, created_at, merged_into, traits, consent
        from unnest(${c.newProfiles.map((p) => p.id)}::uuid[], ${c.newProfiles.map((p) => iso(p.createdAt))}::timestamptz[],
                    ${c.newProfiles.map((p) => p.mergedInto)}::uuid[], ${c.newProfiles.map((p) => JSON.stringify(p.traits))}::jsonb[],
                    ${c.newProfiles.map((p) => JSON.stringify(p.consent))}::jsonb[])
          as u(id, created_at, merged_into, traits, consent)`.execute(db);
    }
    if (c.updatedProfiles.length > 0) {
      await sql`update profiles p set traits = u.traits, consent = u.consent, merged_into = u.merged_into, updated_at = now()
        from unnest(${c.updatedProfiles.map((p) => p.id)}::uuid[], ${c.updatedProfiles.map((p) => p.mergedInto)}::uuid[],
                    ${c.updatedProfiles.map((p) => JSON.stringify(p.traits))}::jsonb[],
                    ${c.updatedProfiles.map((p) => JSON.stringify(p.consent))}::jsonb[])
          as u(id, merged_into, traits, consent)
        where p.id = u.id`.execute(db);
    }
    if (c.moves.length > 0) {
      const losers = c.moves.map((m) => m.loser);
      const winners = c.moves.map((m) => m.winner);
      await sql`update profile_identifiers t set profile_id = m.winner
        from unnest(${losers}::uuid[], ${winners}::uuid[]) as m(loser, winner) where t.profile_id = m.loser`.execute(
        db,
      );
      await sql`update identity_observations t set profile_id = m.winner
        from unnest(${losers}::uuid[], ${winners}::uuid[]) as m(loser, winner) where t.profile_id = m.loser`.execute(
        db,
      );
      await sql`update profile_events t set profile_id = m.winner
        from unnest(${losers}::uuid[], ${winners}::uuid[]) as m(loser, winner) where t.profile_id = m.loser`.execute(
        db,
      );
    }
    if (c.detach.length > 0) {
      await sql`delete from profile_identifiers t
        using unnest(${c.detach.map((d) => d.type)}::text[], ${c.detach.map((d) => d.value)}::text[]) as k(type, value)
        where t.type = k.type and t.value = k.value`.execute(db);
    }
    if (c.links.length > 0) {
      await sql`insert into profile_identifiers (type, value, profile_id, source_id, first_seen, last_seen)
        select type, value, profile_id, source_id, seen, seen
        from unnest(${c.links.map((l) => l.type)}::text[], ${c.links.map((l) => l.value)}::text[],
                    ${c.links.map((l) => l.profileId)}::uuid[], ${c.links.map((l) => l.sourceId)}::text[],
                    ${c.links.map((l) => iso(l.seen))}::timestamptz[]) as u(type, value, profile_id, source_id, seen)
        on conflict (type, value) do update set
          profile_id = excluded.profile_id,
          first_seen = least(profile_identifiers.first_seen, excluded.first_seen),
          last_seen = greatest(profile_identifiers.last_seen, excluded.last_seen)`.execute(db);
    }
    if (c.observations.length > 0) {
      const o = c.observations;
      const withIds = o[0].id !== null;
      await sql`insert into identity_observations
          (${sql.raw(withIds ? 'id, ' : '')}profile_id, source_id, run_id, observed_at, identifiers, traits, trait_expiry, consent)
        select ${sql.raw(withIds ? 'id, ' : '')}profile_id, source_id, run_id, observed_at, identifiers, traits, trait_expiry, consent
        from unnest(${o.map((r) => r.id ?? 0)}::int8[], ${o.map((r) => r.profileId)}::uuid[], ${o.map((r) => r.sourceId)}::text[],
                    ${o.map((r) => r.runId)}::text[], ${o.map((r) => iso(r.observedAt))}::timestamptz[],
                    ${o.map((r) => r.identifiers)}::jsonb[], ${o.map((r) => r.traits)}::jsonb[],
                    ${o.map((r) => r.traitExpiry)}::jsonb[], ${o.map((r) => r.consent)}::jsonb[])
          as u(id, profile_id, source_id, run_id, observed_at, identifiers, traits, trait_expiry, consent)`.execute(db);
    }
    if (c.events.length > 0) {
      const e = c.events;
      await sql`insert into profile_events (profile_id, observation_id, source_id, event_id, name, occurred_at, properties)
        select * from unnest(${e.map((r) => r.profileId)}::uuid[], ${e.map((r) => r.observationId)}::int8[],
                             ${e.map((r) => r.sourceId)}::text[], ${e.map((r) => r.eventId)}::text[],
                             ${e.map((r) => r.name)}::text[], ${e.map((r) => iso(r.occurredAt))}::timestamptz[],
                             ${e.map((r) => r.properties)}::jsonb[])
        on conflict (source_id, event_id) where event_id is not null do nothing`.execute(db);
    }
    if (c.merges.length > 0) {
      const m = c.merges;
      await sql`insert into identity_merges (winner, loser, caused_by, observation_id, source_id, run_id)
        select * from unnest(${m.map((r) => r.winner)}::uuid[], ${m.map((r) => r.loser)}::uuid[],
                             ${m.map((r) => r.causedBy)}::jsonb[], ${m.map((r) => r.observationId)}::int8[],
                             ${m.map((r) => r.sourceId)}::text[], ${m.map((r) => r.runId)}::text[])`.execute(db);
    }
    if (c.flags.length > 0) {
      const f = c.flags;
      await sql`insert into identity_flags (type, value, people, flagged, reason)
        select type, value, array(select jsonb_array_elements_text(people)), flagged, reason
        from unnest(${f.map((r) => r.type)}::text[], ${f.map((r) => r.value)}::text[],
                    ${f.map((r) => JSON.stringify(r.people))}::jsonb[], ${f.map((r) => r.flagged)}::bool[],
                    ${f.map((r) => r.reason)}::text[]) as u(type, value, people, flagged, reason)
        on conflict (type, value) do update set people = excluded.people, flagged = excluded.flagged,
          reason = coalesce(excluded.reason, identity_flags.reason), updated_at = now()`.execute(db);
    }
  }
}

/** PGlite and pg both parse jsonb; a string here means a value stored as a JSON string. */
export function parseJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}
