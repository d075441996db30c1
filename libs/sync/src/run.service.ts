import { Injectable, Logger } from '@nestjs/common';
import { ConflictError, NotFoundError } from '@plexus/errors';
import { QueueService } from '@plexus/queue';
import { ConnectionService } from '@plexus/connectors';
import { RunRepository, type RunRecord, type StreamProgress } from '@plexus/storage';

export interface RunView extends Omit<
  RunRecord,
  'options' | 'cancelRequested' | 'attempts' | 'createdAt' | 'resumeAt' | 'recoveries' | 'heartbeatAt'
> {
  createdAt: Date;
  /** When a `waiting` run resumes (a vendor limit parked it; `error` says which). */
  resumeAt?: Date;
  streams?: StreamProgress[];
}

export function runView(run: RunRecord, streams?: StreamProgress[]): RunView {
  return {
    id: run.id,
    sourceId: run.sourceId,
    status: run.status,
    trigger: run.trigger,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    stats: run.stats,
    checkpoint: run.checkpoint,
    ...(run.status === 'waiting' && run.resumeAt ? { resumeAt: run.resumeAt } : {}),
    ...(run.error ? { error: run.error } : {}),
    ...(streams ? { streams } : {}),
  };
}

function activeRunConflict(sourceId: string, run: RunRecord): ConflictError {
  return new ConflictError(`Source ${sourceId} already has an active run ${run.id} (${run.status})`, {
    runId: run.id,
    status: run.status,
  });
}

/** Starting, listing and cancelling sync runs. A source never has two runs at once. */
@Injectable()
export class RunService {
  private readonly logger = new Logger('Sync');

  constructor(
    private readonly runs: RunRepository,
    private readonly connections: ConnectionService,
    private readonly queues: QueueService,
  ) {}

  /**
   * Queues a run of the source. With `exclusive`, an active run is a conflict (409); otherwise the active run is
   * returned as is (schedulers use that).
   */
  async start(
    sourceId: string,
    trigger: string,
    options: Record<string, unknown> = {},
    exclusive = true,
  ): Promise<{ run: RunRecord; created: boolean }> {
    await this.connections.row('source', sourceId);
    const result = await this.runs.createRun(sourceId, trigger, options);
    if (!result.created) {
      if (exclusive) throw activeRunConflict(sourceId, result.run);
      return result;
    }
    // The job id is the run id: BullMQ never holds two jobs for one run.
    try {
      await this.queues.add('source.sync', { sourceId, runId: result.run.id }, { jobId: result.run.id });
    } catch (error) {
      // Without its job the run would block the source: end it with the reason, and let the caller know.
      const message = `could not be queued: ${(error as Error).message}`;
      this.logger.error(`run ${result.run.id} ${message}`);
      await this.runs.finish(result.run.id, 'failed', { type: 'system', message });
      throw error;
    }
    return result;
  }

  /** Throws the 409 of {@link start} when the source has an active run. */
  async assertIdle(sourceId: string): Promise<void> {
    const active = await this.runs.activeRun(sourceId);
    if (active) throw activeRunConflict(sourceId, active);
  }

  async get(runId: string): Promise<RunView> {
    const run = await this.runs.find(runId);
    if (!run) throw new NotFoundError(`No run ${runId}`);
    return runView(run, await this.runs.streams(runId));
  }

  async list(sourceId: string, limit: number, before?: string): Promise<RunView[]> {
    await this.connections.row('source', sourceId);
    return (await this.runs.list(sourceId, limit, before)).map((r) => runView(r));
  }

  /** A queued or waiting run is cancelled at once; a running one stops after its current batch. */
  async cancel(runId: string): Promise<RunView> {
    const run = await this.runs.requestCancel(runId);
    if (!run) throw new NotFoundError(`No run ${runId}`);
    // A job a worker already took finds the run cancelled and ends; any other error (Redis) surfaces.
    if (run.status === 'cancelled') await this.queues.removeJob('sync', runId);
    return runView(run);
  }
}
