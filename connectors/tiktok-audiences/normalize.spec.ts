import type { ActivationMember } from '@plexus/sdk';
import { normalizeDeviceId, normalizePhone, toTikTokItem } from './normalize.js';

// Digests computed by hand (`printf '%s' +12133734253 | sha256sum`).
const H = {
  email: '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f', // john_smith@gmail.com
  phone: '9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd', // +12133734253
  device: '31b806b4deec8c4cb1ffb18b9ab4ee1fa82a2b30e1f47902f04d03f5db023376', // 6d92078a-8246-4ba4-ae5b-76104861e7dc
};
const member = (identifiers: ActivationMember['identifiers'], traits: ActivationMember['traits'] = {}) => ({
  profileId: 'p1',
  identifiers,
  traits,
});

describe("TikTok's normalisation", () => {
  it('hashes the trimmed lower-case email, the E.164 phone with + and the lower-case device id', () => {
    expect(normalizePhone('+1 (213) 373-4253')).toBe('+12133734253');
    expect(normalizeDeviceId(' 6D92078A-8246-4BA4-AE5B-76104861E7DC ')).toBe('6d92078a-8246-4ba4-ae5b-76104861e7dc');
    expect(normalizeDeviceId('00000000-0000-0000-0000-000000000000')).toBe('');
    const identifiers: ActivationMember['identifiers'] = [
      { type: 'email', value: ' John_Smith@Gmail.com' },
      { type: 'phone', value: '+12133734253' },
      { type: 'device_id', value: '6D92078A-8246-4BA4-AE5B-76104861E7DC' },
    ];
    expect(toTikTokItem(member(identifiers, { os: 'iOS' }))).toEqual({
      EMAIL_SHA256: H.email,
      PHONE_SHA256: H.phone,
      IDFA_SHA256: H.device,
    });
    expect(toTikTokItem(member(identifiers.slice(2), { platform: 'Android' }))).toEqual({ AAID_SHA256: H.device });
    expect(toTikTokItem(member(identifiers.slice(2)))).toEqual({ IDFA_SHA256: H.device, AAID_SHA256: H.device });
  });

  it("uses the profile's email_sha256 without a plain email, and maps nothing without an id TikTok takes", () => {
    expect(toTikTokItem(member([{ type: 'email_sha256', value: H.email }]))).toEqual({ EMAIL_SHA256: H.email });
    expect(toTikTokItem(member([{ type: 'cookie_id', value: 'c' }]))).toBeNull();
    expect(toTikTokItem(member([{ type: 'device_id', value: '00000000-0000-0000-0000-000000000000' }]))).toBeNull();
  });
});
