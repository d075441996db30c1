import type { ActivationMember } from '@plexus/sdk';
import { googleConsent, normalizeEmail, normalizeName, normalizePhone, toGoogleItem } from './normalize.js';

// Digests computed by hand (`printf '%s' +18005550100 | sha256sum`) from the normalised examples of Google's
// "Format user data" guide.
const H = {
  gmail: 'd6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69', // janedoe@gmail.com
  alex: '2ef46c4214c3fc1b277a2d976d55194e12b899aa50d721f28da858c7689756e3', // alexj@example.com
  phone: 'fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30', // +18005550100
  jane: '81f8f6dde88365f3928796ec7aa53f72820b06db8664f5fe76a7eb13e24546a2',
  obrien: 'b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba',
};

const member = (partial: Partial<ActivationMember>): ActivationMember => ({
  profileId: 'p1',
  identifiers: [],
  traits: {},
  ...partial,
});

describe("Google's normalisation", () => {
  it('removes dots and +suffix from gmail and googlemail local parts only', () => {
    expect(normalizeEmail(' Jane.Doe+news@Gmail.com ')).toBe('janedoe@gmail.com');
    expect(normalizeEmail('jane.doe@googlemail.com')).toBe('janedoe@googlemail.com');
    expect(normalizeEmail('Alex J@example.com')).toBe('alexj@example.com');
    expect(normalizeEmail('jane.doe+x@example.com')).toBe('jane.doe+x@example.com');
  });

  it('keeps phones in E.164 with the plus sign', () => {
    expect(normalizePhone('+1 (800) 555-0100')).toBe('+18005550100');
    expect(normalizePhone('18005550100')).toBe('+18005550100');
    expect(normalizePhone('0018005550100')).toBe('+18005550100');
    expect(normalizePhone('12')).toBe('');
  });

  it('lower-cases names without punctuation', () => {
    expect(normalizeName(" O'Brien ")).toBe('obrien');
    expect(normalizeName('Jane')).toBe('jane');
  });

  it('maps a member to hashed identifiers, the address only when complete, and its consent', () => {
    const item = toGoogleItem(
      member({
        identifiers: [
          { type: 'email', value: 'Jane.Doe+news@gmail.com' },
          { type: 'email', value: 'alexj@example.com' },
          { type: 'email_sha256', value: 'a'.repeat(64) }, // ignored: plain emails are known
          { type: 'phone', value: '+18005550100' },
        ],
        traits: { firstName: 'Jane', lastName: "O'Brien", country: 'us', postalCode: '94043' },
        consent: { ads: true, personalization: false },
      }),
    );
    expect(item).toEqual({
      userIdentifiers: [
        { emailAddress: H.gmail },
        { emailAddress: H.alex },
        { phoneNumber: H.phone },
        { address: { givenName: H.jane, familyName: H.obrien, regionCode: 'US', postalCode: '94043' } },
      ],
      consent: { adUserData: 'CONSENT_GRANTED', adPersonalization: 'CONSENT_DENIED' },
    });
    const noZip = toGoogleItem(
      member({
        identifiers: [{ type: 'phone', value: '+18005550100' }],
        traits: { firstName: 'Jane', lastName: 'Doe' },
      }),
    );
    expect(noZip).toEqual({ userIdentifiers: [{ phoneNumber: H.phone }] });
  });

  it('uses email_sha256 only without a plain email, caps identifiers at 10, and needs one', () => {
    expect(toGoogleItem(member({ identifiers: [{ type: 'email_sha256', value: H.alex }] }))).toEqual({
      userIdentifiers: [{ emailAddress: H.alex }],
    });
    const many = Array.from({ length: 12 }, (_, i) => ({ type: 'email' as const, value: `p${i}@example.com` }));
    expect(toGoogleItem(member({ identifiers: many }))?.userIdentifiers).toHaveLength(10);
    expect(toGoogleItem(member({ identifiers: [{ type: 'device_id', value: 'x' }] }))).toBeNull();
  });

  it('takes adUserData from ads and adPersonalization from personalization, else ads', () => {
    expect(googleConsent(undefined)).toBeUndefined();
    expect(googleConsent({ email: true })).toBeUndefined();
    expect(googleConsent({ ads: false })).toEqual({
      adUserData: 'CONSENT_DENIED',
      adPersonalization: 'CONSENT_DENIED',
    });
    expect(googleConsent({ personalization: true })).toEqual({
      adUserData: 'CONSENT_STATUS_UNSPECIFIED',
      adPersonalization: 'CONSENT_GRANTED',
    });
  });
});
