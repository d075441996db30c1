import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ActivationRepository, type Database } from '@plexus/storage';
import { openTestStorage } from '../support/database.js';

const NOW = 1_000_000;
const ADA = '00000000-0000-4000-8000-00000000000a';
const GRACE = '00000000-0000-4000-8000-00000000000b';
const MERGED = '00000000-0000-4000-8000-00000000000c';

/** Profiles as activation reads them, on PostgreSQL and on the embedded database: one query shape for both. */
describe.each(['postgres', 'pglite'] as const)('profile snapshots for activation (%s)', (kind) => {
  let storage: Awaited<ReturnType<typeof openTestStorage>>;
  let database: Database;
  let repository: ActivationRepository;

  beforeAll(async () => {
    storage = await openTestStorage(kind, 'activation_snapshots');
    database = storage.database;
    repository = new ActivationRepository(database);
    const trait = (v: unknown, x?: number) => ({ v, s: 'crm', t: 0, ...(x === undefined ? {} : { x }) });
    const profiles = [
      {
        id: ADA,
        merged: null,
        traits: {
          firstName: trait('Ada'),
          city: trait('Zürich, "old town"'),
          tags: trait(['a', 'b']),
          orders: trait(3),
          vip: trait(true),
          expired: trait('gone', NOW),
          later: trait('kept', NOW + 1),
          unset: trait(null),
          score: trait('profile wins'),
          noExpiry: { ...trait('x is null'), x: null },
          ['__proto__']: trait('a trait, not a prototype'),
        },
        consent: { ads: { g: true, s: 'crm', t: 0 }, email: { g: false, s: 'crm', t: 0 } },
      },
      { id: GRACE, merged: null, traits: {}, consent: {} },
      { id: MERGED, merged: ADA, traits: {}, consent: {} },
    ];
    for (const p of profiles)
      await sql`insert into profiles (id, merged_into, traits, consent)
        values (${p.id}::uuid, ${p.merged}::uuid, ${JSON.stringify(p.traits)}::jsonb, ${JSON.stringify(p.consent)}::jsonb)`.execute(
        database.db,
      );
    const seen = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
    for (const [type, value, profile, minute] of [
      ['phone', '+14155550100', ADA, 1],
      ['email', 'old@acme.io', ADA, 1],
      ['email', 'new@acme.io', ADA, 2],
      ['user_id', 'tab\there, "quoted", ✓', ADA, 1],
      ['email', 'grace@acme.io', GRACE, 1],
    ] as const)
      await sql`insert into profile_identifiers (type, value, profile_id, source_id, first_seen, last_seen)
        values (${type}, ${value}, ${profile}::uuid, 'crm', ${seen(minute)}::timestamptz, ${seen(minute)}::timestamptz)`.execute(
        database.db,
      );
    const traitIds = { score: randomUUID(), lifetimeValue: randomUUID() };
    for (const [name, id] of Object.entries(traitIds))
      await sql`insert into computed_traits (id, name, definition) values (${id}::uuid, ${name}, '{}'::jsonb)`.execute(
        database.db,
      );
    for (const [name, profile, value] of [
      ['score', ADA, 'computed'],
      ['lifetimeValue', ADA, 42.5],
      ['lifetimeValue', GRACE, null],
    ] as const)
      await sql`insert into profile_computed_traits (trait_id, profile_id, value, computed_at)
        values (${traitIds[name]}::uuid, ${profile}::uuid, ${JSON.stringify(value)}::jsonb, now())`.execute(
        database.db,
      );
  }, 120_000);
  afterAll(() => storage.close());

  it('gives visible traits (computed values under their names, the profile winning), consent and identifiers', async () => {
    const snapshots = await repository.profileSnapshots([ADA, GRACE, MERGED, randomUUID()], NOW);
    const byId = new Map(snapshots.map((s) => [s.id, s]));
    expect(snapshots).toHaveLength(3);
    expect(byId.get(ADA)).toEqual({
      id: ADA,
      live: true,
      traits: {
        firstName: 'Ada',
        city: 'Zürich, "old town"',
        tags: ['a', 'b'],
        orders: 3,
        vip: true,
        later: 'kept',
        score: 'profile wins',
        lifetimeValue: 42.5,
        ['__proto__']: 'a trait, not a prototype',
      },
      consent: { ads: true, email: false },
      identifiers: [
        { type: 'email', value: 'new@acme.io' },
        { type: 'email', value: 'old@acme.io' },
        { type: 'phone', value: '+14155550100' },
        { type: 'user_id', value: 'tab\there, "quoted", ✓' },
      ],
    });
    expect(byId.get(GRACE)).toEqual({
      id: GRACE,
      live: true,
      traits: {},
      consent: {},
      identifiers: [{ type: 'email', value: 'grace@acme.io' }],
    });
    expect(byId.get(MERGED)).toMatchObject({ live: false, identifiers: [] });
    expect(await repository.profileSnapshots([], NOW)).toEqual([]);
  });
});
