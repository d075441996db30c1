import { Readable } from 'node:stream';
import { Injectable, Logger, Optional } from '@nestjs/common';
import { NotFoundError } from '@plexus/errors';
import { ConnectionService, ConnectorContexts } from '@plexus/connectors';
import type { Kysely } from 'kysely';
import {
  IdentityMetrics,
  IngestService,
  WrittenValuesService,
  type IngestOutcome,
  type RecordOutcome,
} from '@plexus/identity';
import { loggableErrorMessage } from '@plexus/observability';
import { DeferJobError, PermanentJobError, type Job } from '@plexus/queue';
import {
  ConnectorError,
  failureTypeOf,
  ingestSettingsOf,
  type ConnectorContext,
  type Identifier,
  type ProfileRecord,
  type SourceDefinition,
  type StreamDefinition,
  type UploadedFile,
} from '@plexus/sdk';
import { CheckpointMovedError, RunRepository, UploadRepository, type RunRecord, type Tables } from '@plexus/storage';

class RunCancelled extends Error {}

/** How often a running sync looks for a cancel request (between batches, at most this often). */
const CANCEL_POLL_MS = 200;
/** How often a run waiting on its source (a slow remote, a long page) looks for a cancel or a deleted source. */
const CANCEL_WATCH_MS = 1000;

/**
 * Executes a sync run: streams batches from the source, maps each record, hands the batch to the ingest
 * pipeline and commits the stream checkpoint in the same transaction as the batch. A worker that dies
 * mid-run leaves the last committed checkpoint; the job is taken over and resumes exactly there.
 */
@Injectable()
export class SyncEngine {
  private readonly logger = new Logger('Sync');

  constructor(
    private readonly runs: RunRepository,
    private readonly connections: ConnectionService,
    private readonly contexts: ConnectorContexts,
    private readonly ingest: IngestService,
    private readonly uploads: UploadRepository,
    @Optional() private readonly writtenValues?: WrittenValuesService,
    @Optional() private readonly metrics?: IdentityMetrics,
  ) {}

