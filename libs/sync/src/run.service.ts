import { Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError } from '@plexus/errors';
import { QueueService } from '@plexus/queue';
import { ConnectionService } from '@plexus/connectors';
import { RunRepository, type RunRecord, type StreamProgress } from '@plexus/storage';

export interface RunView extends Omit<RunRecord, 'options' | 'cancelRequested' | 'attempts' | 'createdAt'> {
  createdAt: Date;
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
    ...(run.error ? { error: run.error } : {}),
    ...(streams ? { streams } : {}),
  };
}

/** Starting, listing and cancelling sync runs. A source never has two runs at once. */
@Injectable()
export class RunService {
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
      if (exclusive) {
        throw new ConflictError(
          `Source ${sourceId} already has an active run ${result.run.id} (${result.run.status})`,
          {
            runId: result.run.id,
            status: result.run.status,
          },
        );
      }
      return result;
    }
    // The job id is the run id: BullMQ never holds two jobs for one run.
    await this.queues.add('source.sync', { sourceId, runId: result.run.id }, { jobId: result.run.id });
    return result;
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

  /** A queued run is cancelled at once; a running one stops after its current batch. */
  async cancel(runId: string): Promise<RunView> {
    const run = await this.runs.requestCancel(runId);
    if (!run) throw new NotFoundError(`No run ${runId}`);
    if (run.status === 'cancelled')
      await this.queues
        .queue('sync')
        .remove(runId)
        .catch(() => 0);
    return runView(run);
  }
}
