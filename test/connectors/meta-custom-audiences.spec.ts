import { sha256Hex, validateConfig, type ActivationMember, type ConnectorContext, type Verdict } from '@plexus/sdk';
import { createTestContext, describeDestinationConformance } from '@plexus/sdk/testing';
import destination, { MetaCustomAudiencesConfig } from '../../connectors/meta-custom-audiences/index.js';
import { startMeta, type MetaEmulator } from '../emulators/meta/meta.emulator.js';

let meta: MetaEmulator;
const TOKEN = 'meta-conformance-token';
const config = () => ({ accessToken: TOKEN, adAccountId: '1000', baseUrl: meta.url, requestsPerSecond: 1000 });

const person = (i: number, extra: Partial<ActivationMember> = {}): ActivationMember => ({
  profileId: `p${i}`,
  identifiers: [
    { type: 'email', value: `person${i}@example.com` },
    { type: 'phone', value: `+1415555${String(i).padStart(4, '0')}` },
  ],
  traits: { firstName: 'Ada', lastName: 'Lovelace', country: 'GB' },
  consent: { ads: true },
  ...extra,
});
const members: ActivationMember[] = [
  person(1),
  person(2),
  { profileId: 'p3', identifiers: [{ type: 'device_id', value: '6d92078a-8246-4ba4-ae5b-76104861e7dc' }], traits: {} },
  { profileId: 'p4', identifiers: [{ type: 'cookie_id', value: 'ck-1' }], traits: {} },
];

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false });
  },
  teardown: () => meta.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'expired' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers' },
  members,
  injectFault: (f) => meta.faults.inject({ kind: f.status === 429 ? '429' : '5xx', times: f.times, status: f.status }),
  clearFaults: () => meta.faults.clear(),
  audienceSize: (id) => meta.state.members(id).length,
});

