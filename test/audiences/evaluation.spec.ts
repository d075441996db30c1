import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { MAX_AUDIENCES_PER_PASS, type Database } from '@plexus/storage';
import type { AudienceChange } from '@plexus/storage';
import { InvalidRuleError } from '@plexus/audiences';
import { createTestDatabase, openEmbeddedTestDatabase, type TestDatabase } from '../support/database.js';
import { audienceServices, FIRST_EXAMPLE, PEOPLE, TestClock } from './support.js';

type Name = keyof typeof PEOPLE;

/** Every operator and combinator, with who matches on the seeded population (worked out by hand). */
const RULES: Array<[string, unknown, Name[]]> = [
  ['the issue’s first example (trait, consent, identifier, event with filter and count)', FIRST_EXAMPLE, ['ann']],
  [
    'a DMP segment or identified',
    { any: [{ trait: 'segments', op: 'contains', value: 'auto-intender' }, { not: { anonymous: true } }] },
    ['ann', 'bob', 'cyd', 'dmp1'],
  ],
  [
    'no order in the last 60 days',
    { event: 'Order Completed', within: '60d', count: { op: 'eq', value: 0 } },
    ['cyd', 'dmp1', 'dmp2'],
  ],
  ['spent 500 in a year', { event: 'Order Completed', within: '365d', sum: 'total', op: 'gte', value: 500 }, ['cyd']],
  ['signed up more than 30 days ago', { trait: 'signed_up_at', op: 'before', value: '-30d' }, ['ann']],
  ['signed up after an ISO date', { trait: 'signed_up_at', op: 'after', value: '2026-03-01' }, ['bob']],
  ['eq', { trait: 'country', op: 'eq', value: 'FR' }, ['ann', 'bob']],
  ['neq (absent counts as different)', { trait: 'country', op: 'neq', value: 'FR' }, ['cyd', 'dmp1', 'dmp2']],
  ['in', { trait: 'country', op: 'in', value: ['DE', 'ES'] }, ['cyd']],
  ['in on an array trait', { trait: 'segments', op: 'in', value: ['travel', 'golf'] }, ['dmp2']],
  ['contains in a string', { trait: 'name', op: 'contains', value: 'Lee' }, ['ann']],
  ['contains in an array', { trait: 'tags', op: 'contains', value: 'vip' }, ['cyd']],
  ['gt', { trait: 'age', op: 'gt', value: 34 }, ['cyd']],
  ['gte', { trait: 'age', op: 'gte', value: 34 }, ['ann', 'cyd']],
  ['lt', { trait: 'age', op: 'lt', value: 34 }, ['bob']],
  ['lte', { trait: 'age', op: 'lte', value: 20 }, ['bob']],
  ['lt on strings', { trait: 'plan', op: 'lt', value: 'g' }, ['bob']],
  ['between (inclusive)', { trait: 'age', op: 'between', value: [20, 34] }, ['ann', 'bob']],
  ['exists', { trait: 'tags', op: 'exists' }, ['cyd']],
  ['not exists', { not: { trait: 'tags', op: 'exists' } }, ['ann', 'bob', 'dmp1', 'dmp2']],
  ['has a phone', { identifier: 'phone' }, ['cyd']],
  ['has a cookie id', { identifier: 'cookie_id' }, ['dmp1']],
  ['has a device id', { identifier: 'device_id' }, ['dmp2']],
  ['has a user id', { identifier: 'user_id' }, ['bob']],
  ['anonymous', { anonymous: true }, ['dmp1', 'dmp2']],
  ['identified', { anonymous: false }, ['ann', 'bob', 'cyd']],
  ['consent granted', { consent: 'ads' }, ['ann', 'cyd']],
  ['consent not granted (denied or unknown)', { consent: 'ads', granted: false }, ['bob', 'dmp1', 'dmp2']],
  ['consent for email', { consent: 'email' }, ['ann']],
  ['did an event at least once (the default)', { event: 'Order Completed' }, ['ann', 'bob', 'cyd']],
  // Counts and sums are 0 without events: these match people who have none.
  ['fewer than two orders', { event: 'Order Completed', count: { op: 'lt', value: 2 } }, ['bob', 'dmp1', 'dmp2']],
  [
    'spent nothing or more in a year',
    { event: 'Order Completed', within: '365d', sum: 'total', op: 'gte', value: 0 },
    ['ann', 'bob', 'cyd', 'dmp1', 'dmp2'],
  ],
  [
    'an event condition under not, beside a trait',
    {
      all: [
        { trait: 'country', op: 'eq', value: 'FR' },
        { not: { event: 'Order Completed', within: '90d', count: { op: 'gte', value: 2 } } },
      ],
    },
    ['bob'],
  ],
  [
    'an event condition in any',
    { any: [{ consent: 'ads' }, { event: 'Order Completed', within: '60d', count: { op: 'gte', value: 1 } }] },
    ['ann', 'bob', 'cyd'],
  ],
  ['min', { event: 'Order Completed', min: 'total', op: 'lt', value: 50 }, ['ann']],
  ['max', { event: 'Order Completed', max: 'total', op: 'gte', value: 300 }, ['cyd']],
  ['avg', { event: 'Order Completed', avg: 'total', op: 'gt', value: 60 }, ['bob', 'cyd']],
  [
    'property filter with in',
    {
      event: 'Order Completed',
      where: [{ property: 'currency', op: 'in', value: ['EUR'] }],
      count: { op: 'gte', value: 3 },
    },
    ['ann'],
  ],
  [
    'last occurrence before a relative date',
    { event: 'Order Completed', last: { op: 'before', value: '-60d' } },
    ['cyd'],
  ],
  ['first occurrence after a date', { event: 'Signed Up', first: { op: 'after', value: '2025-12-31' } }, ['ann']],
  [
    'nested all / any / not',
    {
      all: [
        {
          any: [
            { trait: 'country', op: 'eq', value: 'FR' },
            { trait: 'country', op: 'eq', value: 'DE' },
          ],
        },
        { not: { consent: 'ads' } },
      ],
    },
    ['bob'],
  ],
];

