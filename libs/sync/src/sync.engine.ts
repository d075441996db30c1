import { Injectable, Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { ConnectionService } from '@plexus/connectors';
import type { Kysely } from 'kysely';
import { IngestService, type IngestOutcome } from '@plexus/identity';
import { loggableErrorMessage } from '@plexus/observability';
import { PermanentJobError } from '@plexus/queue';
import {
  failureTypeOf,
  type ConnectorContext,
  type Identifier,
  type ProfileRecord,
  type SourceDefinition,
  type StreamDefinition,
} from '@plexus/sdk';
import { RunRepository, type RunRecord, type Tables } from '@plexus/storage';

class RunCancelled extends Error {}

/** How often a running sync looks for a cancel request (between batches, at most this often). */
const CANCEL_POLL_MS = 200;

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
    private readonly ingest: IngestService,
  ) {}

  async execute(runId: string, job?: Job): Promise<RunRecord | undefined> {
    const run = await this.runs.start(runId);
    if (!run) return this.runs.find(runId); // cancelled or already finished
    if (run.cancelRequested) return this.runs.finish(runId, 'cancelled');
    const source = await this.connections.row('source', run.sourceId).catch(() => undefined);
    if (!source)
      return this.runs.finish(runId, 'failed', { type: 'config', message: `source ${run.sourceId} no longer exists` });

    const abort = new AbortController();
    try {
      const { definition } = this.connections.connector('source', source.connector);
      const overrides = (run.options.config as Record<string, unknown> | undefined) ?? {};
      const ctx = await this.connections.context(source, abort.signal, overrides);
      const defaultCountry =
        typeof ctx.config === 'object' && ctx.config !== null
          ? (ctx.config as { defaultCountry?: unknown }).defaultCountry
          : undefined;
      const meta = {
        sourceId: source.id,
        runId,
        defaultCountry: typeof defaultCountry === 'string' ? defaultCountry : undefined,
      };
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
        await this.syncStream(stream, ctx, meta, runId, checkCancel);
        if (stream.mode === 'full') await this.runs.resetCheckpoint(source.id, stream.name);
        await this.runs.markStreamFinished(runId, stream.name);
      }
      const done = await this.runs.find(runId);
      return this.runs.finish(runId, done && done.stats.quarantined > 0 ? 'partial' : 'succeeded');
    } catch (error) {
      if (error instanceof RunCancelled) return this.runs.finish(runId, 'cancelled');
      if (!(await this.runs.find(runId))) {
        this.logger.log(`run ${runId} stopped: its source was deleted while it ran`);
        return undefined;
      }
      const type = failureTypeOf(error);
      const message = (error as Error).message;
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
      abort.abort();
    }
  }

  private async syncStream(
    stream: StreamDefinition<unknown, unknown, unknown>,
    ctx: ConnectorContext<unknown>,
    meta: { sourceId: string; runId: string; defaultCountry?: string },
    runId: string,
    checkCancel: () => Promise<void>,
  ): Promise<void> {
    const checkpoint = await this.runs.checkpoint(meta.sourceId, stream.name);
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
      const commit = (trx: Kysely<Tables>, outcome: IngestOutcome): Promise<void> =>
        this.runs.commitBatch(trx, {
          runId,
          sourceId: meta.sourceId,
          stream: stream.name,
          checkpoint: batch.checkpoint,
          read: batch.records.length,
          written: outcome.written,
          deleted: batch.deletedIds?.length ?? 0,
          quarantine: [...quarantine, ...outcome.rejected.map((r) => ({ record: origins[r.index], reason: r.reason }))],
        });
      if (forgotten.length === 0) {
        await this.ingest.ingest(profiles, meta, commit);
      } else {
        // Records first, then the deletes with the checkpoint: a crash in between re-reads the batch, and storing
        // its records again changes nothing, while its deletes and counters are committed exactly once.
        let outcome: IngestOutcome = { written: 0, rejected: [] };
        await this.ingest.ingest(profiles, meta, async (_trx, o) => {
          outcome = o;
        });
        await this.ingest.forget(forgotten, meta, (trx) => commit(trx, outcome));
      }
    }
  }
}
