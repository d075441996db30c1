import { encodeTcCore } from '../../../test/tracking/tc-string.js';
import { consentFromContext } from './consent.util.js';
import { correctedTimestamp, messageProblem, normalizeSegmentMessage } from './segment.normalizer.js';

const receivedAt = new Date('2026-05-01T12:00:10.000Z');
const ok = (message: unknown, route?: any, options: any = {}) => {
  const out = normalizeSegmentMessage(message, route, { receivedAt, ...options });
  if (!out.ok) throw new Error(out.reason);
  return out;
};
const reason = (message: unknown, route?: any) => {
  const out = normalizeSegmentMessage(message, route, { receivedAt });
  if (out.ok) throw new Error('expected a refusal');
  return out.reason;
};

describe('Segment messages → profile records', () => {
  it('maps track to an event with the messageId as idempotency key and the context kept, IP truncated', () => {
    const out = ok({
      type: 'track',
      event: 'Order Completed',
      userId: 'u1',
      anonymousId: 'a1',
      messageId: 'm-1',
      properties: { total: 42.5 },
      context: {
        ip: '203.0.113.77',
        userAgent: 'UA',
        device: { advertisingId: '6D92078A-8246-4BA4-AE5B-76104861E7DC' },
        consent: { categoryPreferences: { Advertising: true } },
      },
      timestamp: '2026-05-01T12:00:00.000Z',
    });
    expect(out.messageId).toBe('m-1');
    expect(out.record.identifiers).toEqual([
      { type: 'user_id', value: 'u1' },
      { type: 'anonymous_id', value: 'a1' },
      { type: 'device_id', value: '6D92078A-8246-4BA4-AE5B-76104861E7DC' },
    ]);
    const [event] = out.record.events!;
    expect(event).toMatchObject({ name: 'Order Completed', id: 'm-1', properties: { total: 42.5 } });
    expect(event.properties!.$context).toEqual({ ip: '203.0.113.0', userAgent: 'UA', device: {} });
    expect(out.record.consent).toEqual({ ads: true });
  });

  it('keeps the full IP when the source says so', () => {
    const out = ok({ event: 'x', anonymousId: 'a', context: { ip: '203.0.113.77' } }, 'track', { keepFullIp: true });
    expect((out.record.events![0].properties!.$context as any).ip).toBe('203.0.113.77');
  });

  it('identify folds context.traits then traits, and takes the email as an identifier', () => {
    const out = ok(
      { userId: 42, traits: { email: 'Ann@Example.org', plan: 'pro' }, context: { traits: { plan: 'free', age: 30 } } },
      'identify',
    );
    expect(out.record.traits).toEqual({ plan: 'pro', age: 30, email: 'Ann@Example.org' });
    expect(out.record.identifiers).toEqual([
      { type: 'user_id', value: '42' },
      { type: 'email', value: 'Ann@Example.org' },
    ]);
    expect(out.record.events).toBeUndefined();
  });

  it('page and screen are Page Viewed / Screen Viewed with name and category', () => {
    const page = ok({ anonymousId: 'a', name: 'Pricing', category: 'Docs', properties: { path: '/pricing' } }, 'page');
    expect(page.record.events![0]).toMatchObject({
      name: 'Page Viewed',
      properties: { path: '/pricing', name: 'Pricing', category: 'Docs' },
    });
    const screen = ok({ type: 'screen', anonymousId: 'a', name: 'Home' });
    expect(screen.record.events![0]).toMatchObject({ name: 'Screen Viewed', properties: { name: 'Home' } });
  });

  it('group sets groupId and the group traits; alias links previousId', () => {
    expect(ok({ userId: 'u', groupId: 'g1', traits: { name: 'Acme' } }, 'group').record.traits).toEqual({
      groupId: 'g1',
      group: { name: 'Acme', id: 'g1' },
    });
    expect(ok({ type: 'alias', userId: 'u', previousId: 'anon-7' }).record.identifiers).toEqual([
      { type: 'user_id', value: 'u' },
      { type: 'anonymous_id', value: 'anon-7' },
    ]);
  });

  it('ignores the advertising id when ad tracking is off', () => {
    const out = ok(
      { event: 'e', anonymousId: 'a', context: { device: { advertisingId: 'abc', adTrackingEnabled: false } } },
      'track',
    );
    expect(out.record.identifiers.map((i) => i.type)).toEqual(['anonymous_id']);
  });

  it('corrects the client clock from sentAt', () => {
    // The client clock is 1 h behind: it stamped 11:00:00 and sent at 11:00:05; we received at 12:00:10.
    const out = ok(
      { event: 'e', anonymousId: 'a', timestamp: '2026-05-01T11:00:00.000Z', sentAt: '2026-05-01T11:00:05.000Z' },
      'track',
    );
    expect(out.record.events![0].occurredAt).toEqual(new Date('2026-05-01T12:00:05.000Z'));
    expect(correctedTimestamp(undefined, undefined, receivedAt)).toBe(receivedAt);
    // Batch-level sentAt applies to messages without their own; originalTimestamp (RudderStack) counts as timestamp.
    const batched = ok(
      { type: 'track', event: 'e', anonymousId: 'a', originalTimestamp: '2026-05-01T11:00:00.000Z' },
      undefined,
      {
        batch: { sentAt: '2026-05-01T11:00:10.000Z' },
      },
    );
    expect(batched.record.observedAt).toEqual(new Date('2026-05-01T12:00:00.000Z'));
  });

  it('derives a stable messageId from the content when the client sent none', () => {
    const a = ok({ event: 'e', anonymousId: 'a', timestamp: '2026-05-01T11:00:00Z' }, 'track');
    const b = ok({ event: 'e', anonymousId: 'a', timestamp: '2026-05-01T11:00:00Z' }, 'track');
    expect(a.messageId).toMatch(/^h-[0-9a-f]{40}$/);
    expect(a.messageId).toBe(b.messageId);
  });

  it('refuses invalid messages with a reason', () => {
    expect(reason({ event: 'e' }, 'track')).toBe('userId or anonymousId is required');
    expect(reason({ anonymousId: 'a' }, 'track')).toBe('event is required');
    expect(reason({ type: 'bogus', anonymousId: 'a' })).toMatch(/^type must be one of identify, track/);
    expect(reason({ userId: 'u' }, 'alias')).toBe('previousId is required');
    expect(reason({ userId: 'u' }, 'group')).toBe('groupId is required');
    expect(reason({ anonymousId: 'a', event: 'e', timestamp: 'yesterday' }, 'track')).toMatch(
      /^timestamp is not a valid date/,
    );
    expect(reason({ anonymousId: 'a', event: 'e', properties: [1] }, 'track')).toBe('properties must be an object');
    expect(reason({ anonymousId: { x: 1 }, event: 'e' }, 'track')).toBe('anonymousId must be a string');
    expect(reason('text', 'track')).toBe('a message must be a JSON object');
  });

  it('limits a message to 32 KB and refuses NUL characters', () => {
    expect(messageProblem({ a: 'x'.repeat(33 * 1024) })).toBe('message is larger than 32 KB');
    expect(messageProblem({ a: 'bad\u0000' })).toMatch(/NUL/);
    expect(messageProblem({ a: 'x'.repeat(1000) })).toBeUndefined();
  });
});

