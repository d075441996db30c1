import { sql } from 'kysely';
import { fingerprintKey, type Database } from '@plexus/storage';
import { openTestStorage } from '../support/database.js';

/**
 * The ledger's GIN index holds a 32-bit key per fingerprint: the hub computes it when it writes a batch, the
 * migration computed it for the rows already stored. Both must give the same integer, or a lookup misses rows.
 */
describe.each(['postgres', 'pglite'] as const)('ledger fingerprint keys (%s)', (kind) => {
  let storage: Awaited<ReturnType<typeof openTestStorage>>;
  let database: Database;

  beforeAll(async () => {
    storage = await openTestStorage(kind, 'fingerprint_keys');
    database = storage.database;
  }, 120_000);
  afterAll(() => storage.close());

  it('are the first 32 bits as a signed integer, in the hub as in the migration', async () => {
    const fingerprints = [
      '00000000' + 'a'.repeat(56),
      '7fffffff' + 'b'.repeat(56),
      '80000000' + 'c'.repeat(56),
      'ffffffff' + 'd'.repeat(56),
      '9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab',
    ];
    expect(fingerprints.map(fingerprintKey)).toEqual([0, 2147483647, -2147483648, -1, -1672033199]);
    const { rows } = await sql<{ key: number }>`select ('x' || substr(f, 1, 8))::bit(32)::integer as key
      from unnest(${fingerprints}::text[]) with ordinality as t(f, n) order by n`.execute(database.db);
    expect(rows.map((r) => Number(r.key))).toEqual(fingerprints.map(fingerprintKey));
  });
});
