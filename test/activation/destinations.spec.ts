import { sha256Hex } from '@plexus/sdk';
import { startGoogle, type GoogleEmulator } from '../emulators/google/google.emulator.js';
import { startTikTok, type TikTokEmulator } from '../emulators/tiktok/tiktok.emulator.js';
import { startTtd, type TtdEmulator } from '../emulators/ttd/ttd.emulator.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { person, startActivationApp, VIP_RULE } from './support.js';

type Harness = Awaited<ReturnType<typeof startActivationApp>>;

const later = (seconds: number) => new Date(Date.UTC(2026, 1, 1, 0, 0, seconds)).toISOString();
/** Person n with a device id (lower-case UUID, as TTD and TikTok want it). */
const device = (n: number) => `6d92078a-8246-4ba4-ae5b-${String(n).padStart(12, '0')}`;
const withDevice = (n: number, options: Parameters<typeof person>[1] = {}) => {
  const p = person(n, options);
  return { ...p, identifiers: [...p.identifiers, { type: 'device_id' as const, value: device(n).toUpperCase() }] };
};
const email = (n: number) => `person${n}@acme-shop.io`;

describe('activation to Google, TikTok, The Trade Desk and a webhook through the engine', () => {
  let h: Harness;
  let audienceId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    h = await startActivationApp('activation_destinations');
    for (let n = 1; n <= 3; n++) ids.push(...(await h.store([withDevice(n)])));
    audienceId = await h.createAudience('VIP', VIP_RULE);
  }, 120_000);
  afterAll(() => h.t.close());

  /** Person 2 leaves the audience; person 4 joins. */
  async function churn(): Promise<void> {
    await h.store([{ ...withDevice(2, { vip: false }), observedAt: later(2) }, withDevice(4)]);
    await h.evaluator.evaluate(audienceId, 'full');
  }
  /** Person 2 comes back. */
  async function rejoin(): Promise<void> {
    await h.store([{ ...withDevice(2), observedAt: later(20) }]);
    await h.evaluator.evaluate(audienceId, 'full');
  }

  describe('Google Customer Match (Data Manager API)', () => {
    const ACCOUNT = '1234567890';
    const LIST = '5550001';
    let google: GoogleEmulator;
    let activationId: string;
    const key = (n: number) => `email:${sha256Hex(email(n))}`;

    beforeAll(async () => {
      google = await startGoogle({ tokens: ['g-token'], accounts: { [ACCOUNT]: [LIST] }, rateLimit: false });
    });
    afterAll(() => google.close());
    afterEach(() => google.faults.clear());

    it('adds with the consent of each member, removes leavers, and refuses mirror mode (no replace)', async () => {
      const destinationId = await h.createDestination('Google', 'google-customer-match', {
        accessToken: 'g-token',
        operatingAccountId: ACCOUNT,
        userListId: LIST,
        customerMatchTermsAccepted: true,
        baseUrl: google.url,
      });
      const mirror = await h.api('POST', '/v1/activations', { audienceId, destinationId, mode: 'mirror' });
      expect(mirror.status).toBe(400);
      expect(mirror.body.message).toContain('mode');
      activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect(google.state.members(ACCOUNT, LIST)).toHaveLength(3);
      expect(google.state.member(ACCOUNT, LIST, key(1))?.consent).toMatchObject({ adUserData: 'CONSENT_GRANTED' });
      await churn();
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect(google.state.member(ACCOUNT, LIST, key(2))).toBeUndefined();
      expect(google.state.member(ACCOUNT, LIST, key(4))).toBeDefined();
      const runs = (await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data;
      expect(runs[0]).toMatchObject({ adds: 1, removes: 1, accepted: 2, status: 'succeeded' });
    });

    it('a throttle longer than a worker waits becomes a retry at the time Google gave; after the budget, a dead letter that can be replayed', async () => {
      const slow = await startGoogle({
        tokens: ['g-token'],
        accounts: { [ACCOUNT]: [LIST] },
        rateLimit: false,
        retryDelay: '90s',
      });
      try {
        const patched = await h.api('GET', `/v1/activations/${activationId}`);
        expect(patched.status).toBe(200);
        const destinationId = patched.body.destinationId;
        const moved = await h.api('PATCH', `/v1/destinations/${destinationId}`, {
          config: { accessToken: 'g-token', baseUrl: slow.url },
        });
        expect(moved.status).toBe(200);
        slow.faults.inject({ kind: '429', times: 1000 });
        await rejoin();
        const before = Date.now();
        const waiting = await h.deliverAll(activationId);
        expect(waiting.state).toBe('waiting');
        expect(waiting.until!.getTime()).toBeGreaterThanOrEqual(before + 89_000);
        // Each resume makes the retry due now; the fifth failure exhausts the budget.
        for (let attempt = 2; attempt <= 5; attempt++) {
          await h.api('PATCH', `/v1/activations/${activationId}`, { paused: false });
          await h.deliverAll(activationId);
        }
        const dead = (await h.api('GET', `/v1/activations/${activationId}/dead-letters`)).body.data;
        expect(dead).toEqual([
          expect.objectContaining({ profileIds: [ids[1]], operation: 'add', attempts: 5, replayedAt: null }),
        ]);
        expect((await h.api('GET', `/v1/activations/${activationId}`)).body.members.failed).toBe(1);
        slow.faults.clear();
        const replay = await h.api('POST', `/v1/activations/${activationId}/replay`);
        expect(replay).toMatchObject({ status: 202, body: { queued: 1 } });
        expect((await h.deliverAll(activationId)).state).toBe('idle');
        expect(slow.state.member(ACCOUNT, LIST, key(2))).toBeDefined();
        expect(
          (await h.api('GET', `/v1/activations/${activationId}/dead-letters`)).body.data[0].replayedAt,
        ).not.toBeNull();
      } finally {
        await slow.close();
      }
    });
  });

  describe('TikTok audiences', () => {
    const ADVERTISER = '7000000000000000001';
    const AUDIENCE = '9001';
    let tiktok: TikTokEmulator;
    let activationId: string;
    let destinationId: string;

    beforeAll(async () => {
      tiktok = await startTikTok({ tokens: ['t-token'], advertisers: { [ADVERTISER]: [AUDIENCE] }, rateLimit: false });
      destinationId = await h.createDestination('TikTok', 'tiktok-audiences', {
        accessToken: 't-token',
        advertiserId: ADVERTISER,
        baseUrl: tiktok.url,
      });
    });
    afterAll(() => tiktok.close());
    afterEach(() => tiktok.faults.clear());

    it('needs the platform audience id (TikTok audiences are made in TikTok): stopped until it is given', async () => {
      activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
      expect((await h.deliverAll(activationId)).state).toBe('stopped');
      expect((await h.api('GET', `/v1/activations/${activationId}`)).body.error.message).toContain('externalId');
      const resumed = await h.api('PATCH', `/v1/activations/${activationId}`, { externalId: AUDIENCE, paused: false });
      expect(resumed.body).toMatchObject({ status: 'active', externalId: AUDIENCE });
    });

    it('adds hashed emails, phones and device ids through code 40100 throttling', async () => {
      tiktok.faults.inject({ kind: '429', times: 2 });
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect(tiktok.state.throttled).toBeGreaterThanOrEqual(2);
      const held = tiktok.state.ids(ADVERTISER, AUDIENCE);
      expect(held).toContain(`EMAIL_SHA256:${sha256Hex(email(1))}`);
      expect(held).toContain(`IDFA_SHA256:${sha256Hex(device(1))}`);
      // Person 2 left and came back while Google was tested: TikTok gets the audience as it is now.
      expect(held).toContain(`EMAIL_SHA256:${sha256Hex(email(4))}`);
      expect(held.filter((id) => id.startsWith('EMAIL_SHA256:'))).toHaveLength(4);
    });

    it('an expired token (40102) stops the activation; a partial failure is recorded per user', async () => {
      await h.store([withDevice(20), withDevice(21)]);
      await h.evaluator.evaluate(audienceId, 'full');
      tiktok.faults.inject({ kind: 'expired-token', times: 1 });
      expect((await h.deliverAll(activationId)).state).toBe('stopped');
      expect((await h.api('GET', `/v1/activations/${activationId}`)).body).toMatchObject({
        status: 'stopped',
        error: { type: 'config' },
      });
      tiktok.faults.inject({ kind: 'partial-failure', times: 1 });
      await h.api('PATCH', `/v1/activations/${activationId}`, { paused: false });
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      const run = (await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data[0];
      expect(run).toMatchObject({ invalid: 1, status: 'partial' });
    });
  });

  describe('The Trade Desk', () => {
    let ttd: TtdEmulator;
    let activationId: string;

    beforeAll(async () => {
      ttd = await startTtd({ advertisers: { adv1: 'ttd-secret' }, rateLimit: false, retryAfterSeconds: 0 });
    });
    afterAll(() => ttd.close());
    afterEach(() => ttd.faults.clear());

    it('places device ids in the segment and removes them with a TTL of 0; members without a device id are not sendable', async () => {
      const destinationId = await h.createDestination('TTD', 'the-trade-desk', {
        advertiserId: 'adv1',
        secretKey: 'ttd-secret',
        baseUrl: ttd.url,
      });
      const noDevice = await h.store([{ ...person(30), identifiers: [{ type: 'email', value: email(30) }] }]);
      await h.evaluator.evaluate(audienceId, 'full');
      activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      const segment = `plexus-${activationId}`;
      expect(ttd.state.members('adv1', segment).sort()).toEqual(
        [1, 2, 3, 4, 20, 21].map((n) => `DAID:${device(n)}`).sort(),
      );
      const view = (await h.api('GET', `/v1/activations/${activationId}`)).body;
      expect(view.members).toMatchObject({ held: 6, not_sendable: 1 });
      await h.store([{ ...withDevice(3, { vip: false }), observedAt: later(33) }]);
      await h.evaluator.evaluate(audienceId, 'full');
      ttd.faults.inject({ kind: '429', times: 1 });
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect(ttd.state.members('adv1', segment)).not.toContain(`DAID:${device(3)}`);
      const removal = ttd.requests.filter((r) => r.path === '/data/advertiser').at(-1)!;
      expect(
        (removal.body as { Items: Array<{ Data: Array<{ TTLInMinutes: number }> }> }).Items[0].Data[0],
      ).toMatchObject({
        TTLInMinutes: 0,
      });
      expect(noDevice).toHaveLength(1);
    });

    it('FailedLines become invalid members; a rotated secret (403) stops the activation', async () => {
      await h.store([{ ...withDevice(3), observedAt: later(40) }, withDevice(31)]);
      await h.evaluator.evaluate(audienceId, 'full');
      ttd.faults.inject({ kind: 'partial-failure', times: 1 });
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      expect((await h.api('GET', `/v1/activations/${activationId}/runs`)).body.data[0]).toMatchObject({ invalid: 1 });
      await h.store([withDevice(32)]);
      await h.evaluator.evaluate(audienceId, 'full');
      ttd.faults.inject({ kind: 'expired-token', times: 1 });
      expect((await h.deliverAll(activationId)).state).toBe('stopped');
      expect((await h.api('GET', `/v1/activations/${activationId}`)).body.error.message).toContain('secretKey');
    });
  });

  describe('webhook', () => {
    const SECRET = 'whsec_activation_0123456789';
    let receiver: WebhookReceiver;

    beforeAll(async () => {
      receiver = await startWebhookReceiver(SECRET);
    });
    afterAll(() => receiver.close());

    it('delivers entered and exited members, signed; the ledger keeps no clear contact details', async () => {
      const destinationId = await h.createDestination('Hook', 'webhook', { url: receiver.url, secret: SECRET });
      const activationId = await h.activate({ audienceId, destinationId, mode: 'upsert' });
      receiver.failNext(503, 1);
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      const entered = receiver.deliveries.flatMap((d) => d.body.changes).filter((c: any) => c.type === 'entered');
      expect(entered.map((c: any) => c.profileId)).toContain(ids[0]);
      expect(receiver.deliveries.at(-1)!.body.audience).toEqual({
        id: audienceId,
        name: expect.any(String),
        externalId: audienceId,
        activationId,
      });
      expect(entered[0].identifiers).toEqual(
        expect.arrayContaining([{ type: 'email', value: expect.stringContaining('@') }]),
      );
      await h.store([{ ...withDevice(1, { vip: false }), observedAt: later(50) }]);
      await h.evaluator.evaluate(audienceId, 'full');
      expect((await h.deliverAll(activationId)).state).toBe('idle');
      const exited = receiver.deliveries.at(-1)!.body.changes;
      expect(exited).toEqual([expect.objectContaining({ type: 'exited', profileId: ids[0] })]);
      expect(JSON.stringify(exited)).not.toContain(email(1));
      const ledger = await h.api('GET', `/v1/activations/${activationId}/ledger?identifier=email:${email(1)}`);
      expect(ledger.body.entries[0]).toMatchObject({ removed: true });
      expect(JSON.stringify(ledger.body)).not.toContain(email(1));
    });
  });
});