describe('consent from context', () => {
  it('decodes a TCF v2 string and lets explicit categories win', () => {
    const tc = encodeTcCore([1, 3, 4, 8, 9]);
    expect(consentFromContext({ gdpr_consent: tc })).toEqual({ ads: true, analytics: true, personalization: false });
    expect(consentFromContext({ consent: { tcString: tc, categoryPreferences: { Analytics: false } } })).toEqual({
      ads: true,
      analytics: false,
      personalization: false,
    });
    expect(consentFromContext({ consent: { tcf: { tcString: tc } } }).ads).toBe(true);
  });

  it('maps categories, Google consent mode keys, RudderStack consent ids and do-not-sell', () => {
    expect(
      consentFromContext({
        consent: {
          categoryPreferences: {
            marketing: true,
            ad_personalization: false,
            'Email Marketing': true,
            'Do Not Sell': true,
            Unknown: true,
          },
        },
      }),
    ).toEqual({ ads: false, email: true, sale: false });
    expect(
      consentFromContext({
        consentManagement: { allowedConsentIds: ['analytics'], deniedConsentIds: ['advertising'] },
      }),
    ).toEqual({
      analytics: true,
      ads: false,
    });
    expect(consentFromContext({ consent: { email: true } })).toEqual({ email: true });
    expect(consentFromContext({})).toEqual({});
  });
});
