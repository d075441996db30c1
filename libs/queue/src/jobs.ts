/**
 * Every queue and every job Plexus runs, in one place: which queue a job goes to and what its payload is.
 * Adding a job means adding a line to {@link JobPayloads} and to {@link JOB_QUEUES}.
 */
export const QUEUE_NAMES = ['sync', 'ingest', 'audiences', 'activation', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface JobPayloads {
  /** Round trip through a worker; used by health checks and tests. */
  'system.echo': { message: string; failTimes?: number; permanent?: boolean };
  /** Added by a source's job scheduler: start a run unless one is active. */
  'source.scheduled': { sourceId: string };
  /** Execute (or resume) one sync run. The job id is the run id. */
  'source.sync': { sourceId: string; runId: string };
  /** From the maintenance scheduler: requeue or fail runs whose job was lost, drop abandoned uploads. */
  'runs.reap': Record<string, never>;
  /** Drains the set of profiles that changed and re-evaluates them against every audience (coalesces bursts). */
  'audiences.profiles-changed': Record<string, never>;
  /** Full evaluation of one audience. */
  'audiences.evaluate': { audienceId: string };
  /** Added by a job scheduler: full evaluation of every time-dependent audience, so members age out on time. */
  'audiences.recheck': Record<string, never>;
  /** Runs (or resumes) the pending steps of one privacy request; deferred and run again until every step is done. */
  'privacy.request': { requestId: string };
  /** From the retention scheduler (or `POST /v1/retention/runs`): one sweep of expired data. */
  'privacy.retention': { runId?: number; trigger: 'schedule' | 'api' };
}

export type JobName = keyof JobPayloads;

export const JOB_QUEUES: { [K in JobName]: QueueName } = {
  'system.echo': 'maintenance',
  'source.scheduled': 'sync',
  'source.sync': 'sync',
  'runs.reap': 'maintenance',
  'audiences.profiles-changed': 'audiences',
  'audiences.evaluate': 'audiences',
  'audiences.recheck': 'audiences',
  'privacy.request': 'maintenance',
  'privacy.retention': 'maintenance',
};

/** Retry policy: transient failures back off exponentially (1 s, 2 s, 4 s …); permanent ones stop at once. */
export const DEFAULT_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 1000;
