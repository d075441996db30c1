import { sql } from 'kysely';
import type { ProfileRecord } from '@plexus/sdk';
import type { Database } from '@plexus/storage';
import { createTestDatabase, openEmbeddedTestDatabase, type TestDatabase } from '../support/database.js';
import { identityServices } from './support.js';

/** Records that chain each person's identifiers together in pieces, so batches keep merging profiles. */
function overlappingRecords(people: number): ProfileRecord[] {
  const out: ProfileRecord[] = [];
  for (let i = 0; i < people; i++) {
    const ids = [
      { type: 'user_id' as const, value: `u${i}` },
      { type: 'email' as const, value: `p${i}.a@acme.io` },
      { type: 'phone' as const, value: `+447400${String(100000 + i)}` },
      { type: 'external_id' as const, value: `crm:contact:${i}` },
      { type: 'email' as const, value: `p${i}.b@acme.io` },
      { type: 'external_id' as const, value: `shop:customer:${i}` },
    ];
    for (let k = 0; k + 1 < ids.length; k++) out.push({ identifiers: [ids[k], ids[k + 1]], traits: { k } });
    out.push({ identifiers: [ids[5], ids[0]] });
  }
  return out;
}

function shuffle<T>(list: T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The graph as a canonical value: each profile's identifier set, sorted. Profile ids themselves differ. */
async function graphOf(database: Database): Promise<string[]> {
  const { rows } = await sql<{ ids: string }>`
    select string_agg(type || ':' || value, ' ' order by type, value) as ids
    from profile_identifiers group by profile_id order by 1`.execute(database.db);
  return rows.map((r) => r.ids);
}

describe('concurrent resolution ends in the sequential graph', () => {
  const records = overlappingRecords(150);
  let sequential: string[];
  const dbs: TestDatabase[] = [];
  const opened: Database[] = [];
  beforeAll(async () => {
    const tdb = await createTestDatabase('identity_seq');
    dbs.push(tdb);
    const database = await tdb.open();
    opened.push(database);
    const { ingest } = identityServices(database);
    for (let i = 0; i < records.length; i += 100) await ingest.ingest(records.slice(i, i + 100), { sourceId: 'seq' });
    sequential = await graphOf(database);
  });
  afterAll(async () => {
    for (const d of opened) await d.close();
    for (const d of dbs) await d.drop();
  });

  it('has one profile per person sequentially', () => {
    expect(sequential).toHaveLength(150);
    expect(sequential.every((ids) => ids.split(' ').length === 8)).toBe(true);
  });

  const runConcurrently = async (database: Database): Promise<void> => {
    const { ingest } = identityServices(database);
    // Every record twice (overlap), shuffled, dealt to 4 resolvers that run at the same time in batches of 20.
    const deck = shuffle([...records, ...records], 42);
    const hands = [0, 1, 2, 3].map((w) => deck.filter((_, i) => i % 4 === w));
    await Promise.all(
      hands.map(async (hand, w) => {
        for (let i = 0; i < hand.length; i += 20)
          await ingest.ingest(hand.slice(i, i + 20), { sourceId: `worker-${w}` });
      }),
    );
  };

  it('gives the same graph with 4 concurrent resolvers on PostgreSQL', async () => {
    const tdb = await createTestDatabase('identity_conc');
    dbs.push(tdb);
    const database = await tdb.open();
    opened.push(database);
    await runConcurrently(database);
    expect(await graphOf(database)).toEqual(sequential);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from profiles p where merged_into is null
      and not exists (select 1 from profile_identifiers i where i.profile_id = p.id)`.execute(database.db);
    expect(rows[0].n).toBe(0);
  }, 60_000);

  it('gives the same graph with 4 concurrent resolvers on PGlite', async () => {
    const database = await openEmbeddedTestDatabase('concurrency');
    opened.push(database);
    await runConcurrently(database);
    expect(await graphOf(database)).toEqual(sequential);
  }, 60_000);
});
