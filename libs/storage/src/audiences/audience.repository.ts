import { Injectable } from '@nestjs/common';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { Database, PREPARED } from '../database.js';
import { parseJson } from '../identity/identity-graph.repository.js';
import { jsonRows } from '../json-rows.js';
import type { Tables } from '../schema.js';
import type { RuleNode } from './audience-rule.types.js';
import {
  andAll,
  compileRule,
  compileRules,
  profileScope,
  type CompiledRule,
  type CompiledRules,
  type CompileOptions,
  type ProfileRange,
} from './rule.compiler.js';

export interface AudienceRow {
  id: string;
  name: string;
  description: string | null;
  rule: unknown;
  timeDependent: boolean;
  size: number;
  lastEvaluatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewAudience {
  id: string;
  name: string;
  description: string | null;
  rule: unknown;
  timeDependent: boolean;
}

/** One entry of an audience's change log; `cursor` orders it and is what a consumer resumes after. */
export interface AudienceChange {
  cursor: number;
  audienceId: string;
  profileId: string;
  change: 'entered' | 'exited';
  reason: unknown;
  createdAt: Date;
}

/** A change without its reason and time: what a consumer that only replays the log needs. */
export type AudienceStep = Pick<AudienceChange, 'cursor' | 'profileId' | 'change'>;

export interface AudienceMember {
  profileId: string;
  enteredAt: Date;
  reason: unknown;
}

export interface SizePoint {
  at: Date;
  size: number;
  entered: number;
  exited: number;
  kind: string;
}

/** What one profile looks like to a compiled rule: each leaf's result and the data behind it. */
export interface ExplainedProfile {
  profileId: string;
  mergedInto: string | null;
  leaves: Array<[boolean, unknown]>;
}

type RawAudience = {
  id: string;
  name: string;
  description: string | null;
  rule: unknown;
  time_dependent: boolean;
  size: number;
  last_evaluated_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

const toAudience = (r: RawAudience): AudienceRow => ({
  id: r.id,
  name: r.name,
  description: r.description,
  rule: parseJson(r.rule),
  timeDependent: r.time_dependent,
  size: Number(r.size),
  lastEvaluatedAt: r.last_evaluated_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

function withCtes(rule: CompiledRule): RawBuilder<unknown> {
  return rule.ctes.length > 0 ? sql`${sql.join(rule.ctes, sql`, `)},` : sql``;
}

/** `with` and these CTEs, or nothing when there are none. */
function withClause(ctes: RawBuilder<unknown>[]): RawBuilder<unknown> {
  return ctes.length > 0 ? sql`with ${sql.join(ctes, sql`, `)}` : sql``;
}

/** How many audiences one full-evaluation pass takes (their matches are the bits of a `bigint`). */
export const MAX_AUDIENCES_PER_PASS = 62;

export interface MembershipDiff {
  entered: string[];
  exited: Array<{ profileId: string; reason: unknown }>;
}

/** `unnest(…) u(audience_id)`: a row for each audience whose rule the profile `p` matches. */
function hitAudiences(audienceIds: string[], rules: CompiledRules): RawBuilder<unknown> {
  const hits = rules.matches.map((match, i) => sql`case when ${match} then ${audienceIds[i]}::uuid end`);
  return sql`unnest(array_remove(array[${sql.join(hits, sql`, `)}]::uuid[], null)) as u(audience_id)`;
}

function profilesMatching(
  rule: CompiledRule,
  scope: Pick<CompileOptions, 'profileIds' | 'profileRange'> = {},
): RawBuilder<unknown> {
  return sql`select p.id from profiles p ${sql.join(rule.joins, sql` `)}
    where p.merged_into is null ${andAll(profileScope(sql`p.id`, scope))} and ${rule.match}`;
}

/** Audiences, their members, change log and sizes; the SQL of evaluations. */
@Injectable()
export class AudienceRepository {
  constructor(private readonly database: Database) {}

  get db(): Kysely<Tables> {
    return this.database.db;
  }

  async insert(db: Kysely<Tables>, a: NewAudience): Promise<void> {
    await db
      .insertInto('audiences')
      .values({
        id: a.id,
        name: a.name,
        description: a.description,
        rule: JSON.stringify(a.rule),
        time_dependent: a.timeDependent,
      })
      .execute();
  }

  async update(db: Kysely<Tables>, id: string, patch: Partial<Omit<NewAudience, 'id'>>): Promise<void> {
    await db
      .updateTable('audiences')
      .set({
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.rule !== undefined ? { rule: JSON.stringify(patch.rule) } : {}),
        ...(patch.timeDependent !== undefined ? { time_dependent: patch.timeDependent } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
  }

  async get(id: string, db: Kysely<Tables> = this.db): Promise<AudienceRow | undefined> {
    const row = await db.selectFrom('audiences').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAudience(row) : undefined;
  }

  async getMany(ids: string[], db: Kysely<Tables> = this.db): Promise<AudienceRow[]> {
    if (ids.length === 0) return [];
    return (await db.selectFrom('audiences').selectAll().where('id', 'in', ids).execute()).map(toAudience);
  }

  /** Audiences in id order after `after`. */
  async list(limit: number, after?: string): Promise<AudienceRow[]> {
    let q = this.db.selectFrom('audiences').selectAll().orderBy('id').limit(limit);
    if (after) q = q.where('id', '>', after);
    return (await q.execute()).map(toAudience);
  }

  /** Every audience's id, name and stored size (kept in step by each evaluation), for `/metrics`. */
  async currentSizes(): Promise<Array<{ id: string; name: string; size: number }>> {
    const rows = await this.db.selectFrom('audiences').select(['id', 'name', 'size']).orderBy('id').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, size: Number(r.size) }));
  }

  async all(db: Kysely<Tables> = this.db): Promise<AudienceRow[]> {
    return (await db.selectFrom('audiences').selectAll().orderBy('id').execute()).map(toAudience);
  }

  async delete(db: Kysely<Tables>, id: string): Promise<boolean> {
    const r = await db.deleteFrom('audiences').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Locks the audience for one evaluation: evaluations of one audience run one after the other. */
  async lock(db: Kysely<Tables>, id: string): Promise<AudienceRow | undefined> {
    return (await this.lockMany(db, [id]))[0];
  }

  /** Locks these audiences in id order, in one statement (the order every evaluation locks in: no deadlocks). */
  async lockMany(db: Kysely<Tables>, ids: string[]): Promise<AudienceRow[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<RawAudience>`select * from audiences where id = any(${ids}::uuid[])
      order by id for update`.execute(db);
    return rows.map(toAudience);
  }

  /**
   * Lets this transaction's commit return without waiting for its WAL to reach the disk. Only for a transaction
   * that wrote nothing a crash must keep — row locks, which a crash releases anyway: a later durable commit flushes
   * the WAL before it in order, and nothing else is lost.
   */
  async commitWithoutFlush(trx: Kysely<Tables>): Promise<void> {
    await sql`set local synchronous_commit = off`.execute(trx);
  }

  /**
   * The audiences (their rules compiled together, in the same order) whose stored members among `profileIds`
   * differ from the live profiles that match: one statement for all of them, so a real-time evaluation only
   * rewrites the audiences a change moved. Merged-away and deleted profiles match nothing.
   */
  async membershipsToChange(
    db: Kysely<Tables>,
    audienceIds: string[],
    rules: CompiledRules,
    profileIds: string[],
  ): Promise<Set<string>> {
    const differ = new Set<string>();
    if (audienceIds.length === 0 || profileIds.length === 0) return differ;
    // Prepared, with its generic plan from the first execution on a connection: planning this statement (every
    // rule at once) costs several times its execution on a few profiles, and a pool's connections would otherwise
    // each plan it five times before PostgreSQL weighs a generic plan. The plan looks profiles up by id, which
    // suits one profile or a sync batch's thousands. The setting goes back to its configured value at once: `db`
    // is the caller's transaction, and its other statements keep their plans.
    if (this.database.prepares) await sql`set local plan_cache_mode = force_generic_plan`.execute(db);
    const { rows } = await sql<{ profile_id: string; audience_id: string; member: boolean }>`${sql.raw(PREPARED)}
      ${withClause(rules.ctes)}
      select p.id as profile_id, u.audience_id, false as member
        from ${rules.profiles} ${sql.join(rules.joins, sql` `)}, ${hitAudiences(audienceIds, rules)}
        where p.id = any(${profileIds}::uuid[]) and p.merged_into is null
      union all
      select am.profile_id, am.audience_id, true from audience_members am
        where am.profile_id = any(${profileIds}::uuid[]) and am.audience_id = any(${audienceIds}::uuid[])`.execute(db);
    if (this.database.prepares) await sql`set local plan_cache_mode = default`.execute(db);
    const should = new Set<string>();
    const are = new Set<string>();
    for (const r of rows) (r.member ? are : should).add(`${r.audience_id}/${r.profile_id}`);
    for (const key of should) if (!are.has(key)) differ.add(key.slice(0, key.indexOf('/')));
    for (const key of are) if (!should.has(key)) differ.add(key.slice(0, key.indexOf('/')));
    return differ;
  }

  /**
   * Full evaluation of several audiences (their rules compiled together, in the order of `audienceIds`; at most
   * `MAX_AUDIENCES_PER_PASS`) in one pass over the profiles: read-only statements find the changes, then each
   * audience's members that no longer match are deleted, and matching profiles that are not members are returned
   * as entering (inserted by `logChanges`, as for one audience). Returns the changes by audience. The caller holds
   * the audiences' locks, so their members do not change between the reads and the delete.
   *
   * The diff compares two bit sets per profile — the audiences it matches now, and those it is a member of —
   * so only the profiles whose sets differ are touched; comparing (audience, profile) pairs would sort and join
   * every membership of every audience. On a large PostgreSQL database the read is split into ranges of profile
   * ids read at once on the reader connections (see `readRanges`).
   */
  async applyMemberships(
    db: Kysely<Tables>,
    audienceIds: string[],
    rules: RuleNode[],
    options: CompileOptions,
  ): Promise<Map<string, MembershipDiff>> {
    if (audienceIds.length > MAX_AUDIENCES_PER_PASS)
      throw new Error(`at most ${MAX_AUDIENCES_PER_PASS} audiences are evaluated in one pass`);
    const out = new Map<string, MembershipDiff>(audienceIds.map((id) => [id, { entered: [], exited: [] }]));
    if (audienceIds.length === 0) return out;
    const ids = sql`${audienceIds}::uuid[]`;
    const rows = await this.readRanges(db, options, async (reader, range) => {
      const compiled = compileRules(rules, { ...options, profileRange: range });
      const bits = compiled.matches.map(
        (match, i) => sql`case when ${match} then ${sql.raw(String(1n << BigInt(i)))}::bigint else 0 end`,
      );
      // The hashes of a million profiles' bit sets do not fit the default 4 MB, and compiling the statement to
      // machine code costs more than it saves (as for one audience); this transaction only.
      await sql`select set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`.execute(reader);
      const { rows } = await sql<{ change: 'entered' | 'exited'; bit: number; profile_id: string }>`
        ${withClause([
          ...compiled.ctes,
          sql`plx_live as (select p.id, ${sql.join(bits, sql` | `)} as h
            from ${compiled.profiles} ${sql.join(compiled.joins, sql` `)}
            where p.merged_into is null ${andAll(profileScope(sql`p.id`, { profileRange: range }))})`,
          // The audiences' ranks joined in (not looked up per member): the members come in index order, audience
          // by audience.
          sql`plx_members as (select am.profile_id, bit_or(1::bigint << (a.rank::int - 1)) as m
            from unnest(${ids}) with ordinality a(id, rank)
              join audience_members am on am.audience_id = a.id ${andAll(profileScope(sql`am.profile_id`, { profileRange: range }))}
            group by am.profile_id)`,
          sql`plx_diff as (select coalesce(l.id, m.profile_id) as profile_id, coalesce(l.h, 0) as h, coalesce(m.m, 0) as m
            from plx_live l full join plx_members m on m.profile_id = l.id where coalesce(l.h, 0) <> coalesce(m.m, 0))`,
        ])}
        select d.profile_id, i as bit, case when (d.h >> i) & 1 = 1 then 'entered' else 'exited' end as change
        from plx_diff d, generate_series(0, ${audienceIds.length - 1}::int) i where ((d.h # d.m) >> i) & 1 = 1`.execute(
        reader,
      );
      return rows;
    });
    const exits: Array<[string, string]> = [];
    for (const r of rows) {
      const audienceId = audienceIds[r.bit];
      if (r.change === 'entered') out.get(audienceId)!.entered.push(r.profile_id);
      else exits.push([audienceId, r.profile_id]);
    }
    if (exits.length === 0) return out;
    // The leavers are few next to the members: each found through the primary key.
    const gone = await sql<{ audience_id: string; profile_id: string; reason: unknown }>`
      delete from audience_members am using ${jsonRows(exits)}
      where am.audience_id = (u.r ->> 0)::uuid and am.profile_id = (u.r ->> 1)::uuid
      returning am.audience_id, am.profile_id, am.reason`.execute(db);
    for (const r of gone.rows)
      out.get(r.audience_id)!.exited.push({ profileId: r.profile_id, reason: parseJson(r.reason) });
    return out;
  }

  /**
   * Diffs the stored members against the rule (read-only statements, then one delete): members that no longer
   * match are deleted, and the matching profiles that are not members are returned as entering (`logChanges`
   * inserts them with their reasons, under the same lock). With `options.profileIds`, only those profiles are
   * looked at (and those that were merged away or deleted leave). The read is never split (see `readRanges`):
   * being read-only, PostgreSQL runs it with parallel workers of its own, which measured faster than two ranges.
   */
  async applyMembership(
    db: Kysely<Tables>,
    audienceId: string,
    rule: RuleNode,
    options: CompileOptions,
  ): Promise<MembershipDiff> {
    const compiled = compileRule(rule, options);
    const only = andAll(profileScope(sql`am.profile_id`, options));
    // Compiling a full evaluation's expressions to machine code costs PostgreSQL 100–250 ms at a million
    // profiles, more than it saves (docs/BENCHMARKS.md, Audiences); this transaction only.
    if (!options.profileIds) await sql`set local jit = off`.execute(db);
    const { rows } = await sql<{ profile_id: string; entered: boolean }>`
      with ${withCtes(compiled)} cur as (${profilesMatching(compiled, options)})
      select coalesce(cur.id, am.profile_id) as profile_id, cur.id is not null as entered
      from cur full join (select am.profile_id from audience_members am
        where am.audience_id = ${audienceId}::uuid ${only}) am on am.profile_id = cur.id
      where cur.id is null or am.profile_id is null`.execute(db);
    const entered: string[] = [];
    const leaving: Array<[string]> = [];
    for (const r of rows) {
      if (r.entered) entered.push(r.profile_id);
      else leaving.push([r.profile_id]);
    }
    const exited: Array<{ profileId: string; reason: unknown }> = [];
    if (leaving.length > 0) {
      const gone = await sql<{ profile_id: string; reason: unknown }>`
        delete from audience_members am using ${jsonRows(leaving)}
        where am.audience_id = ${audienceId}::uuid and am.profile_id = (u.r ->> 0)::uuid
        returning am.profile_id, am.reason`.execute(db);
      for (const r of gone.rows) exited.push({ profileId: r.profile_id, reason: parseJson(r.reason) });
    }
    return { entered, exited };
  }

  /**
   * Runs the read of a full evaluation of several audiences over every profile. On PostgreSQL with reader
   * connections and enough profiles (a profiles table of at least `readers.fromBytes`), the ids are cut into as
   * many ranges as there are readers, at quantiles of a sample, and each range is read at once on its own reader
   * connection, in its own transaction. PostgreSQL's own parallel workers take only parts of this statement (not
   * the shared aggregates per profile nor the join of bit sets), so the ranges do what they do not (see
   * docs/BENCHMARKS.md, Audiences); one audience's simpler read they do take whole, and it is not split.
   * Otherwise (the embedded database, an incremental evaluation, a small table) the read runs once, in the
   * caller's transaction.
   *
   * The readers do not see the caller's transaction. That is sound for what they read: the audiences' members
   * (locked by the caller, which has not written them yet) and profiles, events and identifiers, which the caller
   * does not write. Each range reads its own snapshot, so a profile changed while the ranges start is seen before
   * or after its change, as by a single statement that started a moment earlier or later; its real-time
   * evaluation follows the change either way.
   */
  private async readRanges<R>(
    db: Kysely<Tables>,
    options: CompileOptions,
    read: (reader: Kysely<Tables>, range: ProfileRange | undefined) => Promise<R[]>,
  ): Promise<R[]> {
    const readers = this.database.readers;
    const ranges = readers && !options.profileIds ? await this.profileRanges(readers.count, readers.fromBytes) : [];
    if (!readers || ranges.length < 2) return read(db, undefined);
    const parts = await Promise.all(ranges.map((range) => readers.db.transaction().execute((trx) => read(trx, range))));
    return parts.flat();
  }

  /**
   * `count` ranges of profile ids, in order, that hold about as many profiles each and together every id; none
   * when the profiles table is smaller than `fromBytes` (or empty).
   */
  async profileRanges(count: number, fromBytes = 0): Promise<ProfileRange[]> {
    if (count < 2) return [];
    const { rows } = await sql<{ bytes: number }>`
      select pg_relation_size('profiles')::float8 as bytes`.execute(this.db);
    const bytes = Number(rows[0]?.bytes ?? 0);
    if (bytes === 0 || bytes < fromBytes) return [];
    // About 400 pages (tens of thousands of ids) sampled: the cuts land within a percent of the quantiles.
    const percent = Math.min(100, (100 * 400 * 8192) / bytes);
    const fractions = Array.from({ length: count - 1 }, (_, i) => (i + 1) / count);
    const sample = await sql<{ cuts: string[] | null }>`
      select (percentile_disc(${fractions}::float8[]) within group (order by id))::text[] as cuts
      from profiles tablesample system (${percent}::float4)`.execute(this.db);
    const cuts = [...new Set(sample.rows[0]?.cuts ?? [])];
    if (cuts.length === 0) return [];
    return [undefined, ...cuts].map((from, i) => ({ from, to: cuts[i] }));
  }

  /** Each leaf of the rule, evaluated on these profiles (missing ids are deleted profiles). */
  async explain(db: Kysely<Tables>, rule: CompiledRule, profileIds: string[]): Promise<ExplainedProfile[]> {
    if (profileIds.length === 0) return [];
    const leaves =
      rule.leaves.length > 0
        ? sql`array[${sql.join(
            rule.leaves.map((l) => sql`jsonb_build_array(${l.ok}, ${l.data})`),
            sql`, `,
          )}]`
        : sql`array[]::jsonb[]`;
    const { rows } = await sql<{ id: string; merged_into: string | null; leaves: unknown[] }>`
      ${withClause(rule.ctes)} select p.id, p.merged_into, ${leaves} as leaves from profiles p ${sql.join(rule.joins, sql` `)}
      where p.id = any(${profileIds}::uuid[])`.execute(db);
    return rows.map((r) => ({
      profileId: r.id,
      mergedInto: r.merged_into,
      leaves: r.leaves.map((l) => parseJson<[boolean, unknown]>(l)),
    }));
  }

  /** How many live profiles match, and a few of them, without saving anything. */
  async preview(rule: CompiledRule, sampleSize: number): Promise<{ size: number; sample: string[] }> {
    const { rows } = await sql<{ size: number; sample: string[] | null }>`
      with ${withCtes(rule)} cur as (${profilesMatching(rule)})
      select (select count(*) from cur) as size,
        (select array_agg(id) from (select id from cur order by id limit ${sampleSize}) s) as sample`.execute(this.db);
    return { size: Number(rows[0]?.size ?? 0), sample: rows[0]?.sample ?? [] };
  }

  /**
   * Writes an evaluation's outcome (in the caller's transaction, which deleted the leaving members): appends
   * the changes to the change log in order, and inserts the entering members with their reasons. Rows travel as
   * one JSON document (`jsonRows`, which also takes a first evaluation of a million members past jsonb's size
   * limit): a `jsonb[]` parameter of a large evaluation's reasons costs ten times as much to quote and parse.
   */
  async logChanges(
    db: Kysely<Tables>,
    audienceId: string,
    changes: Array<{ profileId: string; change: 'entered' | 'exited'; reason: unknown }>,
    now: Date,
  ): Promise<void> {
    if (changes.length === 0) return;
    // Rows are inserted in the document's order (a function scan, nothing reorders it). A profile changes at most
    // once in an evaluation, so only the order between evaluations carries meaning, and the lock gives it.
    await sql`with logged as (
        insert into audience_changes (audience_id, profile_id, change, reason, created_at)
        select ${audienceId}::uuid, (u.r ->> 0)::uuid, u.r ->> 1, nullif((u.r -> 2)::jsonb, 'null'::jsonb),
          ${now.toISOString()}::timestamptz
        from ${jsonRows(changes.map((c) => [c.profileId, c.change, c.reason]))}
        returning profile_id, change, reason)
      insert into audience_members (audience_id, profile_id, entered_at, reason)
      select ${audienceId}::uuid, profile_id, ${now.toISOString()}::timestamptz, reason from logged
      where change = 'entered'`.execute(db);
  }

  /** Updates the size and evaluation time; records a size point when asked. Returns the new size. */
  async finishEvaluation(
    db: Kysely<Tables>,
    audienceId: string,
    e: { entered: number; exited: number; now: Date; kind: string; recordPoint: boolean },
  ): Promise<number> {
    const { rows } = await sql<{ size: number }>`update audiences
      set size = size + ${e.entered}::int - ${e.exited}::int, last_evaluated_at = ${e.now.toISOString()}::timestamptz
      where id = ${audienceId}::uuid returning size`.execute(db);
    const size = Number(rows[0]?.size ?? 0);
    if (e.recordPoint)
      await db
        .insertInto('audience_sizes')
        .values({ audience_id: audienceId, at: e.now, size, entered: e.entered, exited: e.exited, kind: e.kind })
        .execute();
    return size;
  }

  /**
   * `changes` without the reasons and times: the driver parses neither (a JSON document and a date per change
   * cost more than the rest of the row), which is what activation reads batch after batch.
   */
  async steps(audienceId: string, afterCursor: number, limit: number): Promise<AudienceStep[]> {
    const rows = await this.changesAfter(audienceId, afterCursor, limit)
      .select(['id', 'profile_id', 'change'])
      .execute();
    return rows.map((r) => ({ cursor: Number(r.id), profileId: r.profile_id, change: r.change }));
  }

  async changes(audienceId: string, afterCursor: number, limit: number): Promise<AudienceChange[]> {
    const rows = await this.changesAfter(audienceId, afterCursor, limit).selectAll().execute();
    return rows.map((r) => ({
      cursor: Number(r.id),
      audienceId: r.audience_id,
      profileId: r.profile_id,
      change: r.change,
      reason: parseJson(r.reason),
      createdAt: r.created_at,
    }));
  }

  /** The audience's changes after a cursor, oldest first, up to `limit` (columns chosen by the caller). */
  private changesAfter(audienceId: string, afterCursor: number, limit: number) {
    return this.db
      .selectFrom('audience_changes')
      .where('audience_id', '=', audienceId)
      .where('id', '>', afterCursor)
      .orderBy('id')
      .limit(limit);
  }

  /** The latest cursor of an audience's change log (0 when empty). */
  async lastCursor(audienceId: string): Promise<number> {
    const row = await this.db
      .selectFrom('audience_changes')
      .select((eb) => eb.fn.max('id').as('max'))
      .where('audience_id', '=', audienceId)
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  async members(audienceId: string, limit: number, after?: string): Promise<AudienceMember[]> {
    let q = this.db
      .selectFrom('audience_members')
      .select(['profile_id', 'entered_at', 'reason'])
      .where('audience_id', '=', audienceId)
      .orderBy('profile_id')
      .limit(limit);
    if (after) q = q.where('profile_id', '>', after);
    return (await q.execute()).map((r) => ({
      profileId: r.profile_id,
      enteredAt: r.entered_at,
      reason: parseJson(r.reason),
    }));
  }

  async sizes(audienceId: string, limit: number, after?: Date): Promise<SizePoint[]> {
    let q = this.db
      .selectFrom('audience_sizes')
      .select(['at', 'size', 'entered', 'exited', 'kind', 'id'])
      .where('audience_id', '=', audienceId)
      .orderBy('at')
      .orderBy('id')
      .limit(limit);
    if (after) q = q.where('at', '>', after);
    return (await q.execute()).map((r) => ({
      at: r.at,
      size: r.size,
      entered: r.entered,
      exited: r.exited,
      kind: r.kind,
    }));
  }

  async membershipsOf(profileId: string): Promise<Array<{ audienceId: string } & AudienceMember>> {
    const rows = await this.db
      .selectFrom('audience_members')
      .select(['audience_id', 'profile_id', 'entered_at', 'reason'])
      .where('profile_id', '=', profileId)
      .execute();
    return rows.map((r) => ({
      audienceId: r.audience_id,
      profileId: r.profile_id,
      enteredAt: r.entered_at,
      reason: parseJson(r.reason),
    }));
  }

  /** The JSON types each trait has on a sample of live profiles: what rule warnings are checked against. */
  async traitTypes(sample: number): Promise<Map<string, Set<string>>> {
    const { rows } = await sql<{ name: string; type: string }>`
      select t.key as name, jsonb_typeof(t.value -> 'v') as type
      from (select traits from profiles where merged_into is null limit ${sample}) p, jsonb_each(p.traits) t
      group by 1, 2`.execute(this.db);
    const types = new Map<string, Set<string>>();
    for (const r of rows) types.set(r.name, (types.get(r.name) ?? new Set()).add(r.type));
    return types;
  }

  /** Members each pair of audiences has in common (and each one's size, as the pair `[a, a]`). */
  async overlap(ids: string[]): Promise<Array<{ a: string; b: string; count: number }>> {
    const { rows } = await sql<{ a: string; b: string; count: number }>`
      select x.audience_id as a, y.audience_id as b, count(*) as count
      from audience_members x join audience_members y on y.profile_id = x.profile_id
      where x.audience_id = any(${ids}::uuid[]) and y.audience_id = any(${ids}::uuid[]) and x.audience_id <= y.audience_id
      group by 1, 2`.execute(this.db);
    return rows.map((r) => ({ a: r.a, b: r.b, count: Number(r.count) }));
  }
}
