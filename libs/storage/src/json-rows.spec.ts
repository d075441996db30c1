import { sql } from 'kysely';
import { Database } from './database.js';
import { JsonText, jsonRows } from './json-rows.js';

describe('jsonRows', () => {
  let database: Database;
  beforeAll(async () => {
    database = await Database.open({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await database.close();
  });

  const read = async (rows: unknown[][], jsonbLimit?: number) =>
    (
      await sql<{ n: number; t: string | null; at: string | null; j: unknown; b: string | null }>`
        select (r ->> 0)::int8 as n, (r ->> 1) as t, to_char((r ->> 2)::timestamptz at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') as at,
          nullif((r -> 3)::jsonb, 'null') as j, (r ->> 4) as b
        from ${jsonRows(rows, 'u', jsonbLimit)}`.execute(database.db)
    ).rows;

  it.each([
    ['jsonb', undefined],
    ['json (a document over the jsonb limit)', 0],
  ])('reads cells by position, in order, as %s', async (_, limit) => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    const rows = await read(
      [
        [1, 'a "quoted" \\ text\n', at, new JsonText('{"k":[1,"x"]}'), 12345678901234567890n],
        [2, null, null, new JsonText(null), undefined],
        [3, 'emoji 😀, lone \ud800 surrogate', at, { nested: true }, true],
      ],
      limit,
    );
    expect(rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual([
      { n: 1, t: 'a "quoted" \\ text\n', at: '2026-01-02 03:04:05.006', j: { k: [1, 'x'] }, b: '12345678901234567890' },
      { n: 2, t: null, at: null, j: null, b: null },
      // A lone surrogate becomes U+FFFD, as the driver's UTF-8 encoding of a text parameter makes it.
      { n: 3, t: 'emoji 😀, lone \ufffd surrogate', at: '2026-01-02 03:04:05.006', j: { nested: true }, b: 'true' },
    ]);
  });

  it('is refused by the server when a text holds a NUL, as a text parameter is', async () => {
    await expect(read([[1, 'a\u0000b', null, null, null]])).rejects.toThrow();
    await expect(read([[1, 'a', null, new JsonText('{"k":"\\u0000"}'), null]])).rejects.toThrow();
  });

  it('throws on an invalid date, as toISOString does', () => {
    expect(() => jsonRows([[new Date(Number.NaN)]])).toThrow(RangeError);
  });
});
