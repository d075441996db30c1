import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Benchmark, Figure } from './harness.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** How many records per second BullMQ carries when jobs hold batches of 100 (the ingest shape). */
const bench: Benchmark = {
  name: 'queue',
  description: 'BullMQ round trip on local Redis: 2,000 jobs of 100 records each, one worker, concurrency 8',
  async run(): Promise<Figure[]> {
    const prefix = `plexus-bench-${randomBytes(3).toString('hex')}`;
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('bench', { connection, prefix });
    const jobs = 2000;
    const records = Array.from({ length: 100 }, (_, i) => ({ email: `person${i}@example.com`, n: i }));
    let done = 0;
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const worker = new Worker('bench', async (job) => (job.data as { records: unknown[] }).records.length, {
      connection,
      prefix,
      concurrency: 8,
    });
    worker.on('completed', () => {
      if (++done === jobs) finish();
    });
    const started = performance.now();
    for (let i = 0; i < jobs; i += 100) {
      await queue.addBulk(
        Array.from({ length: 100 }, () => ({ name: 'batch', data: { records }, opts: { removeOnComplete: true } })),
      );
    }
    await finished;
    const seconds = (performance.now() - started) / 1000;
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
    return [
      { name: 'jobs', value: jobs / seconds, unit: 'jobs/s' },
      { name: 'records carried', value: (jobs * records.length) / seconds, unit: 'records/s' },
    ];
  },
};
export default bench;
