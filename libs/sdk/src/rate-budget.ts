import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimit } from './connector.js';
import { abortableSleep } from './sleep.js';

/** A budget of requests a connection may make; `acquire` resolves when one request may go out. */
export interface RateBudget {
  /** Waits until a request slot is free (rejects with the signal's reason when aborted). */
  acquire(signal?: AbortSignal): Promise<void>;
}

/**
 * Sliding-window log kept in a sorted set: the members are the admitted requests of the last window,
 * scored by Redis server time so every worker, whatever its clock, judges the same window.
 * Returns 0 when a slot was taken, else the milliseconds until the oldest request leaves the window.
 */
const SLIDING_WINDOW_SCRIPT = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local member = ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
`;

export interface RedisRateBudgetOptions extends RateLimit {
  redis: Redis;
  /** Key prefix of the deployment (the key is `<prefix>:rate:<connectionId>`). */
  prefix: string;
  connectionId: string;
}

/**
 * A per-connection budget of `requests` per `perMs` milliseconds shared by every worker through Redis.
 * At no moment do all workers together have more than `requests` requests admitted within any window of
 * `perMs` milliseconds.
 *
 * @example
 * ```ts
 * const budget = new RedisRateBudget({ redis, prefix: 'plexus', connectionId: 'src_1', requests: 100, perMs: 10_000 });
 * await budget.acquire(ctx.signal);  // then send the request
 * ```
 */
export class RedisRateBudget implements RateBudget {
  readonly key: string;
  private readonly redis: Redis;
  private readonly requests: number;
  private readonly perMs: number;
  private readonly id = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(options: RedisRateBudgetOptions) {
    assertRateLimit(options);
    this.redis = options.redis;
    this.requests = options.requests;
    this.perMs = options.perMs;
    this.key = `${options.prefix}:rate:${options.connectionId}`;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const member = `${this.id}:${this.sequence++}`;
      const wait = Number(await this.redis.eval(SLIDING_WINDOW_SCRIPT, 1, this.key, this.requests, this.perMs, member));
      if (wait <= 0) return;
      await abortableSleep(wait, signal);
    }
  }
}

/**
 * The same sliding window in process memory, for tests, the CLI and single-process runs.
 *
 * @example
 * ```ts
 * const budget = new LocalRateBudget({ requests: 5, perMs: 1000 });
 * ```
 */
export class LocalRateBudget implements RateBudget {
  private readonly admitted: number[] = [];
  private readonly requests: number;
  private readonly perMs: number;

  constructor(limit: RateLimit) {
    assertRateLimit(limit);
    this.requests = limit.requests;
    this.perMs = limit.perMs;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = Date.now();
      while (this.admitted.length > 0 && this.admitted[0] <= now - this.perMs) this.admitted.shift();
      if (this.admitted.length < this.requests) {
        this.admitted.push(now);
        return;
      }
      await abortableSleep(Math.max(1, this.admitted[0] + this.perMs - now), signal);
    }
  }
}

/**
 * A budget of `rate` requests a second. A whole number allows that many in any second (`{ requests: rate, perMs:
 * 1000 }`); a fraction spaces single requests evenly (`1.9` → one per 527 ms), so an account whose vendor allows 2 a
 * second can be given 95 % of it: a budget equal to the vendor's limit meets its throttling whenever two requests'
 * arrivals jitter closer than they were sent.
 *
 * @example rateLimit: (config) => requestsPerSecond((config as MyConfig).requestsPerSecond ?? 10)
 */
export function requestsPerSecond(rate: number): RateLimit {
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`requests per second must be positive, got ${rate}`);
  if (Number.isInteger(rate)) return { requests: rate, perMs: 1000 };
  // Rounded up: never faster than asked (the window's length is whole milliseconds in Redis).
  return { requests: 1, perMs: Math.ceil(1000 / rate) };
}

function assertRateLimit(limit: RateLimit): void {
  if (!Number.isInteger(limit.requests) || limit.requests < 1) {
    throw new RangeError(`rateLimit.requests must be a positive integer, got ${String(limit.requests)}`);
  }
  if (!Number.isFinite(limit.perMs) || limit.perMs <= 0) {
    throw new RangeError(`rateLimit.perMs must be a positive number, got ${String(limit.perMs)}`);
  }
}
