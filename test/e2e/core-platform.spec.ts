import { QueueService } from '@plexus/queue';
import { startTestApp, type TestApp } from '../support/app.js';

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('core platform on PostgreSQL and Redis', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'core' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers /health and /ready without a key', async () => {
    expect((await (await fetch(`${t.url}/health`)).json()) as any).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.url}/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()) as any).toEqual({ status: 'ready', database: 'postgres', redis: 'up' });
  });

  it('rejects admin calls without a key or with a wrong one (401, standard body)', async () => {
    const none = await fetch(`${t.url}/v1/api-keys`);
    expect(none.status).toBe(401);
    const body = (await none.json()) as any;
    expect(body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect(body.message).toMatch(/API key/);
    const wrong = await fetch(`${t.url}/v1/api-keys`, { headers: { authorization: 'Bearer plx_nope' } });
    expect(wrong.status).toBe(401);
  });

  it('answers a malformed body with 400 naming the fields', async () => {
    const res = await fetch(`${t.url}/v1/api-keys`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 42, extra: true }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.statusCode).toBe(400);
    expect(body.error).toBe('Bad Request');
    expect(body.details.map((d: { field: string }) => d.field).sort()).toEqual(['extra', 'name']);
    expect(body.message).toContain('name');
  });

  it('answers broken JSON with 400 and oversized bodies with 413', async () => {
    const broken = await fetch(`${t.url}/v1/api-keys`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as any).message).toMatch(/Malformed JSON/);
    const big = await fetch(`${t.url}/v1/api-keys`, {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect((await big.json()) as any).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('answers unknown routes with 404 in the standard body', async () => {
    const res = await fetch(`${t.url}/v1/nothing-here`, { headers: t.auth });
    expect(res.status).toBe(404);
    expect((await res.json()) as any).toMatchObject({
      statusCode: 404,
      error: 'Not Found',
      message: 'No route GET /v1/nothing-here',
    });
  });

  it('creates, lists (cursor pages) and revokes API keys', async () => {
    const created: Array<{ id: string; key: string }> = [];
    for (const name of ['one', 'two', 'three']) {
      const res = await fetch(`${t.url}/v1/api-keys`, {
        method: 'POST',
        headers: { ...t.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      expect(res.status).toBe(201);
      created.push((await res.json()) as any);
    }
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { data: Array<{ id: string; key?: string }>; next: string | null } = (await (
        await fetch(`${t.url}/v1/api-keys?limit=2${after ? `&after=${after}` : ''}`, { headers: t.auth })
      ).json()) as any;
      expect(page.data.length).toBeLessThanOrEqual(2);
      for (const k of page.data) expect(k.key).toBeUndefined();
      seen.push(...page.data.map((k) => k.id));
      after = page.next;
    } while (after);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);

    const key = created[0];
    expect((await fetch(`${t.url}/v1/api-keys`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(200);
    expect((await fetch(`${t.url}/v1/api-keys/${key.id}`, { method: 'DELETE', headers: t.auth })).status).toBe(204);
    expect((await fetch(`${t.url}/v1/api-keys`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(401);
  });

  it('serves metrics, the OpenAPI document and the queue board', async () => {
    const metrics = await (await fetch(`${t.url}/metrics`, { headers: t.auth })).text();
    expect(metrics).toContain('plexus_process_cpu_user_seconds_total');
    expect(metrics).toMatch(/plexus_queue_jobs\{queue="sync",state="waiting"\} \d+/);
    const doc: any = (await (await fetch(`${t.url}/docs/openapi.json`)).json()) as any;
    expect(doc.paths['/v1/api-keys']).toBeDefined();
    expect((await fetch(`${t.url}/queues`)).status).toBe(401);
    expect((await fetch(`${t.url}/queues`, { headers: t.auth })).status).toBe(200);
  });

  it('lists a failed job through the API (the retry policy itself: test/queue/retries.spec.ts)', async () => {
    const queues = t.app.get(QueueService);
    // A job of a newer version that these workers cannot run fails at once, without retries.
    const job = await queues.queue('audiences').add('audiences.from-a-newer-version', {}, { attempts: 3 });
    const failed = await waitFor(async () => {
      const res: any = (await (await fetch(`${t.url}/v1/queues/audiences/failed`, { headers: t.auth })).json()) as any;
      return res.data.length ? res : undefined;
    });
    expect(failed.data[0]).toMatchObject({ id: job.id, name: 'audiences.from-a-newer-version', attemptsMade: 1 });
    expect(failed.data[0].failedReason).toContain('no handler for job audiences.from-a-newer-version');
    const bad = await fetch(`${t.url}/v1/queues/nope/failed`, { headers: t.auth });
    expect(bad.status).toBe(400);
  });

  it('logs one line per request with its id, at a level by status; /health is not logged', async () => {
    const requestId = `log-check-${Date.now()}`;
    const lineOf = async (path: string, headers: Record<string, string> = {}) => {
      const before = t.logs.length;
      const res = await fetch(`${t.url}${path}`, { headers: { ...t.auth, ...headers } });
      await res.arrayBuffer();
      const id = res.headers.get('x-request-id');
      expect(id).toBeTruthy();
      // The line is written when the response finishes: wait for it.
      const line = await waitFor(async () =>
        t.logs.slice(before).find((l) => l.includes(`"id":"${id}"`) && l.includes('"responseTime"')),
      );
      return { status: res.status, id, line: JSON.parse(line) };
    };
    const ok = await lineOf('/v1/sources', { 'x-request-id': requestId });
    expect(ok.id).toBe(requestId);
    expect(ok.line).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: requestId, method: 'GET', url: '/v1/sources' },
      res: { statusCode: 200 },
    });
    const missing = await lineOf('/v1/sources/src_nope');
    expect(missing.status).toBe(404);
    expect(missing.line).toMatchObject({ level: 40, res: { statusCode: 404 } });
    // An id that is not a plain token is replaced.
    const replaced = await fetch(`${t.url}/v1/sources`, { headers: { ...t.auth, 'x-request-id': 'a b/c' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const before = t.logs.length;
    await (await fetch(`${t.url}/health`)).arrayBuffer();
    await (await fetch(`${t.url}/v1/sources`, { headers: t.auth })).arrayBuffer();
    await waitFor(async () => (t.logs.slice(before).some((l) => l.includes('"url":"/v1/sources"')) ? true : undefined));
    expect(t.logs.slice(before).some((l) => l.includes('"url":"/health"'))).toBe(false);
  });

  it('never logs the admin key', () => {
    expect(t.logs.join('\n')).not.toContain(t.auth.authorization.slice(7));
  });
});

describe('core platform on embedded PGlite', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'core-pglite', storage: 'pglite' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('boots, migrates and answers /ready with the embedded database', async () => {
    expect((await (await fetch(`${t.url}/ready`)).json()) as any).toEqual({
      status: 'ready',
      database: 'pglite',
      redis: 'up',
    });
    const res = await fetch(`${t.url}/v1/api-keys`, { headers: t.auth });
    expect(res.status).toBe(200);
  });
});
