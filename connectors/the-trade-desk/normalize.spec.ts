import { ttdSignature } from './index.js';
import { toTtdItem } from './normalize.js';

const member = (identifiers: Array<{ type: 'device_id' | 'cookie_id' | 'email'; value: string }>) => ({
  profileId: 'p1',
  identifiers,
  traits: {},
});

describe('The Trade Desk items', () => {
  it('prefers the device id (DAID, lower-case), else a TTD cookie (TDID), and nothing else', () => {
    expect(
      toTtdItem(
        member([
          { type: 'cookie_id', value: '11111111-2222-3333-4444-555555555555' },
          { type: 'device_id', value: ' 6D92078A-8246-4BA4-AE5B-76104861E7DC' },
        ]),
      ),
    ).toEqual({ idType: 'DAID', id: '6d92078a-8246-4ba4-ae5b-76104861e7dc' });
    expect(toTtdItem(member([{ type: 'cookie_id', value: '11111111-2222-3333-4444-555555555555' }]))).toEqual({
      idType: 'TDID',
      id: '11111111-2222-3333-4444-555555555555',
    });
    expect(toTtdItem(member([{ type: 'cookie_id', value: 'ga1.2.123' }]))).toBeNull();
    expect(toTtdItem(member([{ type: 'device_id', value: '00000000-0000-0000-0000-000000000000' }]))).toBeNull();
    expect(toTtdItem(member([{ type: 'email', value: 'a@b.c' }]))).toBeNull();
  });

  it('signs the body as base64 HMAC-SHA1 with the secret', () => {
    // printf '%s' '{"AdvertiserId":"adv1","Items":[]}' | openssl dgst -sha1 -hmac secret -binary | base64
    expect(ttdSignature('{"AdvertiserId":"adv1","Items":[]}', 'secret')).toBe('2MeTuBjaJMgrWj+gP1r57eCOVxo=');
  });
});
