import { sha256Hex, type ActivationMember } from '@plexus/sdk';
import { IdentifierFingerprints } from './fingerprints.js';
import {
  ledgerItem,
  planBatch,
  planBatchYielding,
  type Intent,
  type LedgerView,
  type PlanContext,
  type ProfileSnapshot,
} from './member-planner.js';

/** A destination that keeps the first email, hashed, as its item: enough to see every planning decision. */
const context: PlanContext = {
  definition: {
    purpose: 'ads',
    toItem: (member: ActivationMember) => {
      const email = member.identifiers.find((i) => i.type === 'email');
      return email ? { EMAIL: sha256Hex(email.value) } : null;
    },
  },
  types: new Set(['email', 'device_id']),
  fingerprints: new IdentifierFingerprints(Buffer.alloc(32, 7)),
};

const profile = (
  id: string,
  options: { ads?: boolean; email?: string; live?: boolean; cookieOnly?: boolean } = {},
): ProfileSnapshot => ({
  id,
  live: options.live !== false,
  traits: { firstName: 'Ada' },
  consent: { ads: options.ads ?? true },
  identifiers: options.cookieOnly
    ? [{ type: 'cookie_id', value: 'ck-1' }]
    : [{ type: 'email', value: options.email ?? `${id}@acme.io` }],
});

function plan(
  intents: Array<[string, Intent]>,
  ledger: Record<string, LedgerView>,
  profiles: ReturnType<typeof profile>[],
) {
  return planBatch(new Map(intents), (id) => ledger[id], new Map(profiles.map((p) => [p.id, p])), context);
}

describe('planBatch', () => {
  it('adds sendable members with their fingerprints', () => {
    const payload = plan([['a', { present: true }]], {}, [profile('a')]);
    expect(payload.adds).toEqual([
      {
        profileId: 'a',
        item: { EMAIL: sha256Hex('a@acme.io') },
        fingerprints: [context.fingerprints.of('email', 'a@acme.io')],
      },
    ]);
    expect(payload.removes).toEqual([]);
  });

  it('sends nothing for a member the platform already holds with the same item, and re-adds a changed one', () => {
    const held: LedgerView = { state: 'held', item: { EMAIL: sha256Hex('a@acme.io') } };
    expect(plan([['a', { present: true }]], { a: held }, [profile('a')]).adds).toEqual([]);
    const changed = plan([['a', { present: true }]], { a: held }, [profile('a', { email: 'new@acme.io' })]);
    expect(changed.adds.map((m) => m.item)).toEqual([{ EMAIL: sha256Hex('new@acme.io') }]);
  });

  it('counts members without consent or without an accepted identifier as not sendable, and removes them when held', () => {
    const payload = plan(
      [
        ['no-consent', { present: true }],
        ['cookie', { present: true }],
        ['revoked', { present: true }],
      ],
      { revoked: { state: 'held', item: { EMAIL: 'h' } } },
      [
        profile('no-consent', { ads: false }),
        profile('cookie', { cookieOnly: true }),
        profile('revoked', { ads: false }),
      ],
    );
    expect(payload.notSendable.map((m) => [m.profileId, m.reason])).toEqual([
      ['no-consent', 'no consent for ads'],
      ['cookie', 'no identifier the destination accepts'],
    ]);
    expect(payload.removes).toEqual([
      { profileId: 'revoked', item: { EMAIL: 'h' }, fingerprints: [], reason: 'no consent for ads' },
    ]);
  });

  it('sends a suppressed (frozen) profile nowhere: removed where held, else not sendable, whatever its consent', () => {
    const frozen = (id: string) => ({ ...profile(id), frozen: true });
    const payload = plan(
      [
        ['held', { present: true }],
        ['new', { present: true }],
        ['free', { present: true }],
      ],
      { held: { state: 'held', item: { EMAIL: sha256Hex('held@acme.io') } } },
      [frozen('held'), frozen('new'), profile('free')],
    );
    expect(payload.removes).toEqual([
      {
        profileId: 'held',
        item: { EMAIL: sha256Hex('held@acme.io') },
        fingerprints: [],
        reason: 'suppressed by a privacy request',
      },
    ]);
    expect(payload.notSendable.map((m) => [m.profileId, m.reason])).toEqual([
      ['new', 'suppressed by a privacy request'],
    ]);
    expect(payload.adds.map((m) => m.profileId)).toEqual(['free']);
  });

  it('removes leavers with the item the platform received, even when the profile is gone', () => {
    const payload = plan(
      [
        ['left', { present: false, reason: 'left the audience' }],
        ['merged', { present: true }],
        ['never-sent', { present: false, reason: 'left the audience' }],
      ],
      {
        left: { state: 'held', item: { EMAIL: 'h1' } },
        merged: { state: 'removing', item: { EMAIL: 'h2' } },
        'never-sent': { state: 'not_sendable', item: null },
      },
      [profile('merged', { live: false })],
    );
    expect(payload.removes.map((m) => [m.profileId, m.item, m.reason])).toEqual([
      ['left', { EMAIL: 'h1' }, 'left the audience'],
      ['merged', { EMAIL: 'h2' }, 'the profile was merged or deleted'],
    ]);
    expect(payload.closed.map((m) => m.profileId)).toEqual(['never-sent']);
  });
});

