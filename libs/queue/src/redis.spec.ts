import { assertRedisReachable, RedisUnreachableError } from './redis.js';

describe('assertRedisReachable', () => {
  it('passes against the local Redis', async () => {
    await expect(assertRedisReachable('redis://127.0.0.1:6379')).resolves.toBeUndefined();
  });

  it('fails fast with a message naming the URL and how to start Redis', async () => {
    const started = Date.now();
    const error = await assertRedisReachable('redis://:secret@127.0.0.1:1', 1000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnreachableError);
    const message = (error as Error).message;
    expect(message).toContain('redis://:****@127.0.0.1:1');
    expect(message).not.toContain('secret');
    expect(message).toMatch(/redis-server|REDIS_URL/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
