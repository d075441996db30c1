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
