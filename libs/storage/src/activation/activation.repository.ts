import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { TraitValue } from '@plexus/sdk';
import { Database } from '../database.js';
import { parseJson } from '../identity/identity-graph.repository.js';
import type { Tables } from '../schema.js';
import type { ActivationMode, ActivationStatus, BatchState, MemberState } from './activation.tables.js';

/** Where a full replace (mirror mode) stands: resumed from here after a crash. */
export interface MirrorState {
  /** The platform's replace session id, picked once per replace. */
  sessionId: number;
  /** The last batch number planned in the session (0 before the first). */
  batchSeq: number;
  /** Members are read in profile id order: the last one planned. */
  afterProfileId?: string;
  /** The change log cursor taken when the replace started: incremental delivery continues after it. */
  cursor: number;
  estimatedTotal?: number;
}

export interface ActivationRow {
  id: string;
  audienceId: string;
  destinationId: string;
  mode: ActivationMode;
  identifiers: string[];
  schedule: Record<string, unknown> | null;
  externalId: string | null;
  cursor: number;
  status: ActivationStatus;
  error: { type: string; message: string; at: string } | null;
  mirror: MirrorState | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One member of a planned batch: the item as the connector built it (hashed), and its identifier fingerprints. */
export interface PlannedMember {
  profileId: string;
  item: unknown;
  fingerprints: string[];
  /** Why the member is removed (removals) or not sent (not sendable). */
  reason?: string;
}

export interface BatchPayload {
  adds: PlannedMember[];
  removes: PlannedMember[];
  /** Members recorded with the batch without being sent (no consent, no accepted identifier…). */
  notSendable: PlannedMember[];
  /** Members that left without the platform holding them: their ledger rows close with the batch. */
  closed: PlannedMember[];
  /** Replace batches: their place in the session. */
  replace?: { sessionId: number; batchSeq: number; last: boolean; estimatedTotal?: number };
  /** Rechecks this batch answers (deleted from the pending list when it is recorded). */
  rechecks: string[];
}

/** A batch payload with no member yet. */
export const emptyBatchPayload = (): BatchPayload => ({
  adds: [],
  removes: [],
  notSendable: [],
  closed: [],
  rechecks: [],
});

export interface BatchRow {
  id: string;
  activationId: string;
  runId: number | null;
  seq: number;
  kind: 'write' | 'replace';
  state: BatchState;
  cursorTo: number | null;
  session: number | null;
  payload: BatchPayload | null;
  adds: number;
  removes: number;
  accepted: number;
  invalid: number;
  failed: number;
  attempts: number;
  nextAttemptAt: Date | null;
  answer: unknown;
  error: string | null;
  createdAt: Date;
  confirmedAt: Date | null;
}

export interface MemberRow {
  activationId: string;
  profileId: string;
  state: MemberState;
  item: unknown;
  fingerprints: string[];
  reason: string | null;
  addedAt: Date | null;
  addBatch: string | null;
  removedAt: Date | null;
  removeBatch: string | null;
  updatedAt: Date;
}

/** The states of a batch stored and not recorded yet (the predicate of the `activation_batches_open` index). */
export const OPEN_BATCH_STATES = ['planned', 'retrying', 'blocked'] as const satisfies readonly BatchState[];
export type OpenBatchState = (typeof OPEN_BATCH_STATES)[number];

/** A member of a batch stored and not recorded yet: what the ledger will record once the platform answers. */
export interface PendingSend {
  profileId: string;
  operation: 'add' | 'remove';
  reason: string | null;
  /** The batch, without its payload: planned (being sent, or left by a crash), retrying or blocked. */
  batch: Omit<BatchRow, 'payload' | 'state'> & { state: OpenBatchState };
}

/** What a recorded batch does to one member's ledger row. */
export interface MemberOutcome {
  profileId: string;
  state: MemberState;
  /** `add`: the platform confirmed an addition now; `remove`: a removal. */
  event?: 'add' | 'remove';
  item?: unknown;
  fingerprints?: string[];
  reason?: string | null;
}

export interface RunCounters {
  changes: number;
  adds: number;
  removes: number;
  accepted: number;
  invalid: number;
  failed: number;
  notSendable: number;
  notSendableReasons: Record<string, number>;
}

/** Everything that must commit together when a batch's answer is recorded (the cursor with the ledger). */
export interface BatchRecord {
  activationId: string;
  batchId: string;
  state: BatchState;
  accepted: number;
  invalid: number;
  failed: number;
  answer: unknown;
  error?: string | null;
  /** Keep the payload (retrying, blocked); otherwise it is cleared: the ledger rows hold the items now. */
  keepPayload?: boolean;
  attempts?: number;
  nextAttemptAt?: Date | null;
  members: MemberOutcome[];
  /** Advance the activation's cursor to this change (a cursor already past it stays). */
  cursorTo?: number | null;
  /** Recheck entries answered by the batch. */
  rechecks?: string[];
  /** A new batch holding the items to try again. */
  retry?: {
    id: string;
    payload: BatchPayload;
    attempts: number;
    nextAttemptAt: Date | null;
    state: 'retrying' | 'blocked';
    /** Why its members wait: the last error. */
    error: string | null;
  };
  dead?: { profileIds: string[]; operation: string; error: string; attempts: number };
  /** Update of the mirror state (`null`: the replace finished). */
  mirror?: MirrorState | null;
  /** The replace session ended with this batch: members the session did not send are no longer held. */
  finishedSession?: number;
  run?: { id: number; counters: RunCounters };
}

export interface ActivationRunRow extends RunCounters {
  id: number;
  activationId: string;
  trigger: string;
  status: 'running' | 'succeeded' | 'partial' | 'failed';
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface DeadLetterRow {
  id: number;
  activationId: string;
  batchId: string;
  profileIds: string[];
  operation: string;
  error: string;
  attempts: number;
  createdAt: Date;
  replayedAt: Date | null;
}

/** A profile as activation reads it (see `ActivationRepository.profileSnapshots`). */
export interface ActivationProfile {
  id: string;
  /** Not merged into another profile. */
  live: boolean;
  /** Visible trait values by name (computed trait values included). */
  traits: Record<string, TraitValue>;
  /** Granted or not, by purpose. */
  consent: Record<string, boolean>;
  /** By type, then most recently seen first. */
  identifiers: Array<{ type: string; value: string }>;
}

export interface HoldingRow {
  activationId: string;
  audienceId: string;
  destinationId: string;
  state: MemberState;
  reason: string | null;
  removalPending: boolean;
}

type RawActivation = Tables['activations'] extends infer T ? { [K in keyof T]: unknown } : never;

const toActivation = (r: RawActivation): ActivationRow => ({
  id: r.id as string,
  audienceId: r.audience_id as string,
  destinationId: r.destination_id as string,
  mode: r.mode as ActivationMode,
  identifiers: (r.identifiers as string[]) ?? [],
  schedule: r.schedule === null ? null : parseJson(r.schedule),
  externalId: r.external_id as string | null,
  cursor: Number(r.cursor),
  status: r.status as ActivationStatus,
  error: r.error === null ? null : parseJson(r.error),
  mirror: r.mirror === null ? null : parseJson(r.mirror),
  nextAttemptAt: r.next_attempt_at as Date | null,
  createdAt: r.created_at as Date,
  updatedAt: r.updated_at as Date,
});

const toBatch = (r: Record<string, unknown>): BatchRow => ({
  id: r.id as string,
  activationId: r.activation_id as string,
  runId: r.run_id === null ? null : Number(r.run_id),
  seq: Number(r.seq),
  kind: r.kind as 'write' | 'replace',
  state: r.state as BatchState,
  cursorTo: r.cursor_to === null ? null : Number(r.cursor_to),
  session: r.session === null ? null : Number(r.session),
  payload: r.payload === null ? null : parseJson(r.payload),
  adds: Number(r.adds),
  removes: Number(r.removes),
  accepted: Number(r.accepted),
  invalid: Number(r.invalid),
  failed: Number(r.failed),
  attempts: Number(r.attempts),
  nextAttemptAt: r.next_attempt_at as Date | null,
  answer: r.answer === null ? null : parseJson(r.answer),
  error: r.error as string | null,
  createdAt: r.created_at as Date,
  confirmedAt: r.confirmed_at as Date | null,
});

const toMember = (r: Record<string, unknown>): MemberRow => ({
  activationId: r.activation_id as string,
  profileId: r.profile_id as string,
  state: r.state as MemberState,
  item: r.item === null ? null : parseJson(r.item),
  fingerprints: (r.fingerprints as string[]) ?? [],
  reason: r.reason as string | null,
  addedAt: r.added_at as Date | null,
  addBatch: r.add_batch as string | null,
  removedAt: r.removed_at as Date | null,
  removeBatch: r.remove_batch as string | null,
  updatedAt: r.updated_at as Date,
});

const toRun = (r: Record<string, unknown>): ActivationRunRow => ({
  id: Number(r.id),
  activationId: r.activation_id as string,
  trigger: r.trigger as string,
  status: r.status as ActivationRunRow['status'],
  changes: Number(r.changes),
  adds: Number(r.adds),
  removes: Number(r.removes),
  accepted: Number(r.accepted),
  invalid: Number(r.invalid),
  failed: Number(r.failed),
  notSendable: Number(r.not_sendable),
  notSendableReasons: parseJson(r.not_sendable_reasons),
  error: r.error as string | null,
  startedAt: r.started_at as Date,
  finishedAt: r.finished_at as Date | null,
});

/**
 * The ledger's index key of a fingerprint (hex): its first 32 bits as a signed integer, as the migration computes
 * them with `('x' || substr(f, 1, 8))::bit(32)::integer`.
 */
export function fingerprintKey(fingerprint: string): number {
  return parseInt(fingerprint.slice(0, 8), 16) | 0;
}

/** Separates the texts of `packed`: a control character, which neither JSON text nor ids or hex digests hold raw. */
const PACKED_SEPARATOR = '\x1e';

/**
 * A list of texts as one array parameter: `string_to_array(<texts joined>, <separator>, '')`, which the server
 * splits; an empty text stands for null (an empty list gives an empty array, which `unnest` pads with nulls). For
 * long lists of long texts (ledger items, profile ids): the driver escapes an array parameter element by element.
 */
function packed(texts: string[]) {
  return sql`string_to_array(${texts.join(PACKED_SEPARATOR)}, ${PACKED_SEPARATOR}, '')`;
}

/** Ledger rows as the columns of the statement that upserts them. */
interface LedgerColumns {
  ids: string[];
  states: string[];
  events: string[];
  items: string[];
  fingerprints: string[];
  keys: string[];
  reasons: Array<string | null>;
}

/** Members serialised between two turns of the event loop when `ledgerColumns` builds a batch's columns. */
const LEDGER_SLICE = 2_000;

/**
 * The columns of ledger rows, built before the transaction that writes them, a slice at a time: serialising a
 * 10,000-member batch's items takes tens of milliseconds, which a worker sending other batches meanwhile must not
 * spend in one go (nor holding the batch's row lock).
 */
async function ledgerColumns(members: MemberOutcome[]): Promise<LedgerColumns> {
  const n = members.length;
  const columns: LedgerColumns = {
    ids: new Array<string>(n),
    states: new Array<string>(n),
    events: new Array<string>(n),
    items: new Array<string>(n),
    fingerprints: new Array<string>(n),
    keys: new Array<string>(n),
    reasons: new Array<string | null>(n),
  };
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % LEDGER_SLICE === 0) await yieldToEventLoop();
    const m = members[i];
    columns.ids[i] = m.profileId;
    columns.states[i] = m.state;
    columns.events[i] = m.event ?? '';
    columns.items[i] = m.item === undefined || m.item === null ? '' : JSON.stringify(m.item);
    columns.fingerprints[i] = m.fingerprints ? m.fingerprints.join(',') : '';
    columns.keys[i] = m.fingerprints ? m.fingerprints.map(fingerprintKey).join(',') : '';
    columns.reasons[i] = m.reason ?? null;
  }
  return columns;
}

