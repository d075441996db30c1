import { Injectable } from '@nestjs/common';
import type { ColumnType, Generated } from 'kysely';
import { Database } from '../database.js';
import type { Json } from '../schema.js';

export interface AuditLogTable {
  id: Generated<number>;
  at: ColumnType<Date, Date | string | undefined, never>;
  actor_key_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  before: Json<unknown> | null;
  after: Json<unknown> | null;
}

/** The audit tables, spread into {@link Tables}. */
export interface AuditTables {
  audit_log: AuditLogTable;
}

export interface AuditEntryInput {
  actorKeyId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  requestId?: string | null;
  before?: unknown;
  after?: unknown;
}

export interface AuditEntry extends Required<AuditEntryInput> {
  id: number;
  at: Date;
}

export interface AuditFilter {
  actorKeyId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
}

/** The append-only audit log (the table refuses updates and deletes). */
@Injectable()
export class AuditRepository {
  constructor(private readonly database: Database) {}

  async append(entry: AuditEntryInput): Promise<AuditEntry> {
    const row = await this.database.db
      .insertInto('audit_log')
      .values({
        actor_key_id: entry.actorKeyId,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId,
        request_id: entry.requestId ?? null,
        before: entry.before === undefined ? null : JSON.stringify(entry.before),
        after: entry.after === undefined ? null : JSON.stringify(entry.after),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEntry(row);
  }

  /** Newest first; `before` is the id the previous page ended at. */
  async list(filter: AuditFilter, limit: number, beforeId?: number): Promise<AuditEntry[]> {
    let query = this.database.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit);
    if (beforeId !== undefined) query = query.where('id', '<', beforeId);
    if (filter.actorKeyId) query = query.where('actor_key_id', '=', filter.actorKeyId);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (filter.targetType) query = query.where('target_type', '=', filter.targetType);
    if (filter.targetId) query = query.where('target_id', '=', filter.targetId);
    if (filter.since) query = query.where('at', '>=', filter.since);
    if (filter.until) query = query.where('at', '<', filter.until);
    return (await query.execute()).map(toEntry);
  }
}

function toEntry(row: {
  id: number | string | bigint;
  at: Date;
  actor_key_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  request_id: string | null;
  before: unknown;
  after: unknown;
}): AuditEntry {
  return {
    id: Number(row.id),
    at: row.at,
    actorKeyId: row.actor_key_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    requestId: row.request_id,
    before: row.before,
    after: row.after,
  };
}
