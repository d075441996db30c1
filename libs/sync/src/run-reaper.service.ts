import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Environment } from '@plexus/config';
import { JobHandler, QueueService } from '@plexus/queue';
import { RunRepository, UploadRepository, type RunRecord } from '@plexus/storage';

/** An upload no run reads is dropped after this long (it may still be streaming in before that). */
export const ABANDONED_UPLOAD_MS = 24 * 3_600_000;
const SCAN_LIMIT = 200;

export interface ReapReport {
  /** Runs put back in the queue with a new job. */
  requeued: string[];
  /** Runs failed after losing their job more than RUN_MAX_RECOVERIES times. */
  failed: string[];
  /** Uploads deleted because no run reads them. */
  uploadsDeleted: string[];
}

/**
 * Finds runs that no job will ever move again — their job was lost by Redis, never added (the process died
 * between the run row and `queues.add`), or ended while the run row stayed active — and requeues them, or fails
 * them after `RUN_MAX_RECOVERIES`. A run is only suspected once it has shown no sign of life for `RUN_STALE_MS`
 * (no heartbeat, or a waiting run past its resume time); it is only touched when its job (whose id is the run
 * id) is gone or finished, so a slow run with a live job is left alone. Runs as a BullMQ job scheduler on the
 * maintenance queue, every `RUN_REAPER_INTERVAL_MS`.
 */
@Injectable()
export class RunReaper implements OnApplicationBootstrap {
  private readonly logger = new Logger('RunReaper');

  constructor(
    private readonly runs: RunRepository,
    private readonly uploads: UploadRepository,
    private readonly queues: QueueService,
    private readonly env: Environment,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.queues.onRedisReset(async () => {
      await this.scheduleTicks();
      await this.reap(); // runs whose jobs Redis lost are requeued now, not a tick later
    });
    await this.scheduleTicks();
  }

  private async scheduleTicks(): Promise<void> {
    // Every process upserts the same scheduler: one tick per interval whatever the number of processes.
    await this.queues.schedule(
      'maintenance:runs.reap',
      'runs.reap',
      {},
      {
        everySeconds: this.env.RUN_REAPER_INTERVAL_MS / 1000,
      },
    );
  }

  @JobHandler('runs.reap')
  async reap(): Promise<ReapReport> {
    const report: ReapReport = { requeued: [], failed: [], uploadsDeleted: [] };
    const stale = await this.runs.stale(new Date(Date.now() - this.env.RUN_STALE_MS), SCAN_LIMIT);
    for (const run of stale) {
      const state = await this.queues.jobState('sync', run.id);
      if (state !== undefined && state !== 'completed' && state !== 'failed') continue; // its job will move it
      if (await this.recover(run, state)) report.requeued.push(run.id);
      else if ((await this.runs.find(run.id))?.status === 'failed') report.failed.push(run.id);
    }
    report.uploadsDeleted = await this.uploads.deleteAbandoned(new Date(Date.now() - ABANDONED_UPLOAD_MS));
    if (report.uploadsDeleted.length > 0)
      this.logger.warn(
        `deleted ${report.uploadsDeleted.length} uploads no run reads: ${report.uploadsDeleted.join(', ')}`,
      );
    return report;
  }

  /** Requeues the run (true), or fails it when it has been recovered too often (false). */
  private async recover(run: RunRecord, jobState: string | undefined): Promise<boolean> {
    const lastSeen = (run.status === 'waiting' ? run.resumeAt : (run.heartbeatAt ?? run.createdAt))?.toISOString();
    const why = `run ${run.id} (${run.status}, last sign of life ${lastSeen}) has ${jobState ? `a ${jobState} job` : 'no job'}`;
    if (run.recoveries >= this.env.RUN_MAX_RECOVERIES) {
      const message = `its job was lost ${run.recoveries + 1} times; gave up after ${this.env.RUN_MAX_RECOVERIES} recoveries`;
      this.logger.error(`${why}: ${message}`);
      await this.runs.finish(run.id, 'failed', { type: 'system', message });
      return false;
    }
    // Counted first, guarded by what this scan saw: of two reapers running at once, only one requeues.
    const recovered = await this.runs.recordRecovery(run.id, run);
    if (!recovered) return false; // moved on by another process meanwhile
    await this.queues.ensureJob('source.sync', { sourceId: run.sourceId, runId: run.id }, run.id);
    this.logger.warn(`${why}: requeued (recovery ${recovered.recoveries} of ${this.env.RUN_MAX_RECOVERIES})`);
    return true;
  }
}