describe('meta-custom-audiences against the Meta emulator', () => {
  let ctx: ConnectorContext<MetaCustomAudiencesConfig>;
  let audienceId: string;
  const items = members.map((m) => destination.toItem(m)).filter((i) => i !== null);
  const audience = () => ({ id: 'aud_vip', activationId: 'act_vip', name: 'VIP', externalId: audienceId });

  beforeAll(async () => {
    meta = await startMeta({ tokens: [TOKEN], adAccounts: ['1000'], rateLimit: false });
    ({ ctx } = await createTestContext<MetaCustomAudiencesConfig>(destination, config()));
    audienceId = (await destination.ensureAudience!(ctx, { id: 'aud_vip', activationId: 'act_vip', name: 'VIP' }))
      .externalId;
  });
  afterAll(() => meta.close());
  afterEach(() => meta.faults.clear());

  it('takes a fractional request budget, spaced evenly, and refuses none or a negative one', async () => {
    const budget = async (requestsPerSecond: unknown) => {
      const { config: valid, problems } = await validateConfig(MetaCustomAudiencesConfig, {
        ...config(),
        requestsPerSecond,
      });
      return valid ? (destination.rateLimit as (c: unknown) => unknown)(valid) : problems.map((p) => p.field);
    };
    expect(await budget(1.9)).toEqual({ requests: 1, perMs: 527 });
    expect(await budget(2)).toEqual({ requests: 2, perMs: 1000 });
    expect(await budget(0)).toEqual(['requestsPerSecond']);
    expect(await budget(-1)).toEqual(['requestsPerSecond']);
    expect(await budget('fast')).toEqual(['requestsPerSecond']);
  });

  it('creates the audience once, as a customer-list audience tagged with the Plexus id', async () => {
    const again = await destination.ensureAudience!(ctx, { id: 'aud_vip', activationId: 'act_vip', name: 'VIP' });
    expect(again.externalId).toBe(audienceId);
    const created = meta.state.audiences.get(audienceId)!;
    expect(created).toMatchObject({ name: 'VIP', subtype: 'CUSTOM', customerFileSource: 'USER_PROVIDED_ONLY' });
    expect(created.description).toBe('plexus-activation:act_vip');
  });

  it('adds and removes: the audience holds exactly the hashed rows, with accounting per request', async () => {
    const result = await destination.write(ctx, audience(), { adds: items, removes: [] });
    expect(result.adds).toEqual(items.map(() => ({ ok: true })));
    expect(result.requests).toEqual([expect.objectContaining({ operation: 'add', items: 3, received: 3, invalid: 0 })]);
    expect(meta.state.has(audienceId, 'EMAIL', sha256Hex('person1@example.com'))).toBe(true);
    expect(meta.state.has(audienceId, 'PHONE', sha256Hex('14155550001'))).toBe(true);
    expect(meta.state.has(audienceId, 'MADID', '6d92078a-8246-4ba4-ae5b-76104861e7dc')).toBe(true);
    const request = meta.requests.filter((r) => r.path.endsWith('/users')).at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect((request.body as { payload: { schema: string[] } }).payload.schema).toEqual([
      'EMAIL',
      'PHONE',
      'MADID',
      'FN',
      'LN',
      'ZIP',
      'CT',
      'ST',
      'COUNTRY',
      'EXTERN_ID',
    ]);

    const removed = await destination.write(ctx, audience(), { adds: [], removes: [items[0]] });
    expect(removed.removes).toEqual([{ ok: true }]);
    expect(meta.requests.at(-1)!.method).toBe('DELETE');
    expect(meta.state.has(audienceId, 'EMAIL', sha256Hex('person1@example.com'))).toBe(false);
    expect(meta.state.members(audienceId)).toHaveLength(2);
  });

  it('maps sampled invalid entries back to their items, the rest of the batch accepted', async () => {
    meta.faults.inject({ kind: 'partial-failure' });
    const result = await destination.write(ctx, audience(), { adds: items, removes: [] });
    expect(result.adds[0]).toEqual({
      abort: expect.stringContaining('Meta refused') as string,
      failureType: 'invalid',
    });
    expect(result.adds.slice(1)).toEqual([{ ok: true }, { ok: true }]);
    expect(result.requests?.[0]).toMatchObject({
      received: 3,
      invalid: 1,
      invalidSamples: [{ value: items[0].EMAIL }],
    });
  });

  it('retries throttling (code 80003 in a 400) and 5xx, then succeeds', async () => {
    meta.faults.inject({ kind: '429', times: 2 }, { kind: '5xx', times: 1, status: 500 });
    const result = await destination.write(ctx, audience(), { adds: items.slice(0, 1), removes: [] });
    expect(result.adds).toEqual([{ ok: true }]);
    expect(meta.faults.fired.filter((f) => f.kind === '429')).toHaveLength(2);
  });

  it("waits as long as x-business-use-case-usage says: a long throttle becomes retry verdicts with Meta's delay", async () => {
    const slow = await startMeta({ tokens: [TOKEN], rateLimit: { max: 2, windowMs: 60_000 }, regainAccessMinutes: 5 });
    try {
      const { ctx: slowCtx } = await createTestContext<MetaCustomAudiencesConfig>(destination, {
        ...config(),
        baseUrl: slow.url,
      });
      const { externalId } = await destination.ensureAudience!(slowCtx, { id: 'a', activationId: 'act_a', name: 'A' });
      const result = await destination.write(
        slowCtx,
        { id: 'a', activationId: 'act_a', name: 'A', externalId },
        { adds: items, removes: items },
      );
      const all: Verdict[] = [...result.adds, ...result.removes];
      expect(all).toEqual(all.map(() => ({ retryInMs: 300_000, reason: expect.stringContaining('80003') as string })));
      expect(slow.state.throttled).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it.each([
    ['an expired token', { kind: 'expired-token' as const }, /access token.*accessToken setting/],
    ['a missing permission', { kind: 'permission' as const }, /ads_management permission/],
  ])('stops with a config failure naming what to fix on %s', async (_label, fault, message) => {
    meta.faults.inject({ ...fault, times: 5 });
    const result = await destination.write(ctx, audience(), { adds: items, removes: items.slice(0, 1) });
    for (const verdict of [...result.adds, ...result.removes]) {
      expect(verdict).toEqual({ abort: expect.stringMatching(message) as string, failureType: 'config' });
    }
    expect(meta.faults.pending()).toEqual([expect.objectContaining({ remaining: 4 })]); // one request, no removal sent
  });

  it('stops with a config failure when the audience was deleted in Ads Manager', async () => {
    const { externalId } = await destination.ensureAudience!(ctx, {
      id: 'aud_gone',
      activationId: 'act_gone',
      name: 'Gone',
    });
    meta.state.deleteAudience(externalId);
    const result = await destination.write(
      ctx,
      { id: 'aud_gone', activationId: 'act_gone', name: 'Gone', externalId },
      { adds: items, removes: [] },
    );
    expect(result.adds[0]).toEqual({
      abort: expect.stringMatching(/custom audience was deleted.*1487366/) as string,
      failureType: 'config',
    });
    await expect(
      destination.ensureAudience!(ctx, { id: 'aud_gone', activationId: 'act_gone', name: 'Gone', externalId }),
    ).rejects.toMatchObject({
      failureType: 'config',
    });
  });

  it('replaces the audience through a usersreplace session, batch by batch', async () => {
    const { externalId } = await destination.ensureAudience!(ctx, {
      id: 'aud_mirror',
      activationId: 'act_mirror',
      name: 'Mirror',
    });
    const target = { id: 'aud_mirror', activationId: 'act_mirror', name: 'Mirror', externalId };
    await destination.write(ctx, target, { adds: items, removes: [] });
    const first = await destination.replace!(ctx, target, {
      sessionId: 77,
      batchSeq: 1,
      last: false,
      items: [items[1]],
    });
    expect(first.verdicts).toEqual([{ ok: true }]);
    expect(meta.state.members(externalId)).toHaveLength(3); // nothing swapped before the last batch
    // Adding or removing while a replace runs is refused by Meta; the connector says retry.
    const during = await destination.write(ctx, target, { adds: [items[0]], removes: [] });
    expect(during.adds[0]).toMatchObject({ retryInMs: expect.any(Number) as number });
    const last = await destination.replace!(ctx, target, { sessionId: 77, batchSeq: 2, last: true, items: [items[2]] });
    expect(last.verdicts).toEqual([{ ok: true }]);
    expect(last.requests).toEqual([expect.objectContaining({ operation: 'replace', received: 1, requestId: '77' })]);
    expect(meta.state.members(externalId).map((r) => r.EMAIL ?? r.MADID)).toEqual([
      items[1].EMAIL,
      '6d92078a-8246-4ba4-ae5b-76104861e7dc',
    ]);
    const body = meta.requests.filter((r) => r.path.endsWith('/usersreplace')).at(-1)!.body as { session: unknown };
    expect(body.session).toEqual({ session_id: 77, batch_seq: 2, last_batch_flag: true });
  });
});
