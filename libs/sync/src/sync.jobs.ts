import { Injectable, Logger } from '@nestjs/common';
import { JobHandler, type Job, type JobPayloads } from '@plexus/queue';
import { RunService } from './run.service.js';
import { SyncEngine } from './sync.engine.js';

@Injectable()
export class SyncJobs {
  private readonly logger = new Logger('Sync');

  constructor(
    private readonly engine: SyncEngine,
    private readonly runs: RunService,
  ) {}

  @JobHandler('source.sync')
  async sync(payload: JobPayloads['source.sync'], job: Job): Promise<string | undefined> {
    const run = await this.engine.execute(payload.runId, job);
    return run?.status;
  }

  /** From a source's schedule: start a run unless one is already active (then this tick is skipped). */
  @JobHandler('source.scheduled')
  async scheduled(payload: JobPayloads['source.scheduled']): Promise<string> {
    const { run, created } = await this.runs.start(payload.sourceId, 'schedule', {}, false);
    if (!created) this.logger.log(`source ${payload.sourceId}: run ${run.id} still active, schedule tick skipped`);
    return run.id;
  }
}
