import { sha256Hex, type ActivationMember, type ConnectorContext } from '@plexus/sdk';
import { createTestContext, describeDestinationConformance } from '@plexus/sdk/testing';
import destination, { type GoogleCustomerMatchConfig } from '../../connectors/google-customer-match/index.js';
import { startGoogle, type GoogleEmulator } from '../emulators/google/google.emulator.js';

let google: GoogleEmulator;
const TOKEN = 'ya29.conformance';
const ACCOUNT = '1234567890';
const config = () => ({
  accessToken: TOKEN,
  operatingAccountId: ACCOUNT,
  userListId: '5550001',
  customerMatchTermsAccepted: true,
  baseUrl: google.url,
  requestsPerSecond: 1000,
});
const start = () =>
  startGoogle({
    tokens: [TOKEN],
    accounts: { [ACCOUNT]: ['5550001', '5550002'] },
    rateLimit: false,
    retryDelay: '0.01s',
  });

const person = (i: number, consent: ActivationMember['consent'] = { ads: true }): ActivationMember => ({
  profileId: `p${i}`,
  identifiers: [
    { type: 'email', value: `Person.${i}+promo@gmail.com` },
    { type: 'phone', value: `+1800555${String(i).padStart(4, '0')}` },
  ],
  traits: { firstName: ['Ada', 'Grace', 'Edsger'][i % 3], lastName: 'Lovelace', country: 'GB', postalCode: 'EC1A 1BB' },
  consent,
});
const members: ActivationMember[] = [
  person(1),
  person(2, { ads: true, personalization: false }),
  person(3, {}),
  { profileId: 'p4', identifiers: [{ type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' }], traits: {} },
];

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    google = await start();
  },
  teardown: () => google.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'expired' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers', externalId: '5550001' },
  members,
  injectFault: (f) =>
    google.faults.inject({ kind: f.status === 429 ? '429' : '5xx', times: f.times, status: f.status }),
  clearFaults: () => google.faults.clear(),
});

