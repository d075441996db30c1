import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { PermanentJobError } from './job-errors.js';
import { JobHandler } from './job-handler.decorator.js';
import type { JobPayloads } from './jobs.js';

/** A job that proves the worker path end to end: it echoes, or fails the number of times asked. */
@Injectable()
export class EchoJob {
  @JobHandler('system.echo')
  async echo(payload: JobPayloads['system.echo'], job: Job): Promise<string> {
    if (payload.permanent) throw new PermanentJobError(`refused: ${payload.message}`);
    if (payload.failTimes && job.attemptsMade < payload.failTimes) {
      throw new Error(`transient failure ${job.attemptsMade + 1} of ${payload.failTimes}`);
    }
    return payload.message;
  }
}
