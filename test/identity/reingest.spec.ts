import { sql } from 'kysely';
import { defaultIdentityRules } from '@plexus/identity';
import type { ProfileRecord } from '@plexus/sdk';
import { ErasureRepository, type Database } from '@plexus/storage';
import { openTestStorage } from '../support/database.js';
import { identityServices } from './support.js';

const customer = (n: number, traits: Record<string, string> = { plan: 'gold' }): ProfileRecord => ({
  identifiers: [
    { type: 'email', value: `customer${n}@acme.io` },
    { type: 'user_id', value: `crm-${n}` },
  ],
  traits,
  consent: { email: true },
  observedAt: '2026-03-01T00:00:00Z',
});

describe.each(['postgres', 'pglite'] as const)('re-ingest fast path on %s', (engine) => {
  let database: Database;
  let close: () => Promise<void>;
  let s: ReturnType<typeof identityServices>;
  beforeAll(async () => {
    ({ database, close } = await openTestStorage(engine, `identity_reingest_${engine}`));
    s = identityServices(database);
  });
  afterAll(async () => {
    await close();
  });

  const count = async (table: string): Promise<number> =>
    Number(
      (await sql<{ n: string }>`select count(*)::int8 as n from ${sql.table(table)}`.execute(database.db)).rows[0].n,
    );
  const rows = async (): Promise<Record<string, number>> => ({
    profiles: await count('profiles'),
    profile_identifiers: await count('profile_identifiers'),
    identity_observations: await count('identity_observations'),
    profile_events: await count('profile_events'),
    identity_fingerprints: await count('identity_fingerprints'),
  });
  const crm = { sourceId: 'crm' };

  it('counts records delivered again unchanged as unchanged, and writes nothing for them', async () => {
    const records = [customer(1), customer(2), customer(3)];
    const first = await s.ingest.ingest(records, crm);
    expect(first).toMatchObject({ written: 3, unchanged: 0, unchangedAt: [], profilesCreated: 3 });
    const before = await rows();
    expect(before.identity_fingerprints).toBe(3);
    const again = await s.ingest.ingest(records, crm);
    expect(again).toMatchObject({ written: 0, unchanged: 3, unchangedAt: [0, 1, 2], profilesCreated: 0, merges: 0 });
    expect(again.profileIds).toEqual(first.profileIds);
    expect(await rows()).toEqual(before);
    // Another source delivering the same content is a record of its own.
    const other = await s.ingest.ingest(records, { sourceId: 'shop' });
    expect(other).toMatchObject({ written: 3, unchanged: 0 });
  });

  it('stores a record whose trait changed, and skips the unchanged ones of a mixed batch', async () => {
    const first = await s.ingest.ingest([customer(10), customer(11)], crm);
    const observations = await count('identity_observations');
    const mixed = await s.ingest.ingest(
      [
        customer(10),
        customer(11, { plan: 'platinum' }),
        customer(12),
        { identifiers: [{ type: 'email', value: 'n/a' }] },
      ],
      crm,
    );
    expect(mixed).toMatchObject({ written: 2, unchanged: 1, unchangedAt: [0], profilesCreated: 1 });
    expect(mixed.rejected.map((r) => r.index)).toEqual([3]);
    expect(mixed.profileIds.slice(0, 2)).toEqual(first.profileIds);
    expect(await count('identity_observations')).toBe(observations + 2);
    expect((await s.profiles.get(first.profileIds[1]!))?.traits.plan.value).toBe('platinum');
    // The changed record's new fingerprint is the one kept.
    expect(await s.ingest.ingest([customer(11, { plan: 'platinum' })], crm)).toMatchObject({ unchanged: 1 });
    expect(await s.ingest.ingest([customer(11)], crm)).toMatchObject({ written: 1, unchanged: 0 });
  });

  it('skips a record whose profile another source changed only while storing it again would change nothing', async () => {
    const first = await s.ingest.ingest([customer(20), customer(21)], crm);
    // A later value from another source: the CRM's older one loses again, so its re-delivery changes nothing.
    await s.ingest.ingest(
      [{ identifiers: [{ type: 'email', value: 'customer20@acme.io' }], traits: { plan: 'silver' } }],
      { sourceId: 'support' },
    );
    // A value observed at the same time: the CRM's re-delivery would win the tie, so it is stored.
    await s.ingest.ingest(
      [
        {
          identifiers: [{ type: 'email', value: 'customer21@acme.io' }],
          traits: { plan: 'silver' },
          observedAt: '2026-03-01T00:00:00Z',
        },
      ],
      { sourceId: 'support' },
    );
    const again = await s.ingest.ingest([customer(20), customer(21)], crm);
    expect(again).toMatchObject({ written: 1, unchanged: 1, unchangedAt: [0] });
    expect(again.profileIds).toEqual(first.profileIds);
    expect((await s.profiles.get(first.profileIds[0]!))?.traits.plan.value).toBe('silver');
    expect((await s.profiles.get(first.profileIds[1]!))?.traits.plan.value).toBe('gold');
  });

  it('stores records again after an unmerge', async () => {
    const a = await s.ingest.ingest(
      [{ identifiers: [{ type: 'email', value: 'unmerge@acme.io' }], observedAt: '2026-03-01T00:00:00Z' }],
      crm,
    );
    await s.ingest.ingest(
      [{ identifiers: [{ type: 'phone', value: '+14155552671' }], observedAt: '2026-03-02T00:00:00Z' }],
      { sourceId: 'pos' },
    );
    const bridge: ProfileRecord = {
      identifiers: [
        { type: 'email', value: 'unmerge@acme.io' },
        { type: 'phone', value: '+14155552671' },
      ],
      observedAt: '2026-03-03T00:00:00Z',
    };
    expect(await s.ingest.ingest([bridge], { sourceId: 'web' })).toMatchObject({ merges: 1 });
    expect(await s.ingest.ingest([bridge], { sourceId: 'web' })).toMatchObject({ unchanged: 1 });
    await s.profiles.unmerge(a.profileIds[0]!);
    const again = await s.ingest.ingest([bridge], { sourceId: 'web' });
    expect(again).toMatchObject({ written: 1, unchanged: 0 });
  });

  it('stores a record again after its profile was erased', async () => {
    const first = await s.ingest.ingest([customer(30)], crm);
    const erasure = new ErasureRepository();
    const erased = await database.db.transaction().execute(async (trx) =>
      erasure.erase(trx, {
        profileIds: await erasure.profileTree(trx, first.profileIds[0]!),
        identifiers: [],
        needles: [],
        digits: [],
      }),
    );
    expect(erased.identity_fingerprints).toBe(1);
    const again = await s.ingest.ingest([customer(30)], crm);
    expect(again).toMatchObject({ written: 1, unchanged: 0, profilesCreated: 1 });
    expect(again.profileIds[0]).not.toBe(first.profileIds[0]);
  });

  it('stores a record again after an upstream delete detached one of its identifiers', async () => {
    await s.ingest.ingest([customer(40)], crm);
    expect(await s.ingest.forget([{ type: 'user_id', value: 'crm-40' }], crm)).toBe(1);
    expect(await s.ingest.ingest([customer(40)], crm)).toMatchObject({ written: 1, unchanged: 0 });
    const profile = await s.profiles.findByIdentifier('user_id', 'crm-40');
    expect(profile?.identifiers.map((i) => i.type)).toContain('user_id');
  });

  it('stores records again after the identity rules changed', async () => {
    await s.ingest.ingest([customer(50)], crm);
    expect(await s.ingest.ingest([customer(50)], crm)).toMatchObject({ unchanged: 1 });
    const rules = defaultIdentityRules();
    await s.rules.put({ ...rules, traitSourcePriority: { plan: ['crm'] } });
    expect(await s.ingest.ingest([customer(50)], crm)).toMatchObject({ written: 1, unchanged: 0 });
    expect(await s.ingest.ingest([customer(50)], crm)).toMatchObject({ unchanged: 1 });
  });

  it('writes the fingerprints in the batch transaction: a failed batch leaves none', async () => {
    const before = await rows();
    await expect(
      s.ingest.ingest([customer(60)], crm, async () => {
        throw new Error('checkpoint moved');
      }),
    ).rejects.toThrow('checkpoint moved');
    expect(await rows()).toEqual(before);
    expect(await s.ingest.ingest([customer(60)], crm)).toMatchObject({ written: 1, unchanged: 0 });
  });

  it('reports unchanged records to the caller inside the batch transaction', async () => {
    await s.ingest.ingest([customer(70)], crm);
    const seen: unknown[] = [];
    await s.ingest.ingest([customer(70), customer(71)], crm, async (_trx, outcome) => {
      seen.push(outcome);
    });
    expect(seen).toEqual([expect.objectContaining({ written: 1, unchanged: 1, suppressed: 0 })]);
  });

  it('never skips a record carrying an event without id; one without observedAt only while it holds and for a day', async () => {
    const withEvent: ProfileRecord = {
      ...customer(80),
      events: [{ name: 'visit', occurredAt: '2026-03-01T00:00:00Z' }],
    };
    await s.ingest.ingest([withEvent], crm);
    expect(await s.ingest.ingest([withEvent], crm)).toMatchObject({ written: 1, unchanged: 0 });
    expect(await count('profile_events')).toBeGreaterThanOrEqual(2);

    // (`tier`: the rules of an earlier test give the CRM priority on `plan`.)
    const noTime: ProfileRecord = { identifiers: [{ type: 'user_id', value: 'u-81' }], traits: { tier: 'gold' } };
    await s.ingest.ingest([noTime], crm);
    expect(await s.ingest.ingest([noTime], crm)).toMatchObject({ unchanged: 1 });
    // Observed "now", it wins over another source's value again: stored, and skipped once it holds again.
    await s.ingest.ingest([{ identifiers: [{ type: 'user_id', value: 'u-81' }], traits: { tier: 'silver' } }], {
      sourceId: 'support',
    });
    expect(await s.ingest.ingest([noTime], crm)).toMatchObject({ written: 1, unchanged: 0 });
    expect(await s.ingest.ingest([noTime], crm)).toMatchObject({ unchanged: 1 });
    await sql`update identity_fingerprints set seen_at = seen_at - interval '2 days'`.execute(database.db);
    expect(await s.ingest.ingest([noTime], crm)).toMatchObject({ written: 1, unchanged: 0 });
  });
});
