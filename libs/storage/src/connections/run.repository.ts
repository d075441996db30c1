import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { Database } from '../database.js';
import type { RunStatus, Tables } from '../schema.js';

export interface RunStats {
  read: number;
  written: number;
  quarantined: number;
  deleted: number;
  /** Records skipped because their person asked to be erased or suppressed (never stored). */
  suppressed: number;
  /** Records skipped because the source delivered them before unchanged (storing them again changes nothing). */
  unchanged: number;
}

export interface StreamProgress extends RunStats {
  stream: string;
  checkpoint: unknown;
  finished: boolean;
}

export interface RunRecord {
  id: string;
  sourceId: string;
  status: RunStatus;
  trigger: string;
  options: Record<string, unknown>;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  stats: RunStats;
  checkpoint: unknown;
  error?: { type: string; message: string };
  cancelRequested: boolean;
  attempts: number;
  /** A `waiting` run resumes then (a vendor limit parked it). */
  resumeAt: Date | null;
  /** Times the reaper requeued the run after its job was lost. */
  recoveries: number;
  /** Last sign of life: the start of an attempt or a committed batch. */
  heartbeatAt: Date | null;
}

export interface QuarantinedRecord {
  id: number;
  sourceId: string;
  runId: string | null;
  stream: string;
  record: unknown;
  reason: string;
  createdAt: Date;
}

/**
 * Thrown by {@link RunRepository.commitBatch} when the stream's stored checkpoint is no longer the one this
 * execution started from: another execution of the run (a job BullMQ handed out again after its lock lapsed, say
 * while Redis restarted) committed the same batch first. The transaction rolls back, so the batch is stored once.
 */
export class CheckpointMovedError extends Error {
  constructor(
    readonly sourceId: string,
    readonly stream: string,
  ) {
    super(`stream ${stream} of source ${sourceId} was advanced by another execution of the run`);
  }
}

/** What one batch changes, committed with its checkpoint in one transaction. */
export interface BatchCommit {
  runId: string;
  sourceId: string;
  stream: string;
  checkpoint: unknown;
  /** The checkpoint this execution read or last committed (undefined: none was stored). Compared, then replaced. */
  expectedCheckpoint: unknown;
  read: number;
  written: number;
  deleted: number;
  /** Records skipped because their person is erased or suppressed. */
  suppressed?: number;
  /** Records skipped because the source delivered them before unchanged. */
  unchanged?: number;
  quarantine: Array<{ record: unknown; reason: string }>;
}

/** Time-ordered ids (`run_<base36 ms><random>`), so listing by id is listing by age. */
export function newRunId(): string {
  return `run_${Date.now().toString(36).padStart(9, '0')}${randomBytes(5).toString('hex')}`;
}

/** A source has at most one run in these states (a unique partial index says so). */
export const ACTIVE_RUN_STATUSES: RunStatus[] = ['queued', 'running', 'waiting'];
const ACTIVE = ACTIVE_RUN_STATUSES;

type RunRow = {
  id: string;
  source_id: string;
  status: RunStatus;
  trigger: string;
  options: Record<string, unknown>;
  read_count: number;
  written_count: number;
  quarantined_count: number;
  deleted_count: number;
  suppressed_count: number;
  unchanged_count: number;
  checkpoint: unknown;
  error: { type: string; message: string } | null;
  cancel_requested: boolean;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  heartbeat_at: Date | null;
  resume_at: Date | null;
  recoveries: number;
};

function toRun(r: RunRow): RunRecord {
  return {
    id: r.id,
    sourceId: r.source_id,
    status: r.status,
    trigger: r.trigger,
    options: r.options,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    stats: {
      read: Number(r.read_count),
      written: Number(r.written_count),
      quarantined: Number(r.quarantined_count),
      deleted: Number(r.deleted_count),
      suppressed: Number(r.suppressed_count),
      unchanged: Number(r.unchanged_count),
    },
    checkpoint: r.checkpoint,
    ...(r.error ? { error: r.error } : {}),
    cancelRequested: r.cancel_requested,
    attempts: r.attempts,
    resumeAt: r.resume_at,
    recoveries: Number(r.recoveries),
    heartbeatAt: r.heartbeat_at,
  };
}

