import { IngestService } from '@plexus/identity';
import { startTestApp, type TestApp } from '../support/app.js';
import { call, type JsonResponse } from '../support/http.js';
import { until } from '../support/wait.js';
import { PEOPLE } from './support.js';

describe.each(['postgres', 'pglite'] as const)('audiences REST API on %s', (storage) => {
  let t: TestApp;
  let ingest: IngestService;
  const api = (method: string, path: string, body?: unknown): Promise<JsonResponse> =>
    call(t.url, method, path, { headers: t.auth, body });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({ label: `audiences_api_${storage}`, storage });
    ingest = t.app.get(IngestService);
    for (const [name, record] of Object.entries(PEOPLE))
      ids[name] = (await ingest.ingest([record], { sourceId: 'crm' })).profileIds[0]!;
    // Opening PGlite and migrating it takes most of a minute on a loaded machine.
  }, 180_000);
  afterAll(async () => {
    await t.close();
  }, 120_000);

  let fr: string;
  let ordered: string;

  it('creates an audience, evaluates it at once and lists members, changes and sizes', async () => {
    const created = await api('POST', '/v1/audiences', {
      name: 'French',
      description: 'country FR',
      rule: { trait: 'country', op: 'eq', value: 'FR' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'French', size: 2, evaluation: { entered: 2 }, warnings: [] });
    fr = created.body.id;
    expect((await api('GET', `/v1/audiences/${fr}`)).body).toMatchObject({
      size: 2,
      lastEvaluatedAt: expect.any(String),
    });
    const page1 = await api('GET', `/v1/audiences/${fr}/members?limit=1`);
    const page2 = await api('GET', `/v1/audiences/${fr}/members?limit=1&after=${page1.body.next}`);
    expect([page1.body.data[0].profileId, page2.body.data[0].profileId].sort()).toEqual([ids.ann, ids.bob].sort());
    expect(page2.body.next).toBeNull();
    const changes = await api('GET', `/v1/audiences/${fr}/changes?after=0`);
    expect(changes.body.data.map((c: any) => c.change)).toEqual(['entered', 'entered']);
    expect(changes.body.next).toBe(changes.body.data[1].cursor);
    expect((await api('GET', `/v1/audiences/${fr}/changes?after=${changes.body.next}`)).body).toEqual({
      data: [],
      next: changes.body.next,
    });
    expect((await api('GET', `/v1/audiences/${fr}/sizes`)).body.data).toMatchObject([{ size: 2, kind: 'full' }]);
    expect((await api('POST', `/v1/audiences/${fr}/evaluate`)).body).toMatchObject({ entered: 0, exited: 0, size: 2 });
    const preview = await api('POST', '/v1/audiences/preview', {
      rule: { all: [{ trait: 'country', op: 'eq', value: 'FR' }, { consent: 'ads' }] },
      sample: 5,
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({ size: 1, sample: [ids.ann], warnings: [] });
  });

  it('enters a profile within seconds of an event, through the real-time job', async () => {
    ordered = (
      await api('POST', '/v1/audiences', {
        name: 'big order this week',
        rule: { event: 'Order Completed', within: '7d', where: [{ property: 'total', op: 'gte', value: 500 }] },
      })
    ).body.id;
    const started = Date.now();
    await ingest.ingest(
      [
        {
          identifiers: [{ type: 'phone', value: '+33 6 12 34 56 78' }],
          events: [
            { id: 'big', name: 'Order Completed', occurredAt: new Date().toISOString(), properties: { total: 900 } },
          ],
        },
      ],
      { sourceId: 'shop' },
    );
    const change = await until(
      async () => (await api('GET', `/v1/audiences/${ordered}/changes`)).body.data[0],
      10_000,
      50,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(change).toMatchObject({
      change: 'entered',
      profileId: ids.cyd,
      reason: { matched: true, evaluation: 'profiles', because: [{ path: 'rule', ok: true, value: 1 }] },
    });
  });

  it('answers why a profile is in or out of each audience, and pairwise overlaps', async () => {
    const why = await api('GET', `/v1/profiles/${ids.bob}/audiences`);
    expect(why.status).toBe(200);
    expect(why.body.data.find((v: any) => v.audienceId === fr)).toMatchObject({
      member: true,
      reason: { matched: true, because: [{ path: 'rule', value: 'FR' }] },
    });
    expect(why.body.data.find((v: any) => v.audienceId === ordered)).toMatchObject({ member: false });
    const overlap = await api('GET', `/v1/audiences/overlap?ids=${fr},${ordered}`);
    expect(overlap.body).toMatchObject({
      audiences: [
        { id: fr, size: 2 },
        { id: ordered, size: 1 },
      ],
      pairs: [{ a: fr, b: ordered, count: 0 }],
    });
    expect((await api('GET', `/v1/audiences/overlap?ids=${fr}`)).status).toBe(400);
  });

  it('defines computed traits, shows them on profiles and refuses bad definitions', async () => {
    const created = await api('POST', '/v1/computed-traits', {
      name: 'lifetime_spend',
      event: 'Order Completed',
      aggregation: 'sum',
      property: 'total',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'lifetime_spend', aggregation: 'sum', written: 3 });
    expect((await api('GET', `/v1/profiles/${ids.ann}/computed-traits`)).body.data).toEqual([
      { name: 'lifetime_spend', value: 150, computedAt: expect.any(String) },
    ]);
    const bad = await api('POST', '/v1/computed-traits', { name: 'x', event: 'e', aggregation: 'count', within: '2w' });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([{ field: 'within', problems: ['must be like "90d" or "12h"'] }]);
    expect((await api('POST', '/v1/computed-traits', { ...created.body, id: undefined })).status).toBe(400);
    const again = await api('POST', '/v1/computed-traits', {
      name: 'lifetime_spend',
      event: 'x',
      aggregation: 'count',
    });
    expect(again.status).toBe(409);
    const patched = await api('PATCH', `/v1/computed-traits/${created.body.id}`, { aggregation: 'max' });
    expect(patched.body).toMatchObject({ aggregation: 'max', property: 'total' });
    expect((await api('GET', `/v1/profiles/${ids.ann}/computed-traits`)).body.data[0].value).toBe(80);
    expect((await api('DELETE', `/v1/computed-traits/${created.body.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/computed-traits/${created.body.id}`)).status).toBe(404);
  });

  it('refuses bad rules with a 400 naming the node, cycles, and deleting a used audience; nothing half-saved', async () => {
    const before = (await api('GET', '/v1/audiences')).body.data.length;
    const bad = await api('POST', '/v1/audiences', {
      name: 'bad',
      rule: { all: [{ consent: 'ads' }, { consent: 'ads' }, { consent: 'ads' }, { event: 'x', within: '90 days' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Invalid request: rule.all[3].within: must be like "90d" or "12h"');
    expect(bad.body.details).toEqual([{ field: 'rule.all[3].within', problems: ['must be like "90d" or "12h"'] }]);
    let deep: unknown = { consent: 'ads' };
    for (let i = 0; i < 11; i++) deep = { any: [deep] };
    expect((await api('POST', '/v1/audiences', { name: 'deep', rule: deep })).status).toBe(400);
    expect((await api('POST', '/v1/audiences', { name: 'no rule' })).body.message).toContain('rule');

    const uses = await api('POST', '/v1/audiences', {
      name: 'French with ads',
      rule: { all: [{ audience: fr }, { consent: 'ads' }] },
    });
    expect(uses.body).toMatchObject({ size: 1 });
    const cycle = await api('PATCH', `/v1/audiences/${fr}`, { rule: { audience: uses.body.id } });
    expect(cycle.status).toBe(400);
    expect(cycle.body.message).toContain('rule.audience: makes a cycle');
    const inUse = await api('DELETE', `/v1/audiences/${fr}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.details).toEqual({ usedBy: [uses.body.id] });
    expect((await api('GET', '/v1/audiences')).body.data.length).toBe(before + 1);

    // Changing a rule re-evaluates the audience and the audiences that use it.
    const patched = await api('PATCH', `/v1/audiences/${fr}`, {
      rule: { trait: 'country', op: 'in', value: ['FR', 'DE'] },
    });
    expect(patched.body).toMatchObject({ size: 3, evaluation: { entered: 1, exited: 0 } });
    expect((await api('GET', `/v1/audiences/${uses.body.id}`)).body.size).toBe(2);

    expect((await api('DELETE', `/v1/audiences/${uses.body.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/audiences/${uses.body.id}`)).status).toBe(404);
    expect((await api('GET', `/v1/audiences/${uses.body.id}/changes`)).status).toBe(404);
    // A dozen evaluations through one embedded connection: minutes on a loaded 2-core machine with PGlite.
  }, 180_000);
});
