import { looksPersonal, maskPii, PII_MASK } from './pii-masking.interceptor.js';

describe('maskPii', () => {
  it('masks identifier values wherever they appear, keeping the type', () => {
    const masked = maskPii({
      id: 'p1',
      identifiers: [{ type: 'user_id', value: 'u-42', sourceId: 's1' }],
      history: [{ causedBy: [{ type: 'cookie_id', value: 'abc', profileId: 'p2' }] }],
    });
    expect(masked).toEqual({
      id: 'p1',
      identifiers: [{ type: 'user_id', value: PII_MASK, sourceId: 's1' }],
      history: [{ causedBy: [{ type: 'cookie_id', value: PII_MASK, profileId: 'p2' }] }],
    });
  });

  it('masks contact-like traits with their provenance kept, and email/phone-looking strings anywhere', () => {
    const observedAt = new Date('2026-01-01T00:00:00Z');
    const masked = maskPii({
      traits: {
        email: { value: 'a@example.io', sourceId: 's1', observedAt },
        mobilePhone: { value: 15551234567, sourceId: 's1', observedAt },
        firstName: { value: 'Ada', sourceId: 's1', observedAt },
      },
      record: { Email: 'b@example.io', contact: '+44 20 7946 0958', signup: '2024-05-01', count: 1234567 },
      next: '12345678',
    });
    expect(masked).toEqual({
      traits: {
        email: { value: PII_MASK, sourceId: 's1', observedAt },
        mobilePhone: { value: PII_MASK, sourceId: 's1', observedAt },
        firstName: { value: 'Ada', sourceId: 's1', observedAt },
      },
      record: { Email: PII_MASK, contact: PII_MASK, signup: '2024-05-01', count: 1234567 },
      next: '12345678',
    });
  });

  it('tells contact details from dates, ids and short numbers', () => {
    expect(looksPersonal('alice@example.io')).toBe(true);
    expect(looksPersonal('+15551234567')).toBe(true);
    expect(looksPersonal('2026-12-04')).toBe(false);
    expect(looksPersonal('123')).toBe(false);
    expect(looksPersonal('0b6c1f0e-5a0b-4c4e-9a57-8d6c1b7b8d4e')).toBe(false);
  });
});