/**
 * `activations a` beside `m`, the ledger rows of `profiles` (a uuid[] expression) in each activation that meet
 * `where`: one primary-key probe per activation, since the ledger has no index by profile alone (activations are
 * few). `offset 0` keeps each sub-select a probe instead of a join the planner could turn into a ledger scan.
 */
function ledgerRowsOf(profiles: RawBuilder<unknown>, where: RawBuilder<unknown> = sql`true`): RawBuilder<unknown> {
  return sql`activations a cross join lateral (select * from activation_members
    where activation_id = a.id and profile_id = any(${profiles}) and ${where} offset 0) m`;
}

/** A broken promise of `profileSnapshots`' statements: fail loudly rather than drop identifiers. */
function outOfOrder(): never {
  throw new Error('profile snapshots: the server returned profiles or identifiers out of id order');
}

/**
 * Runs a read in a transaction of its own whose statements get no parallel workers: for lookups of thousands of
 * rows spread over a large table, which PostgreSQL would otherwise scan whole with two more processes. The
 * whole-table reads of audience evaluation keep theirs.
 */
async function withoutParallelWorkers<T>(db: Kysely<Tables>, read: (trx: Kysely<Tables>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`set local max_parallel_workers_per_gather = 0`.execute(trx);
    return read(trx);
  });
}

