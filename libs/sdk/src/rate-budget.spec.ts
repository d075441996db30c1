import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { deleteRedisPrefix, testPrefix, TEST_REDIS_URL } from '../../../test/support/redis.js';
import { LocalRateBudget, RedisRateBudget, requestsPerSecond } from './rate-budget.js';

describe('RedisRateBudget', () => {
  const prefix = testPrefix('sdk-rate');
  const clients: Redis[] = [];
  const client = () => {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    clients.push(redis);
    return redis;
  };

  afterAll(async () => {
    clients.forEach((c) => c.disconnect());
    await deleteRedisPrefix(prefix);
  });

  it('lets two budgets sharing one key admit no more than the limit together in any window', async () => {
    // A window long enough that a busy machine's event-loop stall (which delays when a test sees an admission,
    // not when Redis made it) stays well inside the tolerance.
    const limit = { requests: 5, perMs: 1_000 };
    const a = new RedisRateBudget({ redis: client(), prefix, connectionId: 'shared', ...limit });
    const b = new RedisRateBudget({ redis: client(), prefix, connectionId: 'shared', ...limit });
    expect(a.key).toBe(`${prefix}:rate:shared`);
    const admitted: number[] = [];
    const take = async (budget: RedisRateBudget) => {
      await budget.acquire();
      admitted.push(Date.now());
    };
    await Promise.all([...Array.from({ length: 10 }, () => take(a)), ...Array.from({ length: 10 }, () => take(b))]);
    admitted.sort((x, y) => x - y);
    expect(admitted).toHaveLength(20);
    // Any 6 consecutive admissions must span at least one window (minus clock granularity between processes).
    for (let i = 0; i + 5 < admitted.length; i++) {
      expect(admitted[i + 5] - admitted[i]).toBeGreaterThanOrEqual(limit.perMs - 100);
    }
    // And the first five went out without waiting for a window.
    expect(admitted[4] - admitted[0]).toBeLessThan(limit.perMs);
  });

  it('keeps connections apart', async () => {
    const redis = client();
    const x = new RedisRateBudget({ redis, prefix, connectionId: 'x', requests: 1, perMs: 60_000 });
    const y = new RedisRateBudget({ redis, prefix, connectionId: 'y', requests: 1, perMs: 60_000 });
    await x.acquire();
    await y.acquire();
    const controller = new AbortController();
    const blocked = x.acquire(controller.signal);
    setTimeout(() => controller.abort(new Error('stop')), 30);
    await expect(blocked).rejects.toThrow('stop');
  });

  it('rejects a nonsensical limit', () => {
    expect(() => new RedisRateBudget({ redis: client(), prefix, connectionId: 'z', requests: 0, perMs: 10 })).toThrow(
      RangeError,
    );
  });
});

describe('LocalRateBudget', () => {
  afterEach(() => jest.useRealTimers());

  it('admits at most the limit per window', async () => {
    // Fake timers: the clock moves only when the test moves it, so an admission's time is the time the budget
    // admitted it, whatever the machine's load.
    jest.useFakeTimers({ now: 1_000_000 });
    const budget = new LocalRateBudget({ requests: 3, perMs: 200 });
    const admitted: number[] = [];
    const all = Promise.all(Array.from({ length: 7 }, async () => (await budget.acquire(), admitted.push(Date.now()))));
    await jest.advanceTimersByTimeAsync(1_000);
    await all;
    expect(admitted).toHaveLength(7);
    admitted.sort((x, y) => x - y);
    expect(admitted.slice(0, 3)).toEqual([1_000_000, 1_000_000, 1_000_000]);
    for (let i = 0; i + 3 < admitted.length; i++) expect(admitted[i + 3] - admitted[i]).toBeGreaterThanOrEqual(200);
    // And no later than needed: the fourth goes out as soon as the first leaves the window.
    expect(admitted[3]).toBeLessThanOrEqual(1_000_200 + 1);
  });
});

describe('requestsPerSecond', () => {
  afterEach(() => jest.useRealTimers());

  it('keeps whole numbers as a one-second window and spaces fractions evenly, never faster than asked', () => {
    expect(requestsPerSecond(2)).toEqual({ requests: 2, perMs: 1000 });
    expect(requestsPerSecond(1.9)).toEqual({ requests: 1, perMs: 527 });
    expect(requestsPerSecond(0.5)).toEqual({ requests: 1, perMs: 2000 });
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => requestsPerSecond(rate)).toThrow(RangeError);
  });

  it('1.9 a second never puts three requests in one second: a vendor allowing 2 keeps a 5 % margin', async () => {
    jest.useFakeTimers({ now: 2_000_000 });
    const budget = new LocalRateBudget(requestsPerSecond(1.9));
    const admitted: number[] = [];
    const all = Promise.all(
      Array.from({ length: 12 }, async () => (await budget.acquire(), admitted.push(Date.now()))),
    );
    await jest.advanceTimersByTimeAsync(10_000);
    await all;
    admitted.sort((x, y) => x - y);
    for (let i = 0; i + 1 < admitted.length; i++) expect(admitted[i + 1] - admitted[i]).toBeGreaterThanOrEqual(527);
    for (let i = 0; i + 2 < admitted.length; i++) expect(admitted[i + 2] - admitted[i]).toBeGreaterThan(1_050);
    // At the rate asked for: 12 requests over 11 gaps.
    expect(admitted[11] - admitted[0]).toBeLessThanOrEqual(11 * 527 + 11);
  });
});
