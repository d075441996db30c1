import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { loadEnvironment } from '@plexus/config';
import { QueueService } from '@plexus/queue';
import { RateLimits } from '../apps/api/src/auth/rate-limits.service.js';
import type { Benchmark, Figure } from './harness.js';
import { deleteRedisPrefix } from '../test/support/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUESTS = 20_000;
const CONCURRENCY = 32;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Runs `op` REQUESTS times with CONCURRENCY in flight; answers the rate and the sorted latencies in ms. */
async function measure(op: (worker: number) => Promise<unknown>): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (next < REQUESTS) {
        next++;
        const t0 = performance.now();
        await op(worker);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: latencies.length / seconds, latencies: latencies.sort((a, b) => a - b) };
}

/**
 * What the rate limits add to each tracking request: the failed-authentication check of the client address
 * and the write key's budget, both in Redis (one GET and one script call, sent together), measured with 32
 * requests in flight, beside one plain Redis round trip (PING) on the same connection as the floor.
 */
const bench: Benchmark = {
  name: 'rate-limits',
  description: `per-request cost of the Redis rate limits of a tracking call (${REQUESTS.toLocaleString('en-US')} calls, ${CONCURRENCY} in flight)`,
  async run(): Promise<Figure[]> {
    const prefix = `plexus-bench-rl-${randomBytes(4).toString('hex')}`;
    const env = loadEnvironment({ REDIS_URL, QUEUE_PREFIX: prefix, WRITE_KEY_RATE_LIMIT: '1000000000' });
    const queues = new QueueService(env);
    const limits = new RateLimits(env, queues);
    try {
      const floor = await measure(() => queues.redis.ping());
      const limited = await measure((worker) => limits.admitTracking(`10.0.${worker}.1`, `wk_bench_${worker % 4}`));
      return [
        { name: 'rate-limit checks', value: limited.perSecond, unit: 'requests/s' },
        { name: 'added latency p50', value: percentile(limited.latencies, 50), unit: 'ms' },
        { name: 'added latency p99', value: percentile(limited.latencies, 99), unit: 'ms' },
        { name: 'one Redis PING (floor)', value: floor.perSecond, unit: 'requests/s' },
        { name: 'one Redis PING p50', value: percentile(floor.latencies, 50), unit: 'ms' },
      ];
    } finally {
      await queues.beforeApplicationShutdown();
      await deleteRedisPrefix(prefix, REDIS_URL);
    }
  },
};

export default bench;
