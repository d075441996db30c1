import { sql } from 'kysely';
import type { Database } from '@plexus/storage';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';

describe('audit log', () => {
  let t: TestApp;
  let db: Database;
  let adminId: string;

  const audit = async (query = '') => {
    const res = await call(t.url, 'GET', `/v1/audit${query}`, { headers: t.auth });
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestApp({ label: 'audit', env: { RUN_WORKERS: 'false' } });
    db = await t.database!.open();
    const keys = await call(t.url, 'GET', '/v1/api-keys', { headers: t.auth });
    adminId = keys.body.data[0].id;
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  it('records every admin change with the key, the action, the target and before/after without secrets', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'Feed',
        connector: 'dmp-feed',
        config: { url: 'https://feed.example/data.csv', authorization: 'Bearer s3cret-feed-token' },
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(
      (await call(t.url, 'PATCH', `/v1/sources/${id}`, { headers: t.auth, body: { name: 'Feed 2' } })).status,
    ).toBe(200);
    const key = await call(t.url, 'POST', '/v1/api-keys', { headers: t.auth, body: { name: 'ci', scopes: ['read'] } });
    expect(key.status).toBe(201);
    expect((await call(t.url, 'DELETE', `/v1/sources/${id}`, { headers: t.auth })).status).toBe(204);
    // Refused requests change nothing and leave no entry.
    expect((await call(t.url, 'PATCH', `/v1/sources/${id}`, { headers: t.auth, body: { name: 'x' } })).status).toBe(
      404,
    );

    const log = await audit();
    expect(JSON.stringify(log)).not.toContain('s3cret-feed-token');
    expect(JSON.stringify(log)).not.toContain(key.body.key);
    const entries = log.data.map((e: any) => [e.action, e.targetType, e.targetId, e.actorKeyId]);
    expect(entries).toEqual([
      ['DELETE /v1/sources/:id', 'sources', id, adminId],
      ['POST /v1/api-keys', 'api-keys', key.body.id, adminId],
      ['PATCH /v1/sources/:id', 'sources', id, adminId],
      ['POST /v1/sources', 'sources', id, adminId],
    ]);
    const [deleted, minted, patched, create] = log.data;
    expect(create.before).toBeNull();
    expect(create.after).toMatchObject({ id, name: 'Feed' });
    expect(patched.before).toMatchObject({ name: 'Feed' });
    expect(patched.after).toMatchObject({ name: 'Feed 2' });
    expect(patched.after.config.url).toBe('https://feed.example/data.csv');
    expect(minted.after).toMatchObject({ name: 'ci', scopes: ['read'], key: '[removed]' });
    expect(deleted.before).toMatchObject({ name: 'Feed 2' });
    expect(deleted.after).toBeNull();
    expect(typeof deleted.requestId).toBe('string');
    expect(new Date(deleted.at).getTime()).toBeGreaterThanOrEqual(new Date(create.at).getTime());
  });

  it('reads no state for an id that is no UUID: the route refuses it with 400, not a database error', async () => {
    // The audit interceptor reads the earlier state before the route's validation pipe runs.
    for (const [method, path, body] of [
      ['DELETE', '/v1/api-keys/not-a-uuid', undefined],
      ['PATCH', '/v1/activations/not-a-uuid', { schedule: null }],
    ] as const) {
      const res = await call(t.url, method, path, { headers: t.auth, ...(body ? { body } : {}) });
      expect([method, path, res.status]).toEqual([method, path, 400]);
    }
  });

  it('is paged and filterable by actor key, action, target and time', async () => {
    const reader = await call(t.url, 'POST', '/v1/api-keys', {
      headers: t.auth,
      body: { name: 'minter', scopes: ['read'] },
    });
    const minted = await call(t.url, 'POST', '/v1/api-keys', {
      headers: { authorization: `Bearer ${reader.body.key}` },
      body: { name: 'by reader' },
    });
    expect(minted.status).toBe(201);

    const byReader = await audit(`?actorKeyId=${reader.body.id}`);
    expect(byReader.data.map((e: any) => e.targetId)).toEqual([minted.body.id]);
    const patches = await audit(`?action=${encodeURIComponent('PATCH /v1/sources/:id')}`);
    expect(patches.data).toHaveLength(1);
    const keyEntries = await audit('?targetType=api-keys');
    expect(keyEntries.data).toHaveLength(3);
    const oneTarget = await audit(`?targetId=${minted.body.id}`);
    expect(oneTarget.data).toHaveLength(1);
    expect((await audit('?since=2999-01-01T00:00:00Z')).data).toEqual([]);
    expect((await audit('?until=2000-01-01T00:00:00Z')).data).toEqual([]);

    const seen: number[] = [];
    let after: string | null = null;
    do {
      const page: any = await audit(`?limit=2${after ? `&after=${after}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((e: any) => e.id));
      after = page.next;
    } while (after);
    expect(seen).toHaveLength(6);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);

    const bad = await call(t.url, 'GET', '/v1/audit?since=yesterday&actorKeyId=42', { headers: t.auth });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: any) => d.field).sort()).toEqual(['actorKeyId', 'since']);
  });

  it('is append-only: the database refuses updates, deletes and truncation', async () => {
    await expect(sql`update audit_log set action = 'x'`.execute(db.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(db.db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(db.db)).rejects.toThrow(/append-only/);
    expect((await audit('?limit=500')).data).toHaveLength(6);
  });
});
