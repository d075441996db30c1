import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';
import { parseJson } from '../identity/identity-graph.repository.js';
import type { PrivacyRequestStatus, PrivacyRequestType } from './privacy.tables.js';

export interface PrivacyRequestRow {
  id: string;
  type: PrivacyRequestType;
  identifierType: string;
  /** The normalised value while the request runs; null once it has ended (or its person was erased). */
  identifierValue: string | null;
  identifierHash: string;
  status: PrivacyRequestStatus;
  profileId: string | null;
  /** The person's normalised identifiers (`[type, value]`) while the request runs. */
  workingIdentifiers: Array<[string, string]>;
  steps: unknown[];
  result: unknown;
  note: string | null;
  attempts: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface NewPrivacyRequest {
  id: string;
  type: PrivacyRequestType;
  identifierType: string;
  identifierValue: string;
  identifierHash: string;
  steps: unknown[];
}

export interface PrivacyRequestUpdate {
  status?: PrivacyRequestStatus;
  profileId?: string | null;
  workingIdentifiers?: Array<[string, string]>;
  steps?: unknown[];
  result?: unknown;
  note?: string | null;
  attempts?: number;
  nextAttemptAt?: Date | null;
  completedAt?: Date | null;
  /** Forget the clear identifiers (the request ended). */
  clearIdentifier?: boolean;
}

type Raw = Record<string, unknown>;

function toRow(r: Raw): PrivacyRequestRow {
  return {
    id: r.id as string,
    type: r.type as PrivacyRequestType,
    identifierType: r.identifier_type as string,
    identifierValue: (r.identifier_value as string | null) ?? null,
    identifierHash: r.identifier_hash as string,
    status: r.status as PrivacyRequestStatus,
    profileId: (r.profile_id as string | null) ?? null,
    workingIdentifiers:
      r.working_identifiers === null || r.working_identifiers === undefined
        ? []
        : parseJson<Array<[string, string]>>(r.working_identifiers),
    steps: parseJson<unknown[]>(r.steps),
    result: r.result === null || r.result === undefined ? null : parseJson<unknown>(r.result),
    note: (r.note as string | null) ?? null,
    attempts: Number(r.attempts),
    nextAttemptAt: (r.next_attempt_at as Date | null) ?? null,
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    completedAt: (r.completed_at as Date | null) ?? null,
  };
}

const ACTIVE: PrivacyRequestStatus[] = ['queued', 'running', 'waiting'];

/** Privacy requests and their per-step state. */
@Injectable()
export class PrivacyRequestRepository {
  constructor(private readonly database: Database) {}

  /**
   * Inserts the request unless one of the same type for the same identifier is still active; then that one is
   * returned with `created: false` (duplicate requests are idempotent).
   */
  async createOrFindActive(request: NewPrivacyRequest): Promise<{ row: PrivacyRequestRow; created: boolean }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await sql<Raw>`insert into privacy_requests
          (id, type, identifier_type, identifier_value, identifier_hash, status, steps)
        values (${request.id}::uuid, ${request.type}, ${request.identifierType}, ${request.identifierValue},
          ${request.identifierHash}, 'queued', ${JSON.stringify(request.steps)}::jsonb)
        on conflict (identifier_hash, type) where status in ('queued', 'running', 'waiting') do nothing
        returning *`.execute(this.database.db);
      if (inserted.rows[0]) return { row: toRow(inserted.rows[0]), created: true };
      const existing = await this.database.db
        .selectFrom('privacy_requests')
        .selectAll()
        .where('identifier_hash', '=', request.identifierHash)
        .where('type', '=', request.type)
        .where('status', 'in', ACTIVE)
        .executeTakeFirst();
      // Ended between the two statements: try the insert again.
      if (existing) return { row: toRow(existing), created: false };
    }
    throw new Error('privacy request kept conflicting with one that ended meanwhile');
  }

  async find(id: string): Promise<PrivacyRequestRow | undefined> {
    const row = await this.database.db
      .selectFrom('privacy_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  /** Newest first; `before` is the (createdAt, id) of the last row of the previous page. */
  async page(limit: number, before?: { createdAt: Date; id: string }, status?: string): Promise<PrivacyRequestRow[]> {
    let q = this.database.db
      .selectFrom('privacy_requests')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (status) q = q.where('status', '=', status as PrivacyRequestStatus);
    if (before)
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', before.createdAt),
          eb.and([eb('created_at', '=', before.createdAt), eb('id', '<', before.id)]),
        ]),
      );
    return (await q.execute()).map((r) => toRow(r as Raw));
  }

  /** Active requests, oldest first (the sweep re-queues those whose job was lost). */
  async active(limit: number): Promise<PrivacyRequestRow[]> {
    const rows = await this.database.db
      .selectFrom('privacy_requests')
      .selectAll()
      .where('status', 'in', ACTIVE)
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => toRow(r as Raw));
  }

  async update(id: string, change: PrivacyRequestUpdate): Promise<PrivacyRequestRow | undefined> {
    const row = await this.database.db
      .updateTable('privacy_requests')
      .set({
        updated_at: new Date(),
        ...(change.status !== undefined ? { status: change.status } : {}),
        ...(change.profileId !== undefined ? { profile_id: change.profileId } : {}),
        ...(change.workingIdentifiers !== undefined
          ? { working_identifiers: JSON.stringify(change.workingIdentifiers) }
          : {}),
        ...(change.steps !== undefined ? { steps: JSON.stringify(change.steps) } : {}),
        ...(change.result !== undefined ? { result: JSON.stringify(change.result) } : {}),
        ...(change.note !== undefined ? { note: change.note } : {}),
        ...(change.attempts !== undefined ? { attempts: change.attempts } : {}),
        ...(change.nextAttemptAt !== undefined ? { next_attempt_at: change.nextAttemptAt } : {}),
        ...(change.completedAt !== undefined ? { completed_at: change.completedAt } : {}),
        ...(change.clearIdentifier ? { identifier_value: null, working_identifiers: null } : {}),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? toRow(row) : undefined;
  }

  /** Drops export documents older than `before` (they are copies of personal data). Returns how many. */
  async clearExportsBefore(before: Date): Promise<number> {
    const result = await this.database.db
      .updateTable('privacy_requests')
      .set({ result: JSON.stringify({ expired: true }), updated_at: new Date() })
      .where('type', '=', 'export')
      .where('completed_at', '<', before)
      .where(sql<boolean>`not (result ? 'expired')`)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
