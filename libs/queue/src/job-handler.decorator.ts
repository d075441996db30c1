import { SetMetadata } from '@nestjs/common';
import type { JobName } from './jobs.js';

export const JOB_HANDLER = Symbol('plexus:job-handler');

/**
 * Marks a provider method as the handler of one job. The worker discovers it and runs it on the job's queue.
 *
 * @example
 * ```ts
 * @JobHandler('source.sync')
 * async sync(payload: JobPayloads['source.sync']) { ... }
 * ```
 */
export const JobHandler = (job: JobName): MethodDecorator => SetMetadata(JOB_HANDLER, job);