describe('planBatchYielding', () => {
  it('plans the same payload as planBatch, in the same order, letting the event loop run between slices', async () => {
    // 25 members of every kind: added, already held, no consent, held without consent, leaving, gone.
    const intents: Array<[string, Intent]> = [];
    const ledger: Record<string, LedgerView> = {};
    const profiles: ProfileSnapshot[] = [];
    for (let n = 0; n < 25; n++) {
      const id = `p${String(n).padStart(2, '0')}`;
      const kind = n % 5;
      intents.push([id, kind === 4 ? { present: false, reason: 'left the audience' } : { present: true }]);
      if (kind === 1 || kind === 3 || kind === 4)
        ledger[id] = { state: 'held', item: { EMAIL: sha256Hex(`${id}@acme.io`) } };
      if (kind === 1) ledger[id] = { state: 'held', item: { EMAIL: sha256Hex('old@acme.io') } };
      profiles.push(profile(id, { ads: kind !== 2 && kind !== 3 }));
    }
    const whole = plan(intents, ledger, profiles);
    // Another task of the event loop, which runs only when planning lets it.
    let turns = 0;
    let done = false;
    const tick = () => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const sliced = await planBatchYielding(
      new Map(intents),
      (id) => ledger[id],
      new Map(profiles.map((p) => [p.id, p])),
      context,
      4,
    );
    done = true;
    expect(sliced).toEqual(whole);
    expect(whole.adds.length + whole.removes.length + whole.notSendable.length).toBe(25);
    expect(turns).toBeGreaterThanOrEqual(6); // one turn at least between each of the 7 slices
  });
});

describe('ledgerItem', () => {
  it('keeps hashed items as they are and never keeps clear contact details or traits', () => {
    const hashed = {
      EMAIL: sha256Hex('a@acme.io'),
      MADID: '6d92078a-8246-4ba4-ae5b-76104861e7dc',
      EXTERN_ID: '1234567890',
    };
    expect(ledgerItem(hashed)).toEqual(hashed);
    expect(
      ledgerItem({
        profileId: 'p1',
        identifiers: [
          { type: 'email', value: 'a@acme.io' },
          { type: 'phone', value: '+14155550100' },
        ],
        traits: { firstName: 'Ada' },
      }),
    ).toEqual({
      profileId: 'p1',
      identifiers: [
        { type: 'email', value: `sha256:${sha256Hex('a@acme.io')}` },
        { type: 'phone', value: `sha256:${sha256Hex('+14155550100')}` },
      ],
    });
  });

  it('returns an item with nothing to hide as is, and copies one that changes with its keys in order', () => {
    const hashed = { EMAIL: sha256Hex('a@acme.io'), rows: [['1234567890', 'ab']] };
    expect(ledgerItem(hashed)).toBe(hashed);
    const item = { id: 'p1', email: '+ada@acme.io', phone: '+14155550100', tags: ['x', 'b@c.io'], traits: {}, n: 1 };
    const kept = ledgerItem(item);
    expect(JSON.stringify(kept)).toBe(
      JSON.stringify({
        id: 'p1',
        email: `sha256:${sha256Hex('+ada@acme.io')}`,
        phone: `sha256:${sha256Hex('+14155550100')}`,
        tags: ['x', `sha256:${sha256Hex('b@c.io')}`],
        n: 1,
      }),
    );
    expect(item.tags).toEqual(['x', 'b@c.io']);
    expect(ledgerItem(['+1234', '12345678'])).toEqual(['+1234', '12345678']);
  });
});