  async execute(runId: string, job?: Job): Promise<RunRecord | undefined> {
    const run = await this.runs.start(runId);
    if (!run) return this.runs.find(runId); // cancelled or already finished
    if (run.cancelRequested) return this.runs.finish(runId, 'cancelled');
    // Only a missing source means it was deleted; any other error (the database) fails the attempt as it is.
    const source = await this.connections.row('source', run.sourceId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (!source)
      return this.runs.finish(runId, 'failed', { type: 'config', message: `source ${run.sourceId} no longer exists` });
    const upload = await this.uploadOf(run);
    if (upload === null)
      return this.runs.finish(runId, 'failed', { type: 'system', message: 'the uploaded file is no longer stored' });

    const abort = new AbortController();
    // Between batches checkCancel() notices a cancel; while the connector waits on I/O this watcher does, and
    // aborts the in-flight request or stream (a deleted source's run reads as cancelled too).
    let cancelled = false;
    const watcher = setInterval(() => {
      this.runs.isCancelRequested(runId).then(
        (requested) => {
          if (!requested) return;
          cancelled = true;
          abort.abort();
        },
        () => undefined,
      );
    }, CANCEL_WATCH_MS);
    watcher.unref();
    try {
      const { definition } = this.connections.connector('source', source.connector);
      const overrides = (run.options.config as Record<string, unknown> | undefined) ?? {};
      const ctx = await this.contexts.context(source, abort.signal, overrides, upload);
      // Sources of systems Plexus also writes to (a CRM) skip the values they read back from those writes.
      if (this.writtenValues) ctx.written = this.writtenValues;
      const { defaultCountry } = ingestSettingsOf(definition as SourceDefinition<unknown>, ctx.config);
      const meta = { sourceId: source.id, runId, defaultCountry };
      let lastPoll = 0;
      const checkCancel = async (): Promise<void> => {
        if (Date.now() - lastPoll < CANCEL_POLL_MS) return;
        lastPoll = Date.now();
        if (await this.runs.isCancelRequested(runId)) {
          abort.abort();
          throw new RunCancelled();
        }
      };
      for (const stream of (definition as SourceDefinition<unknown>).streams) {
        await this.syncStream(stream, ctx, meta, source.connector, checkCancel);
        if (stream.mode === 'full') await this.runs.resetCheckpoint(source.id, stream.name);
        await this.runs.markStreamFinished(runId, stream.name);
      }
      const done = await this.runs.find(runId);
      return this.runs.finish(runId, done && done.stats.quarantined > 0 ? 'partial' : 'succeeded');
    } catch (error) {
      if (error instanceof CheckpointMovedError) {
        // Another execution of this run (BullMQ handed the job out again) is ahead: it owns the run now.
        this.logger.warn(`run ${runId}: ${error.message}; this execution stops`);
        return this.runs.find(runId);
      }
      if (error instanceof RunCancelled || cancelled) return this.runs.finish(runId, 'cancelled');
      if (!(await this.runs.find(runId))) {
        this.logger.log(`run ${runId} stopped: its source was deleted while it ran`);
        return undefined;
      }
      const type = failureTypeOf(error);
      const message = (error as Error).message;
      const retryAfterMs = error instanceof ConnectorError ? error.details.retryAfterMs : undefined;
      if (type === 'transient' && retryAfterMs !== undefined && retryAfterMs > 0) {
        // The vendor said when to come back (a daily limit): park the run until then rather than spend retries.
        const resumeAt = new Date(Date.now() + retryAfterMs);
        if (!(await this.runs.park(runId, resumeAt, { type, message }))) return this.runs.find(runId);
        this.logger.log(`run ${runId} waits until ${resumeAt.toISOString()}: ${message}`);
        throw new DeferJobError(resumeAt.getTime(), message);
      }
      const attemptsLeft = job ? (job.opts.attempts ?? 1) - job.attemptsMade - 1 : 0;
      if (type === 'transient' && attemptsLeft > 0) {
        this.logger.warn(
          `run ${runId}: transient failure, will resume from its checkpoint: ${loggableErrorMessage(error)}`,
        );
        await this.runs.requeue(runId, { type, message });
        throw error; // BullMQ retries the job with backoff
      }
      this.logger.warn(`run ${runId} failed (${type}): ${loggableErrorMessage(error)}`);
      const finished = await this.runs.finish(runId, 'failed', { type, message });
      if (type !== 'transient') throw new PermanentJobError(`run ${runId} failed (${type}): ${message}`);
      return finished;
    } finally {
      clearInterval(watcher);
      abort.abort();
    }
  }

  /** The run's uploaded file (undefined when the run has none, null when it is gone). */
  private async uploadOf(run: RunRecord): Promise<UploadedFile | undefined | null> {
    const id = run.options.upload;
    if (typeof id !== 'string') return undefined;
    const stored = await this.uploads.find(id);
    if (!stored?.complete) return null;
    return { id, bytes: stored.bytes, open: () => Readable.from(this.uploads.read(id)) };
  }

  private async syncStream(
    stream: StreamDefinition<unknown, unknown, unknown>,
    ctx: ConnectorContext<unknown>,
    meta: { sourceId: string; runId: string; defaultCountry?: string },
    connector: string,
    checkCancel: () => Promise<void>,
  ): Promise<void> {
    const checkpoint = await this.runs.checkpoint(meta.sourceId, stream.name);
    let expectedCheckpoint = checkpoint;
    for await (const batch of stream.read(ctx, checkpoint)) {
      await checkCancel();
      const profiles: ProfileRecord[] = [];
      const origins: unknown[] = [];
      const quarantine: Array<{ record: unknown; reason: string }> = [];
      for (const record of batch.records) {
        try {
          const mapped = stream.toProfile(record, ctx);
          for (const profile of mapped === null ? [] : Array.isArray(mapped) ? mapped : [mapped]) {
            profiles.push(profile);
            origins.push(record);
          }
        } catch (error) {
          quarantine.push({ record, reason: `mapping failed: ${(error as Error).message}` });
        }
      }
      const forgotten: Identifier[] = [];
      for (const id of batch.deletedIds ?? []) {
        if (stream.deletedIdentifier) forgotten.push(stream.deletedIdentifier(id, ctx));
      }
      // What the batch's transaction committed (set again on each attempt of a retried transaction).
      let counts: Partial<Record<RecordOutcome, number>> = {};
      const commit = (trx: Kysely<Tables>, outcome: IngestOutcome): Promise<void> => {
        const quarantined = [
          ...quarantine,
          ...outcome.rejected.map((r) => ({ record: origins[r.index], reason: r.reason })),
        ];
        const deleted = batch.deletedIds?.length ?? 0;
        const read = batch.records.length;
        counts = {
          read,
          written: outcome.written,
          unchanged: outcome.unchanged,
          quarantined: quarantined.length,
          suppressed: outcome.suppressed,
          deleted,
        };
        return this.runs.commitBatch(trx, {
          runId: meta.runId,
          sourceId: meta.sourceId,
          stream: stream.name,
          checkpoint: batch.checkpoint,
          expectedCheckpoint,
          read,
          written: outcome.written,
          deleted,
          suppressed: outcome.suppressed,
          unchanged: outcome.unchanged,
          quarantine: quarantined,
        });
      };
      if (forgotten.length === 0) {
        await this.ingest.ingest(profiles, meta, commit);
      } else {
        // Records first, then the deletes with the checkpoint: a crash in between re-reads the batch, and storing
        // its records again changes nothing, while its deletes and counters are committed exactly once.
        let outcome: IngestOutcome = { written: 0, rejected: [], suppressed: 0, unchanged: 0 };
        await this.ingest.ingest(profiles, meta, async (_trx, o) => {
          outcome = o;
        });
        await this.ingest.forget(forgotten, meta, (trx) => commit(trx, outcome));
      }
      this.metrics?.countRecords({ sourceId: meta.sourceId, connector }, counts);
      if (batch.checkpoint !== undefined) expectedCheckpoint = batch.checkpoint;
    }
  }
}
