import { loadEnvironment } from '@plexus/config';
import { PermanentJobError, QueueService, type Job } from '@plexus/queue';
import { deleteRedisPrefix, testPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { until as waitFor } from '../support/wait.js';

/**
 * The retry policy every job gets, on real BullMQ: a transient failure is retried with backoff, a permanent one
 * stops at once and stays listable. The handler is the test's own, bound to a production job name, so no job
 * exists in production only for tests.
 */
describe('job retries on real BullMQ', () => {
  const prefix = testPrefix('retries');
  let queues: QueueService;
  const seen: Array<{ id: string; attempt: number }> = [];

  beforeAll(() => {
    queues = new QueueService(
      loadEnvironment({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: '/nonexistent' }),
    );
    queues.startWorkers(
      new Map([
        [
          'runs.reap',
          async (_payload: unknown, job: Job) => {
            seen.push({ id: job.id!, attempt: job.attemptsMade });
            if (job.id === 'permanent') throw new PermanentJobError('refused');
            if (job.attemptsMade < 1) throw new Error('transient failure');
            return 'done';
          },
        ],
      ]),
      1,
    );
  });

  afterAll(async () => {
    await queues.beforeApplicationShutdown();
    await deleteRedisPrefix(prefix);
  });

  it('retries a transient failure with backoff and completes', async () => {
    const job = await queues.add('runs.reap', {}, { jobId: 'transient', backoff: { type: 'fixed', delay: 10 } });
    await waitFor(async () => ((await job.isCompleted()) ? true : undefined));
    const done = await queues.queue('maintenance').getJob('transient');
    expect(done?.returnvalue).toBe('done');
    expect(done?.attemptsMade).toBe(2);
    expect(seen.filter((s) => s.id === 'transient').map((s) => s.attempt)).toEqual([0, 1]);
  });

  it('stops a permanent failure after one attempt and keeps it failed', async () => {
    await queues.add('runs.reap', {}, { jobId: 'permanent' });
    const failed = await waitFor(async () => {
      const jobs = await queues.queue('maintenance').getFailed();
      return jobs.find((j) => j.id === 'permanent');
    });
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toBe('refused');
    expect(seen.filter((s) => s.id === 'permanent')).toHaveLength(1);
  });
});
