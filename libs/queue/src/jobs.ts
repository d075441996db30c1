/**
 * Every queue and every job Plexus runs, in one place: which queue a job goes to and what its payload is.
 * Adding a job means adding a line to {@link JobPayloads} and to {@link JOB_QUEUES}.
 */
export const QUEUE_NAMES = ['sync', 'audiences', 'activation', 'maintenance'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface JobPayloads {
  /** Added by a source's job scheduler: start a run unless one is active. */
  'source.scheduled': { sourceId: string };
  /** Execute (or resume) one sync run. The job id is the run id. */
  'source.sync': { sourceId: string; runId: string };
  /** From the maintenance scheduler: requeue or fail runs whose job was lost, drop abandoned uploads. */
  'runs.reap': Record<string, never>;
  /** Drains the set of profiles that changed and re-evaluates them against every audience (coalesces bursts). */
  'audiences.profiles-changed': Record<string, never>;
  /** Added by a job scheduler: full evaluation of every time-dependent audience, so members age out on time. */
  'audiences.recheck': Record<string, never>;
  /** From a job scheduler: find activations with work (new changes, re-checks, retries due) and queue them. */
  'activation.tick': Record<string, never>;
  /** From an activation's own job scheduler (activations with a `schedule`): deliver it now. */
  'activation.scheduled': { activationId: string };
  /** Delivers one activation's pending changes; runs on its destination's own queue (see PARTITIONED_JOBS). */
  'activation.deliver': { activationId: string; destinationId: string };
  /** Runs (or resumes) the pending steps of one privacy request; deferred and run again until every step is done. */
  'privacy.request': { requestId: string };
  /** From the retention scheduler (or `POST /v1/retention/runs`): one sweep of expired data. */
  'privacy.retention': { runId?: number; trigger: 'schedule' | 'api' };
}

export type JobName = keyof JobPayloads;

export const JOB_QUEUES: { [K in JobName]: QueueName } = {
  'source.scheduled': 'sync',
  'source.sync': 'sync',
  'runs.reap': 'maintenance',
  'audiences.profiles-changed': 'audiences',
  'audiences.recheck': 'audiences',
  'activation.tick': 'activation',
  'activation.scheduled': 'activation',
  'activation.deliver': 'activation',
  'privacy.request': 'maintenance',
  'privacy.retention': 'maintenance',
};

/**
 * Jobs that run on a queue of their own per partition key, named `<queue>-<key>`: one per destination for
 * deliveries, so a slow or throttled destination never delays another. Workers for a partition are started
 * on demand (`QueueService.ensurePartitionWorker`).
 */
export const PARTITIONED_JOBS: ReadonlySet<JobName> = new Set<JobName>(['activation.deliver']);

/** Retry policy: transient failures back off exponentially (1 s, 2 s, 4 s …); permanent ones stop at once. */
export const DEFAULT_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 1000;
