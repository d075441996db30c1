import { signTtd, startTtd, type TtdEmulator } from './ttd.emulator.js';

let ttd: TtdEmulator;
const SECRET = 's';
const DEVICE = '6d92078a-8246-4ba4-ae5b-76104861e7dc';
async function post(payload: unknown, secret = SECRET): Promise<{ status: number; body: any }> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const res = await fetch(`${ttd.url}/data/advertiser`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', TtdSignature: signTtd(body, secret) },
  });
  return { status: res.status, body: await res.json() };
}
const item = (extra: Record<string, unknown>) => ({ Data: [{ Name: 'seg', TTLInMinutes: 60 }], ...extra });

beforeAll(async () => {
  ttd = await startTtd({ advertisers: { adv1: SECRET }, rateLimit: { max: 1000, windowMs: 1000 } });
});
afterAll(() => ttd.close());

describe('The Trade Desk emulator: the documented contract', () => {
  it('adds with a TTL, removes with TTL 0, and answers FailedLines in a 200 for bad lines', async () => {
    const res = await post({
      AdvertiserId: 'adv1',
      Items: [
        item({ DAID: DEVICE }),
        item({ DAID: DEVICE, TDID: DEVICE }),
        item({ TDID: 'not-a-uuid' }),
        item({ DAID: DEVICE, Data: [{ Name: 'seg', TTLInMinutes: 999_999 }] }),
      ],
    });
    expect(res.status).toBe(200);
    expect(
      res.body.FailedLines.map((l: { ErrorCode: string; LineNumber: number }) => [l.LineNumber, l.ErrorCode]),
    ).toEqual([
      [1, 'MissingUserId'],
      [2, 'InvalidUserId'],
      [3, 'InvalidTTL'],
    ]);
    expect(ttd.state.members('adv1', 'seg')).toEqual([`DAID:${DEVICE}`]);
    await post({ AdvertiserId: 'adv1', Items: [item({ DAID: DEVICE, Data: [{ Name: 'seg', TTLInMinutes: 0 }] })] });
    expect(ttd.state.members('adv1', 'seg')).toEqual([]);
  });

  it('refuses a wrong or missing signature, an unknown advertiser and bodies over 2.5 MB', async () => {
    expect((await post({ AdvertiserId: 'adv1', Items: [] }, 'wrong')).status).toBe(403);
    expect((await post({ AdvertiserId: 'other', Items: [] })).status).toBe(403);
    const big = JSON.stringify({ AdvertiserId: 'adv1', Items: [], pad: 'x'.repeat(2_500_001) });
    expect((await post(big)).status).toBe(413);
  });

  it('throttles with 429 and Retry-After over the configured rate', async () => {
    const tight = await startTtd({
      advertisers: { adv1: SECRET },
      rateLimit: { max: 1, windowMs: 60_000 },
      retryAfterSeconds: 7,
    });
    try {
      const body = JSON.stringify({ AdvertiserId: 'adv1', Items: [] });
      const send = () =>
        fetch(`${tight.url}/data/advertiser`, {
          method: 'POST',
          body,
          headers: { TtdSignature: signTtd(body, SECRET) },
        });
      expect((await send()).status).toBe(200);
      const second = await send();
      expect([second.status, second.headers.get('retry-after')]).toEqual([429, '7']);
    } finally {
      await tight.close();
    }
  });
});
