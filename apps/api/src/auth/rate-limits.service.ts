import { hash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { Environment } from '@plexus/config';
import { RateLimitedError } from '@plexus/errors';
import { QueueService } from '@plexus/queue';

/**
 * The API's rate limits, counted in Redis so every API process shares them (rate-limiter-flexible on the shared
 * state connection, one atomic script per call; that connection pipelines the commands of concurrent requests):
 * - failed authentications per client address: after AUTH_FAILURE_LIMIT failures in a window of
 *   AUTH_FAILURE_WINDOW_SECONDS (counted from the first) the address is refused, even with a valid key, until the
 *   window ends, so keys cannot be guessed at speed;
 * - tracking requests per write key per second (WRITE_KEY_RATE_LIMIT, 0 = none).
 */
@Injectable()
export class RateLimits {
  private readonly failures: RateLimiterRedis;
  private readonly writeKeys: RateLimiterRedis | undefined;
  private readonly failureLimit: number;
  private readonly redis: Redis;

  constructor(env: Environment, queues: QueueService) {
    this.failureLimit = env.AUTH_FAILURE_LIMIT;
    this.redis = queues.redis;
    this.failures = new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `${queues.prefix}:rl:auth-fail`,
      points: env.AUTH_FAILURE_LIMIT,
      duration: env.AUTH_FAILURE_WINDOW_SECONDS,
    });
    this.writeKeys =
      env.WRITE_KEY_RATE_LIMIT > 0
        ? new RateLimiterRedis({
            storeClient: this.redis,
            keyPrefix: `${queues.prefix}:rl:write-key`,
            points: env.WRITE_KEY_RATE_LIMIT,
            duration: 1,
          })
        : undefined;
  }

  /**
   * Throws when the address has failed to authenticate too often; call before checking its credentials. A plain
   * GET of the counter (one command, pipelined with the request's other checks); the window's end is read only
   * for an address over the limit, to say when to retry.
   */
  async assertMayAuthenticate(address: string): Promise<void> {
    const consumed = Number((await this.redis.get(this.failures.getKey(address))) ?? 0);
    if (consumed < this.failureLimit) return;
    const state = await this.failures.get(address);
    if (state && state.consumedPoints >= this.failureLimit) throw tooManyFailures(state);
  }

  /** Counts a failed authentication of the address. */
  async recordFailure(address: string): Promise<void> {
    try {
      await this.failures.consume(address);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      // Already over the limit (requests that were checked concurrently): the count stays at its maximum.
    }
  }

  /**
   * Admits a tracking request: its address has not failed too often, and its write key (when it has one) is
   * within its budget. Both checks go to Redis at once, so they cost one round trip of latency.
   */
  async admitTracking(address: string, writeKey: string | undefined): Promise<void> {
    const checks = [this.assertMayAuthenticate(address), writeKey ? this.consumeWriteKey(writeKey) : Promise.resolve()];
    const results = await Promise.allSettled(checks);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }

  /** Counts one tracking request of a write key; throws when the key is over its per-second limit. */
  async consumeWriteKey(writeKey: string): Promise<void> {
    if (!this.writeKeys) return;
    try {
      await this.writeKeys.consume(hash('sha256', writeKey, 'hex'));
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw new RateLimitedError(
        `Too many requests for this write key (limit ${this.writeKeys.points} per second)`,
        retryAfter(error),
      );
    }
  }
}

function retryAfter(state: RateLimiterRes): number {
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}

function tooManyFailures(state: RateLimiterRes): RateLimitedError {
  return new RateLimitedError('Too many failed authentications from this address; try again later', retryAfter(state));
}
