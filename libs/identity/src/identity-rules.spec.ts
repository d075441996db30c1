import { IDENTIFIER_TYPES } from '@plexus/sdk';
import { CompiledRules, defaultIdentityRules, patternProblem, validateIdentityRules } from './identity-rules.js';

describe('identity rules: blocked values', () => {
  const rules = new CompiledRules(defaultIdentityRules());

  it.each([
    '[object Object]',
    '[object Undefined]',
    'NaN',
    'Infinity',
    '-Infinity',
    'undefined',
    'null',
    'None',
    'true',
    'FALSE',
    '-1',
    '0',
    '{{userId}}',
    '{{ contact.email }}',
    '${userId}',
    '#{user.id}',
    '%%userId%%',
    '<%= user_id %>',
    '{% user %}',
    '*|EMAIL|*',
    '[[id]]',
    '',
    '   ',
    '""',
    "''",
    '--',
    '?',
    'n/a',
    '(not set)',
    '111111',
  ])('blocks the placeholder %j for every identifier type', (value) => {
    for (const type of IDENTIFIER_TYPES) expect([type, rules.isBlocked(type, value)]).toEqual([type, true]);
  });

  it.each(['alice', 'user-42', '0f8e2b1c', 'true-believer', '{{partial', 'a@b.io', '123456'])(
    'lets the real value %j through',
    (value) => {
      expect(rules.isBlocked('user_id', value)).toBe(false);
    },
  );

  it('refuses patterns outside RE2 (backreferences, lookaround) and very long ones', () => {
    expect(patternProblem('^(a+)+$')).toBeUndefined();
    expect(patternProblem('(\\d)\\1')).toMatch(/RE2/);
    expect(patternProblem('(?=x)')).toMatch(/RE2/);
    expect(patternProblem('a'.repeat(1001))).toMatch(/longer than 1000/);
    const body = { ...defaultIdentityRules(), blocked: [{ pattern: '(?<!a)b' }] };
    expect(validateIdentityRules(body)).toEqual([
      { field: 'blocked[0].pattern', problems: [expect.stringMatching(/linear-time RE2/)] },
    ]);
  });

  it('runs a nested quantifier in linear time (a backtracking engine needs 2^n steps here)', () => {
    const compiled = new CompiledRules({ ...defaultIdentityRules(), blocked: [{ pattern: '^(a+)+$' }] });
    expect(compiled.isBlocked('user_id', `${'a'.repeat(5000)}!`)).toBe(false);
    expect(compiled.isBlocked('user_id', 'AAAA')).toBe(true);
  });

  it('reports stored patterns the engine refuses instead of failing every batch', () => {
    const compiled = new CompiledRules({ ...defaultIdentityRules(), blocked: [{ pattern: '(x)\\1' }] });
    expect(compiled.unusablePatterns).toEqual(['(x)\\1']);
    expect(compiled.isBlocked('user_id', 'xx')).toBe(false);
  });

  it('the defaults validate', () => {
    expect(validateIdentityRules(defaultIdentityRules())).toEqual([]);
  });
});
