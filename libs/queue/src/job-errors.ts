import { UnrecoverableError } from 'bullmq';

/**
 * Thrown by a job handler when retrying cannot help (bad configuration, a record that will never parse).
 * The job fails at once and stays in the failed list; every other error is retried with backoff.
 */
export class PermanentJobError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

/**
 * Thrown by a job handler to put its job aside until `until` (epoch ms) without spending an attempt: the job
 * waits as a delayed job under the same id and runs again then. For waits a vendor imposes (a daily limit).
 */
export class DeferJobError extends Error {
  constructor(
    readonly until: number,
    reason: string,
  ) {
    super(`deferred until ${new Date(until).toISOString()}: ${reason}`);
    this.name = 'DeferJobError';
  }
}
