import fc from 'fast-check';
import { normalizeRecord } from '@plexus/profile';
import { CompiledRules, defaultIdentityRules } from './identity-rules.js';
import { canonicalJson, hasObservedAt, recordFingerprint, rulesDigest } from './record-fingerprint.js';

const normalized = (record: Parameters<typeof normalizeRecord>[0]) => {
  const result = normalizeRecord(record, { now: new Date('2026-03-01T00:00:00Z') });
  if (!result.ok) throw new Error(result.reason);
  return result.record;
};

describe('record fingerprints', () => {
  const rules = rulesDigest(new CompiledRules(defaultIdentityRules()));

  it('writes canonical JSON: keys sorted at every level, dates as epoch ms', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: null, e: 'x' }], c: true } })).toBe(
      '{"a":{"c":true,"d":[2,{"e":"x","f":null}]},"b":1}',
    );
    expect(canonicalJson(new Date(5))).toBe('5');
    expect(canonicalJson({ b: undefined, a: [undefined, 1] })).toBe('{"a":[null,1]}');
  });

  it('writes any JSON value as the first, array-building version did (stored fingerprints stay valid)', () => {
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      const entries = Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`);
      return `{${entries.join(',')}}`;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same key and fingerprint whatever the order of identifiers and trait keys', () => {
    const print = (email: string, identifiersFirst: 'email' | 'user_id', traits: Record<string, number>) => {
      const identifiers = [
        { type: 'email' as const, value: email },
        { type: 'user_id' as const, value: 'u1' },
      ];
      if (identifiersFirst === 'user_id') identifiers.reverse();
      return recordFingerprint(normalized({ identifiers, traits }), false, rules);
    };
    const a = print('A@acme.io', 'email', { x: 1, y: 2 });
    const b = print('a@acme.io', 'user_id', { y: 2, x: 1 });
    expect(b).toEqual(a);
    expect(a.key).toMatch(/^[0-9a-f]{32}$/);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it('changes the fingerprint, not the key, with a trait, an observedAt or the rules', () => {
    const record = { identifiers: [{ type: 'user_id' as const, value: 'u1' }], traits: { x: 1 } };
    const base = recordFingerprint(normalized(record), false, rules);
    const trait = recordFingerprint(normalized({ ...record, traits: { x: 2 } }), false, rules);
    const timed = recordFingerprint(normalized({ ...record, observedAt: '2026-03-01T00:00:00Z' }), true, rules);
    const otherRules = recordFingerprint(normalized(record), false, 'other');
    for (const changed of [trait, timed, otherRules]) {
      expect(changed.key).toBe(base.key);
      expect(changed.fingerprint).not.toBe(base.fingerprint);
    }
  });

  it('never lets a record with an event without id be skipped', () => {
    const at = '2026-03-01T00:00:00Z';
    const identifiers = [{ type: 'user_id' as const, value: 'u1' }];
    expect(
      recordFingerprint(normalized({ identifiers, events: [{ name: 'v', occurredAt: at }] }), false, rules).skippable,
    ).toBe(false);
    expect(
      recordFingerprint(normalized({ identifiers, events: [{ name: 'v', occurredAt: at, id: 'e1' }] }), false, rules)
        .skippable,
    ).toBe(true);
  });

  it('tells a given observedAt from one the hub filled in', () => {
    expect(hasObservedAt(undefined)).toBe(false);
    expect(hasObservedAt('not a date')).toBe(false);
    expect(hasObservedAt('2026-03-01T00:00:00Z')).toBe(true);
    expect(hasObservedAt(new Date())).toBe(true);
  });
});
