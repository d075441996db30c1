import { Redis } from 'ioredis';
import { deleteRedisPrefix, testPrefix, TEST_REDIS_URL } from '../../../test/support/redis.js';
import { createConnectorContext, createRedactingLogger } from './context.js';
import { ConfigurationError } from './errors.js';
import { startFixtureServer } from './testing/fixture-server.js';
import source from './testing/__example__/example-crm.connector.js';

describe('createConnectorContext', () => {
  const prefix = testPrefix('sdk-context');
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  afterAll(async () => {
    redis.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it('builds the HTTP client from the manifest: base URL, auth, the Redis rate budget, redacted errors', async () => {
    const api = await startFixtureServer((req) =>
      req.headers.authorization === 'Bearer tok-secret-1'
        ? { body: { ok: true } }
        : { status: 401, body: { message: 'no' } },
    );
    try {
      const lines: string[] = [];
      const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => lines.push(m) };
      const ctx = createConnectorContext({
        definition: source,
        config: { baseUrl: api.url, token: 'tok-secret-1' },
        connectionId: 'src_ctx',
        redis,
        redisPrefix: prefix,
        logger,
      });
      expect((await ctx.http.get('/me')).data).toEqual({ ok: true });
      // The manifest's rateLimit is kept in Redis under the connection's key.
      expect(await redis.zcard(`${prefix}:rate:src_ctx`)).toBe(1);

      ctx.log.warn('token is tok-secret-1', { token: 'tok-secret-1', nested: { header: 'Bearer tok-secret-1' } });
      expect(lines).toEqual(['token is [redacted]']);

      const bad = createConnectorContext({
        definition: source,
        config: { baseUrl: api.url, token: 'wrong' },
        connectionId: 'x',
      });
      const error = await bad.http.get('/me').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/check the token setting$/);
    } finally {
      await api.close();
    }
  });

  it('derives the rate budget from the configuration when rateLimit is a function', async () => {
    const api = await startFixtureServer(() => ({ body: { ok: true } }));
    try {
      const definition = {
        ...source,
        rateLimit: (config: unknown) => ({ requests: (config as { perSecond: number }).perSecond, perMs: 60_000 }),
      };
      const config = { baseUrl: api.url, token: 't', perSecond: 2 };
      const ctx = createConnectorContext({
        definition,
        config,
        connectionId: 'src_fn',
        redis,
        redisPrefix: prefix,
      });
      await ctx.http.get('/a');
      await ctx.http.get('/b');
      const third = ctx.http.get('/c', { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
      // The third request waits for the budget of 2 per minute, so it is cancelled by its timeout.
      expect(((await third) as Error).name).toBe('CancelledError');
      expect(await redis.zcard(`${prefix}:rate:src_fn`)).toBe(2);
    } finally {
      await api.close();
    }
  });

  it('redacts log fields', () => {
    const seen: unknown[] = [];
    const log = createRedactingLogger({ debug() {}, warn() {}, error() {}, info: (_m, f) => seen.push(f) }, ['pw-123']);
    log.info('x', { url: 'https://u:pw-123@host/', headers: { Authorization: 'Basic abc' } });
    expect(seen).toEqual([{ url: 'https://u:[redacted]@host/', headers: { Authorization: '[redacted]' } }]);
  });
});