describe('google-customer-match against the Data Manager emulator', () => {
  let ctx: ConnectorContext<GoogleCustomerMatchConfig>;
  const items = members.map((m) => destination.toItem(m)).filter((i) => i !== null);
  const audience = { id: 'aud_vip', activationId: 'act_vip', name: 'VIP', externalId: '5550002' };
  const emailKey = (i: number) => `email:${sha256Hex(`person${i}@gmail.com`)}`;

  beforeAll(async () => {
    google = await start();
    ({ ctx } = await createTestContext<GoogleCustomerMatchConfig>(destination, config()));
  });
  afterAll(() => google.close());
  afterEach(() => google.faults.clear());

  it('adds with consent and terms of service, removes without them, and reports request ids', async () => {
    const result = await destination.write(ctx, audience, { adds: items, removes: [] });
    expect(result.adds).toEqual(items.map(() => ({ ok: true })));
    const request = google.requests.at(-1)!;
    expect(request.path).toBe('/v1/audienceMembers:ingest');
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.body).toMatchObject({
      destinations: [
        { operatingAccount: { accountId: ACCOUNT, accountType: 'GOOGLE_ADS' }, productDestinationId: '5550002' },
      ],
      encoding: 'HEX',
      termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' },
    });
    expect(google.state.member(ACCOUNT, '5550002', emailKey(1))?.consent).toEqual({
      adUserData: 'CONSENT_GRANTED',
      adPersonalization: 'CONSENT_GRANTED',
    });
    expect(google.state.member(ACCOUNT, '5550002', emailKey(2))?.consent).toEqual({
      adUserData: 'CONSENT_GRANTED',
      adPersonalization: 'CONSENT_DENIED',
    });
    expect(google.state.member(ACCOUNT, '5550002', emailKey(3))?.consent).toBeUndefined();
    expect(result.requests).toEqual([
      { operation: 'add', items: 3, received: 3, requestId: google.state.accepted.at(-1)!.requestId },
    ]);

    const removed = await destination.write(ctx, audience, { adds: [], removes: [items[0]] });
    expect(removed.removes).toEqual([{ ok: true }]);
    expect(google.requests.at(-1)!.path).toBe('/v1/audienceMembers:remove');
    expect(google.requests.at(-1)!.body).not.toHaveProperty('termsOfService');
    expect(google.state.member(ACCOUNT, '5550002', emailKey(1))).toBeUndefined();
    expect(google.state.members(ACCOUNT, '5550002')).toHaveLength(2);
  });

  it('refuses only the members Google names in a 400 and sends the others again', async () => {
    google.faults.inject({ kind: 'partial-failure' });
    const result = await destination.write(ctx, audience, { adds: items, removes: [] });
    expect(result.adds[0]).toEqual({
      abort: expect.stringContaining('audience_members[0]') as string,
      failureType: 'invalid',
    });
    expect(result.adds.slice(1)).toEqual([{ ok: true }, { ok: true }]);
    expect(result.requests).toEqual([
      expect.objectContaining({ operation: 'add', items: 1, invalid: 1 }),
      expect.objectContaining({ operation: 'add', items: 2, received: 2 }),
    ]);
  });

  it("retries RESOURCE_EXHAUSTED after Google's retryDelay, and a persistent one becomes retry verdicts", async () => {
    google.faults.inject({ kind: '429', times: 1 });
    expect((await destination.write(ctx, audience, { adds: [items[1]], removes: [] })).adds).toEqual([{ ok: true }]);
    const slow = await startGoogle({ tokens: [TOKEN], accounts: { [ACCOUNT]: ['5550001'] }, retryDelay: '90s' });
    try {
      slow.faults.inject({ kind: '429', times: 10 });
      const { ctx: slowCtx } = await createTestContext<GoogleCustomerMatchConfig>(destination, {
        ...config(),
        baseUrl: slow.url,
      });
      const result = await destination.write(
        slowCtx,
        { ...audience, externalId: '5550001' },
        { adds: items, removes: [] },
      );
      expect(result.adds).toEqual(
        items.map(() => ({ retryInMs: 90_000, reason: expect.stringContaining('throttled') as string })),
      );
    } finally {
      await slow.close();
    }
  });

  it.each([
    ['an expired token', 'expired-token' as const, /OAuth access token.*accessToken setting/],
    ['a lost permission', 'permission' as const, /refused access.*operatingAccountId/],
  ])('stops with a config failure on %s', async (_label, kind, message) => {
    google.faults.inject({ kind, times: 3 });
    const result = await destination.write(ctx, audience, { adds: items, removes: [items[0]] });
    for (const verdict of [...result.adds, ...result.removes]) {
      expect(verdict).toEqual({ abort: expect.stringMatching(message) as string, failureType: 'config' });
    }
  });

  it('stops with a config failure when the user list does not exist', async () => {
    const result = await destination.write(ctx, { ...audience, externalId: '999' }, { adds: items, removes: [] });
    expect(result.adds[0]).toEqual({
      abort: expect.stringMatching(/user list was not found/) as string,
      failureType: 'config',
    });
    await expect(destination.ensureAudience!(ctx, { ...audience, externalId: '999' })).rejects.toMatchObject({
      failureType: 'config',
    });
  });

  it('sends no addition without the terms of service accepted, but still removes', async () => {
    const { ctx: noTerms } = await createTestContext<GoogleCustomerMatchConfig>(destination, {
      ...config(),
      customerMatchTermsAccepted: false,
    });
    const before = google.requests.length;
    const result = await destination.write(noTerms, audience, { adds: [items[1]], removes: [items[2]] });
    expect(result.adds[0]).toMatchObject({ failureType: 'config' });
    expect(result.removes).toEqual([{ ok: true }]);
    expect(google.requests.slice(before).map((r) => r.path)).toEqual(['/v1/audienceMembers:remove']);
    await expect(destination.check(noTerms)).rejects.toThrow(/terms of service/);
  });
});