/** Sync runs, their per-stream progress, the committed stream checkpoints and the quarantine. */
@Injectable()
export class RunRepository {
  constructor(private readonly database: Database) {}

  /** Creates a queued run, or returns the source's active run when it already has one. */
  async createRun(
    sourceId: string,
    trigger: string,
    options: Record<string, unknown> = {},
  ): Promise<{ run: RunRecord; created: boolean }> {
    const inserted = await this.database.db
      .insertInto('sync_runs')
      .values({ id: newRunId(), source_id: sourceId, status: 'queued', trigger, options: JSON.stringify(options) })
      .onConflict((oc) =>
        oc
          .column('source_id')
          .where(sql<boolean>`status in ('queued', 'running', 'waiting')`)
          .doNothing(),
      )
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { run: toRun(inserted), created: true };
    const active = await this.activeRun(sourceId);
    if (!active) return this.createRun(sourceId, trigger, options); // the active run finished in between
    return { run: active, created: false };
  }

  async activeRun(sourceId: string): Promise<RunRecord | undefined> {
    const row = await this.database.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('source_id', '=', sourceId)
      .where('status', 'in', ACTIVE)
      .executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  async find(id: string): Promise<RunRecord | undefined> {
    const row = await this.database.db.selectFrom('sync_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  /** Newest first. */
  async list(sourceId: string, limit: number, before?: string): Promise<RunRecord[]> {
    let query = this.database.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('source_id', '=', sourceId)
      .orderBy('id', 'desc')
      .limit(limit);
    if (before) query = query.where('id', '<', before);
    return (await query.execute()).map(toRun);
  }

  async streams(runId: string): Promise<StreamProgress[]> {
    const rows = await this.database.db
      .selectFrom('sync_run_streams')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('stream')
      .execute();
    return rows.map((r) => ({
      stream: r.stream,
      read: Number(r.read_count),
      written: Number(r.written_count),
      quarantined: Number(r.quarantined_count),
      deleted: Number(r.deleted_count),
      suppressed: Number(r.suppressed_count),
      unchanged: Number(r.unchanged_count),
      checkpoint: r.checkpoint,
      finished: r.finished,
    }));
  }

  /** Moves a queued (or interrupted running) run to running; undefined when it is no longer runnable. */
  async start(id: string): Promise<RunRecord | undefined> {
    const row = await this.database.db
      .updateTable('sync_runs')
      .set((eb) => ({
        status: 'running',
        started_at: sql<Date>`coalesce(started_at, now())`,
        heartbeat_at: new Date(),
        resume_at: null,
        attempts: eb('attempts', '+', 1),
      }))
      .where('id', '=', id)
      .where('status', 'in', ACTIVE)
      .returningAll()
      .executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  /** Ends the run with `status`; the file it was uploaded with, if any, is deleted in the same transaction. */
  async finish(
    id: string,
    status: RunStatus,
    error?: { type: string; message: string },
  ): Promise<RunRecord | undefined> {
    return this.database.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('sync_runs')
        .set({ status, finished_at: new Date(), resume_at: null, error: error ? JSON.stringify(error) : null })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      await this.releaseUpload(trx, row);
      return toRun(row);
    });
  }

  /** An upload lives as long as its run: deleted once the run has ended, whichever way. */
  private async releaseUpload(trx: Kysely<Tables>, row: { options: Record<string, unknown> }): Promise<void> {
    const upload = row.options.upload;
    if (typeof upload === 'string') await trx.deleteFrom('uploads').where('id', '=', upload).execute();
  }

  /**
   * Parks a running run until `resumeAt` (a vendor limit said when to come back): status `waiting`, with the
   * reason kept for the admin to see. False when the run is no longer running (cancelled meanwhile).
   */
  async park(id: string, resumeAt: Date, reason: { type: string; message: string }): Promise<boolean> {
    const result = await this.database.db
      .updateTable('sync_runs')
      .set({ status: 'waiting', resume_at: resumeAt, heartbeat_at: new Date(), error: JSON.stringify(reason) })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Active runs showing no sign of life since `before`: queued or running runs whose last heartbeat (or creation)
   * is older, and waiting runs whose resume time is older. Oldest first.
   */
  async stale(before: Date, limit: number): Promise<RunRecord[]> {
    const rows = await this.database.db
      .selectFrom('sync_runs')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([
            eb('status', 'in', ['queued', 'running']),
            eb(sql<Date>`coalesce(heartbeat_at, created_at)`, '<', before),
          ]),
          eb.and([eb('status', '=', 'waiting'), eb('resume_at', '<', before)]),
        ]),
      )
      .orderBy(sql`coalesce(heartbeat_at, created_at)`)
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  /**
   * Counts a recovery of a run whose job was lost and puts it back to queued, with a fresh heartbeat so the
   * next scan leaves it alone while its new job waits. Only if it is still as `seen` — same status, same number
   * of recoveries — so that of two reapers that saw it at once, or a worker that moved it meanwhile, one wins;
   * returns the updated run, or undefined when another got there first.
   */
  async recordRecovery(id: string, seen: Pick<RunRecord, 'status' | 'recoveries'>): Promise<RunRecord | undefined> {
    const row = await this.database.db
      .updateTable('sync_runs')
      .set((eb) => ({
        status: 'queued',
        heartbeat_at: new Date(),
        resume_at: null,
        recoveries: eb('recoveries', '+', 1),
      }))
      .where('id', '=', id)
      .where('status', '=', seen.status)
      .where('recoveries', '=', seen.recoveries)
      .returningAll()
      .executeTakeFirst();
    return row ? toRun(row) : undefined;
  }

  /** Back to queued after a transient failure, with the error kept for the admin to see. */
  async requeue(id: string, error: { type: string; message: string }): Promise<void> {
    await this.database.db
      .updateTable('sync_runs')
      .set({ status: 'queued', error: JSON.stringify(error) })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  /** A queued or waiting run is cancelled at once (its upload deleted); a running one is asked to stop. */
  async requestCancel(id: string): Promise<RunRecord | undefined> {
    const idle = await this.database.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('sync_runs')
        .set({ status: 'cancelled', cancel_requested: true, finished_at: new Date(), resume_at: null })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'waiting'])
        .returningAll()
        .executeTakeFirst();
      if (row) await this.releaseUpload(trx, row);
      return row;
    });
    if (idle) return toRun(idle);
    const running = await this.database.db
      .updateTable('sync_runs')
      .set({ cancel_requested: true })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .returningAll()
      .executeTakeFirst();
    return running ? toRun(running) : this.find(id);
  }

  async isCancelRequested(id: string): Promise<boolean> {
    const row = await this.database.db
      .selectFrom('sync_runs')
      .select('cancel_requested')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.cancel_requested ?? true;
  }

  async checkpoint(sourceId: string, stream: string): Promise<unknown> {
    const row = await this.database.db
      .selectFrom('stream_states')
      .select('checkpoint')
      .where('source_id', '=', sourceId)
      .where('stream', '=', stream)
      .executeTakeFirst();
    return row?.checkpoint ?? undefined;
  }

  async checkpoints(sourceId: string): Promise<Record<string, unknown>> {
    const rows = await this.database.db
      .selectFrom('stream_states')
      .select(['stream', 'checkpoint'])
      .where('source_id', '=', sourceId)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.stream, r.checkpoint]));
  }

  /** Forgets a stream's checkpoint (a full-refresh stream starts over on its next run). */
  async resetCheckpoint(sourceId: string, stream: string): Promise<void> {
    await this.database.db
      .deleteFrom('stream_states')
      .where('source_id', '=', sourceId)
      .where('stream', '=', stream)
      .execute();
  }

  /**
   * Writes a batch's bookkeeping — quarantined records, the stream checkpoint, the run's and stream's counters —
   * with `executor`, the transaction that also stored the batch's records.
   */
  async commitBatch(executor: Kysely<Tables>, batch: BatchCommit): Promise<void> {
    if (batch.quarantine.length > 0) {
      await executor
        .insertInto('quarantine')
        .values(
          batch.quarantine.map((q) => ({
            source_id: batch.sourceId,
            run_id: batch.runId,
            stream: batch.stream,
            record: JSON.stringify(q.record ?? null),
            reason: q.reason.slice(0, 2000),
          })),
        )
        .execute();
    }
    const checkpoint = batch.checkpoint === undefined ? null : JSON.stringify(batch.checkpoint);
    if (batch.checkpoint !== undefined) {
      // Compare-and-set: the row lock makes a concurrent execution wait for this one, then fail the comparison.
      const moved =
        batch.expectedCheckpoint === undefined
          ? (
              await executor
                .insertInto('stream_states')
                .values({ source_id: batch.sourceId, stream: batch.stream, checkpoint, updated_at: new Date() })
                .onConflict((oc) => oc.columns(['source_id', 'stream']).doNothing())
                .executeTakeFirst()
            ).numInsertedOrUpdatedRows === 0n
          : (
              await executor
                .updateTable('stream_states')
                .set({ checkpoint, updated_at: new Date() })
                .where('source_id', '=', batch.sourceId)
                .where('stream', '=', batch.stream)
                .where(sql<boolean>`checkpoint = ${JSON.stringify(batch.expectedCheckpoint)}::jsonb`)
                .executeTakeFirst()
            ).numUpdatedRows === 0n;
      if (moved) throw new CheckpointMovedError(batch.sourceId, batch.stream);
    }
    const q = batch.quarantine.length;
    await executor
      .updateTable('sync_runs')
      .set((eb) => ({
        read_count: eb('read_count', '+', batch.read),
        written_count: eb('written_count', '+', batch.written),
        quarantined_count: eb('quarantined_count', '+', q),
        deleted_count: eb('deleted_count', '+', batch.deleted),
        suppressed_count: eb('suppressed_count', '+', batch.suppressed ?? 0),
        unchanged_count: eb('unchanged_count', '+', batch.unchanged ?? 0),
        heartbeat_at: new Date(),
        ...(batch.checkpoint !== undefined ? { checkpoint: JSON.stringify({ [batch.stream]: batch.checkpoint }) } : {}),
      }))
      .where('id', '=', batch.runId)
      .execute();
    await executor
      .insertInto('sync_run_streams')
      .values({
        run_id: batch.runId,
        stream: batch.stream,
        read_count: batch.read,
        written_count: batch.written,
        quarantined_count: q,
        deleted_count: batch.deleted,
        suppressed_count: batch.suppressed ?? 0,
        unchanged_count: batch.unchanged ?? 0,
        checkpoint,
      })
      .onConflict((oc) =>
        oc.columns(['run_id', 'stream']).doUpdateSet((eb) => ({
          read_count: eb('sync_run_streams.read_count', '+', batch.read),
          written_count: eb('sync_run_streams.written_count', '+', batch.written),
          quarantined_count: eb('sync_run_streams.quarantined_count', '+', q),
          deleted_count: eb('sync_run_streams.deleted_count', '+', batch.deleted),
          suppressed_count: eb('sync_run_streams.suppressed_count', '+', batch.suppressed ?? 0),
          unchanged_count: eb('sync_run_streams.unchanged_count', '+', batch.unchanged ?? 0),
          ...(batch.checkpoint !== undefined ? { checkpoint } : {}),
        })),
      )
      .execute();
  }

  async markStreamFinished(runId: string, stream: string): Promise<void> {
    await this.database.db
      .insertInto('sync_run_streams')
      .values({ run_id: runId, stream, finished: true })
      .onConflict((oc) => oc.columns(['run_id', 'stream']).doUpdateSet({ finished: true }))
      .execute();
  }

  async quarantined(sourceId: string, limit: number, after?: number): Promise<QuarantinedRecord[]> {
    let query = this.database.db
      .selectFrom('quarantine')
      .selectAll()
      .where('source_id', '=', sourceId)
      .orderBy('id')
      .limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return (await query.execute()).map((r) => ({
      id: Number(r.id),
      sourceId: r.source_id,
      runId: r.run_id,
      stream: r.stream,
      record: r.record,
      reason: r.reason,
      createdAt: r.created_at,
    }));
  }
}
