import type { ActivationMember } from '@plexus/sdk';
import {
  metaRow,
  normalizeCity,
  normalizeCountry,
  normalizeEmail,
  normalizeMadid,
  normalizeName,
  normalizePhone,
  normalizeZip,
  toMetaItem,
} from './normalize.js';

// Digests computed by hand (`printf '%s' john_smith@gmail.com | sha256sum`) from the normalised forms of the
// examples in Meta's "Hashing and normalizing data" guide.
const H = {
  email: '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f', // john_smith@gmail.com
  phone: 'bb2fa2e6d2cea4746530c99686d0c7886ab2019875dca2d7e9e171c0e6ada00d', // 16169547888
  mary: '6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec',
  valery: '08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c', // valéry
  menlopark: '0007a3d64c01e23d5075203c5977c14e4f7e01a3fc570686fcc50b5e1dd42685',
  zip: 'b9a9cf3cd3723a2e91b7c23ecf68456e872b6e5d86e5cab7f3d45a7302da32c7', // 94025
  us: '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621',
};

const member = (identifiers: ActivationMember['identifiers'], traits: ActivationMember['traits'] = {}) => ({
  profileId: 'p1',
  identifiers,
  traits,
});

describe("Meta's normalisation", () => {
  it('normalises each key the way the guide shows', () => {
    expect(normalizeEmail(' John_Smith@gmail.com ')).toBe('john_smith@gmail.com');
    expect(normalizePhone('+1 (616) 954-78 88')).toBe('16169547888');
    expect(normalizePhone('0016169547888')).toBe('16169547888');
    expect(normalizeName('Mary')).toBe('mary');
    expect(normalizeName(' Valéry ')).toBe('valéry');
    expect(normalizeName("O'Brien-Smith")).toBe('obriensmith');
    expect(normalizeCity('Menlo Park')).toBe('menlopark');
    expect(normalizeCity('São Paulo')).toBe('saopaulo');
    expect(normalizeZip('94025-1234', 'us')).toBe('94025');
    expect(normalizeZip('B23 2RY', 'gb')).toBe('b232ry');
    expect(normalizeCountry(' US ')).toBe('us');
    expect(normalizeCountry('United States')).toBe('');
    expect(normalizeMadid(' 6D92078A-8246-4BA4-AE5B-76104861E7DC ')).toBe('6d92078a-8246-4ba4-ae5b-76104861e7dc');
    expect(normalizeMadid('00000000-0000-0000-0000-000000000000')).toBe('');
  });

  it('maps a member to one row: hashed keys, MADID raw lower-case, EXTERN_ID as is', () => {
    const item = toMetaItem(
      member(
        [
          { type: 'email', value: ' John_Smith@gmail.com ' },
          { type: 'phone', value: '+16169547888' },
          { type: 'device_id', value: '6D92078A-8246-4BA4-AE5B-76104861E7DC' },
          { type: 'user_id', value: 'C-42' },
        ],
        { firstName: 'Mary', lastName: 'Valéry', city: 'Menlo Park', postalCode: '94025-1234', country: 'US' },
      ),
    );
    expect(item).toEqual({
      EMAIL: H.email,
      PHONE: H.phone,
      MADID: '6d92078a-8246-4ba4-ae5b-76104861e7dc',
      EXTERN_ID: 'C-42',
      FN: H.mary,
      LN: H.valery,
      CT: H.menlopark,
      ZIP: H.zip,
      COUNTRY: H.us,
    });
    expect(metaRow(item!)).toEqual([
      H.email,
      H.phone,
      '6d92078a-8246-4ba4-ae5b-76104861e7dc',
      H.mary,
      H.valery,
      H.zip,
      H.menlopark,
      '',
      H.us,
      'C-42',
    ]);
  });

  it("uses the profile's email_sha256 when there is no plain email, and nothing else alone", () => {
    expect(toMetaItem(member([{ type: 'email_sha256', value: H.email.toUpperCase() }]))).toEqual({ EMAIL: H.email });
    expect(toMetaItem(member([{ type: 'email_sha256', value: 'not-a-hash' }]))).toBeNull();
    expect(toMetaItem(member([{ type: 'cookie_id', value: 'c1' }], { firstName: 'Mary' }))).toBeNull();
    expect(toMetaItem(member([{ type: 'device_id', value: '00000000-0000-0000-0000-000000000000' }]))).toBeNull();
  });
});
