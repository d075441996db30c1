import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import type { Database } from '@plexus/storage';
import { startTestApp, type TestApp } from '../support/app.js';
import { profileIdOf } from '../support/database.js';
import { basicAuth, call } from '../support/http.js';
import { encodeTcCore } from './tc-string.js';

/** Sends raw bytes (for gzip, text/plain and size limits). */
async function send(base: string, path: string, body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('Segment-compatible tracking API (PostgreSQL)', () => {
  let t: TestApp;
  let db: Database;
  let sourceId: string;
  let writeKey: string;

  const profileOf = (type: string, value: string) => profileIdOf(db, type, value);
  const events = (filter: { name?: string; source?: string } = {}) => {
    let q = db.db
      .selectFrom('profile_events')
      .selectAll()
      .where('source_id', '=', filter.source ?? sourceId);
    if (filter.name) q = q.where('name', '=', filter.name);
    return q.orderBy('id').execute();
  };

  beforeAll(async () => {
    t = await startTestApp({ label: 'tracking' });
    db = await t.database!.open();
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    expect(created.status).toBe(201);
    expect(created.body.writeKey).toMatch(/^wk_[\w-]{32}$/);
    sourceId = created.body.id;
    writeKey = created.body.writeKey;
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  it('shows the write key only once and stores it hashed', async () => {
    const shown = await call(t.url, 'GET', `/v1/sources/${sourceId}`, { headers: t.auth });
    expect(shown.status).toBe(200);
    expect(shown.body.writeKey).toBeUndefined();
    const stored = await db.db.selectFrom('write_keys').selectAll().where('source_id', '=', sourceId).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0].key_hash).not.toContain(writeKey);
    expect(stored[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts every call type and stores what each means', async () => {
    const ok = { status: 200, body: { success: true } };
    const h = basicAuth(writeKey);
    const tc = encodeTcCore([1, 3, 4, 8, 9]);
    const context = { ip: '203.0.113.77', userAgent: 'Mozilla/5.0', gdpr_consent: tc };
    expect(
      await call(t.url, 'POST', '/v1/identify', {
        headers: h,
        body: {
          userId: 'user-1',
          anonymousId: 'anon-1',
          traits: { email: 'Ann@Shop.io', plan: 'pro' },
          context,
          messageId: 'id-1',
        },
      }),
    ).toMatchObject(ok);
    expect(
      await call(t.url, 'POST', '/v1/track', {
        headers: h,
        body: { userId: 'user-1', event: 'Order Completed', properties: { total: 42.5 }, context, messageId: 'tr-1' },
      }),
    ).toMatchObject(ok);
    expect(
      await call(t.url, 'POST', '/v1/page', {
        headers: h,
        body: { anonymousId: 'anon-1', name: 'Pricing', properties: { path: '/pricing' }, context, messageId: 'pg-1' },
      }),
    ).toMatchObject(ok);
    expect(
      await call(t.url, 'POST', '/v1/screen', {
        headers: h,
        body: {
          userId: 'user-1',
          name: 'Home',
          context: { device: { advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC' } },
          messageId: 'sc-1',
        },
      }),
    ).toMatchObject(ok);
    expect(
      await call(t.url, 'POST', '/v1/group', {
        headers: h,
        body: { userId: 'user-1', groupId: 'acme', traits: { name: 'Acme Inc' }, messageId: 'gr-1' },
      }),
    ).toMatchObject(ok);
    expect(
      await call(t.url, 'POST', '/v1/alias', {
        headers: h,
        body: { userId: 'user-1', previousId: 'anon-old', messageId: 'al-1' },
      }),
    ).toMatchObject(ok);

    // Everything landed on one profile: user id, anonymous ids, email, the IDFA and the aliased id.
    const profileId = await profileOf('user_id', 'user-1');
    expect(profileId).toBeDefined();
    for (const [type, value] of [
      ['anonymous_id', 'anon-1'],
      ['anonymous_id', 'anon-old'],
      ['email', 'ann@shop.io'],
      ['device_id', '6d92078a-8246-4ba4-ae5b-76104861e7dc'],
    ])
      expect(await profileOf(type, value)).toBe(profileId);
    const profile = await call(t.url, 'GET', `/v1/profiles/${profileId}`, { headers: t.auth });
    expect(profile.status).toBe(200);
    const traits = JSON.stringify(profile.body.traits);
    for (const fragment of ['"plan"', '"pro"', '"groupId"', '"acme"', '"Acme Inc"']) expect(traits).toContain(fragment);
    // TCF purposes 1, 3, 4, 8, 9 → ads and analytics granted, personalisation (5, 6) not.
    expect(profile.body.consent.ads.granted).toBe(true);
    expect(profile.body.consent.analytics.granted).toBe(true);
    expect(profile.body.consent.personalization.granted).toBe(false);

    const stored = await events();
    expect(stored.map((e) => [e.name, e.event_id])).toEqual([
      ['Order Completed', 'tr-1'],
      ['Page Viewed', 'pg-1'],
      ['Screen Viewed', 'sc-1'],
    ]);
    expect(stored.every((e) => e.profile_id === profileId)).toBe(true);
    expect(stored[0].properties).toMatchObject({
      total: 42.5,
      $context: { ip: '203.0.113.0', userAgent: 'Mozilla/5.0' },
    });
    expect(stored[1].properties).toMatchObject({ path: '/pricing', name: 'Pricing' });
    expect(JSON.stringify(stored[0].properties)).not.toContain(tc);
  });

  it('rejects missing and wrong write keys with 401', async () => {
    const missing = await call(t.url, 'POST', '/v1/track', { body: { anonymousId: 'a', event: 'e' } });
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(missing.body.message).toMatch(/write key/);
    const wrong = await call(t.url, 'POST', '/v1/track', {
      headers: basicAuth('wk_not-a-key'),
      body: { anonymousId: 'a', event: 'e' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toBe('Invalid write key');
    const wrongInBody = await call(t.url, 'POST', '/v1/batch', {
      body: { writeKey: 'nope', batch: [{ type: 'track', anonymousId: 'a', event: 'e' }] },
    });
    expect(wrongInBody.status).toBe(401);
    // The admin key is not a write key.
    expect(
      (await call(t.url, 'POST', '/v1/track', { headers: t.auth, body: { anonymousId: 'a', event: 'e' } })).status,
    ).toBe(401);
  });

  it('takes the write key from the body and JSON sent as text/plain (browsers)', async () => {
    const body = JSON.stringify({ writeKey, anonymousId: 'browser-1', event: 'Clicked', messageId: 'txt-1' });
    expect(await send(t.url, '/v1/track', body, { 'content-type': 'text/plain;charset=UTF-8' })).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(await events({ name: 'Clicked' })).toHaveLength(1);
    const preflight = await fetch(`${t.url}/v1/track`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers from the tracking edge with the request id, security headers, error body and metric of every route', async () => {
    const answered = await fetch(`${t.url}/v1/page/`, {
      method: 'POST',
      headers: { ...basicAuth(writeKey), 'content-type': 'application/json', 'x-request-id': 'edge-check-1' },
      body: JSON.stringify({ anonymousId: 'edge-1', name: 'Home', messageId: 'edge-page-1' }),
    });
    expect(answered.status).toBe(200);
    expect(await answered.json()).toEqual({ success: true });
    expect(answered.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(answered.headers.get('x-request-id')).toBe('edge-check-1');
    expect(answered.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answered.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(answered.headers.get('access-control-allow-origin')).toBe('*');
    // Nest's router answers through Express's res.json, which adds an ETag: the edge writes the answer itself.
    expect(answered.headers.get('etag')).toBeNull();

    const refused = await fetch(`${t.url}/v1/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'edge-check-2' },
      body: JSON.stringify({ anonymousId: 'edge-1', traits: {} }),
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', requestId: 'edge-check-2' });

    const metrics = await fetch(`${t.url}/metrics`, { headers: t.auth });
    const text = await metrics.text();
    expect(text).toMatch(
      /plexus_http_request_duration_seconds_count\{[^}]*route="\/v1\/page"[^}]*status="200"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/plexus_http_request_duration_seconds_count\{[^}]*route="\/v1\/identify"[^}]*status="401"/);
    // Only POST is served there; other methods get the router's 404.
    expect((await fetch(`${t.url}/v1/track`, { headers: basicAuth(writeKey) })).status).toBe(404);
  });
  it('stores the valid messages of a batch and lists the invalid ones; 400 when none is valid', async () => {
    const batch = [
      { type: 'track', anonymousId: 'batch-a', event: 'Viewed Item', messageId: 'b-1' },
      { type: 'track', anonymousId: 'batch-a', messageId: 'b-2' },
      { type: 'teleport', anonymousId: 'batch-a', messageId: 'b-3' },
      { type: 'page', anonymousId: 'batch-a', name: 'Home', messageId: 'b-4' },
      { type: 'track', event: 'No one', messageId: 'b-5' },
      { type: 'track', anonymousId: 'null', event: 'Blocked id', messageId: 'b-6' },
      {
        type: 'track',
        anonymousId: 'batch-a',
        event: 'Huge',
        messageId: 'b-7',
        properties: { blob: 'x'.repeat(33 * 1024) },
      },
    ];
    const res = await call(t.url, 'POST', '/v1/batch', { headers: basicAuth(writeKey), body: { batch } });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.rejected.map((r: any) => [r.index, r.messageId])).toEqual([
      [1, 'b-2'],
      [2, 'b-3'],
      [4, 'b-5'],
      [5, 'b-6'],
      [6, 'b-7'],
    ]);
    expect(res.body.rejected[0].reason).toBe('event is required');
    expect(res.body.rejected[3].reason).toMatch(/blocked/);
    expect(res.body.rejected[4].reason).toBe('message is larger than 32 KB');
    expect((await events()).filter((e) => e.event_id?.startsWith('b-')).map((e) => e.event_id)).toEqual(['b-1', 'b-4']);

    const none = await call(t.url, 'POST', '/v1/batch', {
      headers: basicAuth(writeKey),
      body: { batch: [{ type: 'track', anonymousId: 'x' }, 'junk'] },
    });
    expect(none.status).toBe(400);
    expect(none.body.details).toEqual([
      { index: 0, reason: 'event is required' },
      { index: 1, reason: 'a message must be a JSON object' },
    ]);
    const single = await call(t.url, 'POST', '/v1/track', { headers: basicAuth(writeKey), body: { event: 'Orphan' } });
    expect(single.status).toBe(400);
    expect(single.body.message).toBe('Invalid message: userId or anonymousId is required');
    expect((await call(t.url, 'POST', '/v1/batch', { headers: basicAuth(writeKey), body: { batch: [] } })).status).toBe(
      400,
    );
  });

  it('never doubles an event: retries and duplicates within a batch are one event', async () => {
    const batch = [
      { type: 'track', anonymousId: 'dup-a', event: 'Paid', messageId: 'dup-1' },
      { type: 'track', anonymousId: 'dup-a', event: 'Paid', messageId: 'dup-1' },
      { type: 'track', anonymousId: 'dup-a', event: 'Paid', messageId: 'dup-2' },
    ];
    for (let attempt = 0; attempt < 3; attempt++) {
      const res = await call(t.url, 'POST', '/v1/import', { headers: basicAuth(writeKey), body: { batch } });
      expect(res.body).toEqual({ success: true });
    }
    // The same retry concurrently (a client that timed out and resent while the first was in flight).
    await Promise.all(
      [1, 2, 3].map(() =>
        call(t.url, 'POST', '/v1/track', {
          headers: basicAuth(writeKey),
          body: { anonymousId: 'dup-a', event: 'Paid', messageId: 'dup-3' },
        }),
      ),
    );
    expect((await events({ name: 'Paid' })).map((e) => e.event_id)).toEqual(['dup-1', 'dup-2', 'dup-3']);
    // Caught by the message id alone: tracking messages skip the re-ingest fingerprints (nothing read or written).
    const prints = await db.db
      .selectFrom('identity_fingerprints')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('source_id', '=', sourceId)
      .executeTakeFirstOrThrow();
    expect(Number(prints.n)).toBe(0);
  });

  it('inflates gzip bodies and enforces 500 KB per batch and 32 KB per call after inflation', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => ({
      type: 'track',
      anonymousId: 'gz-a',
      event: 'Zipped',
      messageId: `gz-${i}`,
    }));
    const zipped = await send(t.url, '/v1/batch', gzipSync(JSON.stringify({ batch })), {
      ...basicAuth(writeKey),
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(zipped).toEqual({ status: 200, body: { success: true } });
    expect(await events({ name: 'Zipped' })).toHaveLength(50);

    // ~600 KB of JSON that compresses to a few KB: the limit applies to the inflated body.
    const big = Array.from({ length: 60 }, (_, i) => ({
      type: 'track',
      anonymousId: 'big',
      event: 'Big',
      messageId: `big-${i}`,
      properties: { pad: 'y'.repeat(10_000) },
    }));
    const bigZipped = gzipSync(JSON.stringify({ batch: big }));
    expect(bigZipped.length).toBeLessThan(50_000);
    const tooBig = await send(t.url, '/v1/batch', bigZipped, {
      ...basicAuth(writeKey),
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatchObject({ statusCode: 413, message: 'Request body is larger than 500 KB' });
    const plain = await send(t.url, '/v1/batch', JSON.stringify({ batch: big }), {
      ...basicAuth(writeKey),
      'content-type': 'application/json',
    });
    expect(plain.status).toBe(413);
    const bigCall = await call(t.url, 'POST', '/v1/track', {
      headers: basicAuth(writeKey),
      body: { anonymousId: 'big', event: 'Big', properties: { pad: 'z'.repeat(33 * 1024) } },
    });
    expect(bigCall.status).toBe(413);
    expect(bigCall.body.message).toBe('Request body is larger than 32 KB');
    expect(await events({ name: 'Big' })).toHaveLength(0);
    const broken = await send(t.url, '/v1/track', '{"anonymousId": ', {
      ...basicAuth(writeKey),
      'content-type': 'application/json',
    });
    expect(broken.status).toBe(400);
  });

  it('joins an anonymous visitor’s page views to the known profile when they identify', async () => {
    const h = basicAuth(writeKey);
    for (const path of ['/', '/shoes', '/checkout'])
      expect(
        (
          await call(t.url, 'POST', '/v1/page', {
            headers: h,
            body: { anonymousId: 'visitor-9', properties: { path }, messageId: `v9-${path}` },
          })
        ).status,
      ).toBe(200);
    // The same person is already known from another device.
    expect(
      (
        await call(t.url, 'POST', '/v1/identify', {
          headers: h,
          body: { userId: 'customer-9', anonymousId: 'phone-9', traits: { email: 'nine@shop.io' } },
        })
      ).status,
    ).toBe(200);
    const anonymous = await profileOf('anonymous_id', 'visitor-9');
    const known = await profileOf('user_id', 'customer-9');
    expect(anonymous).not.toBe(known);

    expect(
      (
        await call(t.url, 'POST', '/v1/identify', {
          headers: h,
          body: { userId: 'customer-9', anonymousId: 'visitor-9' },
        })
      ).status,
    ).toBe(200);
    const profileId = await profileOf('user_id', 'customer-9');
    expect(await profileOf('anonymous_id', 'visitor-9')).toBe(profileId);
    expect(await profileOf('anonymous_id', 'phone-9')).toBe(profileId);
    const page = await call(t.url, 'GET', `/v1/profiles/${profileId}/events?limit=10`, { headers: t.auth });
    expect(page.status).toBe(200);
    expect(page.body.data.map((e: any) => e.properties.path).sort()).toEqual(['/', '/checkout', '/shoes']);
    expect(page.body.data.every((e: any) => e.name === 'Page Viewed')).toBe(true);
  });

  it('corrects the client clock from sentAt', async () => {
    const now = Date.now();
    const skew = 3_600_000; // the device is an hour behind
    const timestamp = new Date(now - skew - 5000).toISOString();
    const sentAt = new Date(now - skew).toISOString();
    await call(t.url, 'POST', '/v1/track', {
      headers: basicAuth(writeKey),
      body: { anonymousId: 'skewed', event: 'Skewed', timestamp, sentAt },
    });
    const [event] = await events({ name: 'Skewed' });
    const occurred = new Date(event.occurred_at).getTime();
    expect(Math.abs(occurred - (now - 5000))).toBeLessThan(5000);
  });

  it('keeps the full IP when the source is configured to', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Intranet', connector: 'http-events', config: { keepFullIp: true } },
    });
    expect(created.status).toBe(201);
    await call(t.url, 'POST', '/v1/track', {
      headers: basicAuth(created.body.writeKey),
      body: { anonymousId: 'lan', event: 'Internal', context: { ip: '10.1.2.3' } },
    });
    const [event] = await events({ name: 'Internal', source: created.body.id });
    expect((event.properties as any).$context.ip).toBe('10.1.2.3');
    const bad = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Bad', connector: 'http-events', config: { keepFullIp: 'yes' } },
    });
    expect(bad.status).toBe(400);
  });

  it('rotates the write key: the new key works, the old one stops (or after a grace period)', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'App', connector: 'http-events', config: {} },
    });
    const first = created.body.writeKey as string;
    let n = 0;
    const msg = () => ({ anonymousId: 'rot', event: 'Rotated', messageId: `rot-${++n}` });
    expect((await call(t.url, 'POST', '/v1/track', { headers: basicAuth(first), body: msg() })).status).toBe(200);
    const graced = await call(t.url, 'POST', `/v1/sources/${created.body.id}/write-key`, {
      headers: t.auth,
      body: { graceSeconds: 3600 },
    });
    expect(graced.status).toBe(200);
    expect(new Date(graced.body.previousKeysValidUntil).getTime()).toBeGreaterThan(Date.now() + 3500_000);
    const second = graced.body.writeKey as string;
    expect((await call(t.url, 'POST', '/v1/track', { headers: basicAuth(first), body: msg() })).status).toBe(200);
    expect((await call(t.url, 'POST', '/v1/track', { headers: basicAuth(second), body: msg() })).status).toBe(200);
    const listed = await call(t.url, 'GET', `/v1/sources/${created.body.id}/write-keys`, { headers: t.auth });
    expect(listed.body.data).toHaveLength(2);
    expect(JSON.stringify(listed.body)).not.toContain(second);

    const now = await call(t.url, 'POST', `/v1/sources/${created.body.id}/write-key`, { headers: t.auth, body: {} });
    expect((await call(t.url, 'POST', '/v1/track', { headers: basicAuth(first), body: msg() })).status).toBe(401);
    expect((await call(t.url, 'POST', '/v1/track', { headers: basicAuth(second), body: msg() })).status).toBe(401);
    expect(
      (await call(t.url, 'POST', '/v1/track', { headers: basicAuth(now.body.writeKey), body: msg() })).status,
    ).toBe(200);
    expect((await call(t.url, 'POST', `/v1/sources/${created.body.id}/write-key`, { body: {} })).status).toBe(401);

    const count = await db.db
      .selectFrom('profile_events')
      .select(sql<number>`count(*)`.as('n'))
      .where('name', '=', 'Rotated')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(4); // the accepted ones
  });
});
