import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { call } from '../../support/http.js';
import { startMeta, type MetaEmulator } from './meta.emulator.js';

const TOKEN = 'meta-token';
const HASH = 'a'.repeat(64);
const MADID = '6d92078a-8246-4ba4-ae5b-76104861e7dc';
let meta: MetaEmulator;
let audienceId: string;
const auth = { authorization: `Bearer ${TOKEN}` };
const users = (body: unknown, method = 'POST', path = 'users') =>
  call(meta.url, method, `/v23.0/${audienceId}/${path}`, { body, headers: auth });

beforeAll(async () => {
  meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: { max: 1000, windowMs: 1000 } });
  audienceId = meta.state.createAudience('1000', { name: 'Test' }).id;
});
afterAll(() => meta.close());
afterEach(() => meta.faults.clear());

describe('Meta emulator: the documented contract', () => {
  it('adds and removes rows of a multi-key schema and answers with the counts', async () => {
    const res = await users({
      payload: {
        schema: ['EMAIL', 'MADID'],
        data: [
          [HASH, MADID],
          ['', MADID.replace('6d', '7d')],
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ audience_id: audienceId, num_received: 2, num_invalid_entries: 0 });
    expect(meta.state.members(audienceId)).toHaveLength(2);
    const removed = await users({ payload: { schema: ['MADID'], data: [[MADID]] } }, 'DELETE');
    expect(removed.status).toBe(200);
    expect(meta.state.members(audienceId)).toHaveLength(1); // removed by any of its keys
  });

  it('takes a form-encoded payload and access_token, as the Graph API does', async () => {
    const body = new URLSearchParams({
      access_token: TOKEN,
      payload: JSON.stringify({ schema: 'EMAIL_SHA256', data: ['b'.repeat(64)] }),
    });
    const res = await fetch(`${meta.url}/v23.0/${audienceId}/users`, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(meta.state.has(audienceId, 'EMAIL', 'b'.repeat(64))).toBe(true);
  });

  it.each([
    ['an upper-case hash', ['EMAIL'], [[HASH.toUpperCase()]], /SHA-256 hash in lower-case hex/],
    ['a clear-text email', ['EMAIL'], [['ada@example.com']], /SHA-256/],
    ['a hashed MADID', ['MADID'], [[HASH]], /raw, not hashed/],
    ['an upper-case MADID', ['MADID'], [[MADID.toUpperCase()]], /lower-case/],
    ['a zeroed MADID', ['MADID'], [['00000000-0000-0000-0000-000000000000']], /does not allow tracking/],
  ])('counts %s as an invalid entry, with a sample', async (_label, schema, data, reason) => {
    const res = await users({ payload: { schema, data } });
    expect(res.status).toBe(200);
    expect(res.body.num_invalid_entries).toBe(1);
    expect(Object.values(res.body.invalid_entry_samples as Record<string, string>)[0]).toMatch(reason);
  });

  it.each([
    [
      'a row shorter than the schema',
      { schema: ['EMAIL', 'PHONE'], data: [[HASH]] },
      /Schema and data length mismatch/,
    ],
    ['an unknown schema field', { schema: ['EMAIL', 'SHOE_SIZE'], data: [[HASH, '']] }, /Invalid schema field/],
    [
      'more than 10,000 rows',
      { schema: ['EMAIL'], data: Array.from({ length: 10_001 }, () => [HASH]) },
      /should not exceed 10000/,
    ],
    ['no data', { schema: ['EMAIL'], data: [] }, /non-empty/],
  ])('rejects %s with error code 100', async (_label, payload, message) => {
    const res = await users({ payload });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 100, type: 'OAuthException' });
    expect(res.body.error.message).toMatch(message);
  });

  it('rejects missing or unknown tokens and a wrong appsecret_proof', async () => {
    expect((await call(meta.url, 'GET', `/v23.0/act_1000`)).body.error.code).toBe(104);
    const bad = await call(meta.url, 'GET', `/v23.0/act_1000`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.body.error.code).toBe(190);
    const strict = await startMeta({ tokens: [TOKEN], appSecret: 's3cret' });
    try {
      const proof = createHmac('sha256', 's3cret').update(TOKEN).digest('hex');
      expect((await call(strict.url, 'GET', `/v23.0/act_1000?appsecret_proof=00`, { headers: auth })).status).toBe(400);
      expect(
        (await call(strict.url, 'GET', `/v23.0/act_1000?appsecret_proof=${proof}`, { headers: auth })).status,
      ).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('refuses accounts the token cannot manage, and deleted audiences', async () => {
    const other = await call(meta.url, 'GET', '/v23.0/act_2000', { headers: auth });
    expect(other.body.error.code).toBe(200);
    const gone = meta.state.createAudience('1000', { name: 'Gone' });
    meta.state.deleteAudience(gone.id);
    const res = await call(meta.url, 'POST', `/v23.0/${gone.id}/users`, {
      body: { payload: { schema: ['EMAIL'], data: [[HASH]] } },
      headers: auth,
    });
    expect(res.body.error).toMatchObject({ code: 2650, error_subcode: 1487366 });
  });

  it('creates customer-list audiences only with the documented fields', async () => {
    const path = '/v23.0/act_1000/customaudiences';
    const missing = await call(meta.url, 'POST', path, { body: { name: 'X', subtype: 'CUSTOM' }, headers: auth });
    expect(missing.body.error.message).toMatch(/customer_file_source/);
    const ok = await call(meta.url, 'POST', path, {
      body: { name: 'X', subtype: 'CUSTOM', customer_file_source: 'USER_PROVIDED_ONLY' },
      headers: auth,
    });
    expect(ok.body.id).toMatch(/^\d+$/);
  });

  it('throttles over the configured rate with code 80003 and x-business-use-case-usage', async () => {
    const tight = await startMeta({ tokens: [TOKEN], rateLimit: { max: 2, windowMs: 60_000 }, regainAccessMinutes: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await call(tight.url, 'GET', '/v23.0/act_1000', { headers: auth }));
      const last = statuses[2];
      expect(statuses.map((s) => s.status)).toEqual([200, 200, 400]);
      expect(last.body.error).toMatchObject({ code: 80003, is_transient: true });
      const usage = JSON.parse(last.headers.get('x-business-use-case-usage')!);
      expect(usage['1000'][0].estimated_time_to_regain_access).toBe(3);
    } finally {
      await tight.close();
    }
  });

  it('counts a request against the limit when it arrives, not when its body has been read', async () => {
    const tight = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: { max: 1, windowMs: 300 } });
    try {
      const url = new URL(tight.url);
      expect((await call(tight.url, 'GET', '/v23.0/act_1000', { headers: auth })).status).toBe(200);
      // Headers now, the body 400 ms later: counted on arrival, inside the 300 ms after the first request.
      const status = await new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({ name: 'Slow', subtype: 'CUSTOM', customer_file_source: 'USER_PROVIDED_ONLY' });
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/v23.0/act_1000/customaudiences',
            headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.flushHeaders();
        setTimeout(() => req.end(body), 400);
      });
      expect(status).toBe(400);
      expect(tight.state.throttled).toBe(1);
    } finally {
      await tight.close();
    }
  });

  it('replaces members only when the session ends, and keeps batches in order', async () => {
    const target = meta.state.createAudience('1000', { name: 'Mirror' });
    const replace = (session: unknown, data: string[][]) =>
      call(meta.url, 'POST', `/v23.0/${target.id}/usersreplace`, {
        body: { payload: { schema: ['EMAIL'], data }, session },
        headers: auth,
      });
    await call(meta.url, 'POST', `/v23.0/${target.id}/users`, {
      body: { payload: { schema: ['EMAIL'], data: [['c'.repeat(64)]] } },
      headers: auth,
    });
    expect((await replace({ session_id: 9, batch_seq: 1, last_batch_flag: false }, [[HASH]])).status).toBe(200);
    expect(
      (await replace({ session_id: 9, batch_seq: 3, last_batch_flag: true }, [[HASH]])).body.error.message,
    ).toMatch(/out of order/);
    expect(meta.state.members(target.id)).toEqual([{ EMAIL: 'c'.repeat(64) }]);
    expect((await replace({ session_id: 9, batch_seq: 2, last_batch_flag: true }, [['d'.repeat(64)]])).status).toBe(
      200,
    );
    expect(meta.state.members(target.id)).toEqual([{ EMAIL: HASH }, { EMAIL: 'd'.repeat(64) }]);
    expect((await replace(undefined, [[HASH]])).body.error.message).toMatch(/session is required/);
  });

  it('answers injected faults in Meta terms', async () => {
    meta.faults.inject({ kind: 'expired-token' }, { kind: '5xx', status: 503 }, { kind: 'permission' });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call(meta.url, 'GET', '/v23.0/act_1000', { headers: auth }));
    expect(answers.map((a) => [a.status, a.body.error.code])).toEqual([
      [400, 190],
      [503, 2],
      [403, 200],
    ]);
  });
});
