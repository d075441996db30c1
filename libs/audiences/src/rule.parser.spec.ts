import { InvalidRuleError } from './audience.errors.js';
import { parseDate, parseRule, parseWindow } from './rule.parser.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('rule parser', () => {
  const rules: Record<string, unknown> = { [A]: { trait: 'country', op: 'eq', value: 'FR' }, [B]: { audience: A } };
  const lookup = (id: string): unknown => rules[id];

  it('parses windows and dates', () => {
    expect(parseWindow('90d', 'w')).toBe(90 * 86_400_000);
    expect(parseWindow('12h', 'w')).toBe(12 * 3_600_000);
    expect(() => parseWindow('0d', 'w')).toThrow('w: must be between 1h and 3650d');
    expect(parseDate('-30d', 'd')).toEqual({ relativeMs: -30 * 86_400_000 });
    expect(parseDate('+2h', 'd')).toEqual({ relativeMs: 2 * 3_600_000 });
    expect(parseDate('2026-01-31', 'd')).toEqual({ at: '2026-01-31' });
    expect(() => parseDate('2026-13-45', 'd')).toThrow(InvalidRuleError);
  });

  it('inlines referenced audiences and says whether the rule depends on the clock', () => {
    const parsed = parseRule({ all: [{ audience: B }, { consent: 'ads' }] }, { lookup });
    expect(parsed.references.sort()).toEqual([A, B]);
    expect(parsed.timeDependent).toBe(true);
    expect(parsed.rule).toMatchObject({
      kind: 'all',
      children: [{ kind: 'audience', audienceId: B, rule: { kind: 'audience', audienceId: A } }, { kind: 'consent' }],
    });
    expect(parseRule({ identifier: 'email' }, { lookup }).timeDependent).toBe(false);
    expect(parseRule({ event: 'x', within: '1h' }, { lookup })).toMatchObject({
      timeDependent: true,
      rule: { kind: 'event', aggregation: 'count', op: 'gte', value: 1, withinMs: 3_600_000 },
    });
  });

  it('names the bad node of an invalid rule by its path', () => {
    const cases: Array<[unknown, string]> = [
      [{ any: [{ consent: 'ads' }, { event: 'x', count: { op: 'most', value: 1 } }] }, 'rule.any[1].count.op'],
      [{ not: { trait: '', op: 'eq', value: 1 } }, 'rule.not.trait'],
      [{ all: [{ event: 'x', where: [{ property: 'p', op: 'before', value: 1 }] }] }, 'rule.all[0].where[0].op'],
      [{ trait: 'a', op: 'in', value: [] }, 'rule.value'],
      [{ trait: 'a', op: 'exists', value: true }, 'rule.value'],
      [{ event: 'x', last: { op: 'during', value: '-1d' } }, 'rule.last.op'],
      [[], 'rule'],
      [{ color: 'red' }, 'rule'],
    ];
    for (const [rule, path] of cases) {
      let error: unknown;
      try {
        parseRule(rule, { lookup });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidRuleError);
      expect((error as InvalidRuleError).path).toBe(path);
    }
  });

  it('refuses a cycle through other audiences at the referring node', () => {
    expect(() => parseRule({ audience: B }, { lookup, selfId: A })).toThrow(
      `rule.audience: makes a cycle (${A} → ${B} → ${A})`,
    );
  });
});
