import { PassThrough } from 'node:stream';
import type { Database } from '@plexus/storage';
import { createApiApp } from '../../apps/api/src/bootstrap.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { profileIdOf } from '../support/database.js';
import { basicAuth, call } from '../support/http.js';

/** Sends a body exactly as written (keys such as `__proto__` survive only in raw JSON text). */
async function send(base: string, method: string, path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

const PROTOTYPE_KEYS = [
  'constructor',
  'hasOwnProperty',
  '__defineGetter__',
  'toString',
  'valueOf',
  '__proto__',
  'isPrototypeOf',
  'propertyIsEnumerable',
];

describe('hostile input on the ingestion and identity paths (PostgreSQL)', () => {
  let t: TestApp;
  let db: Database;
  let sourceId: string;
  let writeKey: string;

  const profileOf = (type: string, value: string) => profileIdOf(db, type, value);

  beforeAll(async () => {
    t = await startTestApp({ label: 'hostile' });
    db = await t.database!.open();
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Website', connector: 'http-events', config: {} },
    });
    expect(created.status).toBe(201);
    sourceId = created.body.id;
    writeKey = created.body.writeKey;
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  describe('item 4: every trait and property name is stored and returned faithfully', () => {
    it('keeps Object.prototype names in traits, through identify, merge and the profile API', async () => {
      const traits = Object.fromEntries(PROTOTYPE_KEYS.map((k) => [k, `v-${k}`]));
      const raw = `{"userId":"proto-user","traits":{${PROTOTYPE_KEYS.map((k) => `"${k}":"v-${k}"`).join(',')},"plan":"pro"}}`;
      const res = await send(t.url, 'POST', '/v1/identify', raw, basicAuth(writeKey));
      expect(res).toMatchObject({ status: 200, body: { success: true } });
      // A second observation folds into the stored traits (the merge path reads them back from the database).
      const again = await send(
        t.url,
        'POST',
        '/v1/identify',
        '{"userId":"proto-user","traits":{"constructor":"second","__proto__":{"nested":true}}}',
        basicAuth(writeKey),
      );
      expect(again.status).toBe(200);
      const id = await profileOf('user_id', 'proto-user');
      const profile = await call(t.url, 'GET', `/v1/profiles/${id}`, { headers: t.auth });
      expect(profile.status).toBe(200);
      const shown = Object.fromEntries(
        Object.entries(profile.body.traits as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value]),
      );
      const expected = { ...traits, constructor: 'second', plan: 'pro' };
      Object.defineProperty(expected, '__proto__', { value: { nested: true }, enumerable: true });
      expect(shown).toEqual(expected);
      expect(Object.getOwnPropertyDescriptor(shown, '__proto__')?.value).toEqual({ nested: true });
      const listed = await call(t.url, 'GET', '/v1/profiles?identifier=user_id:proto-user', { headers: t.auth });
      expect(Object.keys(listed.body.data[0].traits).sort()).toEqual(Object.keys(shown).sort());
    });

    it('keeps them in event properties and context', async () => {
      const props = PROTOTYPE_KEYS.map((k) => `"${k}":"p-${k}"`).join(',');
      const raw = `{"userId":"proto-events","event":"Clicked","messageId":"proto-1","properties":{${props}},"context":{"constructor":"c","__proto__":"x"}}`;
      const res = await send(t.url, 'POST', '/v1/track', raw, basicAuth(writeKey));
      expect(res).toMatchObject({ status: 200 });
      const event = await db.db
        .selectFrom('profile_events')
        .select('properties')
        .where('event_id', '=', 'proto-1')
        .executeTakeFirstOrThrow();
      const properties = event.properties as Record<string, unknown>;
      for (const k of PROTOTYPE_KEYS) expect(Object.getOwnPropertyDescriptor(properties, k)?.value).toBe(`p-${k}`);
      expect(properties.$context).toEqual(JSON.parse('{"constructor":"c","__proto__":"x"}'));
    });

    it('a prototype name in trait source priorities or consent categories is an ordinary name', async () => {
      const rules = await call(t.url, 'GET', '/v1/identity/rules', { headers: t.auth });
      const put = await call(t.url, 'PUT', '/v1/identity/rules', {
        headers: t.auth,
        body: { ...rules.body.rules, traitSourcePriority: { toString: [sourceId] } },
      });
      expect(put.status).toBe(200);
      const res = await send(
        t.url,
        'POST',
        '/v1/identify',
        '{"userId":"proto-consent","traits":{"toString":"a","constructor":"b"},"context":{"consent":{"categoryPreferences":{"constructor":true,"hasOwnProperty":false}}}}',
        basicAuth(writeKey),
      );
      expect(res.status).toBe(200);
      const profile = await call(t.url, 'GET', '/v1/profiles?identifier=user_id:proto-consent', { headers: t.auth });
      expect(profile.body.data[0].traits.toString.value).toBe('a');
      expect(profile.body.data[0].consent).toEqual({});
      await call(t.url, 'PUT', '/v1/identity/rules', { headers: t.auth, body: rules.body.rules });
    });
  });

  describe('item 5: one bad message never fails its batch', () => {
    it.each([
      ['a year-0 timestamp', { timestamp: '0000-01-01T00:00:00Z' }, /timestamp/],
      ['the largest JS date', { timestamp: '+275760-09-13T00:00:00Z' }, /timestamp/],
      [
        'a sentAt pushing the time out of range',
        { timestamp: '2026-01-01T00:00:00Z', sentAt: '-271821-04-20T00:00:00Z' },
        /sentAt|timestamp/,
      ],
      ['a lone surrogate', { properties: { note: 'a\ud800b' } }, /surrogate|UTF-16/],
      ['a lone surrogate in a key', { properties: { ['k\udc00']: 1 } }, /surrogate|UTF-16/],
      ['a NUL in a string', { properties: { note: 'a\u0000b' } }, /NUL/],
    ])('stores the valid messages and quarantines %s', async (_label, bad, reason) => {
      const tag = `b5-${Math.random().toString(36).slice(2, 8)}`;
      const batch = [
        { type: 'track', userId: `${tag}-ok-1`, event: 'Viewed', messageId: `${tag}-1` },
        { type: 'track', userId: `${tag}-bad`, event: 'Viewed', messageId: `${tag}-2`, ...bad },
        { type: 'track', userId: `${tag}-ok-2`, event: 'Viewed', messageId: `${tag}-3` },
      ];
      const res = await call(t.url, 'POST', '/v1/batch', { headers: basicAuth(writeKey), body: { batch } });
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
      expect(res.body.refused).toBe(1);
      expect(res.body.rejected).toEqual([{ index: 1, messageId: `${tag}-2`, reason: expect.stringMatching(reason) }]);
      expect(await profileOf('user_id', `${tag}-ok-1`)).toBeDefined();
      expect(await profileOf('user_id', `${tag}-ok-2`)).toBeDefined();
      expect(await profileOf('user_id', `${tag}-bad`)).toBeUndefined();
      const quarantine = await call(t.url, 'GET', `/v1/sources/${sourceId}/quarantine?limit=500`, {
        headers: t.auth,
      });
      const kept = (
        quarantine.body.data as Array<{ record: { messageId?: string }; reason: string; stream: string }>
      ).find((q) => q.record?.messageId === `${tag}-2`);
      expect(kept).toMatchObject({ stream: 'tracking', reason: expect.stringMatching(reason) });
    });

    it('/v1/import behaves like /v1/batch, and a batch of only bad messages is a 400 that keeps them', async () => {
      const imported = await call(t.url, 'POST', '/v1/import', {
        headers: basicAuth(writeKey),
        body: {
          batch: [
            { type: 'identify', userId: 'import-ok' },
            { type: 'identify', userId: 'import-bad', timestamp: '0000-01-01T00:00:00Z' },
          ],
        },
      });
      expect(imported).toMatchObject({ status: 200, body: { success: true, refused: 1 } });
      const none = await call(t.url, 'POST', '/v1/batch', {
        headers: basicAuth(writeKey),
        body: { batch: [{ type: 'identify', userId: 'all-bad', messageId: 'all-bad-1', timestamp: 'x' }] },
      });
      expect(none.status).toBe(400);
      expect(none.body.message).toMatch(/timestamp/);
      const quarantine = await db.db
        .selectFrom('quarantine')
        .select('reason')
        .where('source_id', '=', sourceId)
        .where('stream', '=', 'tracking')
        .execute();
      expect(quarantine.some((q) => /timestamp/.test(q.reason))).toBe(true);
    });
  });

  describe('items 6 and 7: identity rules', () => {
    it('refuses patterns a linear-time engine cannot run, and runs nested quantifiers in linear time', async () => {
      const rules = (await call(t.url, 'GET', '/v1/identity/rules', { headers: t.auth })).body.rules;
      for (const pattern of ['(a)\\1', '(?=a)b', '(?<!a)b']) {
        const res = await call(t.url, 'PUT', '/v1/identity/rules', {
          headers: t.auth,
          body: { ...rules, blocked: [...rules.blocked, { pattern }] },
        });
        expect(res.status).toBe(400);
        expect(res.body.details).toEqual([
          { field: `blocked[${rules.blocked.length}].pattern`, problems: [expect.stringMatching(/RE2/)] },
        ]);
      }
      const put = await call(t.url, 'PUT', '/v1/identity/rules', {
        headers: t.auth,
        body: { ...rules, blocked: [...rules.blocked, { type: 'user_id', pattern: '^(a+)+$' }] },
      });
      expect(put.status).toBe(200);
      // On a backtracking engine this one call would run for hours.
      const res = await call(t.url, 'POST', '/v1/identify', {
        headers: basicAuth(writeKey),
        body: { userId: `${'a'.repeat(60)}!`, anonymousId: 'redos-anon' },
      });
      expect(res.status).toBe(200);
      const blocked = await call(t.url, 'POST', '/v1/identify', {
        headers: basicAuth(writeKey),
        body: { userId: 'aaaa', anonymousId: 'redos-anon-2' },
      });
      expect(blocked.status).toBe(200);
      expect(await profileOf('user_id', 'aaaa')).toBeUndefined();
      await call(t.url, 'PUT', '/v1/identity/rules', { headers: t.auth, body: rules });
    });

    it.each([
      '[object Object]',
      'NaN',
      'Infinity',
      'undefined',
      'true',
      'false',
      '-1',
      '{{userId}}',
      '${userId}',
      '%%userId%%',
      '<%= user_id %>',
      ' " " ',
    ])('placeholder user id %j never merges two people', async (placeholder) => {
      const tag = Math.random().toString(36).slice(2, 8);
      for (const person of ['x', 'y'])
        expect(
          (
            await call(t.url, 'POST', '/v1/identify', {
              headers: basicAuth(writeKey),
              body: { userId: placeholder, anonymousId: `${tag}-${person}`, traits: { name: person } },
            })
          ).status,
        ).toBe(200);
      const a = await profileOf('anonymous_id', `${tag}-x`);
      const b = await profileOf('anonymous_id', `${tag}-y`);
      expect(a).toBeDefined();
      expect(b).toBeDefined();
      expect(a).not.toBe(b);
      expect(await profileOf('user_id', placeholder.trim())).toBeUndefined();
    });
  });

  describe('item 10: bad paths, cursors and ids are 400s naming the field', () => {
    it.each([
      ['GET', '/v1/sources/abc%00def', 'id'],
      ['GET', '/v1/profiles?identifier=user_id:%00x', 'identifier'],
      ['GET', `/v1/sources/SOURCE/quarantine?after=abc`, 'after'],
      ['GET', `/v1/sources/SOURCE/quarantine?after=${Buffer.from('1e23').toString('base64url')}`, 'after'],
      ['GET', `/v1/sources/SOURCE/quarantine?after=${Buffer.from('-5').toString('base64url')}`, 'after'],
      ['GET', '/v1/profiles?after=%ff%fe', 'after'],
      ['GET', `/v1/sources?after=${Buffer.from('\u0000').toString('base64url')}`, 'after'],
      ['GET', `/v1/api-keys?after=${Buffer.from('\ud800').toString('base64url')}`, 'after'],
      ['GET', `/v1/identity/flags?after=abc`, 'after'],
      ['GET', `/v1/sources/SOURCE/runs?after=abc`, 'after'],
    ])('%s %s', async (method, path, field) => {
      const res = await call(t.url, method, path.replace('SOURCE', sourceId), { headers: t.auth });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(field);
    });

    it('a NUL byte or a lone surrogate in a JSON body is a 400 naming the field', async () => {
      const nul = await call(t.url, 'POST', '/v1/sources', {
        headers: t.auth,
        body: { name: 'a\u0000b', connector: 'http-events', config: {} },
      });
      expect(nul.status).toBe(400);
      expect(nul.body.message).toContain('name');
      const surrogate = await send(
        t.url,
        'POST',
        '/v1/sources',
        '{"name":"a\\ud800","connector":"http-events","config":{}}',
        t.auth,
      );
      expect(surrogate.status).toBe(400);
      expect(surrogate.body.message).toContain('name');
    });

    it('JSON nested 100,000 deep is a 400, on admin and tracking routes', async () => {
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const admin = await send(t.url, 'POST', '/v1/sources', `{"name":${deep}}`, t.auth);
      expect(admin.status).toBe(400);
      expect(admin.body.message).toMatch(/nest/);
      const tracking = await send(
        t.url,
        'POST',
        '/v1/batch',
        `{"batch":${deep.slice(0, 20_000)}${deep.slice(-20_000)}}`,
        basicAuth(writeKey),
      );
      expect(tracking.status).toBe(400);
    });

    it('a mergeId of 1e20 is a 400 naming mergeId', async () => {
      const id = await profileOf('user_id', 'proto-user');
      const res = await call(t.url, 'POST', `/v1/profiles/${id}/unmerge`, { headers: t.auth, body: { mergeId: 1e20 } });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('mergeId');
    });
  });

  describe('item 12: personal data stays out of the logs', () => {
    it('logs a looked-up identifier by its type only', async () => {
      const res = await call(t.url, 'GET', '/v1/profiles?identifier=email:secret.person%40example.io', {
        headers: t.auth,
      });
      expect(res.status).toBe(200);
      const lines = t.logs.filter((l) => l.includes('/v1/profiles?'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('\n')).not.toMatch(/secret\.person/);
      expect(lines.join('\n')).toContain('identifier=email:');
    });
  });

  describe('item 15: revocation is immediate in every process', () => {
    it('a deleted source’s write key stops at once, in this process and in another one sharing Redis', async () => {
      // A second API process on the same database and Redis prefix, as `npm run start:api` scaled out.
      const other = await createApiApp({ ...t.env, RUN_WORKERS: false }, { logDestination: new PassThrough() });
      await other.listen(0, '127.0.0.1');
      const otherUrl = `http://127.0.0.1:${(other.getHttpServer().address() as { port: number }).port}`;
      try {
        const track = (base: string, key: string) =>
          call(base, 'POST', '/v1/track', { headers: basicAuth(key), body: { userId: 'r', event: 'E' } });
        for (const [name, deleteThrough] of [
          ['same', t.url],
          ['other', otherUrl],
        ] as const) {
          const created = await call(t.url, 'POST', '/v1/sources', {
            headers: t.auth,
            body: { name: `Short-lived ${name}`, connector: 'http-events', config: {} },
          });
          const key = created.body.writeKey as string;
          // Both processes have the key in their lookup cache now.
          expect((await track(t.url, key)).status).toBe(200);
          expect((await track(otherUrl, key)).status).toBe(200);
          const deleted = await call(deleteThrough, 'DELETE', `/v1/sources/${created.body.id}`, { headers: t.auth });
          expect(deleted.status).toBe(204);
          expect((await track(t.url, key)).status).toBe(401);
          expect((await track(otherUrl, key)).status).toBe(401);
        }
        // Rotation without grace stops the previous key everywhere too.
        const created = await call(t.url, 'POST', '/v1/sources', {
          headers: t.auth,
          body: { name: 'Rotated', connector: 'http-events', config: {} },
        });
        const old = created.body.writeKey as string;
        expect((await track(otherUrl, old)).status).toBe(200);
        const rotated = await call(t.url, 'POST', `/v1/sources/${created.body.id}/write-key`, {
          headers: t.auth,
          body: { graceSeconds: 0 },
        });
        expect(rotated.status).toBeLessThan(300);
        expect((await track(otherUrl, old)).status).toBe(401);
        expect((await track(otherUrl, rotated.body.writeKey as string)).status).toBe(200);
      } finally {
        await other.close();
      }
    });
  });
});