// The second PostgreSQL variant splits every full evaluation's read into three ranges of profiles, read at once on
// reader connections (in production only from a large profiles table on): each test must come out the same.
describe.each(['postgres', 'postgres with reads split in three', 'pglite'] as const)(
  'audience rules and evaluation on %s',
  (storage) => {
    let tdb: TestDatabase | undefined;
    let database: Database;
    let s: ReturnType<typeof audienceServices>;
    const clock = new TestClock(new Date('2026-06-01T00:00:00Z'));
    const ids = {} as Record<Name, string>;
    const names = new Map<string, Name>();
    const changed: string[][] = [];

    beforeAll(async () => {
      if (storage !== 'pglite') {
        tdb = await createTestDatabase('audiences_eval');
        database = await tdb.open(storage === 'postgres' ? {} : { parallelReads: 3, splitReadsFrom: 0 });
      } else {
        database = await openEmbeddedTestDatabase('audiences_eval');
      }
      s = audienceServices(database, clock);
      // One ingest per person, in order, so Ann is the oldest profile (she wins merges).
      for (const name of Object.keys(PEOPLE) as Name[]) {
        const r = await s.ingest.ingest([PEOPLE[name]], { sourceId: 'crm', defaultCountry: 'FR' });
        ids[name] = r.profileIds[0]!;
        names.set(ids[name], name);
      }
    });
    afterAll(async () => {
      await database.close();
      await tdb?.drop();
    });

    const who = async (rule: unknown): Promise<Name[]> => {
      const { size, sample } = await s.audiences.preview(rule, 100);
      expect(sample).toHaveLength(size);
      return sample.map((id) => names.get(id)!).sort();
    };

    it.each(RULES)('%s', async (_label, rule, expected) => {
      expect(await who(rule)).toEqual(expected);
    });

    it('cuts the profiles into contiguous ranges of ids that together hold each profile once', async () => {
      const ranges = await s.repository.profileRanges(3);
      expect(ranges.length).toBeGreaterThanOrEqual(2);
      expect(ranges[0].from).toBeUndefined();
      expect(ranges.at(-1)!.to).toBeUndefined();
      for (let i = 1; i < ranges.length; i++) expect(ranges[i].from).toBe(ranges[i - 1].to);
      const all = (await sql<{ id: string }>`select id from profiles`.execute(database.db)).rows.map((r) => r.id);
      const within = (id: string, r: (typeof ranges)[number]) =>
        (r.from === undefined || id >= r.from) && (r.to === undefined || id < r.to);
      for (const id of all) expect(ranges.filter((r) => within(id, r))).toHaveLength(1);
      // Too small a table to split, and one range asked for: none.
      expect(await s.repository.profileRanges(3, 1024 ** 3)).toEqual([]);
      expect(await s.repository.profileRanges(1)).toEqual([]);
    });

    it('refuses invalid rules naming the node, and warns about traits that cannot match', async () => {
      const bad: Array<[unknown, string]> = [
        [
          { all: [{ consent: 'ads' }, { consent: 'ads' }, { consent: 'ads' }, { event: 'x', within: '90 days' }] },
          'rule.all[3].within: must be like "90d"',
        ],
        [{ event: 'x', within: '4000d' }, 'rule.within: must be between 1h and 3650d'],
        [{ trait: 'age', op: 'bigger', value: 3 }, 'rule.op: must be one of'],
        [{ trait: 'age', op: 'between', value: [5, 1] }, 'rule.value: must be [low, high]'],
        [{ any: [] }, 'rule.any: must be a non-empty array'],
        [{ identifier: 'passport' }, 'rule.identifier: must be an identifier type'],
        [{ trait: 'a', op: 'eq', value: 1, extra: true }, 'rule.extra: unknown field'],
        [{ event: 'x', sum: 'total', op: 'gte', value: 'lots' }, 'rule.value: must be a number'],
        [{ trait: 'signed_up_at', op: 'before', value: 'last week' }, 'rule.value: must be an ISO date'],
        [{ audience: '00000000-0000-4000-8000-000000000000' }, 'rule.audience: no audience'],
      ];
      let deep: unknown = { consent: 'ads' };
      for (let i = 0; i < 12; i++) deep = { not: deep };
      bad.push([deep, 'nested deeper than 10 levels']);
      for (const [rule, message] of bad) {
        const error = await s.audiences.preview(rule).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidRuleError);
        expect((error as Error).message).toContain(message);
      }
      const { warnings } = await s.audiences.preview({
        all: [
          { trait: 'age', op: 'contains', value: 'x' },
          { trait: 'favourite_colour', op: 'eq', value: 'red' },
        ],
      });
      expect(warnings).toEqual([
        expect.stringContaining("rule.all[0]: trait 'age' is number"),
        expect.stringContaining("rule.all[1]: no sampled profile has a trait 'favourite_colour'"),
      ]);
    });

    it('evaluates many audiences in one pass: each of the rules above as an audience, twice over (two passes)', async () => {
      const created: Array<{ id: string; expected: Name[] }> = [];
      for (const [i, [, rule, expected]] of [...RULES, ...RULES].entries()) {
        const id = randomUUID();
        await s.repository.insert(database.db, {
          id,
          name: `one pass ${i}`,
          description: null,
          rule,
          timeDependent: false,
        });
        created.push({ id, expected });
      }
      expect(created.length).toBeGreaterThan(MAX_AUDIENCES_PER_PASS);
      const reads = database.readers ? jest.spyOn(database.readers.db, 'transaction') : undefined;
      const first = new Map((await s.evaluator.evaluateMany(created.map((c) => c.id))).map((r) => [r.audienceId, r]));
      // Split: each pass read its ranges on the reader connections.
      if (storage === 'postgres with reads split in three') expect(reads?.mock.calls.length).toBeGreaterThanOrEqual(4);
      else expect(reads?.mock.calls.length ?? 0).toBe(0);
      reads?.mockRestore();
      expect(created.map((c) => first.get(c.id)).map((r) => [r?.entered, r?.exited, r?.size])).toEqual(
        created.map((c) => [c.expected.length, 0, c.expected.length]),
      );
      for (const c of created) {
        const members = await s.changeLog.members(c.id, 100);
        expect(members.map((m) => names.get(m.profileId)!).sort()).toEqual(c.expected);
        // Each entering member is explained and logged as a single evaluation would.
        expect(members.every((m) => (m.reason as { matched: boolean }).matched)).toBe(true);
        expect((await s.changeLog.read(c.id)).map((x) => [x.change, names.get(x.profileId)]).sort()).toEqual(
          c.expected.map((n) => ['entered', n]),
        );
      }
      // A second pass finds nothing to change; one audience evaluated alone agrees.
      const again = await s.evaluator.evaluateMany(created.map((c) => c.id));
      expect(again.every((r) => r.entered === 0 && r.exited === 0)).toBe(true);
      expect(await s.evaluator.evaluate(created[1].id)).toMatchObject({ entered: 0, exited: 0 });
      // Stored members that disagree with the rule are put right: the missing one enters, the wrong one leaves.
      const direct = created[1];
      await sql`delete from audience_members where audience_id = ${direct.id}::uuid and profile_id = ${ids.ann}::uuid`.execute(
        database.db,
      );
      await sql`insert into audience_members (audience_id, profile_id, entered_at)
      values (${direct.id}::uuid, ${ids.dmp2}::uuid, now())`.execute(database.db);
      const repaired = await s.evaluator.evaluateMany([direct.id]);
      expect(repaired).toMatchObject([{ entered: 1, exited: 1 }]);
      expect((await s.changeLog.read(direct.id)).slice(-2).map((x) => [x.change, names.get(x.profileId)])).toEqual([
        ['exited', 'dmp2'],
        ['entered', 'ann'],
      ]);
      for (const c of created) await s.repository.delete(database.db, c.id);
    });

    let repeat: string;
    let recent: string;
    let segment: string;
    let travel: string;
    const log = async (audienceId: string): Promise<Array<[string, Name]>> =>
      (await s.changeLog.read(audienceId)).map((c) => [c.change, names.get(c.profileId)!]);
    const members = async (audienceId: string): Promise<Name[]> =>
      (await s.changeLog.members(audienceId, 100)).map((m) => names.get(m.profileId)!).sort();

    it('stores members and logs entered changes with the deciding conditions and their data', async () => {
      const a = await s.audiences.create({
        name: 'FR repeat buyers',
        rule: FIRST_EXAMPLE,
      });
      repeat = a.id;
      expect(a).toMatchObject({ size: 1, evaluation: { entered: 1, exited: 0, size: 1 } });
      const changes: AudienceChange[] = await s.changeLog.read(repeat);
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ change: 'entered', profileId: ids.ann });
      // The same log without reasons and times, as activation reads it; after the last cursor, nothing.
      expect(await s.changeLog.steps(repeat)).toEqual([
        { cursor: changes[0].cursor, profileId: ids.ann, change: 'entered' },
      ]);
      expect(await s.changeLog.steps(repeat, changes[0].cursor)).toEqual([]);
      expect(changes[0].reason).toEqual({
        matched: true,
        evaluation: 'full',
        because: [
          { path: 'rule.all[0]', condition: { trait: 'country', op: 'eq', value: 'FR' }, ok: true, value: 'FR' },
          { path: 'rule.all[1]', condition: { consent: 'ads' }, ok: true, value: true },
          { path: 'rule.all[2]', condition: { identifier: 'email' }, ok: true, value: true },
          expect.objectContaining({ path: 'rule.all[3]', ok: true, value: 2 }),
        ],
      });
      // Evaluating again changes nothing and logs nothing.
      expect(await s.evaluator.evaluate(repeat)).toMatchObject({ entered: 0, exited: 0, size: 1 });
      expect(await s.changeLog.read(repeat)).toHaveLength(1);

      recent = (
        await s.audiences.create({ name: 'ordered in 30 days', rule: { event: 'Order Completed', within: '30d' } })
      ).id;
      segment = (
        await s.audiences.create({
          name: 'auto intenders',
          rule: { trait: 'segments', op: 'contains', value: 'auto-intender' },
        })
      ).id;
      travel = (
        await s.audiences.create({ name: 'travel', rule: { trait: 'segments', op: 'contains', value: 'travel' } })
      ).id;
      expect(await members(recent)).toEqual(['ann']);
      expect(await members(segment)).toEqual(['dmp1']);
      expect(await members(travel)).toEqual(['dmp2']);
    });

    it('re-evaluates only the profiles an ingested batch changed (an event arrives)', async () => {
      s.ingest['changes'].subscribe(async (batch) => {
        changed.push(batch.profileIds);
      });
      await s.ingest.ingest(
        [
          {
            identifiers: [{ type: 'email', value: 'bob@acme.io' }],
            consent: { ads: true },
            events: [
              { id: 'b2', name: 'Order Completed', occurredAt: '2026-05-30T09:00:00Z', properties: { total: 70 } },
            ],
            observedAt: '2026-05-30T09:00:00Z',
          },
        ],
        { sourceId: 'shop' },
      );
      expect(changed.at(-1)).toEqual([ids.bob]);
      const untouched = await s.repository.get(travel);
      const relaxed = jest.spyOn(s.repository, 'commitWithoutFlush');
      const results = await s.evaluator.evaluateProfiles(changed.at(-1)!);
      // Memberships moved: the commit waits for the WAL to reach the disk.
      expect(relaxed).not.toHaveBeenCalled();
      // Only the audiences the change moved are rewritten: the others keep their evaluation time and size history.
      expect(await s.repository.get(travel)).toMatchObject({ lastEvaluatedAt: untouched!.lastEvaluatedAt, size: 1 });
      expect(results.find((r) => r.audienceId === travel)).toMatchObject({ entered: 0, exited: 0, size: 1 });
      expect(
        results
          .filter((r) => r.entered > 0)
          .map((r) => r.audienceId)
          .sort(),
      ).toEqual([repeat, recent].sort());
      expect(await log(repeat)).toEqual([
        ['entered', 'ann'],
        ['entered', 'bob'],
      ]);
      expect(await members(recent)).toEqual(['ann', 'bob']);

      // Evaluated again, nothing moves and nothing is written but row locks: the commit need not wait for a flush.
      const again = await s.evaluator.evaluateProfiles([ids.bob]);
      expect(again.filter((r) => r.entered > 0 || r.exited > 0)).toEqual([]);
      expect(relaxed).toHaveBeenCalledTimes(1);
      relaxed.mockRestore();
      // The setting is the transaction's own.
      const setting = async (db: Parameters<typeof s.repository.commitWithoutFlush>[0]) =>
        (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)).rows[0].synchronous_commit;
      await database.db.transaction().execute(async (trx) => {
        await s.repository.commitWithoutFlush(trx);
        expect(await setting(trx)).toBe('off');
      });
      expect(await setting(database.db)).toBe('on');
    });

    it('moves memberships on a merge and re-evaluates both profiles on an unmerge', async () => {
      await s.ingest.ingest(
        [
          {
            identifiers: [
              { type: 'email', value: 'ann@acme.io' },
              { type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' },
            ],
            observedAt: '2026-05-31T00:00:00Z',
          },
        ],
        { sourceId: 'app' },
      );
      expect(changed.at(-1)!.sort()).toEqual([ids.ann, ids.dmp2].sort());
      await s.evaluator.evaluateProfiles(changed.at(-1)!);
      const afterMerge = await s.changeLog.read(travel);
      expect(afterMerge.map((c) => [c.change, names.get(c.profileId)])).toEqual([
        ['entered', 'dmp2'],
        ['exited', 'dmp2'],
        ['entered', 'ann'],
      ]);
      expect(afterMerge[1].reason).toMatchObject({ matched: false, mergedInto: ids.ann });
      expect(await members(travel)).toEqual(['ann']);

      const split = await s.profiles.unmerge(ids.ann);
      expect(split.profiles).toEqual([ids.ann, ids.dmp2]);
      expect(changed.at(-1)).toEqual([ids.ann, ids.dmp2]);
      await s.evaluator.evaluateProfiles(changed.at(-1)!);
      expect((await log(travel)).slice(3)).toEqual([
        ['exited', 'ann'],
        ['entered', 'dmp2'],
      ]);
      expect(await members(travel)).toEqual(['dmp2']);
    });

    it('explains for a profile why it is in or out of each audience', async () => {
      const views = await s.evaluator.explainProfile(ids.bob);
      const byName = new Map(views.map((v) => [v.name, v]));
      expect(byName.get('FR repeat buyers')).toMatchObject({ member: true, reason: { matched: true } });
      expect(byName.get('travel')).toMatchObject({
        member: false,
        reason: { matched: false, because: [{ path: 'rule', ok: false, value: null }] },
      });
    });

    it('keeps computed traits per profile, refreshes them with changed profiles and uses them in rules', async () => {
      const orders = await s.computed.create({
        name: 'orders_90d',
        event: 'Order Completed',
        within: '90d',
        aggregation: 'count',
      });
      expect(orders).toMatchObject({ written: 2, timeDependent: true });
      await s.computed.create({
        name: 'top_currency',
        event: 'Order Completed',
        aggregation: 'most_frequent',
        property: 'currency',
      });
      await s.computed.create({ name: 'last_total', event: 'Order Completed', aggregation: 'last', property: 'total' });
      await s.computed.create({ name: 'spend', event: 'Order Completed', aggregation: 'sum', property: 'total' });
      const values = async (name: Name) =>
        Object.fromEntries((await s.computed.valuesOf(ids[name])).map((v) => [v.name, v.value]));
      expect(await values('ann')).toEqual({ last_total: 10, orders_90d: 3, spend: 150, top_currency: 'EUR' });
      expect(await values('bob')).toEqual({ last_total: 70, orders_90d: 2, spend: 170, top_currency: 'EUR' });
      expect(await values('cyd')).toEqual({ last_total: 300, spend: 600, top_currency: 'EUR' });
      expect(await who({ computed: 'orders_90d', op: 'gte', value: 2 })).toEqual(['ann', 'bob']);
      expect(await who({ computed: 'orders_90d', op: 'eq', value: 0 })).toEqual(['cyd', 'dmp1', 'dmp2']);
      expect(await who({ computed: 'last_total', op: 'lt', value: 50 })).toEqual(['ann']);

      await s.ingest.ingest(
        [
          {
            identifiers: [{ type: 'phone', value: '+33 6 12 34 56 78' }],
            events: [
              { id: 'c3', name: 'Order Completed', occurredAt: '2026-01-15T00:00:00Z', properties: { total: 5 } },
            ],
          },
        ],
        { sourceId: 'shop' },
      );
      // An older order: only the sum moves (the last order is still the one of 02-01, outside 90 days).
      expect(await s.computed.refresh(changed.at(-1))).toBe(1);
      expect(await values('cyd')).toEqual({ last_total: 300, spend: 605, top_currency: 'EUR' });

      const bad: Array<[Record<string, unknown>, string]> = [
        [{ name: 'x', event: 'e', within: '9 days', aggregation: 'count' }, 'within: must be like "90d"'],
        [{ name: 'x', event: 'e', aggregation: 'median' }, 'aggregation: must be one of'],
        [{ name: 'x', event: 'e', aggregation: 'sum' }, 'property: must be the property sum looks at'],
        [{ name: '9lives', event: 'e', aggregation: 'count' }, 'name: must be a letter'],
      ];
      for (const [input, message] of bad) await expect(s.computed.create(input as never)).rejects.toThrow(message);
      await expect(s.audiences.preview({ computed: 'nope', op: 'eq', value: 1 })).rejects.toThrow(
        'rule.computed: no computed trait named "nope"',
      );
      const user = await s.audiences.create({ name: 'busy', rule: { computed: 'orders_90d', op: 'gte', value: 3 } });
      expect(user.size).toBe(1);
      await expect(s.computed.delete(orders.id)).rejects.toThrow(`used by the rules of audiences ${user.id}`);
      await s.audiences.delete(user.id);
      await s.computed.delete(orders.id);
      expect(await values('ann')).toEqual({ last_total: 10, spend: 150, top_currency: 'EUR' });
    });

    it('ages members out of time windows and expired DMP segments on the scheduled re-check', async () => {
      clock.set('2026-06-15T00:00:00Z');
      await s.evaluator.recheckTimeDependent();
      // dmp1's segments expired on 06-10; Ann's last order (05-25) and Bob's (05-30) are still within 30 days.
      expect(await members(segment)).toEqual([]);
      expect((await s.changeLog.read(segment)).at(-1)).toMatchObject({
        change: 'exited',
        profileId: ids.dmp1,
        reason: { matched: false, evaluation: 'schedule', because: [{ path: 'rule', ok: false, value: null }] },
      });
      expect(await members(recent)).toEqual(['ann', 'bob']);
      clock.set('2026-06-26T00:00:00Z');
      await s.evaluator.recheckTimeDependent();
      expect(await members(recent)).toEqual(['bob']);
      clock.set('2026-06-30T00:00:00Z');
      await s.evaluator.recheckTimeDependent();
      expect(await members(recent)).toEqual([]);
      expect((await log(recent)).slice(-2)).toEqual([
        ['exited', 'ann'],
        ['exited', 'bob'],
      ]);
      const last = (await s.changeLog.read(recent)).at(-1)!;
      expect(last.reason).toMatchObject({ because: [{ path: 'rule', ok: false, value: 0 }] });
      const sizes = await s.audiences.sizes(recent, 100);
      expect(sizes.map((p) => p.size)).toEqual([1, 2, 2, 1, 0]);
    });

    it('counts overlaps between audiences', async () => {
      const o = await s.audiences.overlap([repeat, recent, travel]);
      expect(o.audiences.map((a) => a.size)).toEqual([2, 0, 1]);
      expect(o.pairs).toEqual([
        { a: repeat, b: recent, count: 0 },
        { a: repeat, b: travel, count: 0 },
        { a: recent, b: travel, count: 0 },
      ]);
      const both = await s.audiences.create({ name: 'FR buyers', rule: { trait: 'country', op: 'eq', value: 'FR' } });
      const o2 = await s.audiences.overlap([repeat, both.id]);
      expect(o2.pairs).toEqual([{ a: repeat, b: both.id, count: 2 }]);
    });
  },
);
