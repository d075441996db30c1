import { sha256Hex, type ActivationMember, type ConnectorContext } from '@plexus/sdk';
import { createTestContext, describeDestinationConformance } from '@plexus/sdk/testing';
import destination, { type TikTokAudiencesConfig } from '../../connectors/tiktok-audiences/index.js';
import { startTikTok, type TikTokEmulator } from '../emulators/tiktok/tiktok.emulator.js';

let tiktok: TikTokEmulator;
const TOKEN = 'tt-token';
const ADVERTISER = '7000000000000000001';
const config = () => ({ accessToken: TOKEN, advertiserId: ADVERTISER, baseUrl: tiktok.url, requestsPerSecond: 1000 });
const start = () => startTikTok({ tokens: [TOKEN], advertisers: { [ADVERTISER]: ['9001', '9002'] }, rateLimit: false });
const members: ActivationMember[] = [
  { profileId: 'p1', identifiers: [{ type: 'email', value: 'ada@example.com' }], traits: {} },
  { profileId: 'p2', identifiers: [{ type: 'phone', value: '+12133734253' }], traits: {} },
  {
    profileId: 'p3',
    identifiers: [{ type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' }],
    traits: { os: 'ios' },
  },
  { profileId: 'p4', identifiers: [{ type: 'cookie_id', value: 'ck' }], traits: {} },
];

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    tiktok = await start();
  },
  teardown: () => tiktok.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'revoked' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers', externalId: '9001' },
  members,
  injectFault: (f) =>
    tiktok.faults.inject({ kind: f.status === 429 ? '429' : '5xx', times: f.times, status: f.status }),
  clearFaults: () => tiktok.faults.clear(),
});

describe('tiktok-audiences against the TikTok emulator', () => {
  let ctx: ConnectorContext<TikTokAudiencesConfig>;
  const items = members.map((m) => destination.toItem(m)).filter((i) => i !== null);
  const audience = { id: 'aud_vip', activationId: 'act_vip', name: 'VIP', externalId: '9002' };
  beforeAll(async () => {
    tiktok = await start();
    ({ ctx } = await createTestContext<TikTokAudiencesConfig>(destination, config()));
  });
  afterAll(() => tiktok.close());
  afterEach(() => tiktok.faults.clear());

  it('adds and deletes users aligned with id_schema, with the request ids', async () => {
    const result = await destination.write(ctx, audience, { adds: items, removes: [] });
    expect(result.adds).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(result.requests).toEqual([
      expect.objectContaining({ operation: 'add', items: 3, requestId: expect.any(String) as string }),
    ]);
    const body = tiktok.requests.at(-1)!.body as { id_schema: string[]; batch_data: unknown[][] };
    expect(tiktok.requests.at(-1)!.headers['access-token']).toBe(TOKEN);
    expect(body.id_schema).toEqual(['EMAIL_SHA256', 'PHONE_SHA256', 'IDFA_SHA256', 'AAID_SHA256']);
    expect(body.batch_data[1]).toEqual([{}, { id: sha256Hex('+12133734253'), audience_ids: ['9002'] }, {}, {}]);
    expect(tiktok.state.ids(ADVERTISER, '9002').sort()).toEqual(
      [
        `EMAIL_SHA256:${sha256Hex('ada@example.com')}`,
        `PHONE_SHA256:${sha256Hex('+12133734253')}`,
        `IDFA_SHA256:${sha256Hex('6d92078a-8246-4ba4-ae5b-76104861e7dc')}`,
      ].sort(),
    );
    const removed = await destination.write(ctx, audience, { adds: [], removes: [items[0]] });
    expect(removed.removes).toEqual([{ ok: true }]);
    expect((tiktok.requests.at(-1)!.body as { action: string }).action).toBe('delete');
    expect(tiktok.state.ids(ADVERTISER, '9002')).toHaveLength(2);
  });

  it('retries code 40100 in an HTTP 200 (throttling) and then succeeds', async () => {
    tiktok.faults.inject({ kind: '429', times: 2 });
    expect((await destination.write(ctx, audience, { adds: [items[0]], removes: [] })).adds).toEqual([{ ok: true }]);
    expect(tiktok.state.throttled).toBe(2);
  });

  it('refuses the user TikTok names and sends the others again', async () => {
    tiktok.faults.inject({ kind: 'partial-failure' });
    const result = await destination.write(ctx, audience, { adds: items, removes: [] });
    expect(result.adds[0]).toEqual({
      abort: expect.stringContaining('batch_data[0]') as string,
      failureType: 'invalid',
    });
    expect(result.adds.slice(1)).toEqual([{ ok: true }, { ok: true }]);
  });

  it.each([
    ['an expired token', 'expired-token' as const, /access token.*accessToken setting/],
    ['a missing permission', 'permission' as const, /refused access to the advertiser/],
  ])('stops with a config failure on %s', async (_label, kind, message) => {
    tiktok.faults.inject({ kind, times: 3 });
    const result = await destination.write(ctx, audience, { adds: items, removes: [items[0]] });
    for (const v of [...result.adds, ...result.removes]) {
      expect(v).toEqual({ abort: expect.stringMatching(message) as string, failureType: 'config' });
    }
  });
});
