import { IngestService } from '@plexus/identity';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';

describe.each(['postgres', 'pglite'] as const)('profile and identity REST API on %s', (storage) => {
  let t: TestApp;
  let ingest: IngestService;
  const get = (path: string): Promise<any> => call(t.url, 'GET', path, { headers: t.auth });
  beforeAll(async () => {
    t = await startTestApp({ label: `identity_api_${storage}`, storage });
    ingest = t.app.get(IngestService);
  });
  afterAll(async () => {
    await t.close();
  });

  let ann: string;
  let phoneProfile: string;

  it('finds a profile by a normalised identifier and shows identifiers, traits with provenance, consent and events', async () => {
    const first = await ingest.ingest(
      [
        {
          identifiers: [{ type: 'email', value: 'ann@acme.io' }],
          traits: { name: 'Ann', segment: 'dmp-auto' },
          traitExpiry: { segment: '2000-01-01T00:00:00Z' },
          consent: { ads: true },
          events: [
            { id: 'e1', name: 'Page Viewed', occurredAt: '2026-03-01T00:00:00Z' },
            { id: 'e2', name: 'Order Completed', occurredAt: '2026-03-02T00:00:00Z', properties: { total: 10 } },
            { id: 'e3', name: 'Order Completed', occurredAt: '2026-03-03T00:00:00Z', properties: { total: 20 } },
          ],
          observedAt: '2026-03-01T00:00:00Z',
        },
        {
          identifiers: [{ type: 'phone', value: '020 7946 0018' }],
          traits: { city: 'London' },
          observedAt: '2026-03-02T00:00:00Z',
        },
      ],
      { sourceId: 'crm', defaultCountry: 'GB' },
    );
    [ann, phoneProfile] = first.profileIds as string[];
    const found = await get(`/v1/profiles?identifier=${encodeURIComponent('email: Ann@ACME.io ')}`);
    expect(found.status).toBe(200);
    expect(found.body.data).toHaveLength(1);
    const p = found.body.data[0];
    expect(p.id).toBe(ann);
    expect(p.traits).toEqual({ name: { value: 'Ann', sourceId: 'crm', observedAt: '2026-03-01T00:00:00.000Z' } });
    expect(p.consent.ads).toMatchObject({ granted: true, sourceId: 'crm' });
    expect(p.recentEvents.map((e: any) => e.eventId)).toEqual(['e3', 'e2', 'e1']);
    const byPhone = await get(`/v1/profiles?identifier=${encodeURIComponent('phone:+44 20 7946 0018')}`);
    expect(byPhone.body.data[0].id).toBe(phoneProfile);
    expect((await get('/v1/profiles?identifier=email:nobody@acme.io')).body.data).toEqual([]);
    const bad = await get('/v1/profiles?identifier=shoe:42');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('identifier');
    expect((await get(`/v1/profiles/${ann}`)).body.identifiers.map((i: any) => i.type).sort()).toEqual([
      'email',
      'email_sha256',
    ]);
    expect((await get('/v1/profiles/7a0c5f5e-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('pages events newest first', async () => {
    const page1 = await get(`/v1/profiles/${ann}/events?limit=2`);
    expect(page1.body.data.map((e: any) => e.eventId)).toEqual(['e3', 'e2']);
    const page2 = await get(`/v1/profiles/${ann}/events?limit=2&after=${page1.body.next}`);
    expect(page2.body.data.map((e: any) => e.eventId)).toEqual(['e1']);
    expect(page2.body.next).toBeNull();
  });

  it('explains a merge in the history, dry-runs a rule change, and unmerges', async () => {
    const merged = await ingest.ingest(
      [
        {
          identifiers: [
            { type: 'email', value: 'ann@acme.io' },
            { type: 'phone', value: '+442079460018' },
          ],
          observedAt: '2026-03-05T00:00:00Z',
        },
      ],
      { sourceId: 'shop' },
    );
    expect(merged.merges).toBe(1);
    expect(merged.profileIds[0]).toBe(ann);
    const history = await get(`/v1/profiles/${ann}/history`);
    const merge = history.body.data.find((h: any) => h.kind === 'merge');
    expect(merge).toMatchObject({ winner: ann, loser: phoneProfile, sourceId: 'shop', undoneAt: null });
    expect(merge.causedBy.map((c: any) => c.type).sort()).toEqual(['email', 'email_sha256', 'phone']);

    const rules = (await get('/v1/identity/rules')).body;
    expect(rules.isDefault).toBe(true);
    expect(rules.rules.identifiers.find((r: any) => r.type === 'user_id').limit).toBe(1);
    const proposal = {
      ...rules.rules,
      identifiers: rules.rules.identifiers.map((r: any) => (r.type === 'phone' ? { ...r, merges: false } : r)),
    };
    const dry = await call(t.url, 'POST', '/v1/identity/rules/dry-run', { headers: t.auth, body: proposal });
    expect(dry.status).toBe(200);
    expect(dry.body.wouldSplit).toEqual([{ profileId: ann, into: 2 }]);
    expect(dry.body.mergeCount).toBe(0);

    const undone = await call(t.url, 'POST', `/v1/profiles/${ann}/unmerge`, { headers: t.auth, body: {} });
    expect(undone.status).toBe(200);
    expect(undone.body.profiles).toEqual([ann, phoneProfile]);
    expect(undone.body.separated.map((side: any[]) => side.map((i) => i.type))).toEqual([
      ['email', 'email_sha256'],
      ['phone'],
    ]);
    expect((await get(`/v1/profiles/${phoneProfile}`)).body).toMatchObject({
      id: phoneProfile,
      traits: { city: { value: 'London' } },
    });
    expect((await get(`/v1/profiles/${ann}`)).body.traits.city).toBeUndefined();
    const after = await get(`/v1/profiles/${ann}/history`);
    expect(after.body.data.find((h: any) => h.kind === 'merge').undoneAt).not.toBeNull();
    // The split holds: the same record again no longer merges them.
    const again = await ingest.ingest(
      [
        {
          identifiers: [
            { type: 'email', value: 'ann@acme.io' },
            { type: 'phone', value: '+442079460018' },
          ],
        },
      ],
      { sourceId: 'shop' },
    );
    expect(again.merges).toBe(0);
    expect((await call(t.url, 'POST', `/v1/profiles/${ann}/unmerge`, { headers: t.auth, body: {} })).status).toBe(409);
  });

  it('validates rules with 400s naming the fields and stores valid ones', async () => {
    const bad = await call(t.url, 'PUT', '/v1/identity/rules', {
      headers: t.auth,
      body: {
        identifiers: [{ type: 'email', merges: 'yes', limit: 0 }],
        priority: ['email'],
        blocked: [{ pattern: '(' }],
        superNode: {},
        traitSourcePriority: {},
        colour: 1,
      },
    });
    expect(bad.status).toBe(400);
    const fields = bad.body.details.map((d: any) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'colour',
        'identifiers[0].merges',
        'identifiers[0].limit',
        'priority',
        'blocked[0].pattern',
        'superNode.maxPeople',
      ]),
    );
    const rules = (await get('/v1/identity/rules')).body.rules;
    rules.blocked.push({ type: 'email', values: ['blocked@acme.io'] });
    const ok = await call(t.url, 'PUT', '/v1/identity/rules', { headers: t.auth, body: rules });
    expect(ok.status).toBe(200);
    expect(ok.body.version).toBe(1);
    const r = await ingest.ingest([{ identifiers: [{ type: 'email', value: 'Blocked@acme.io' }] }], {
      sourceId: 'crm',
    });
    expect(r.rejected[0]?.reason).toBe("no valid identifier: email 'blocked@acme.io' is blocked");
  });

  it('flags a device shared by several people instead of merging them', async () => {
    const a = await ingest.ingest(
      [
        {
          identifiers: [
            { type: 'user_id', value: 'fam-1' },
            { type: 'device_id', value: 'AAAAAAAA-1111-4111-8111-000000000001' },
          ],
        },
      ],
      { sourceId: 'app' },
    );
    const b = await ingest.ingest(
      [
        {
          identifiers: [
            { type: 'email', value: 'kid@acme.io' },
            { type: 'device_id', value: 'aaaaaaaa-1111-4111-8111-000000000001' },
          ],
        },
      ],
      { sourceId: 'app' },
    );
    expect(b.profileIds[0]).not.toBe(a.profileIds[0]);
    const flags = await get('/v1/identity/flags');
    expect(flags.body.data.map((f: any) => `${f.type}:${f.value}:${f.reason}`).sort()).toEqual([
      'device_id:aaaaaaaa-1111-4111-8111-000000000001:seen with more than 1 people',
    ]);
  });

  it('exports every live profile as NDJSON', async () => {
    const res = await fetch(`${t.url}/v1/profiles/export`, { headers: t.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const list = await get('/v1/profiles?limit=500');
    expect(lines.map((l) => l.id)).toEqual(list.body.data.map((p: any) => p.id));
    expect(lines.find((l) => l.id === ann).identifiers.map((i: any) => i.type)).toContain('email');
  });
});
