import { Redis } from 'ioredis';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { TEST_REDIS_URL } from '../support/redis.js';

const basic = (user: string, password = '') => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

async function send(url: string, init: RequestInit): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('hardening: CSRF, security headers, metrics, PII masking', () => {
  let t: TestApp;
  let adminKey: string;

  beforeAll(async () => {
    t = await startTestApp({ label: 'hardening' });
    adminKey = t.auth.authorization.slice('Bearer '.length);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the admin API takes JSON bodies only: a form or text body is a 415 and changes nothing', async () => {
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'name=evil'],
      ['text/plain', '{"name":"evil"}'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nevil\r\n--x--'],
    ]) {
      const res = await send(`${t.url}/v1/api-keys`, {
        method: 'POST',
        headers: { ...t.auth, 'content-type': type },
        body,
      });
      expect(res.status).toBe(415);
      expect(JSON.parse(res.text).message).toMatch(/application\/json/);
    }
    const keys = await call(t.url, 'GET', '/v1/api-keys', { headers: t.auth });
    expect(keys.body.data.map((k: any) => k.name)).not.toContain('evil');
  });

  it('the admin API refuses Basic credentials (browsers resend them to any site); Bearer works', async () => {
    const res = await call(t.url, 'GET', '/v1/sources', { headers: basic('admin', adminKey) });
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/Bearer/);
    expect((await call(t.url, 'GET', '/v1/sources', { headers: t.auth })).status).toBe(200);
  });

  it('the queue board takes Basic from its own pages but refuses cross-site requests', async () => {
    const prompt = await send(`${t.url}/queues/`, {});
    expect(prompt.status).toBe(401);
    expect(prompt.headers.get('www-authenticate')).toMatch(/^Basic/);
    const own = await send(`${t.url}/queues/`, {
      headers: { ...basic('admin', adminKey), 'sec-fetch-site': 'same-origin' },
    });
    expect(own.status).toBe(200);
    const typed = await send(`${t.url}/queues/`, {
      headers: { ...basic('admin', adminKey), 'sec-fetch-site': 'none' },
    });
    expect(typed.status).toBe(200);
    const cross = await send(`${t.url}/queues/api/queues`, {
      headers: { ...basic('admin', adminKey), 'sec-fetch-site': 'cross-site' },
    });
    expect(cross.status).toBe(403);
    const oldBrowser = await send(`${t.url}/queues/api/queues`, {
      headers: { ...basic('admin', adminKey), origin: 'https://evil.example' },
    });
    expect(oldBrowser.status).toBe(403);
    const sameOrigin = await send(`${t.url}/queues/api/queues`, {
      headers: { ...basic('admin', adminKey), origin: t.url },
    });
    expect(sameOrigin.status).toBe(200);
  });

  it('security headers on the API, /docs and /queues', async () => {
    for (const [path, headers] of [
      ['/docs', {}],
      ['/docs/openapi.json', {}],
      ['/queues/', basic('admin', adminKey)],
      ['/v1/sources', t.auth],
      ['/health', {}],
    ] as const) {
      const res = await send(`${t.url}${path}`, { headers });
      expect([path, res.status < 400]).toEqual([path, true]);
      expect([path, res.headers.get('content-security-policy')]).toEqual([
        path,
        expect.stringContaining("default-src 'self'"),
      ]);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
    }
  });

  it('/metrics needs a key unless METRICS_PUBLIC=true', async () => {
    expect((await send(`${t.url}/metrics`, {})).status).toBe(401);
    const res = await send(`${t.url}/metrics`, { headers: t.auth });
    expect(res.status).toBe(200);
    expect(res.text).toContain('plexus_');
  });

  it('personal data is masked for keys without pii:read, in one place for every answer', async () => {
    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    expect(source.status).toBe(201);
    const identify = await call(t.url, 'POST', '/v1/identify', {
      headers: basic(source.body.writeKey),
      body: { userId: 'user-pii-1', traits: { email: 'Ada@Example.io', phone: '+1 415 555 0100', plan: 'pro' } },
    });
    expect(identify.status).toBe(200);
    const make = async (scopes: string[]) =>
      (await call(t.url, 'POST', '/v1/api-keys', { headers: t.auth, body: { name: scopes.join(' '), scopes } })).body
        .key as string;
    const reader = { authorization: `Bearer ${await make(['read'])}` };
    const piiReader = { authorization: `Bearer ${await make(['read', 'pii:read'])}` };
    const lookup = '/v1/profiles?identifier=user_id:user-pii-1';

    const full = await call(t.url, 'GET', lookup, { headers: piiReader });
    expect(full.status).toBe(200);
    const profile = full.body.data[0];
    expect(profile.identifiers).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'email', value: 'ada@example.io' })]),
    );
    expect(profile.traits.email.value).toBe('Ada@Example.io');

    const masked = await call(t.url, 'GET', lookup, { headers: reader });
    expect(masked.status).toBe(200);
    const text = JSON.stringify(masked.body);
    // The phone in any of its spellings ("+1 415 555 0100", "+14155550100"); a bare "415" would also match ids.
    expect(text).not.toMatch(/ada@example\.io|user-pii-1|555\D?0100/i);
    const view = masked.body.data[0];
    expect(view.id).toBe(profile.id);
    expect(view.identifiers.map((i: any) => i.type).sort()).toEqual(profile.identifiers.map((i: any) => i.type).sort());
    expect(view.identifiers.every((i: any) => i.value === '***')).toBe(true);
    expect(view.traits.email).toEqual({ ...profile.traits.email, value: '***' });
    expect(view.traits.plan.value).toBe('pro');

    const byId = await call(t.url, 'GET', `/v1/profiles/${profile.id}`, { headers: reader });
    expect(JSON.stringify(byId.body)).not.toMatch(/ada@example\.io/i);
    expect((await send(`${t.url}/v1/profiles/export`, { headers: reader })).status).toBe(403);
    expect((await send(`${t.url}/v1/profiles/export`, { headers: piiReader })).status).toBe(200);
  });
});

