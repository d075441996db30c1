import type { ActivationMember, ConnectorContext } from '@plexus/sdk';
import { createTestContext, describeDestinationConformance } from '@plexus/sdk/testing';
import destination, { type TheTradeDeskConfig } from '../../connectors/the-trade-desk/index.js';
import { startTtd, type TtdEmulator } from '../emulators/ttd/ttd.emulator.js';

let ttd: TtdEmulator;
const SECRET = 'ttd-secret';
const config = () => ({ advertiserId: 'adv1', secretKey: SECRET, baseUrl: ttd.url, requestsPerSecond: 1000 });
const start = () => startTtd({ advertisers: { adv1: SECRET }, rateLimit: false, retryAfterSeconds: 0 });
const DEVICE = '6d92078a-8246-4ba4-ae5b-76104861e7dc';
const COOKIE = '11111111-2222-3333-4444-555555555555';
const members: ActivationMember[] = [
  { profileId: 'p1', identifiers: [{ type: 'device_id', value: DEVICE }], traits: {} },
  { profileId: 'p2', identifiers: [{ type: 'cookie_id', value: COOKIE }], traits: {} },
  { profileId: 'p3', identifiers: [{ type: 'email', value: 'ada@example.com' }], traits: {} },
];

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    ttd = await start();
  },
  teardown: () => ttd.close(),
  config,
  invalidCredentials: () => ({ ...config(), secretKey: 'rotated' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers' },
  members,
  injectFault: (f) => ttd.faults.inject({ kind: f.status === 429 ? '429' : '5xx', times: f.times, status: f.status }),
  clearFaults: () => ttd.faults.clear(),
});

describe('the-trade-desk against the TTD emulator', () => {
  let ctx: ConnectorContext<TheTradeDeskConfig>;
  const items = members.map((m) => destination.toItem(m)).filter((i) => i !== null);
  const audience = { id: 'aud_vip', activationId: 'act_vip', name: 'VIP', externalId: 'plexus-aud_vip' };
  beforeAll(async () => {
    ttd = await start();
    ({ ctx } = await createTestContext<TheTradeDeskConfig>(destination, { ...config(), ttlMinutes: 1440 }));
  });
  afterAll(() => ttd.close());
  afterEach(() => ttd.faults.clear());

  it('adds with the configured TTL and removes with TTL 0, signed', async () => {
    const result = await destination.write(ctx, audience, { adds: items, removes: [] });
    expect(result.adds).toEqual([{ ok: true }, { ok: true }]);
    expect(ttd.requests.at(-1)!.body).toEqual({
      AdvertiserId: 'adv1',
      Items: [
        { DAID: DEVICE, Data: [{ Name: 'plexus-aud_vip', TTLInMinutes: 1440 }] },
        { TDID: COOKIE, Data: [{ Name: 'plexus-aud_vip', TTLInMinutes: 1440 }] },
      ],
    });
    expect(ttd.state.members('adv1', 'plexus-aud_vip').sort()).toEqual([`DAID:${DEVICE}`, `TDID:${COOKIE}`]);
    const removed = await destination.write(ctx, audience, { adds: [], removes: [items[0]] });
    expect(removed.removes).toEqual([{ ok: true }]);
    expect((ttd.requests.at(-1)!.body as { Items: Array<{ Data: unknown }> }).Items[0].Data).toEqual([
      { Name: 'plexus-aud_vip', TTLInMinutes: 0 },
    ]);
    expect(ttd.state.members('adv1', 'plexus-aud_vip')).toEqual([`TDID:${COOKIE}`]);
  });

  it('maps FailedLines in an HTTP 200 back to their items', async () => {
    ttd.faults.inject({ kind: 'partial-failure' });
    const result = await destination.write(ctx, audience, { adds: items, removes: [] });
    expect(result.adds).toEqual([
      { abort: expect.stringContaining('InvalidUserId') as string, failureType: 'invalid' },
      { ok: true },
    ]);
    expect(result.requests?.[0]).toMatchObject({
      items: 2,
      received: 1,
      invalid: 1,
      invalidSamples: [{ value: DEVICE }],
    });
  });

  it('retries 429 with Retry-After, and stops with a config failure when the secret is rotated', async () => {
    ttd.faults.inject({ kind: '429', times: 2 });
    expect((await destination.write(ctx, audience, { adds: [items[1]], removes: [] })).adds).toEqual([{ ok: true }]);
    ttd.faults.inject({ kind: 'expired-token', times: 2 });
    const result = await destination.write(ctx, audience, { adds: [items[0]], removes: [items[1]] });
    for (const v of [...result.adds, ...result.removes]) {
      expect(v).toEqual({ abort: expect.stringMatching(/secretKey/) as string, failureType: 'config' });
    }
  });
});
