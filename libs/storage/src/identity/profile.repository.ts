import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { Database } from '../database.js';
import type { Tables } from '../schema.js';
import { parseJson } from './identity-graph.repository.js';
import type { StoredConsent, StoredTrait } from './identity.tables.js';

export interface ProfileRow {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  mergedInto: string | null;
  traits: Record<string, StoredTrait>;
  consent: Record<string, StoredConsent>;
}

export interface IdentifierRow {
  profileId: string;
  type: string;
  value: string;
  sourceId: string;
  firstSeen: Date;
  lastSeen: Date;
}

export interface EventRow {
  id: number;
  profileId: string;
  sourceId: string;
  eventId: string | null;
  name: string;
  occurredAt: Date;
  properties: Record<string, unknown>;
}

export interface MergeRow {
  id: number;
  winner: string;
  loser: string;
  causedBy: Array<{ type: string; value: string; profileId?: string }>;
  observationId: number | null;
  sourceId: string | null;
  runId: string | null;
  mergedAt: Date;
  undoneAt: Date | null;
  undoNote: string | null;
}

export interface ObservationRow {
  id: number;
  profileId: string;
  sourceId: string;
  observedAt: Date;
  identifiers: Array<[string, string]>;
  traits: Record<string, unknown> | null;
  traitExpiry: Record<string, number> | null;
  consent: Record<string, boolean> | null;
}

export interface FlagListRow {
  type: string;
  value: string;
  people: string[];
  reason: string | null;
  firstSeenAt: Date;
  updatedAt: Date;
}

type RawProfile = {
  id: string;
  created_at: Date;
  updated_at: Date;
  merged_into: string | null;
  traits: unknown;
  consent: unknown;
};
const toProfile = (r: RawProfile): ProfileRow => ({
  id: r.id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  mergedInto: r.merged_into,
  traits: parseJson(r.traits),
  consent: parseJson(r.consent),
});
type RawIdentifier = {
  profile_id: string;
  type: string;
  value: string;
  source_id: string;
  first_seen: Date;
  last_seen: Date;
};
const toIdentifier = (r: RawIdentifier): IdentifierRow => ({
  profileId: r.profile_id,
  type: r.type,
  value: r.value,
  sourceId: r.source_id,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
});

/** Reads of profiles, their events and history; the writes of unmerge. */
/** A row of `identity_merges` as the driver returns it. */
interface MergeDbRow {
  id: number;
  winner: string;
  loser: string;
  caused_by: unknown;
  observation_id: number | null;
  source_id: string | null;
  run_id: string | null;
  merged_at: Date;
  undone_at: Date | null;
  undo_note: string | null;
}

function toMergeRow(r: MergeDbRow): MergeRow {
  return {
    id: Number(r.id),
    winner: r.winner,
    loser: r.loser,
    causedBy: parseJson(r.caused_by),
    observationId: r.observation_id === null ? null : Number(r.observation_id),
    sourceId: r.source_id,
    runId: r.run_id,
    mergedAt: r.merged_at,
    undoneAt: r.undone_at,
    undoNote: r.undo_note,
  };
}

@Injectable()
export class ProfileRepository {
  constructor(private readonly database: Database) {}

  get db(): Kysely<Tables> {
    return this.database.db;
  }

  async get(id: string, db: Kysely<Tables> = this.db): Promise<ProfileRow | undefined> {
    const row = await db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toProfile(row) : undefined;
  }

  /** Follows `merged_into` to the live profile (undefined when the id is unknown). */
  async live(id: string): Promise<ProfileRow | undefined> {
    let row = await this.get(id);
    for (let hops = 0; row?.mergedInto && hops < 100; hops++) row = await this.get(row.mergedInto);
    return row;
  }

  async findIdByIdentifier(type: string, value: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('profile_identifiers')
      .select('profile_id')
      .where('type', '=', type)
      .where('value', '=', value)
      .executeTakeFirst();
    return row?.profile_id;
  }

  async identifiersOf(profileIds: string[], db: Kysely<Tables> = this.db): Promise<IdentifierRow[]> {
    if (profileIds.length === 0) return [];
    const rows = await db
      .selectFrom('profile_identifiers')
      .selectAll()
      .where('profile_id', 'in', profileIds)
      .orderBy('profile_id')
      .orderBy('type')
      .orderBy('value')
      .execute();
    return rows.map(toIdentifier);
  }

  /** Live profiles in id order after `after`: the export and list cursor. */
  async page(limit: number, after?: string): Promise<ProfileRow[]> {
    let q = this.db.selectFrom('profiles').selectAll().where('merged_into', 'is', null).orderBy('id').limit(limit);
    if (after) q = q.where('id', '>', after);
    return (await q.execute()).map(toProfile);
  }

