import { externalIdNamespace, normalizeIdentifier, normalizeRecord, PhoneNormalizer, sha256Hex } from '@plexus/profile';

const value = (type: any, raw: string, country?: string): string | undefined => {
  const r = normalizeIdentifier({ type, value: raw }, { country });
  return r.ok ? r.identifier.value : undefined;
};

describe('identifier normalisation', () => {
  it('trims and lower-cases emails and refuses non-addresses', () => {
    expect(value('email', '  Alice@Example.COM ')).toBe('alice@example.com');
    expect(value('email', 'n/a')).toBeUndefined();
    expect(value('email', 'alice@localhost')).toBeUndefined();
    expect(value('email', 'a b@example.com')).toBeUndefined();
  });

  it('accepts 64-hex email hashes lower-cased, and nothing else', () => {
    const h = sha256Hex('alice@example.com');
    expect(value('email_sha256', h.toUpperCase())).toBe(h);
    expect(value('email_sha256', 'alice@example.com')).toBeUndefined();
    expect(h).toBe('ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976');
  });

  it('formats phones as E.164 with the given country and refuses invalid ones', () => {
    expect(value('phone', '(415) 555-2671', 'US')).toBe('+14155552671');
    expect(value('phone', '020 7946 0018', 'GB')).toBe('+442079460018');
    expect(value('phone', '+44 20 7946 0018')).toBe('+442079460018');
    expect(value('phone', '020 7946 0018')).toBeUndefined();
    expect(value('phone', '12345', 'US')).toBeUndefined();
    expect(value('phone', 'call me', 'US')).toBeUndefined();
  });

  it('caches phone parsing per country', () => {
    const phones = new PhoneNormalizer(2);
    expect(phones.normalize('020 7946 0018', 'GB')).toBe('+442079460018');
    expect(phones.normalize('020 7946 0018', 'US')).toBeUndefined();
    expect(phones.normalize('020 7946 0018', 'GB')).toBe('+442079460018');
  });

  it('lower-cases device ids and refuses the zeroed one', () => {
    expect(value('device_id', 'AEBE52E7-03EE-455A-B3C4-E57283966239')).toBe('aebe52e7-03ee-455a-b3c4-e57283966239');
    expect(value('device_id', '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(value('device_id', 'not-a-uuid')).toBeUndefined();
  });

  it('requires <source>:<object>:<id> external ids', () => {
    expect(value('external_id', 'hubspot:contact:42')).toBe('hubspot:contact:42');
    expect(value('external_id', 'sf:contact:a:b')).toBe('sf:contact:a:b');
    expect(value('external_id', 'hubspot:42')).toBeUndefined();
    expect(value('external_id', 'hubspot::42')).toBeUndefined();
    expect(externalIdNamespace('sf:contact:a:b')).toBe('sf:contact');
  });

  it('keeps user ids as given apart from whitespace', () => {
    expect(value('user_id', ' U-42 ')).toBe('U-42');
    expect(value('cookie_id', '   ')).toBeUndefined();
  });
});

describe('record normalisation', () => {
  const isBlocked = (_type: string, v: string): boolean => v === 'n/a' || v === 'test@example.com';

  it('keeps valid identifiers, derives email_sha256 and notes what it dropped', () => {
    const r = normalizeRecord(
      {
        identifiers: [
          { type: 'email', value: 'Bob@Example.com' },
          { type: 'phone', value: '555' },
          { type: 'email', value: 'bob@example.com ' },
          { type: 'email_sha256', value: sha256Hex('bob@example.com').toUpperCase() },
        ],
        consent: { email: true, ads: 'yes' as any },
        traitExpiry: { segment: '2030-01-01T00:00:00Z' },
        observedAt: '2026-01-01T00:00:00Z',
      },
      { isBlocked, defaultCountry: 'US' },
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.record.identifiers).toEqual([
      { type: 'email', value: 'bob@example.com' },
      { type: 'email_sha256', value: sha256Hex('bob@example.com') },
    ]);
    expect(r.record.dropped).toEqual([{ type: 'phone', value: '555', reason: "phone '555' is not valid" }]);
    expect(r.record.consent).toEqual({ email: true });
    expect(r.record.traitExpiry.segment).toEqual(new Date('2030-01-01T00:00:00Z'));
  });

  it('refuses a record without a valid identifier and says why', () => {
    const r = normalizeRecord({ identifiers: [{ type: 'email', value: ' N/A ' }] }, { isBlocked });
    expect(r).toEqual({ ok: false, reason: "no valid identifier: email 'n/a' is blocked" });
  });
});
