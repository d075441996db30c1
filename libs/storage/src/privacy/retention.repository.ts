import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { Database } from '../database.js';
import { parseJson } from '../identity/identity-graph.repository.js';
import type { Tables } from '../schema.js';

export interface RetentionRunRow {
  id: number;
  trigger: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  startedAt: Date;
  finishedAt: Date | null;
  removed: Record<string, number>;
  error: string | null;
}

const toRun = (r: Record<string, unknown>): RetentionRunRow => ({
  id: Number(r.id),
  trigger: r.trigger as string,
  status: r.status as RetentionRunRow['status'],
  startedAt: r.started_at as Date,
  finishedAt: (r.finished_at as Date | null) ?? null,
  removed: parseJson<Record<string, number>>(r.removed),
  error: (r.error as string | null) ?? null,
});

/** One bounded batch of a sweep: how far it got (`last`, the cursor) and what it removed. */
export interface SweepBatch<K> {
  last: K | undefined;
  removed: number;
}

/**
 * The retention policy, its runs, and the sweep's bounded batches. Each batch walks a primary key in order from
 * a cursor and deletes the expired rows among the `limit` rows it read: one pass over a table whatever its
 * size, and no statement holds locks for long.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly database: Database) {}

  get db(): Kysely<Tables> {
    return this.database.db;
  }

  async policy(): Promise<{ policy: unknown; updatedAt: Date } | undefined> {
    const row = await this.db.selectFrom('privacy_retention_policy').selectAll().where('id', '=', 1).executeTakeFirst();
    return row ? { policy: parseJson<unknown>(row.policy), updatedAt: row.updated_at } : undefined;
  }

  async savePolicy(policy: unknown): Promise<void> {
    const json = JSON.stringify(policy);
    await this.db
      .insertInto('privacy_retention_policy')
      .values({ id: 1, policy: json })
      .onConflict((oc) => oc.column('id').doUpdateSet({ policy: json, updated_at: new Date() }))
      .execute();
  }

  async createRun(trigger: string, status: 'queued' | 'running'): Promise<RetentionRunRow> {
    const row = await this.db
      .insertInto('privacy_retention_runs')
      .values({ trigger, status, removed: '{}' })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRun(row);
  }

  /** Moves a queued run to running; undefined when it is not queued (already taken or finished). */
  async startRun(id: number): Promise<RetentionRunRow | undefined> {
    const row = await this.db
      .updateTable('privacy_retention_runs')
      .set({ status: 'running', started_at: new Date() })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .returningAll()
      .executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  async finishRun(
    id: number,
    status: 'succeeded' | 'failed',
    removed: Record<string, number>,
    error?: string,
  ): Promise<RetentionRunRow> {
    const row = await this.db
      .updateTable('privacy_retention_runs')
      .set({ status, finished_at: new Date(), removed: JSON.stringify(removed), error: error ?? null })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toRun(row);
  }

  async run(id: number): Promise<RetentionRunRow | undefined> {
    const row = await this.db.selectFrom('privacy_retention_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  async runs(limit: number, beforeId?: number): Promise<RetentionRunRow[]> {
    let q = this.db.selectFrom('privacy_retention_runs').selectAll().orderBy('id', 'desc').limit(limit);
    if (beforeId !== undefined) q = q.where('id', '<', beforeId);
    return (await q.execute()).map(toRun);
  }

  /**
   * The next `limit` identifiers of `type` after `after` (primary-key order) and which of them are unseen since
   * `before`: the candidates of one batch. The caller locks their buckets and detaches them.
   */
  async identifierBatch(
    db: Kysely<Tables>,
    type: string,
    before: Date,
    limit: number,
    after?: string,
  ): Promise<{ last: string | undefined; expired: Array<{ value: string; profileId: string }> }> {
    const { rows } = await sql<{ value: string; profile_id: string; last_seen: Date }>`select value,
        profile_id::text as profile_id, last_seen
      from profile_identifiers where type = ${type} and value > ${after ?? ''} order by value limit ${limit}`.execute(
      db,
    );
    return {
      last: rows[rows.length - 1]?.value,
      expired: rows
        .filter((r) => new Date(r.last_seen).getTime() < before.getTime())
        .map((r) => ({ value: r.value, profileId: r.profile_id })),
    };
  }

  /** Detaches these identifiers if they are still unseen since `before` (checked again under the row locks). */
  async detach(db: Kysely<Tables>, type: string, values: string[], before: Date): Promise<string[]> {
    if (values.length === 0) return [];
    // Their profiles' re-ingest fingerprints go too: a record carrying the identifier again must attach it again.
    const { rows } = await sql<{ profile_id: string }>`with d as (delete from profile_identifiers
        where type = ${type} and value = any(${values}::text[]) and last_seen < ${before}
        returning profile_id),
      f as (delete from identity_fingerprints where profile_id in (select profile_id from d))
      select profile_id::text as profile_id from d`.execute(db);
    return rows.map((r) => r.profile_id);
  }

  /** Of these profiles, the live ones left without any identifier. */
  async withoutIdentifiers(db: Kysely<Tables>, profileIds: string[]): Promise<string[]> {
    if (profileIds.length === 0) return [];
    const { rows } = await sql<{ id: string }>`select p.id::text as id from profiles p
      where p.id = any(${[...new Set(profileIds)]}::uuid[]) and p.merged_into is null
        and not exists (select 1 from profile_identifiers pi where pi.profile_id = p.id)`.execute(db);
    return rows.map((r) => r.id);
  }

  /** Deletes events that occurred before `before` among the next `limit` by id after `after`. */
  async deleteEventsBatch(before: Date, limit: number, after: number): Promise<SweepBatch<number>> {
    return this.idSweep('profile_events', 'occurred_at', before, limit, after);
  }

  /** Deletes quarantined records kept since before `before` among the next `limit` by id after `after`. */
  async deleteQuarantineBatch(before: Date, limit: number, after: number): Promise<SweepBatch<number>> {
    return this.idSweep('quarantine', 'created_at', before, limit, after);
  }

  private async idSweep(
    table: 'profile_events' | 'quarantine',
    column: 'occurred_at' | 'created_at',
    before: Date,
    limit: number,
    after: number,
  ): Promise<SweepBatch<number>> {
    const { rows } = await sql<{ last: number | null; removed: number }>`with batch as (
        select id, ${sql.ref(column)} as at from ${sql.table(table)} where id > ${after} order by id limit ${limit}
      ), gone as (
        delete from ${sql.table(table)} t using batch b where t.id = b.id and b.at < ${before} returning t.id
      )
      select (select max(id) from batch) as last, (select count(*) from gone)::int as removed`.execute(this.db);
    const row = rows[0];
    return {
      last: row?.last === null || row?.last === undefined ? undefined : Number(row.last),
      removed: Number(row?.removed ?? 0),
    };
  }

  async addPendingLedger(profileIds: string[], reason: string): Promise<void> {
    if (profileIds.length === 0) return;
    await sql`insert into privacy_pending_ledger (profile_id, reason)
      select p, ${reason} from unnest(${profileIds}::uuid[]) as p on conflict (profile_id) do nothing`.execute(this.db);
  }

  async pendingLedger(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('privacy_pending_ledger')
      .select('profile_id')
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.profile_id);
  }

  async clearPendingLedger(profileId: string): Promise<void> {
    await this.db.deleteFrom('privacy_pending_ledger').where('profile_id', '=', profileId).execute();
  }
}
