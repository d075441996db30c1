import { sql } from 'kysely';
import { normalizeRecord, sha256Hex } from '@plexus/profile';
import { CompiledRules, defaultIdentityRules, IdentityResolver, inRetriedTransaction } from '@plexus/identity';
import { IdentityGraphRepository, type Database } from '@plexus/storage';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { identityServices } from './support.js';

describe('ingest and resolution on PostgreSQL', () => {
  let tdb: TestDatabase;
  let database: Database;
  let s: ReturnType<typeof identityServices>;
  beforeAll(async () => {
    tdb = await createTestDatabase('identity_ingest');
    database = await tdb.open();
    s = identityServices(database);
  });
  afterAll(async () => {
    await database.close();
    await tdb.drop();
  });

  it('creates, attaches and merges into the oldest profile, recording why', async () => {
    const a = await s.ingest.ingest(
      [
        {
          identifiers: [{ type: 'email', value: ' Ann@Acme.io ' }],
          traits: { name: 'Ann' },
          observedAt: '2026-01-01T00:00:00Z',
        },
        {
          identifiers: [{ type: 'phone', value: '(415) 555-2671' }],
          traits: { city: 'SF' },
          observedAt: '2026-01-02T00:00:00Z',
        },
      ],
      { sourceId: 'crm', defaultCountry: 'US' },
    );
    expect(a).toMatchObject({ written: 2, profilesCreated: 2, merges: 0, rejected: [] });
    const [p1, p2] = a.profileIds;
    expect(p1).not.toEqual(p2);
    const b = await s.ingest.ingest(
      [
        {
          identifiers: [
            { type: 'email', value: 'ann@acme.io' },
            { type: 'phone', value: '+1 415-555-2671' },
          ],
          observedAt: '2026-01-03T00:00:00Z',
        },
      ],
      { sourceId: 'shop' },
    );
    expect(b).toMatchObject({ written: 1, profilesCreated: 0, merges: 1 });
    expect(b.profileIds[0]).toBe(p1);
    const profile = await s.profiles.get(p2!);
    expect(profile?.id).toBe(p1);
    expect(profile?.redirectedFrom).toBe(p2);
    expect(profile?.identifiers.map((i) => `${i.type}:${i.value}`).sort()).toEqual([
      'email:ann@acme.io',
      `email_sha256:${sha256Hex('ann@acme.io')}`,
      'phone:+14155552671',
    ]);
    expect(Object.fromEntries(Object.entries(profile!.traits).map(([k, v]) => [k, v.value]))).toEqual({
      name: 'Ann',
      city: 'SF',
    });
    const history = await s.profiles.history(p1!);
    expect(history.filter((h) => h.kind === 'merge')).toEqual([
      expect.objectContaining({ winner: p1, loser: p2, sourceId: 'shop', undoneAt: null }),
    ]);
  });

  it('rejects records without valid identifiers and keeps the valid ones of others', async () => {
    const r = await s.ingest.ingest(
      [
        { identifiers: [{ type: 'email', value: 'n/a' }] },
        {
          identifiers: [
            { type: 'email', value: 'bo@example.net.uk' },
            { type: 'device_id', value: '00000000-0000-0000-0000-000000000000' },
          ],
        },
      ],
      { sourceId: 'dmp' },
    );
    expect(r.rejected).toEqual([{ index: 0, reason: "no valid identifier: email 'n/a' is blocked" }]);
    expect(r.profileIds[0]).toBeNull();
    expect(r.profileIds[1]).toEqual(expect.any(String));
    expect(r.dropped).toEqual([{ index: 1, identifiers: [expect.objectContaining({ type: 'device_id' })] }]);
  });

  it('drops the lowest-priority identifier when a merge would break a limit', async () => {
    const first = await s.ingest.ingest(
      [
        {
          identifiers: [
            { type: 'user_id', value: 'u1' },
            { type: 'anonymous_id', value: 'anon-1' },
          ],
        },
      ],
      { sourceId: 'web' },
    );
    const second = await s.ingest.ingest(
      [
        {
          identifiers: [
            { type: 'user_id', value: 'u2' },
            { type: 'anonymous_id', value: 'anon-1' },
          ],
        },
      ],
      { sourceId: 'web' },
    );
    expect(second.profileIds[0]).not.toBe(first.profileIds[0]);
    expect(second.dropped[0].identifiers[0]).toMatchObject({ type: 'anonymous_id', value: 'anon-1' });
    expect(second.merges).toBe(0);
  });

  it('keeps events per profile, idempotent on (source, id), and consent latest-wins', async () => {
    const rec = {
      identifiers: [{ type: 'email' as const, value: 'ev@example.io' }],
      events: [{ id: 'o-1', name: 'Order Completed', occurredAt: '2026-02-01T00:00:00Z', properties: { total: 42 } }],
      consent: { email: true },
      observedAt: '2026-02-01T00:00:00Z',
    };
    const r1 = await s.ingest.ingest([rec], { sourceId: 'shop' });
    await s.ingest.ingest([{ ...rec, consent: { email: false }, observedAt: '2026-02-02T00:00:00Z' }], {
      sourceId: 'shop',
    });
    await s.ingest.ingest([{ ...rec, consent: { email: true }, observedAt: '2026-01-01T00:00:00Z' }], {
      sourceId: 'shop',
    });
    const events = await s.profiles.events(r1.profileIds[0]!, 10);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ name: 'Order Completed', properties: { total: 42 }, sourceId: 'shop' });
    const profile = await s.profiles.get(r1.profileIds[0]!);
    expect(profile?.consent.email?.granted).toBe(false);
  });

  it('forgets identifiers and commits the caller work in the same transaction', async () => {
    const r = await s.ingest.ingest(
      [
        {
          identifiers: [
            { type: 'external_id', value: 'crm:contact:9' },
            { type: 'email', value: 'fo@example.io' },
          ],
        },
      ],
      {
        sourceId: 'crm',
      },
    );
    let sawRows = -1;
    const n = await s.ingest.forget(
      [{ type: 'external_id', value: 'crm:contact:9' }],
      { sourceId: 'crm' },
      async (trx) => {
        const { rows } = await sql<{
          n: number;
        }>`select count(*)::int as n from profile_identifiers where value = 'crm:contact:9'`.execute(trx);
        sawRows = rows[0].n;
      },
    );
    expect(n).toBe(1);
    expect(sawRows).toBe(0);
    const profile = await s.profiles.get(r.profileIds[0]!);
    expect(profile?.identifiers.map((i) => i.type).sort()).toEqual(['email', 'email_sha256']);
  });

  it('reports from each batch the profiles it changed and its merges', async () => {
    const resolver = new IdentityResolver(new IdentityGraphRepository());
    const rules = new CompiledRules(defaultIdentityRules());
    const batch = (records: Parameters<typeof normalizeRecord>[0][]) =>
      inRetriedTransaction(database, (trx) =>
        resolver.resolveBatch(
          trx,
          records.map((r) => {
            const n = normalizeRecord(r, { isBlocked: rules.isBlocked, now: new Date() });
            if (!n.ok) throw new Error(n.reason);
            return n.record;
          }),
          { sourceId: 'crm' },
          rules,
        ),
      );
    const first = await batch([
      { identifiers: [{ type: 'user_id', value: 'rep-1' }], observedAt: '2026-05-01T00:00:00Z' },
      { identifiers: [{ type: 'user_id', value: 'rep-2' }], observedAt: '2026-05-01T00:00:01Z' },
      { identifiers: [{ type: 'user_id', value: 'rep-1' }], traits: { a: 1 }, observedAt: '2026-05-01T00:00:02Z' },
    ]);
    const [one, two] = first.records.map((r) => r.profileId);
    expect(first.changed).toEqual({ profileIds: [one, two], merges: [] });
    const second = await batch([
      { identifiers: [{ type: 'cookie_id', value: 'rep-c' }], observedAt: '2026-05-02T00:00:00Z' },
      {
        identifiers: [
          { type: 'user_id', value: 'rep-2' },
          { type: 'email', value: 'rep@acme.io' },
        ],
        observedAt: '2026-05-02T00:00:01Z',
      },
      {
        identifiers: [
          { type: 'email', value: 'rep@acme.io' },
          { type: 'cookie_id', value: 'rep-c' },
        ],
        observedAt: '2026-05-02T00:00:02Z',
      },
    ]);
    // The cookie's new profile was merged into profile two within the batch: only the live one is reported.
    expect(second.changed.profileIds).toEqual([two]);
    expect(second.changed.merges).toEqual([{ winner: two, loser: expect.any(String) }]);
    expect(second.changed.merges[0].loser).not.toBe(two);
  });
});
