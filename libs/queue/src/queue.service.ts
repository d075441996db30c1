import { Injectable, Logger, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job, Queue, Worker, type JobsOptions, type JobState, type RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { Environment } from '@plexus/config';
import { Metrics } from '@plexus/observability';
import type { Histogram } from 'prom-client';
import { DeferJobError, PermanentJobError } from './job-errors.js';
import { createRedis } from './redis.js';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  JOB_QUEUES,
  PARTITIONED_JOBS,
  QUEUE_NAMES,
  type JobName,
  type JobPayloads,
  type QueueName,
} from './jobs.js';

export type JobHandlerFn = (payload: unknown, job: Job) => Promise<unknown>;

export interface FailedJob {
  id: string;
  queue: QueueName;
  name: string;
  data: unknown;
  failedReason: string;
  attemptsMade: number;
  finishedOn: number | null;
}

export type Schedule = { cron: string; tz?: string } | { everySeconds: number };

/** How often a process checks that Redis still holds the deployment's data (see `onRedisReset`). */
const EPOCH_CHECK_MS = 5_000;

/** The one place that creates BullMQ queues and workers. Every key lives under QUEUE_PREFIX. */
@Injectable()
export class QueueService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Queue');
  private readonly connection: Redis;
  private stateConnection?: Redis;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];
  private readonly partitionQueues = new Map<string, Queue>();
  private readonly partitionHandlers = new Map<JobName, JobHandlerFn>();
  private readonly partitionWorkers = new Map<string, Worker>();
  private workerConcurrency = 1;

  private readonly resetListeners: Array<() => Promise<void>> = [];
  private epochCheck: Promise<void> = Promise.resolve();
  private epochKnown = false;
  private readonly epochTimer: NodeJS.Timeout;

  /** How long jobs ran in this process, by queue (partitions under their queue), job and outcome. */
  private readonly durations?: Histogram<'queue' | 'job' | 'outcome'>;

  constructor(
    private readonly env: Environment,
    @Optional() metrics?: Metrics,
  ) {
    this.durations = metrics?.histogram(
      'plexus_job_duration_seconds',
      'Time a worker spent on a job, by queue, job and outcome (completed, failed, deferred)',
      ['queue', 'job', 'outcome'],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    );
    this.connection = createRedis(env.REDIS_URL);
    this.connection.on('error', (error) => this.logger.error(`redis: ${error.message}`));
    // A Redis restarted without its data loses every queue, job and scheduler. Each (re)connection, and a timer
    // for restarts too quick to drop the connection, checks a marker key; whoever finds it gone re-creates the
    // schedulers from what PostgreSQL holds (see onRedisReset), and recovery jobs take it from there.
    this.connection.on('ready', () => this.checkEpoch());
    this.epochTimer = setInterval(() => this.checkEpoch(), EPOCH_CHECK_MS);
    this.epochTimer.unref();
  }

  /**
   * Registers what to re-create when Redis comes back empty (job schedulers, wake-up jobs). Runs in one process
   * of the deployment: the first to notice.
   */
  onRedisReset(listener: () => Promise<void>): void {
    this.resetListeners.push(listener);
  }

  private checkEpoch(): void {
    this.epochCheck = this.epochCheck.then(async () => {
      if (this.connection.status !== 'ready') return;
      try {
        const created = await this.connection.set(`${this.prefix}:epoch`, String(Date.now()), 'NX');
        const first = !this.epochKnown;
        this.epochKnown = true;
        if (created !== 'OK' || first) return;
        this.logger.warn('Redis lost its data: re-creating job schedulers and recovering pending work');
        for (const listener of this.resetListeners) {
          await listener().catch((error: unknown) =>
            this.logger.error(`recovery after a Redis reset failed: ${(error as Error).message}`),
          );
        }
      } catch (error) {
        this.logger.warn(`redis epoch check: ${(error as Error).message}`);
      }
    });
  }

  get prefix(): string {
    return this.env.QUEUE_PREFIX;
  }

  /**
   * A Redis connection for other shared state (rate limits and budgets, locks), under the same prefix rules, opened
   * on first use. It is not the queues' connection: BullMQ defines its fifty-odd scripts on that one, and ioredis
   * copies every defined script onto each `multi()`/`pipeline()` made from it (tens of microseconds each), which
   * the rate limits did on every API request.
   */
  get redis(): Redis {
    if (!this.stateConnection) {
      // Commands issued in the same tick (a tracking request's two rate checks, concurrent requests' checks) go
      // out in one write: on loopback each write costs tens of microseconds of system time.
      this.stateConnection = createRedis(this.env.REDIS_URL, { enableAutoPipelining: true });
      this.stateConnection.on('error', (error) => this.logger.error(`redis: ${error.message}`));
    }
    return this.stateConnection;
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async add<K extends JobName>(job: K, payload: JobPayloads[K], options: JobsOptions = {}): Promise<Job> {
    return this.queue(JOB_QUEUES[job]).add(job, payload, {
      attempts: DEFAULT_ATTEMPTS,
      backoff: { type: 'exponential', delay: DEFAULT_BACKOFF_MS },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: false,
      ...options,
    });
  }

  /**
   * Adds the job under `jobId` unless a job with that id is already waiting, delayed or running, so enqueueing
   * twice never runs the work twice. A finished (completed or failed) job under that id is replaced. Returns
   * whether a job was added.
   */
  async ensureJob<K extends JobName>(job: K, payload: JobPayloads[K], jobId: string): Promise<boolean> {
    const queue = this.queue(JOB_QUEUES[job]);
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
      await existing.remove();
    }
    await this.add(job, payload, { jobId });
    return true;
  }

  /** The state of a job (`waiting`, `active`, `delayed`, `completed`, `failed`…), or undefined when there is none. */
  async jobState(name: QueueName, jobId: string): Promise<JobState | undefined> {
    const state = await this.queue(name).getJobState(jobId);
    return state === 'unknown' ? undefined : state;
  }

  /**
   * Removes a job that has not started (or has ended). A running job is left alone and false returned: its
   * handler sees for itself that the work is no longer wanted.
   */
  async removeJob(name: QueueName, jobId: string): Promise<boolean> {
    const job = await this.queue(name).getJob(jobId);
    if (!job || (await job.isActive())) return false;
    try {
      await job.remove();
      return true;
    } catch (error) {
      // Taken by a worker between the two calls: it holds the lock now and will find the work cancelled.
      if (await job.isActive()) return false;
      throw error;
    }
  }

  /** The queue name of one partition of a partitioned job: `<queue>-<key>` (the key may not contain `:`). */
  private partitionName(job: JobName, key: string): string {
    if (!PARTITIONED_JOBS.has(job)) throw new Error(`${job} is not a partitioned job`);
    if (!/^[\w.-]+$/.test(key)) throw new Error(`invalid partition key ${key}`);
    return `${JOB_QUEUES[job]}-${key}`;
  }

  /** The queue of one partition of a partitioned job (see {@link partitionName}). */
  partitionQueue(job: JobName, key: string): Queue {
    const name = this.partitionName(job, key);
    let queue = this.partitionQueues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.partitionQueues.set(name, queue);
    }
    return queue;
  }

  /**
   * Adds a partitioned job under `jobId` on its partition's queue unless one is waiting, delayed or running there
   * (see {@link ensureJob}), and makes sure this process works on that partition when it runs workers.
   */
  async ensurePartitionedJob<K extends JobName>(
    job: K,
    key: string,
    payload: JobPayloads[K],
    jobId: string,
    options: JobsOptions = {},
  ): Promise<boolean> {
    const queue = this.partitionQueue(job, key);
    this.ensurePartitionWorker(job, key);
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'delayed') {
        // Asked for now (a resume, a replay, new work) while the job waits out a delay or a retry's backoff: bring
        // it forward. The handler decides again whether the work is due, so an early run is harmless; a late one
        // is not. A delayed request leaves the waiting job as it is.
        if (!options.delay) {
          try {
            await existing.promote();
          } catch {
            // It left the delayed set meanwhile (promoted or started): it runs soon either way.
          }
        }
        return false;
      }
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
      await existing.remove();
    }
    await queue.add(job, payload, {
      attempts: DEFAULT_ATTEMPTS,
      backoff: { type: 'exponential', delay: DEFAULT_BACKOFF_MS },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
      ...options,
      jobId,
    });
    return true;
  }

  /** Starts this process's worker on a partition's queue, once, when it runs workers for the job. */
  ensurePartitionWorker(job: JobName, key: string): void {
    const handler = this.partitionHandlers.get(job);
    const name = this.partitionQueue(job, key).name;
    if (!handler || this.partitionWorkers.has(name)) return;
    const worker = this.createWorker(name, new Map([[job, handler]]), this.workerConcurrency);
    this.partitionWorkers.set(name, worker);
    this.workers.push(worker);
  }

  /** The keys of the partitions of `job` this process has a queue for (and a worker, when it runs them). */
  partitionKeys(job: JobName): string[] {
    const start = `${JOB_QUEUES[job]}-`;
    return [...this.partitionQueues.keys()].filter((n) => n.startsWith(start)).map((n) => n.slice(start.length));
  }

  /**
   * Forgets a partition whose key is gone for good (a deleted destination): closes this process's worker on it
   * (after its running job) and its queue, so the process does not keep a Redis connection polling it for ever.
   * Asked for again, the partition is opened again.
   */
  async closePartition(job: JobName, key: string): Promise<void> {
    const name = `${JOB_QUEUES[job]}-${key}`;
    const worker = this.partitionWorkers.get(name);
    this.partitionWorkers.delete(name);
    const queue = this.partitionQueues.get(name);
    this.partitionQueues.delete(name);
    if (worker) {
      this.workers.splice(this.workers.indexOf(worker), 1);
      await worker.close();
    }
    await queue?.close();
  }

  /**
   * Closes a partition whose key is gone for good, like {@link closePartition}, and removes its queue's keys from
   * Redis: its jobs, the failed ones kept for inspection included, can no longer be run (their destination is
   * deleted). A worker of another process still on it closes at that process's next look; its running job fails.
   */
  async removePartition(job: JobName, key: string): Promise<void> {
    const name = this.partitionName(job, key);
    await this.closePartition(job, key);
    // A queue object of its own, not kept: asked for again, the partition is opened again (empty).
    const queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }

  /** Creates or updates a job scheduler (cron or fixed interval) that adds `job` with `payload`. */
  async schedule<K extends JobName>(
    schedulerId: string,
    job: K,
    payload: JobPayloads[K],
    schedule: Schedule,
  ): Promise<void> {
    const repeat: Omit<RepeatOptions, 'key'> =
      'cron' in schedule ? { pattern: schedule.cron, tz: schedule.tz } : { every: schedule.everySeconds * 1000 };
    await this.queue(JOB_QUEUES[job]).upsertJobScheduler(schedulerId, repeat, {
      name: job,
      data: payload,
      opts: {
        attempts: DEFAULT_ATTEMPTS,
        backoff: { type: 'exponential', delay: DEFAULT_BACKOFF_MS },
        // A scheduler ticks for ever: keep a day of its completed jobs, not all of them.
        removeOnComplete: { age: 24 * 3600, count: 1000 },
        removeOnFail: false,
      },
    });
  }

  async unschedule(job: JobName, schedulerId: string): Promise<boolean> {
    return this.queue(JOB_QUEUES[job]).removeJobScheduler(schedulerId);
  }

  async schedulers(
    job: JobName,
  ): Promise<Array<{ id: string; pattern?: string | null; every?: number | null; next?: number }>> {
    const list = await this.queue(JOB_QUEUES[job]).getJobSchedulers();
    return list.map((s) => ({ id: s.key, pattern: s.pattern, every: s.every ? Number(s.every) : null, next: s.next }));
  }

  /**
   * Starts one BullMQ worker per queue that has handlers. A job whose name has no handler fails permanently:
   * a worker of an older version must not retry what it cannot run.
   */
  startWorkers(handlers: Map<JobName, JobHandlerFn>, concurrency = this.env.WORKER_CONCURRENCY): void {
    const byQueue = new Map<QueueName, Map<string, JobHandlerFn>>();
    this.workerConcurrency = concurrency;
    for (const [job, handler] of handlers) {
      if (PARTITIONED_JOBS.has(job)) {
        this.partitionHandlers.set(job, handler);
        continue;
      }
      const queue = JOB_QUEUES[job];
      if (!byQueue.has(queue)) byQueue.set(queue, new Map());
      byQueue.get(queue)!.set(job, handler);
    }
    for (const [queue, queueHandlers] of byQueue)
      this.workers.push(this.createWorker(queue, queueHandlers, concurrency));
    if (byQueue.size > 0) this.logger.log(`workers on ${[...byQueue.keys()].join(', ')} (concurrency ${concurrency})`);
  }

  private createWorker(queue: string, queueHandlers: Map<string, JobHandlerFn>, concurrency: number): Worker {
    const worker = new Worker(
      queue,
      async (job: Job, token?: string) => {
        const handler = queueHandlers.get(job.name);
        if (!handler) throw new PermanentJobError(`no handler for job ${job.name}`);
        const timer = this.durations?.startTimer({ queue: JOB_QUEUES[job.name as JobName] ?? queue, job: job.name });
        try {
          const result: unknown = await handler(job.data, job);
          timer?.({ outcome: 'completed' });
          return result;
        } catch (error) {
          timer?.({ outcome: error instanceof DeferJobError ? 'deferred' : 'failed' });
          if (!(error instanceof DeferJobError)) throw error;
          // Back to the delayed set under the same id, without counting an attempt.
          await job.moveToDelayed(error.until, token);
          throw new DelayedError(error.message);
        }
      },
      {
        connection: this.connection,
        prefix: this.prefix,
        concurrency,
        autorun: true,
        // A worker that dies keeps its jobs' locks until they expire; then another worker takes them over.
        lockDuration: this.env.JOB_LOCK_MS,
        stalledInterval: Math.max(1000, Math.floor(this.env.JOB_LOCK_MS / 2)),
        maxStalledCount: 3,
      },
    );
    worker.on('failed', (job, error) =>
      this.logger.warn(
        `job ${job?.name ?? '?'} ${job?.id ?? ''} failed (attempt ${job?.attemptsMade ?? 0}): ${error.message}`,
      ),
    );
    worker.on('error', (error) => this.logger.error(`worker ${queue}: ${error.message}`));
    return worker;
  }

  get runningWorkers(): number {
    return this.workers.length;
  }

  /** Waiting, active, delayed and failed counts of every queue. */
  async counts(): Promise<Record<QueueName, Record<string, number>>> {
    const result = {} as Record<QueueName, Record<string, number>>;
    for (const name of QUEUE_NAMES) {
      result[name] = await this.queue(name).getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
        'prioritized',
      );
    }
    return result;
  }

  async failed(name: QueueName, offset: number, limit: number): Promise<FailedJob[]> {
    const jobs = await this.queue(name).getFailed(offset, offset + limit - 1);
    return jobs.map((job) => ({
      id: String(job.id),
      queue: name,
      name: job.name,
      data: job.data as unknown,
      failedReason: job.failedReason,
      attemptsMade: job.attemptsMade,
      finishedOn: job.finishedOn ?? null,
    }));
  }

  async retry(name: QueueName, jobId: string): Promise<boolean> {
    const job = await this.queue(name).getJob(jobId);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed');
    return true;
  }

  /** Stops taking jobs, lets running ones finish for up to `timeoutMs`, then closes every connection. */
  async close(timeoutMs = this.env.SHUTDOWN_TIMEOUT_MS): Promise<void> {
    clearInterval(this.epochTimer);
    const workers = this.workers.splice(0);
    await Promise.all(
      workers.map(async (worker) => {
        let timer: NodeJS.Timeout | undefined;
        const graceful = worker.close().then(() => true);
        const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
        const finished = await Promise.race([graceful, timeout]);
        clearTimeout(timer);
        if (!finished) {
          this.logger.warn(`worker ${worker.name}: jobs still running after ${timeoutMs} ms, closing anyway`);
          await worker.close(true);
        }
      }),
    );
    await Promise.all([...this.queues.values(), ...this.partitionQueues.values()].map((q) => q.close()));
    this.queues.clear();
    this.partitionQueues.clear();
    this.partitionWorkers.clear();
    for (const connection of [this.connection, this.stateConnection])
      if (connection && connection.status !== 'end') await connection.quit().catch(() => connection.disconnect());
  }

  /** Runs before any module closes its connections, so running jobs can still reach the database. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
