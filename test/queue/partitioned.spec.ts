import { loadEnvironment } from '@plexus/config';
import { QueueService } from '@plexus/queue';
import { deleteRedisPrefix, testPrefix, TEST_REDIS_URL } from '../support/redis.js';

/**
 * Partitioned jobs on real BullMQ: one job per id on its partition's queue, and a request for work now brings a
 * job that waits out a delay (a retry's backoff, say) forward instead of leaving the work to wait.
 */
describe('partitioned jobs on real BullMQ', () => {
  const prefix = testPrefix('partitioned');
  let queues: QueueService;

  beforeAll(() => {
    // No workers: the test reads the jobs' states.
    queues = new QueueService(
      loadEnvironment({ REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: '/nonexistent' }),
    );
  });

  afterAll(async () => {
    await queues.beforeApplicationShutdown();
    await deleteRedisPrefix(prefix);
  });

  const payload = { activationId: 'act_1', destinationId: 'dst_1' };

  it('adds one job per id, and a request for now promotes a delayed one', async () => {
    const queue = queues.partitionQueue('activation.deliver', 'dst_1');
    expect(queue.name).toBe('activation-dst_1');
    expect(
      await queues.ensurePartitionedJob('activation.deliver', 'dst_1', payload, 'deliver-1', { delay: 60_000 }),
    ).toBe(true);
    expect(await (await queue.getJob('deliver-1'))!.getState()).toBe('delayed');

    // A second delayed request neither adds a job nor moves the waiting one.
    expect(
      await queues.ensurePartitionedJob('activation.deliver', 'dst_1', payload, 'deliver-1', { delay: 1_000 }),
    ).toBe(false);
    expect(await (await queue.getJob('deliver-1'))!.getState()).toBe('delayed');

    // A request for now brings it forward.
    expect(await queues.ensurePartitionedJob('activation.deliver', 'dst_1', payload, 'deliver-1')).toBe(false);
    expect(await (await queue.getJob('deliver-1'))!.getState()).toBe('waiting');
    expect(await queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 1, delayed: 0 });

    // Already waiting: nothing changes.
    expect(await queues.ensurePartitionedJob('activation.deliver', 'dst_1', payload, 'deliver-1')).toBe(false);
    expect(await queue.getJobCounts('waiting', 'delayed')).toEqual({ waiting: 1, delayed: 0 });
  });

  it('forgets a partition when asked, and opens it again when it is asked for', async () => {
    queues.partitionQueue('activation.deliver', 'dst_gone');
    expect(queues.partitionKeys('activation.deliver')).toEqual(expect.arrayContaining(['dst_1', 'dst_gone']));
    await queues.closePartition('activation.deliver', 'dst_gone');
    expect(queues.partitionKeys('activation.deliver')).not.toContain('dst_gone');
    expect(queues.partitionKeys('activation.deliver')).toContain('dst_1');
    // Its jobs stay in Redis; a new request opens the queue again and finds them.
    expect(await queues.partitionQueue('activation.deliver', 'dst_1').getJobCounts('waiting')).toEqual({ waiting: 1 });
    expect(await queues.ensurePartitionedJob('activation.deliver', 'dst_gone', payload, 'deliver-9')).toBe(true);
    expect(queues.partitionKeys('activation.deliver')).toContain('dst_gone');
  });

  it('removes a partition gone for good: its jobs and keys leave Redis', async () => {
    expect(
      await queues.ensurePartitionedJob('activation.deliver', 'dst_deleted', payload, 'deliver-5', { delay: 60_000 }),
    ).toBe(true);
    const redis = queues.redis;
    const keysOf = () => redis.keys(`${prefix}:activation-dst_deleted:*`);
    expect((await keysOf()).length).toBeGreaterThan(0);
    await queues.removePartition('activation.deliver', 'dst_deleted');
    expect(queues.partitionKeys('activation.deliver')).not.toContain('dst_deleted');
    expect(await keysOf()).toEqual([]);
    // The other partitions keep theirs.
    expect(await queues.partitionQueue('activation.deliver', 'dst_1').getJobCounts('waiting')).toEqual({ waiting: 1 });
  });

  it('refuses a partition key that would break the queue name', () => {
    expect(() => queues.partitionQueue('activation.deliver', 'a:b')).toThrow('invalid partition key');
  });
});
