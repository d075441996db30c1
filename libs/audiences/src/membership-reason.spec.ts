import type { LeafNode, RuleNode } from '@plexus/storage';
import { explainMembership } from './membership-reason.js';

const leaf = (path: string): LeafNode => ({
  kind: 'consent',
  purpose: path,
  granted: true,
  path,
  source: { consent: path },
});

describe('explainMembership', () => {
  const a = leaf('rule.all[0]');
  const b = leaf('rule.all[1].any[0]');
  const c = leaf('rule.all[1].any[1]');
  const rule: RuleNode = { kind: 'all', children: [a, { kind: 'any', children: [b, c] }] };
  const results = (ok: [boolean, boolean, boolean]) =>
    new Map([
      [a, { ok: ok[0], value: ok[0] }],
      [b, { ok: ok[1], value: ok[1] }],
      [c, { ok: ok[2], value: ok[2] }],
    ]);

  it('a match is explained by the conditions that hold on the satisfied branches', () => {
    const r = explainMembership(rule, results([true, false, true]));
    expect(r.matched).toBe(true);
    expect(r.because.map((x) => x.path)).toEqual(['rule.all[0]', 'rule.all[1].any[1]']);
  });

  it('a miss is explained by the conditions that fail', () => {
    expect(explainMembership(rule, results([false, true, false])).because.map((x) => x.path)).toEqual(['rule.all[0]']);
    const r = explainMembership(rule, results([true, false, false]));
    expect(r).toMatchObject({ matched: false });
    expect(r.because.map((x) => [x.path, x.ok])).toEqual([
      ['rule.all[1].any[0]', false],
      ['rule.all[1].any[1]', false],
    ]);
  });

  it('not flips the result and keeps the leaf that decided', () => {
    const r = explainMembership({ kind: 'not', child: a }, new Map([[a, { ok: true, value: true }]]));
    expect(r).toEqual({
      matched: false,
      because: [{ path: 'rule.all[0]', condition: { consent: 'rule.all[0]' }, ok: true, value: true }],
    });
  });
});
