import { Redis, type RedisOptions } from 'ioredis';

export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '****';
    return parsed.toString();
  } catch {
    return url;
  }
}

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  // BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait, not fail).
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
}

export class RedisUnreachableError extends Error {
  constructor(url: string, cause: string) {
    super(
      `Cannot reach Redis at ${redactRedisUrl(url)} (${cause}). ` +
        'Start Redis (for example `redis-server --daemonize yes`) or point REDIS_URL at a running server.',
    );
    this.name = 'RedisUnreachableError';
  }
}

/** Connects once, without retrying, and PINGs; throws {@link RedisUnreachableError} within `timeoutMs`. */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new RedisUnreachableError(url, (error as Error).message || String(error));
  } finally {
    client.disconnect();
  }
}