/** Member states in which the platform (may) hold the person: a removal must reach it. */
export const HELD_STATES: MemberState[] = ['held', 'removing'];

/** A fenced write was refused: the worker no longer holds the activation's delivery lease. */
export class LeaseLostError extends Error {
  constructor(readonly activationId: string) {
    super(`activation ${activationId}: the delivery lease is held by another worker`);
    this.name = 'LeaseLostError';
  }
}

/** Activations, their runs, batches, per-member ledger, re-checks and dead letters. */
@Injectable()
export class ActivationRepository {
  constructor(private readonly database: Database) {}

  get db(): Kysely<Tables> {
    return this.database.db;
  }

  async insert(
    a: Pick<
      ActivationRow,
      'id' | 'audienceId' | 'destinationId' | 'mode' | 'identifiers' | 'schedule' | 'externalId' | 'cursor' | 'mirror'
    >,
  ): Promise<ActivationRow> {
    const row = await this.db
      .insertInto('activations')
      .values({
        id: a.id,
        audience_id: a.audienceId,
        destination_id: a.destinationId,
        mode: a.mode,
        identifiers: a.identifiers,
        schedule: a.schedule === null ? null : JSON.stringify(a.schedule),
        external_id: a.externalId,
        cursor: a.cursor,
        mirror: a.mirror === null ? null : JSON.stringify(a.mirror),
        lease_owner: null,
        lease_until: null,
        next_attempt_at: null,
        error: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toActivation(row);
  }

  async get(id: string): Promise<ActivationRow | undefined> {
    const row = await this.db.selectFrom('activations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toActivation(row) : undefined;
  }

  /** Activations in id order after `after` (deleted ones included only when asked). */
  async list(limit: number, after?: string, filter: { audienceId?: string; destinationId?: string } = {}) {
    let q = this.db.selectFrom('activations').selectAll().orderBy('id').limit(limit);
    if (after) q = q.where('id', '>', after);
    if (filter.audienceId) q = q.where('audience_id', '=', filter.audienceId);
    if (filter.destinationId) q = q.where('destination_id', '=', filter.destinationId);
    return (await q.execute()).map((r) => toActivation(r as RawActivation));
  }

  /** Activations with a `schedule` that may still run (not deleting or deleted): their job schedulers. */
  async scheduled(): Promise<ActivationRow[]> {
    const rows = await this.db
      .selectFrom('activations')
      .selectAll()
      .where('schedule', 'is not', null)
      .where('status', 'in', ['active', 'paused', 'stopped'])
      .orderBy('id')
      .execute();
    return rows.map((r) => toActivation(r as RawActivation));
  }

  async update(
    id: string,
    patch: Partial<{
      status: ActivationStatus;
      error: ActivationRow['error'];
      schedule: Record<string, unknown> | null;
      externalId: string | null;
      mirror: MirrorState | null;
      cursor: number;
      nextAttemptAt: Date | null;
    }>,
  ): Promise<void> {
    await this.db
      .updateTable('activations')
      .set({
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.error !== undefined ? { error: patch.error === null ? null : JSON.stringify(patch.error) } : {}),
        ...(patch.schedule !== undefined
          ? { schedule: patch.schedule === null ? null : JSON.stringify(patch.schedule) }
          : {}),
        ...(patch.externalId !== undefined ? { external_id: patch.externalId } : {}),
        ...(patch.mirror !== undefined ? { mirror: patch.mirror === null ? null : JSON.stringify(patch.mirror) } : {}),
        ...(patch.cursor !== undefined ? { cursor: patch.cursor } : {}),
        ...(patch.nextAttemptAt !== undefined ? { next_attempt_at: patch.nextAttemptAt } : {}),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Takes the activation's delivery lease for `ms` unless another worker holds a live one: one worker delivers an
   * activation at a time, and a dead worker's lease simply runs out.
   */
  async claimLease(id: string, owner: string, ms: number): Promise<ActivationRow | undefined> {
    const { rows } = await sql<RawActivation>`update activations
      set lease_owner = ${owner}, lease_until = now() + ${`${ms} milliseconds`}::interval
      where id = ${id}::uuid and (lease_until is null or lease_until < now() or lease_owner = ${owner})
      returning *`.execute(this.db);
    return rows[0] ? toActivation(rows[0]) : undefined;
  }

  /** The ids of the destinations that exist. */
  async destinationIds(): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`select id from connections where kind = 'destination'`.execute(this.db);
    return rows.map((r) => r.id);
  }

  async renewLease(id: string, owner: string, ms: number): Promise<boolean> {
    const { rows } = await sql<{ id: string }>`update activations
      set lease_until = now() + ${`${ms} milliseconds`}::interval
      where id = ${id}::uuid and lease_owner = ${owner} returning id`.execute(this.db);
    return rows.length > 0;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await sql`update activations set lease_owner = null, lease_until = null
      where id = ${id}::uuid and lease_owner = ${owner}`.execute(this.db);
  }

  /**
   * Activations with work to do now: new changes in their audience's log, pending re-checks, batches due again, a
   * replace in progress, or a deletion to carry out. Paused and stopped ones wait.
   */
  async withWork(now: Date): Promise<Array<{ id: string; destinationId: string }>> {
    const { rows } = await sql<{ id: string; destination_id: string }>`
      select a.id, a.destination_id from activations a
      where (a.status = 'deleting' or (a.status = 'active' and (a.next_attempt_at is null or a.next_attempt_at <= ${now.toISOString()}::timestamptz)))
        and (a.status = 'deleting' or a.mirror is not null
          or exists (select 1 from activation_batches b where b.activation_id = a.id and b.state in ('planned', 'retrying'))
          or (a.schedule is null and (
            exists (select 1 from audience_changes c where c.audience_id = a.audience_id and c.id > a.cursor)
          or exists (select 1 from activation_rechecks r where r.activation_id = a.id)
          or not exists (select 1 from audiences au where au.id = a.audience_id))))`.execute(this.db);
    return rows.map((r) => ({ id: r.id, destinationId: r.destination_id }));
  }

  async startRun(activationId: string, trigger: string): Promise<number> {
    const row = await this.db
      .insertInto('activation_runs')
      .values({ activation_id: activationId, trigger, status: 'running', error: null, finished_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /**
   * Closes the runs of an activation still marked running: called by the lease holder before it starts its own,
   * so they were left by a worker that stopped without finishing them (killed, or its lease ran out).
   */
  async closeInterruptedRuns(activationId: string, error: string): Promise<number> {
    const closed = await this.db
      .updateTable('activation_runs')
      .set({ status: 'failed', error, finished_at: new Date() })
      .where('activation_id', '=', activationId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(closed.numUpdatedRows);
  }

  async finishRun(runId: number, status: ActivationRunRow['status'], error: string | null): Promise<void> {
    await this.db
      .updateTable('activation_runs')
      .set({ status, error, finished_at: new Date() })
      .where('id', '=', runId)
      .execute();
  }

  async runs(activationId: string, limit: number, before?: number): Promise<ActivationRunRow[]> {
    let q = this.db
      .selectFrom('activation_runs')
      .selectAll()
      .where('activation_id', '=', activationId)
      .orderBy('id', 'desc')
      .limit(limit);
    if (before !== undefined) q = q.where('id', '<', before);
    return (await q.execute()).map((r) => toRun(r as Record<string, unknown>));
  }

  async nextSeq(activationId: string): Promise<number> {
    const row = await this.db
      .selectFrom('activation_batches')
      .select((eb) => eb.fn.max('seq').as('max'))
      .where('activation_id', '=', activationId)
      .executeTakeFirst();
    return Number(row?.max ?? 0) + 1;
  }

  /**
   * Stores a batch before anything of it is sent, so a resumed worker sends this same batch again.
   *
   * `leaseOwner` fences the insert: it commits only while that worker holds the activation's lease, and throws
   * {@link LeaseLostError} otherwise. The lease row stays locked until the commit, so a worker claiming the lease
   * meanwhile waits and then reads this batch among the open ones; a worker that lost the lease before cannot add
   * a batch (nor set the mirror state) behind the new holder's reading of the open batches.
   */
  async insertBatch(b: {
    id: string;
    activationId: string;
    runId: number | null;
    seq: number;
    kind: 'write' | 'replace';
    cursorTo: number | null;
    session: number | null;
    payload: BatchPayload;
    mirror?: MirrorState | null;
    attempts?: number;
    state?: BatchState;
    nextAttemptAt?: Date | null;
    leaseOwner?: string;
  }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (b.leaseOwner !== undefined) {
        const { rows } = await sql<{ id: string }>`select id from activations
          where id = ${b.activationId}::uuid and lease_owner = ${b.leaseOwner} for update`.execute(trx);
        if (rows.length === 0) throw new LeaseLostError(b.activationId);
      }
      await this.insertBatchIn(trx, b);
      if (b.mirror !== undefined)
        await trx
          .updateTable('activations')
          .set({ mirror: b.mirror === null ? null : JSON.stringify(b.mirror) })
          .where('id', '=', b.activationId)
          .execute();
    });
  }

  private async insertBatchIn(
    db: Kysely<Tables>,
    b: {
      id: string;
      activationId: string;
      runId: number | null;
      seq: number;
      kind: 'write' | 'replace';
      cursorTo: number | null;
      session: number | null;
      payload: BatchPayload;
      attempts?: number;
      state?: BatchState;
      nextAttemptAt?: Date | null;
      error?: string | null;
    },
  ): Promise<void> {
    await db
      .insertInto('activation_batches')
      .values({
        id: b.id,
        activation_id: b.activationId,
        run_id: b.runId,
        seq: b.seq,
        kind: b.kind,
        state: b.state ?? 'planned',
        cursor_to: b.cursorTo,
        session: b.session,
        payload: JSON.stringify(b.payload),
        adds: b.payload.adds.length,
        removes: b.payload.removes.length,
        attempts: b.attempts ?? 0,
        next_attempt_at: b.nextAttemptAt ?? null,
        answer: null,
        error: b.error ?? null,
        confirmed_at: null,
      })
      .execute();
  }

  /** Batches planned or waiting to be sent again, oldest first. */
  async openBatches(activationId: string): Promise<BatchRow[]> {
    const rows = await this.db
      .selectFrom('activation_batches')
      .selectAll()
      .where('activation_id', '=', activationId)
      .where('state', 'in', OPEN_BATCH_STATES)
      .orderBy('seq')
      .execute();
    return rows.map((r) => toBatch(r as Record<string, unknown>));
  }

  async batches(activationId: string, limit: number): Promise<BatchRow[]> {
    const rows = await this.db
      .selectFrom('activation_batches')
      .selectAll()
      .where('activation_id', '=', activationId)
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => toBatch(r as Record<string, unknown>));
  }

  async batchesByIds(ids: string[]): Promise<BatchRow[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('activation_batches').selectAll().where('id', 'in', ids).execute();
    return rows.map((r) => toBatch(r as Record<string, unknown>));
  }

  /**
   * Records a batch's answer: the batch, the members' ledger rows, the cursor, re-checks, retries and dead letters
   * commit together. A batch is recorded once: false, and nothing written, when it was already confirmed or dead —
   * the late answer of a worker that lost its lease, for a batch the new lease holder sent again and recorded, and
   * after which it may have recorded later changes of the same members.
   *
   * `after`: the record of the batch before, which must commit first. On PostgreSQL this record writes its batch
   * and ledger rows meanwhile (the members of batches in flight are disjoint) and waits inside its transaction
   * before anything whose order matters (a retry's batch number, the cursor, the mirror state, the run); on the
   * embedded database, a single connection, it waits before it begins. If that record failed, this one fails too.
   */
  async recordBatch(r: BatchRecord, after?: Promise<unknown>): Promise<boolean> {
    const members = await ledgerColumns(r.members);
    if (after && this.database.kind === 'pglite') await after;
    return this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('activation_batches')
        .select('state')
        .where('id', '=', r.batchId)
        .forUpdate()
        .executeTakeFirst();
      if (current && (current.state === 'confirmed' || current.state === 'dead')) return false;
      await trx
        .updateTable('activation_batches')
        .set({
          state: r.state,
          accepted: r.accepted,
          invalid: r.invalid,
          failed: r.failed,
          answer: JSON.stringify(r.answer ?? null),
          error: r.error ?? null,
          ...(r.keepPayload ? {} : { payload: null }),
          ...(r.attempts !== undefined ? { attempts: r.attempts } : {}),
          ...(r.nextAttemptAt !== undefined ? { next_attempt_at: r.nextAttemptAt } : {}),
          ...(r.state === 'confirmed' || r.state === 'dead' ? { confirmed_at: new Date() } : {}),
        })
        .where('id', '=', r.batchId)
        .execute();
      await this.upsertMembers(trx, r.activationId, r.batchId, members);
      if (after) await after;
      if (r.rechecks && r.rechecks.length > 0) {
        await trx
          .deleteFrom('activation_rechecks')
          .where('activation_id', '=', r.activationId)
          .where('profile_id', 'in', r.rechecks)
          .execute();
      }
      if (r.retry) {
        const seq = await sql<{ seq: number }>`select coalesce(max(seq), 0) + 1 as seq from activation_batches
          where activation_id = ${r.activationId}::uuid`.execute(trx);
        await this.insertBatchIn(trx, {
          id: r.retry.id,
          activationId: r.activationId,
          runId: null,
          seq: Number(seq.rows[0].seq),
          kind: 'write',
          cursorTo: null,
          session: null,
          payload: r.retry.payload,
          attempts: r.retry.attempts,
          state: r.retry.state,
          nextAttemptAt: r.retry.nextAttemptAt,
          error: r.retry.error,
        });
      }
      if (r.dead) {
        await trx
          .insertInto('activation_dead_letters')
          .values({
            activation_id: r.activationId,
            batch_id: r.batchId,
            profile_ids: r.dead.profileIds,
            operation: r.dead.operation,
            error: r.dead.error,
            attempts: r.dead.attempts,
            replayed_at: null,
          })
          .execute();
      }
      if (r.finishedSession !== undefined) {
        // A replace swaps the platform's list for the session's members: whoever the session did not send is gone.
        await sql`update activation_members m set state = 'removed', reason = 'not in the mirrored audience',
            removed_at = now(), updated_at = now()
          where m.activation_id = ${r.activationId}::uuid and m.state in ('held', 'removing')
            and not exists (select 1 from activation_batches b where b.id = m.add_batch and b.session = ${r.finishedSession})`.execute(
          trx,
        );
      }
      const activation: Record<string, unknown> = {};
      // Never back: batches are recorded in order, but a worker that lost its lease still records the answers of
      // the batches it had in flight, after the new lease holder may have recorded later ones.
      if (r.cursorTo !== undefined && r.cursorTo !== null)
        activation.cursor = sql`greatest(cursor, ${r.cursorTo}::bigint)`;
      if (r.mirror !== undefined) activation.mirror = r.mirror === null ? null : JSON.stringify(r.mirror);
      if (Object.keys(activation).length > 0)
        await trx
          .updateTable('activations')
          .set({ ...activation, updated_at: new Date() })
          .where('id', '=', r.activationId)
          .execute();
      if (r.run) {
        const c = r.run.counters;
        await sql`update activation_runs set changes = changes + ${c.changes}::int, adds = adds + ${c.adds}::int,
            removes = removes + ${c.removes}::int, accepted = accepted + ${c.accepted}::int,
            invalid = invalid + ${c.invalid}::int, failed = failed + ${c.failed}::int,
            not_sendable = not_sendable + ${c.notSendable}::int,
            not_sendable_reasons = (select coalesce(jsonb_object_agg(k, v), '{}'::jsonb) from (
              select k, sum(v::int) as v from (
                select key as k, value as v from jsonb_each_text(not_sendable_reasons)
                union all select key, value from jsonb_each_text(${JSON.stringify(c.notSendableReasons)}::jsonb)) s
              group by k) t)
          where id = ${r.run.id}`.execute(trx);
      }
      return true;
    });
  }

  /** Upserts ledger rows; columns a member outcome leaves out keep their stored value. */
  private async upsertMembers(db: Kysely<Tables>, activationId: string, batchId: string, columns: LedgerColumns) {
    if (columns.ids.length === 0) return;
    const { ids, states, events, items, fingerprints, keys, reasons } = columns;
    // Each column but the reasons is one text the server splits (see `packed`): a batch is megabytes of items,
    // which the driver would otherwise escape element by element.
    await sql`insert into activation_members as m (activation_id, profile_id, state, item, fingerprints, fingerprint_keys, reason,
        added_at, add_batch, removed_at, remove_batch, updated_at)
      select ${activationId}::uuid, u.p, u.s, u.i, coalesce(string_to_array(u.f, ','), '{}'),
        coalesce(string_to_array(u.k, ',')::integer[], '{}'), u.r,
        case when u.e = 'add' then now() end, case when u.e = 'add' then ${batchId}::uuid end,
        case when u.e = 'remove' then now() end, case when u.e = 'remove' then ${batchId}::uuid end, now()
      from unnest(${packed(ids)}::uuid[], ${packed(states)}::text[], ${packed(events)}::text[], ${packed(items)}::text[],
        ${packed(fingerprints)}::text[], ${packed(keys)}::text[], ${reasons}::text[]) as u(p, s, e, i, f, k, r)
      on conflict (activation_id, profile_id) do update set
        state = excluded.state,
        item = coalesce(excluded.item, m.item),
        fingerprints = case when cardinality(excluded.fingerprints) > 0 then excluded.fingerprints else m.fingerprints end,
        fingerprint_keys = case when cardinality(excluded.fingerprints) > 0 then excluded.fingerprint_keys
          else m.fingerprint_keys end,
        reason = excluded.reason,
        added_at = coalesce(excluded.added_at, m.added_at),
        add_batch = coalesce(excluded.add_batch, m.add_batch),
        removed_at = case when excluded.added_at is not null then null else coalesce(excluded.removed_at, m.removed_at) end,
        remove_batch = case when excluded.added_at is not null then null else coalesce(excluded.remove_batch, m.remove_batch) end,
        updated_at = now()`.execute(db);
  }

  /** The ledger rows of these members as planning reads them: state and item. */
  async ledgerViews(
    activationId: string,
    profileIds: string[],
  ): Promise<Map<string, Pick<MemberRow, 'state' | 'item'>>> {
    const views = new Map<string, Pick<MemberRow, 'state' | 'item'>>();
    if (profileIds.length === 0) return views;
    // One primary-key probe per member (the lateral sub-select with `limit 1` is not flattened into a join). Given
    // `profile_id = any(…)` beside `activation_id = …`, the planner went by statistics taken when the ledger was
    // small and read every row of the activation, checking each against the list: a cost that grew with the
    // ledger, batch after batch (0.5 s per 10,000 members at a million).
    const { rows } = await sql<{ profile_id: string; state: MemberState; item: string | null }>`
      select u.p as profile_id, m.state, m.item from unnest(${packed(profileIds)}::uuid[]) as u(p)
      cross join lateral (select state, item from activation_members
        where activation_id = ${activationId}::uuid and profile_id = u.p limit 1) m`.execute(this.db);
    for (const r of rows)
      views.set(r.profile_id, { state: r.state, item: r.item === null ? null : JSON.parse(r.item) });
    return views;
  }

  /** Members the platform holds, in profile id order after `after`. */
  async heldPage(activationId: string, limit: number, after?: string): Promise<MemberRow[]> {
    let q = this.db
      .selectFrom('activation_members')
      .selectAll()
      .where('activation_id', '=', activationId)
      .where('state', 'in', HELD_STATES)
      .orderBy('profile_id')
      .limit(limit);
    if (after) q = q.where('profile_id', '>', after);
    return (await q.execute()).map((r) => toMember(r as Record<string, unknown>));
  }

  /**
   * Ledger rows of a person: those whose fingerprints include `fingerprint` (the identifier was handed over), and
   * the row of the profile that holds the identifier now (a CRM destination keys people by its record id, so an
   * email it never received still finds what was sent for its holder).
   */
  async membersByIdentifier(
    activationId: string,
    fingerprint: string,
    identifier: { type: string; value: string },
  ): Promise<MemberRow[]> {
    const { rows } = await sql<Record<string, unknown>>`select * from activation_members
      where activation_id = ${activationId}::uuid
        and ((fingerprint_keys @> array[${fingerprintKey(fingerprint)}::integer] and fingerprints @> array[${fingerprint}]::text[])
          or profile_id = (select profile_id from profile_identifiers
                           where type = ${identifier.type} and value = ${identifier.value}))
      order by updated_at desc limit 100`.execute(this.db);
    return rows.map(toMember);
  }

  /**
   * The sends stored and not recorded yet for these profiles — `profileIds`, and the profile holding `identifier`
   * now — oldest first: members of a batch planned (on its way, or left by a crash for the next delivery), waiting
   * for a retry, or blocked by a configuration error. A first addition has no ledger row until it is recorded.
   */
  async pendingFor(
    activationId: string,
    profileIds: string[],
    identifier: { type: string; value: string },
  ): Promise<PendingSend[]> {
    const holder = await sql<{ id: string }>`select profile_id::text as id from profile_identifiers
      where type = ${identifier.type} and value = ${identifier.value}`.execute(this.db);
    const wanted = new Set([...profileIds, ...holder.rows.map((r) => r.id)]);
    if (wanted.size === 0) return [];
    // The open batches are few (those in flight and the retries); their payloads are plain text, searched for the
    // ids before any is parsed.
    const { rows } = await sql<Record<string, unknown>>`select b.* from activation_batches b
      where b.activation_id = ${activationId}::uuid and b.state in (${sql.join(OPEN_BATCH_STATES.map((s) => sql.lit(s)))})
        and exists (select 1 from unnest(${[...wanted]}::text[]) as p where strpos(b.payload, p) > 0)
      order by b.seq`.execute(this.db);
    const pending: PendingSend[] = [];
    for (const row of rows) {
      const { payload, state, ...rest } = toBatch(row);
      if (!payload) continue;
      const batch = { ...rest, state: state as OpenBatchState };
      for (const [operation, members] of [
        ['add', payload.adds],
        ['remove', payload.removes],
      ] as const)
        for (const m of members)
          if (wanted.has(m.profileId))
            pending.push({ profileId: m.profileId, operation, reason: m.reason ?? null, batch });
    }
    return pending;
  }

  /** Pending re-checks in profile id order after `after`. */
  async rechecks(
    activationId: string,
    limit: number,
    after?: string,
  ): Promise<Array<{ profileId: string; removeReason: string | null }>> {
    let q = this.db
      .selectFrom('activation_rechecks')
      .select(['profile_id', 'remove_reason'])
      .where('activation_id', '=', activationId)
      .orderBy('profile_id')
      .limit(limit);
    if (after) q = q.where('profile_id', '>', after);
    const rows = await q.execute();
    return rows.map((r) => ({ profileId: r.profile_id, removeReason: r.remove_reason }));
  }

  /**
   * Queues a re-check of these profiles in every live activation that has a ledger row for them (held, not
   * sendable, or being removed): a consent or identifier change may change what the platform must hold.
   */
  async recheckProfiles(profileIds: string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    const { rows } = await sql<{ n: number }>`with added as (
        insert into activation_rechecks (activation_id, profile_id)
        select a.id, m.profile_id
        from ${ledgerRowsOf(sql`${profileIds}::uuid[]`, sql`state in ('held', 'removing', 'not_sendable')`)}
        where a.status in ('active', 'paused')
        on conflict do nothing returning 1)
      select count(*) as n from added`.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Queues a re-check of these profiles in every live activation whose audience has them as members or whose
   * ledger names them (in any state, `removed` included): after a suppression is lifted or consent changed, each is
   * sent what the audience, their consent and the ledger say now. Returns the activations concerned.
   */
  async recheckEverywhere(profileIds: string[]): Promise<Array<{ id: string; destinationId: string }>> {
    if (profileIds.length === 0) return [];
    const { rows } = await sql<{ id: string; destination_id: string }>`with wanted as (
        select a.id as activation_id, m.profile_id from audience_members m join activations a
          on a.audience_id = m.audience_id
        where m.profile_id = any(${profileIds}::uuid[]) and a.status in ('active', 'paused')
        union
        select a.id, m.profile_id from ${ledgerRowsOf(sql`${profileIds}::uuid[]`)}
        where a.status in ('active', 'paused')),
      added as (
        insert into activation_rechecks (activation_id, profile_id)
        select activation_id, profile_id from wanted on conflict do nothing)
      select distinct a.id, a.destination_id from activations a join wanted w on w.activation_id = a.id`.execute(
      this.db,
    );
    return rows.map((r) => ({ id: r.id, destinationId: r.destination_id }));
  }

  /** Which of these profiles a privacy `suppress` request froze (they are not activated while it stands). */
  async frozenAmong(profileIds: string[]): Promise<Set<string>> {
    if (profileIds.length === 0) return new Set();
    const { rows } = await sql<{ profile_id: string }>`select profile_id from privacy_frozen_profiles
      where profile_id = any(${packed(profileIds)}::uuid[])`.execute(this.db);
    return new Set(rows.map((r) => r.profile_id));
  }

  /** Queues a forced removal of the profiles from every activation whose platform holds them. */
  async forceRemoval(profileIds: string[], reason: string): Promise<number> {
    if (profileIds.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ activation_id: string; profile_id: string }>`update activation_members m
        set state = 'removing', reason = ${reason}, updated_at = now()
        from activations a cross join unnest(${profileIds}::uuid[]) as u(p)
        where m.activation_id = a.id and m.profile_id = u.p and m.state in ('held', 'removing')
        returning m.activation_id, m.profile_id`.execute(trx);
      if (rows.length === 0) return 0;
      await sql`insert into activation_rechecks (activation_id, profile_id, remove_reason)
        select u.a, u.p, ${reason} from unnest(${rows.map((r) => r.activation_id)}::uuid[], ${rows.map((r) => r.profile_id)}::uuid[]) as u(a, p)
        on conflict (activation_id, profile_id) do update set remove_reason = excluded.remove_reason`.execute(trx);
      return rows.length;
    });
  }

  /** Where the profile is held: ledger rows in a held state, with their activation. */
  async holdings(profileId: string): Promise<HoldingRow[]> {
    const { rows } = await sql<{
      activation_id: string;
      audience_id: string;
      destination_id: string;
      state: MemberState;
      reason: string | null;
      pending: boolean;
    }>`select a.id as activation_id, a.audience_id, a.destination_id, m.state, m.reason,
        exists (select 1 from activation_rechecks r where r.activation_id = a.id
          and r.profile_id = m.profile_id and r.remove_reason is not null) as pending
      from ${ledgerRowsOf(sql`array[${profileId}]::uuid[]`, sql`state in ('held', 'removing')`)}
      order by a.id`.execute(this.db);
    return rows.map((r) => ({
      activationId: r.activation_id,
      audienceId: r.audience_id,
      destinationId: r.destination_id,
      state: r.state,
      reason: r.reason,
      removalPending: r.pending,
    }));
  }

  /** Every ledger row of the profile, whatever its state (what was ever sent). */
  async ledgerOf(profileId: string): Promise<MemberRow[]> {
    const { rows } = await sql<Record<string, unknown>>`select m.*
      from ${ledgerRowsOf(sql`array[${profileId}]::uuid[]`)}`.execute(this.db);
    return rows.map(toMember);
  }

  /**
   * Ledger retention: among the next `limit` member rows in key order after `after`, deletes those the platform no
   * longer holds (`removed`, `not_sendable`, `invalid`, `failed`) that have not changed since `before` and have no
   * pending re-check. Rows of members a platform holds stay whatever their age: removals are built from them.
   */
  async pruneLedgerBatch(
    before: Date,
    limit: number,
    after?: { activationId: string; profileId: string },
  ): Promise<{ last?: { activationId: string; profileId: string }; removed: number }> {
    const { rows } = await sql<{ activation_id: string | null; profile_id: string | null; removed: number }>`
      with batch as (
        select activation_id, profile_id, state, updated_at from activation_members
        where ${after ? sql`(activation_id, profile_id) > (${after.activationId}::uuid, ${after.profileId}::uuid)` : sql`true`}
        order by activation_id, profile_id limit ${limit}
      ), gone as (
        delete from activation_members m using batch b
        where m.activation_id = b.activation_id and m.profile_id = b.profile_id
          and b.state not in ('held', 'removing') and b.updated_at < ${before.toISOString()}::timestamptz
          and not exists (select 1 from activation_rechecks r
            where r.activation_id = b.activation_id and r.profile_id = b.profile_id)
        returning 1
      ), last as (select activation_id, profile_id from batch order by activation_id desc, profile_id desc limit 1)
      select (select activation_id::text from last) as activation_id, (select profile_id::text from last) as profile_id,
        (select count(*) from gone)::int as removed`.execute(this.db);
    const row = rows[0];
    return {
      ...(row?.activation_id && row.profile_id
        ? { last: { activationId: row.activation_id, profileId: row.profile_id } }
        : {}),
      removed: Number(row?.removed ?? 0),
    };
  }

  /** Erases the profile's member-level rows (ledger and re-checks); batch counts stay. */
  async eraseMember(profileId: string): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const members = await sql`delete from activation_members m using activations a
        where m.activation_id = a.id and m.profile_id = ${profileId}::uuid`.execute(trx);
      const rechecks = await trx
        .deleteFrom('activation_rechecks')
        .where('profile_id', '=', profileId)
        .executeTakeFirst();
      return Number(members.numAffectedRows ?? 0) + Number(rechecks.numDeletedRows);
    });
  }

  async deadLetters(activationId: string, limit: number, after?: number): Promise<DeadLetterRow[]> {
    let q = this.db
      .selectFrom('activation_dead_letters')
      .selectAll()
      .where('activation_id', '=', activationId)
      .orderBy('id')
      .limit(limit);
    if (after !== undefined) q = q.where('id', '>', after);
    return (await q.execute()).map((r) => ({
      id: Number(r.id),
      activationId: r.activation_id,
      batchId: r.batch_id,
      profileIds: r.profile_ids,
      operation: r.operation,
      error: r.error,
      attempts: r.attempts,
      createdAt: r.created_at,
      replayedAt: r.replayed_at,
    }));
  }

  /**
   * Replays the dead letters not replayed yet: their members are re-checked, so each is sent what the audience
   * and the ledger say now (an addition, a removal, or nothing). Returns the number of members queued.
   */
  async replayDeadLetters(activationId: string): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: number; profile_ids: string[] }>`update activation_dead_letters
        set replayed_at = now() where activation_id = ${activationId}::uuid and replayed_at is null
        returning id, profile_ids`.execute(trx);
      const ids = [...new Set(rows.flatMap((r) => r.profile_ids))];
      if (ids.length === 0) return 0;
      await sql`insert into activation_rechecks (activation_id, profile_id)
        select ${activationId}::uuid, p from unnest(${ids}::uuid[]) as p on conflict do nothing`.execute(trx);
      await trx.updateTable('activations').set({ next_attempt_at: null }).where('id', '=', activationId).execute();
      return ids.length;
    });
  }

  /**
   * The admin resumed the activation: blocked batches (a configuration error stopped them) and retries waiting for
   * their time are due now.
   */
  async unblock(activationId: string): Promise<void> {
    await this.db
      .updateTable('activation_batches')
      .set({ state: 'retrying', next_attempt_at: null })
      .where('activation_id', '=', activationId)
      .where('state', 'in', ['blocked', 'retrying'])
      .execute();
  }

  /** Counts per member state, for the activation's view. */
  async memberCounts(activationId: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('activation_members')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('activation_id', '=', activationId)
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Which of these profiles are members of the audience now. */
  async audienceMembersAmong(audienceId: string, profileIds: string[]): Promise<Set<string>> {
    if (profileIds.length === 0) return new Set();
    // A primary-key probe per profile, for the reason given in `ledgerViews` (an `exists` would become a join).
    const { rows } = await sql<{ profile_id: string }>`select u.p as profile_id
      from unnest(${packed(profileIds)}::uuid[]) as u(p)
      cross join lateral (select 1 from audience_members
        where audience_id = ${audienceId}::uuid and profile_id = u.p limit 1) m`.execute(this.db);
    return new Set(rows.map((r) => r.profile_id));
  }

  /**
   * Profiles as activation plans them: live or merged away, visible traits (computed trait values under their
   * names, then the profile's own traits, which win; unset and expired ones left out), consent as granted or not
   * per purpose, and identifiers (by type, most recently seen first). Missing ids were deleted.
   *
   * Read as JSON texts built by the server (`string_agg`) and parsed once: no row objects, no provenance of each
   * trait — a row per profile and per identifier through the driver cost more CPU than the rest of planning.
   * Without parallel workers: with ids spread over the whole table, PostgreSQL chose a parallel scan of every
   * identifier for 10,000 profiles, three processes where one costs less CPU.
   */
  async profileSnapshots(profileIds: string[], now: number): Promise<ActivationProfile[]> {
    if (profileIds.length === 0) return [];
    const ids = sql`${packed(profileIds)}::uuid[]`;
    // Three statements on three connections (one after the other on the embedded database). The profiles come as
    // one JSON text in id order, 4 elements each (id, live, visible traits, consent); the identifiers as one flat
    // text of (profile, type, value) in the same id order, read through the profile index in one scan rather than
    // a sub-select per profile, and walked in step with the profiles. Each aggregate reads a sorted sub-query instead
    // of sorting itself (`string_agg(… order by …)`): on PostgreSQL 15 that sorted the built texts, 30-40 ms more
    // per 10,000 profiles for each statement. With nothing between the sort and the aggregate (no join) the order
    // holds, as PostgreSQL's documentation of aggregate expressions says; the walk below checks it all the same.
    const [profiles, identifiers, computed] = await Promise.all([
      withoutParallelWorkers(this.db, (db) =>
        sql<{
          doc: string;
        }>`select '[' || coalesce(string_agg(concat_ws(',', to_json(p.id), (p.merged_into is null)::text,
          coalesce((select json_object_agg(t.key, t.value -> 'v') from jsonb_each(p.traits) t
            where t.value -> 'v' <> 'null'::jsonb
              and (not t.value ? 'x' or (t.value ->> 'x')::float8 > ${now}::float8))::text, '{}'),
          coalesce((select json_object_agg(c.key, c.value -> 'g') from jsonb_each(p.consent) c where c.value ? 'g')::text, '{}')),
          ','), '') || ']' as doc
        from (select * from profiles where id = any(${ids}) order by id) p`.execute(db),
      ),
      withoutParallelWorkers(this.db, (db) =>
        sql<{ doc: string }>`select '[' || coalesce(string_agg(concat_ws(',', to_json(i.profile_id), to_json(i.type),
          to_json(i.value)), ','), '') || ']' as doc
        from (select * from profile_identifiers where profile_id = any(${ids})
          order by profile_id, type, last_seen desc, value) i`.execute(db),
      ),
      sql<{ profile_id: string; name: string; value: unknown }>`
        select v.profile_id, t.name, v.value from profile_computed_traits v join computed_traits t on t.id = v.trait_id
        where v.profile_id = any(${ids}) and v.value <> 'null'::jsonb`.execute(this.db),
    ]);
    const computedBy = new Map<string, Record<string, TraitValue>>();
    for (const c of computed.rows) {
      let values = computedBy.get(c.profile_id);
      if (!values) computedBy.set(c.profile_id, (values = Object.create(null) as Record<string, TraitValue>));
      values[c.name] = c.value as TraitValue; // jsonb as the driver parsed it: a string value is a string
    }
    // Two texts of megabytes for 10,000 profiles: each parse is one stretch of CPU, so other tasks run between them.
    const flat = JSON.parse(profiles.rows[0].doc) as unknown[];
    await yieldToEventLoop();
    const triples = JSON.parse(identifiers.rows[0].doc) as string[];
    await yieldToEventLoop();
    for (let i = 4; i < flat.length; i += 4) if (!((flat[i - 4] as string) < (flat[i] as string))) outOfOrder();
    for (let j = 3; j < triples.length; j += 3) if (triples[j - 3] > triples[j]) outOfOrder();
    const out = new Array<ActivationProfile>(flat.length / 4);
    let j = 0;
    for (let i = 0, n = 0; i < flat.length; i += 4, n++) {
      const id = flat[i] as string;
      const traits = flat[i + 2] as Record<string, TraitValue>;
      const values = computedBy.get(id);
      const owned: Array<{ type: string; value: string }> = [];
      while (j < triples.length && triples[j] < id) j += 3;
      for (; j < triples.length && triples[j] === id; j += 3)
        owned.push({ type: triples[j + 1], value: triples[j + 2] });
      out[n] = {
        id,
        live: flat[i + 1] as boolean,
        traits: values ? Object.assign(values, traits) : traits,
        consent: flat[i + 3] as Record<string, boolean>,
        identifiers: owned,
      };
    }
    return out;
  }
}
