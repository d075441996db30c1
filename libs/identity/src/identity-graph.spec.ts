import type { Identifier } from '@plexus/sdk';
import { IdentityGraph } from './identity-graph.js';
import { CompiledRules, defaultIdentityRules } from './identity-rules.js';

const email: Identifier = { type: 'email', value: 'lucie@acme.io' };
const phone: Identifier = { type: 'phone', value: '+33612345678' };
const cookie: Identifier = { type: 'cookie_id', value: 'ck-1' };
const userId: Identifier = { type: 'user_id', value: 'u-1' };

function graph(): IdentityGraph {
  let n = 0;
  let clock = 0;
  return new IdentityGraph(
    new CompiledRules(defaultIdentityRules()),
    () => `p${++n}`,
    () => clock++,
  );
}

describe('IdentityGraph separations (undone merges)', () => {
  it('keeps a bridging record on the side of its highest-priority identifier and drops the other side', () => {
    const g = graph();
    const p1 = g.resolve([email], 1).profileId;
    const p2 = g.resolve([phone], 2).profileId;
    g.addSeparation(email, 7, 0);
    g.addSeparation(phone, 7, 1);
    const bridged = g.resolve([phone, cookie, email], 3);
    expect(bridged.profileId).toBe(p1);
    expect(bridged.merges).toEqual([]);
    expect(bridged.dropped).toEqual([
      { ...phone, reason: 'phone would join profiles kept apart by the unmerge of merge 7' },
    ]);
    expect(g.live(g.owner.get('phone:+33612345678')!)).toBe(p2);
    expect(g.owner.get('cookie_id:ck-1')).toBe(p1);
  });

  it('also stops a record that links the two profiles through other identifiers', () => {
    const g = graph();
    const p1 = g.resolve([email, cookie], 1).profileId;
    const p2 = g.resolve([phone, userId], 2).profileId;
    g.addSeparation(email, 7, 0);
    g.addSeparation(phone, 7, 1);
    // user_id outranks cookie_id: the record stays with profile 2 and the cookie is dropped.
    const r = g.resolve([cookie, userId], 3);
    expect(r.profileId).toBe(p2);
    expect(r.dropped.map((d) => d.type)).toEqual(['cookie_id']);
    expect(g.owner.get('cookie_id:ck-1')).toBe(p1);
  });

  it('leaves other merges of a separated identifier alone', () => {
    const g = graph();
    g.resolve([email], 1);
    const p2 = g.resolve([phone], 2).profileId;
    g.addSeparation(email, 7, 0);
    g.addSeparation(phone, 7, 1);
    const p3 = g.resolve([userId], 3).profileId;
    const r = g.resolve([phone, userId], 4);
    expect(r.merges).toEqual([{ winner: p2, losers: [p3], causedBy: expect.any(Array) }]);
    expect(r.dropped).toEqual([]);
  });

  it('keeps apart two new identifiers of one record', () => {
    const g = graph();
    g.addSeparation(email, 7, 0);
    g.addSeparation(phone, 7, 1);
    const r = g.resolve([email, phone], 1);
    expect(r.dropped.map((d) => d.type)).toEqual(['phone']);
    expect(g.owner.has('phone:+33612345678')).toBe(false);
  });
});
