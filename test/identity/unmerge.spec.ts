import { IngestService } from '@plexus/identity';
import type { ProfileRecord } from '@plexus/sdk';
import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';

const LUCIE = 'lucie.martin@exemple.fr';
const PHONE = '+33612345678';

/** The web source's record: it holds both the CRM's email and the point of sale's phone. */
const bridge = (observedAt: string): ProfileRecord => ({
  identifiers: [
    { type: 'email', value: LUCIE },
    { type: 'phone', value: '06 12 34 56 78' },
    { type: 'anonymous_id', value: 'web-anon-1' },
  ],
  traits: { lastPage: '/checkout' },
  observedAt,
});

describe.each(['postgres', 'pglite'] as const)('unmerge restores the graph on %s', (storage) => {
  let t: TestApp;
  let ingest: IngestService;
  const get = (path: string): Promise<any> => call(t.url, 'GET', path, { headers: t.auth });
  const byIdentifier = async (identifier: string): Promise<string | undefined> =>
    (await get(`/v1/profiles?identifier=${encodeURIComponent(identifier)}`)).body.data[0]?.id;
  beforeAll(async () => {
    t = await startTestApp({ label: `identity_unmerge_${storage}`, storage });
    ingest = t.app.get(IngestService);
  });
  afterAll(async () => {
    await t.close();
  });

  it('puts the phone back on the point-of-sale profile, and a re-sync of the bridging source does not merge again', async () => {
    const crm = await ingest.ingest(
      [
        {
          identifiers: [{ type: 'email', value: 'Lucie.Martin@exemple.fr' }],
          traits: { firstName: 'Lucie' },
          observedAt: '2026-04-01T00:00:00Z',
        },
      ],
      { sourceId: 'crm', defaultCountry: 'FR' },
    );
    const pos = await ingest.ingest(
      [
        {
          identifiers: [{ type: 'phone', value: '06 12 34 56 78' }],
          traits: { plan: 'gold' },
          observedAt: '2026-04-02T00:00:00Z',
        },
      ],
      { sourceId: 'pos', defaultCountry: 'FR' },
    );
    const [profile1] = crm.profileIds as string[];
    const [profile2] = pos.profileIds as string[];
    expect(profile1).not.toBe(profile2);

    const web = await ingest.ingest([bridge('2026-04-03T00:00:00Z')], { sourceId: 'web', defaultCountry: 'FR' });
    expect(web.merges).toBe(1);
    expect(await byIdentifier(`phone:${PHONE}`)).toBe(profile1);
    expect((await get(`/v1/profiles/${profile1}`)).body.traits.plan).toMatchObject({ value: 'gold' });

    const undone = await call(t.url, 'POST', `/v1/profiles/${profile1}/unmerge`, { headers: t.auth, body: {} });
    expect(undone.status).toBe(200);
    expect(undone.body.profiles).toEqual([profile1, profile2]);
    expect(undone.body.separated).toEqual([
      expect.arrayContaining([
        { type: 'email', value: LUCIE },
        { type: 'email_sha256', value: expect.any(String) },
      ]),
      [{ type: 'phone', value: PHONE }],
    ]);

    // The graph as it was before the merge: the phone is back where the point of sale put it.
    expect(await byIdentifier(`phone:${PHONE}`)).toBe(profile2);
    expect(await byIdentifier(`email:${LUCIE}`)).toBe(profile1);
    const p2 = (await get(`/v1/profiles/${profile2}`)).body;
    expect(p2.identifiers.map((i: any) => `${i.type}:${i.value}`)).toEqual([`phone:${PHONE}`]);
    expect(p2.traits).toEqual({ plan: expect.objectContaining({ value: 'gold', sourceId: 'pos' }) });
    const p1 = (await get(`/v1/profiles/${profile1}`)).body;
    expect(p1.traits.plan).toBeUndefined();
    expect(p1.traits.firstName).toMatchObject({ value: 'Lucie' });
    // The bridging record stays with the profile of its higher-priority identifier, without the phone.
    expect(p1.traits.lastPage).toMatchObject({ value: '/checkout', sourceId: 'web' });
    expect(p1.identifiers.map((i: any) => i.type).sort()).toEqual(['anonymous_id', 'email', 'email_sha256']);
    // Nothing was held or flagged: the phone itself still identifies profile 2.
    expect((await get('/v1/identity/flags')).body.data).toEqual([]);
    const history = (await get(`/v1/profiles/${profile1}/history`)).body.data;
    expect(history.find((h: any) => h.kind === 'merge').undoneAt).not.toBeNull();

    // A re-sync of the web source sends the same record again: it does not merge them.
    const resync = await ingest.ingest([bridge('2026-04-04T00:00:00Z')], { sourceId: 'web', defaultCountry: 'FR' });
    expect(resync.merges).toBe(0);
    expect(resync.profileIds).toEqual([profile1]);
    expect(resync.dropped[0].identifiers).toEqual([
      expect.objectContaining({ type: 'phone', value: PHONE, reason: expect.stringContaining('unmerge') }),
    ]);
    expect(await byIdentifier(`phone:${PHONE}`)).toBe(profile2);

    // The phone still works for the point of sale: its next record attaches to profile 2.
    const posAgain = await ingest.ingest(
      [
        {
          identifiers: [
            { type: 'phone', value: PHONE },
            { type: 'external_id', value: 'pos:card:77' },
          ],
        },
      ],
      { sourceId: 'pos' },
    );
    expect(posAgain.profileIds).toEqual([profile2]);
    expect(posAgain.merges).toBe(0);
    expect(await byIdentifier('external_id:pos:card:77')).toBe(profile2);
  });
});
