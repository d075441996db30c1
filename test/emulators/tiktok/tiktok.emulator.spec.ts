import { call } from '../../support/http.js';
import { startTikTok, type TikTokEmulator } from './tiktok.emulator.js';

const TOKEN = 'tt';
const ADV = '7000000000000000001';
const HASH = 'a'.repeat(64);
let tiktok: TikTokEmulator;
const mapping = (body: Record<string, unknown>, token = TOKEN) =>
  call(tiktok.url, 'POST', '/open_api/v1.3/segment/mapping/', { body, headers: { 'access-token': token } });
const base = { advertiser_ids: [ADV], action: 'add', id_schema: ['EMAIL_SHA256', 'IDFA_SHA256'] };

beforeAll(async () => {
  tiktok = await startTikTok({
    tokens: [TOKEN],
    advertisers: { [ADV]: ['9001'] },
    rateLimit: { max: 1000, windowMs: 1000 },
  });
});
afterAll(() => tiktok.close());

describe('TikTok emulator: the documented contract', () => {
  it('maps users into audiences and answers code 0 in an HTTP 200', async () => {
    const res = await mapping({ ...base, batch_data: [[{ id: HASH, audience_ids: ['9001'] }, {}]] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: 0, message: 'OK' });
    expect(tiktok.state.ids(ADV, '9001')).toEqual([`EMAIL_SHA256:${HASH}`]);
  });

  it.each([
    ['an upper-case hash', [[{ id: HASH.toUpperCase(), audience_ids: ['9001'] }, {}]], /batch_data\[0\]\[0\]\.id/],
    ['a raw device id', [[{}, { id: '6d92078a-8246-4ba4-ae5b-76104861e7dc', audience_ids: ['9001'] }]], /SHA-256/],
    ['a row not aligned with id_schema', [[{ id: HASH, audience_ids: ['9001'] }]], /1 entries for 2 id_schema types/],
    ['a user with no id', [[{}, {}]], /has no id/],
    ['an unknown audience', [[{ id: HASH, audience_ids: ['1'] }, {}]], /does not exist/],
  ])('answers 40002 for %s', async (_label, batch_data, message) => {
    const res = await mapping({ ...base, batch_data });
    expect(res.status).toBe(200);
    expect(res.body.code).toBe(40002);
    expect(res.body.message).toMatch(message);
  });

  it('refuses more than 10,000 users, unknown id types and actions, tokens and advertisers', async () => {
    const many = Array.from({ length: 10_001 }, () => [{ id: HASH, audience_ids: ['9001'] }, {}]);
    expect((await mapping({ ...base, batch_data: many })).body.message).toMatch(/at most 10000/);
    expect((await mapping({ ...base, id_schema: ['EMAIL'], batch_data: [[{}]] })).body.code).toBe(40002);
    expect((await mapping({ ...base, action: 'remove', batch_data: [[{}]] })).body.code).toBe(40002);
    expect((await mapping({ ...base, batch_data: [] }, 'bad')).body.code).toBe(40105);
    expect((await mapping({ ...base, advertiser_ids: ['1'], batch_data: [] })).body.code).toBe(40001);
  });

  it('throttles with code 40100 over the configured rate', async () => {
    const tight = await startTikTok({ tokens: [TOKEN], rateLimit: { max: 1, windowMs: 60_000 } });
    try {
      const info = () =>
        call(tight.url, 'GET', `/open_api/v1.3/advertiser/info/?advertiser_ids=["${ADV}"]`, {
          headers: { 'access-token': TOKEN },
        });
      expect((await info()).body.code).toBe(0);
      const second = await info();
      expect([second.status, second.body.code]).toEqual([200, 40100]);
    } finally {
      await tight.close();
    }
  });
});