describe('hardening: rate limits (shared through Redis)', () => {
  let t: TestApp;
  let writeKey: string;

  beforeAll(async () => {
    t = await startTestApp({
      label: 'ratelimits',
      env: { AUTH_FAILURE_LIMIT: '5', WRITE_KEY_RATE_LIMIT: '3', METRICS_PUBLIC: 'true', RUN_WORKERS: 'false' },
    });
    const source = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    writeKey = source.body.writeKey;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('/metrics is public with METRICS_PUBLIC=true', async () => {
    expect((await send(`${t.url}/metrics`, {})).status).toBe(200);
  });

  it('error answers stay small however many messages are invalid', async () => {
    const body = JSON.stringify({ batch: Array.from({ length: 20_000 }, () => ({})) });
    const res = await send(`${t.url}/v1/batch`, {
      method: 'POST',
      headers: { ...basic(writeKey), 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(32_000);
    const answer = JSON.parse(res.text);
    expect(answer.details).toHaveLength(100);
    expect(answer.detailsOmitted).toBe(19_900);
    await new Promise((r) => setTimeout(r, 1100)); // the write key's per-second budget
  });

  it('limits requests per write key (429 with Retry-After)', async () => {
    // Sent at once: the budget is per second, so even requests that straddle a second boundary get at most two
    // seconds' worth (6 of 10) through.
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        send(`${t.url}/v1/track`, {
          method: 'POST',
          headers: { ...basic(writeKey), 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'u1', event: 'Clicked' }),
        }),
      ),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6);
    expect(statuses).toContain(429);
    const retryAfter = answers.find((res) => res.status === 429)?.headers.get('retry-after');
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('failed authentications per client address: 429 with Retry-After, even for a valid key, kept in Redis', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await call(t.url, 'GET', '/v1/sources', { headers: { authorization: 'Bearer wrong-key' } })).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const blocked = await call(t.url, 'GET', '/v1/sources', { headers: t.auth });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(60);
    const writeKeyToo = await send(`${t.url}/v1/track`, {
      method: 'POST',
      headers: { ...basic(writeKey), 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u1', event: 'Clicked' }),
    });
    expect(writeKeyToo.status).toBe(429);
    expect((await send(`${t.url}/queues/`, { headers: basic('admin', 'whatever') })).status).toBe(429);
    // The count lives in Redis under the process's prefix, so every API process sees it.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const stored = await redis.keys(`${t.env.QUEUE_PREFIX}:rl:auth-fail*`);
      expect(stored.length).toBe(1);
    } finally {
      redis.disconnect();
    }
  });
});