  async events(profileId: string, limit: number, after?: { occurredAt: Date; id: number }): Promise<EventRow[]> {
    let q = this.db
      .selectFrom('profile_events')
      .select(['id', 'profile_id', 'source_id', 'event_id', 'name', 'occurred_at', 'properties'])
      .where('profile_id', '=', profileId)
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (after)
      q = q.where((eb) =>
        eb.or([
          eb('occurred_at', '<', after.occurredAt),
          eb.and([eb('occurred_at', '=', after.occurredAt), eb('id', '<', after.id)]),
        ]),
      );
    return (await q.execute()).map((r) => ({
      id: Number(r.id),
      profileId: r.profile_id,
      sourceId: r.source_id,
      eventId: r.event_id,
      name: r.name,
      occurredAt: r.occurred_at,
      properties: parseJson(r.properties),
    }));
  }

  /** Every merge that led into `profileId`, transitively (what it absorbed, and what they absorbed). */
  async mergeHistory(profileId: string): Promise<MergeRow[]> {
    const { rows } = await sql<MergeDbRow>`with recursive tree(id) as (
          select ${profileId}::uuid
          union
          select m.loser from identity_merges m join tree t on m.winner = t.id
        )
        select distinct m.* from identity_merges m
        where m.winner in (select id from tree) or m.loser = ${profileId}::uuid
        order by m.id`.execute(this.db);
    return rows.map(toMergeRow);
  }

  async firstObservation(
    profileIds: string[],
  ): Promise<{ sourceId: string; observedAt: Date; id: number } | undefined> {
    if (profileIds.length === 0) return undefined;
    const row = await this.db
      .selectFrom('identity_observations')
      .select(['id', 'source_id', 'observed_at'])
      .where('profile_id', 'in', profileIds)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row ? { id: Number(row.id), sourceId: row.source_id, observedAt: row.observed_at } : undefined;
  }

  async flagged(limit: number, after?: string): Promise<FlagListRow[]> {
    let q = this.db
      .selectFrom('identity_flags')
      .selectAll()
      .where('flagged', '=', true)
      .orderBy(sql`type || ':' || value`)
      .limit(limit);
    if (after) q = q.where(sql<boolean>`type || ':' || value > ${after}`);
    return (await q.execute()).map((r) => ({
      type: r.type,
      value: r.value,
      people: r.people,
      reason: r.reason,
      firstSeenAt: r.first_seen_at,
      updatedAt: r.updated_at,
    }));
  }

  async observations(
    db: Kysely<Tables>,
    filter: { profileId?: string; afterId?: number; limit: number },
  ): Promise<ObservationRow[]> {
    let q = db.selectFrom('identity_observations').selectAll().orderBy('id').limit(filter.limit);
    if (filter.profileId) q = q.where('profile_id', '=', filter.profileId);
    if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
    return (await q.execute()).map((r) => ({
      id: Number(r.id),
      profileId: r.profile_id,
      sourceId: r.source_id,
      observedAt: r.observed_at,
      identifiers: parseJson(r.identifiers),
      traits: r.traits === null ? null : parseJson(r.traits),
      traitExpiry: r.trait_expiry === null ? null : parseJson(r.trait_expiry),
      consent: r.consent === null ? null : parseJson(r.consent),
    }));
  }

  async merge(db: Kysely<Tables>, id: number): Promise<MergeRow | undefined> {
    const rows = await this.mergeRows(db, sql`id = ${id}`);
    return rows[0];
  }

  /** The latest merge into `winner` that was not undone. */
  async latestMergeInto(db: Kysely<Tables>, winner: string): Promise<MergeRow | undefined> {
    const rows = await this.mergeRows(db, sql`winner = ${winner}::uuid and undone_at is null order by id desc limit 1`);
    return rows[0];
  }

  private async mergeRows(db: Kysely<Tables>, where: ReturnType<typeof sql>): Promise<MergeRow[]> {
    const { rows } = await sql<MergeDbRow>`select * from identity_merges where ${where}`.execute(db);
    return rows.map(toMergeRow);
  }

  /**
   * Unmerge: takes every identifier off `profileId` (they are re-linked by the caller), and drops the re-ingest
   * fingerprints of it and of `others` (the profiles the unmerge splits it into), whose records must resolve again.
   */
  async deleteLinksOf(db: Kysely<Tables>, profileId: string, others: string[] = []): Promise<void> {
    await db.deleteFrom('profile_identifiers').where('profile_id', '=', profileId).execute();
    await db
      .deleteFrom('identity_fingerprints')
      .where('profile_id', 'in', [profileId, ...others])
      .execute();
  }

  /** Unmerge: moves observations, and the events recorded with them, to their re-resolved profiles. */
  async reassignObservations(db: Kysely<Tables>, ids: number[], profiles: string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql`update identity_observations o set profile_id = u.profile_id
      from unnest(${ids}::int8[], ${profiles}::uuid[]) as u(id, profile_id) where o.id = u.id`.execute(db);
    await sql`update profile_events e set profile_id = u.profile_id
      from unnest(${ids}::int8[], ${profiles}::uuid[]) as u(id, profile_id) where e.observation_id = u.id`.execute(db);
  }

  async markMergeUndone(db: Kysely<Tables>, id: number, note: string): Promise<void> {
    await db
      .updateTable('identity_merges')
      .set({ undone_at: new Date(), undo_note: note })
      .where('id', '=', id)
      .execute();
  }
}
