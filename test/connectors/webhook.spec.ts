import type { ActivationMember, ConnectorContext } from '@plexus/sdk';
import { createTestContext, describeDestinationConformance } from '@plexus/sdk/testing';
import destination, { signDelivery, type WebhookConfig } from '../../connectors/webhook/index.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec-0123456789abcdef';
let receiver: WebhookReceiver;
const config = () => ({ url: receiver.url, secret: SECRET, requestsPerSecond: 1000 });
const members: ActivationMember[] = [
  { profileId: 'p1', identifiers: [{ type: 'email', value: 'ada@example.com' }], traits: { plan: 'pro' } },
  { profileId: 'p2', identifiers: [{ type: 'user_id', value: 'u-2' }], traits: {} },
];

describeDestinationConformance({
  definition: destination,
  setup: async () => {
    receiver = await startWebhookReceiver(SECRET);
  },
  teardown: () => receiver.close(),
  config,
  invalidCredentials: () => ({ ...config(), secret: 'another-secret-0123' }),
  audience: { id: 'aud_buyers', activationId: 'act_buyers', name: 'Buyers' },
  members,
  injectFault: (f) => receiver.failNext(f.status, f.times),
});

describe('webhook destination against a verifying receiver', () => {
  let ctx: ConnectorContext<WebhookConfig>;
  const audience = { id: 'aud_vip', activationId: 'act_vip', name: 'VIP', externalId: 'aud_vip' };
  const items = members.map((m) => destination.toItem(m)!);
  beforeAll(async () => {
    receiver = await startWebhookReceiver(SECRET);
    ({ ctx } = await createTestContext<WebhookConfig>(destination, config()));
  });
  afterAll(() => receiver.close());

  it('delivers entries and exits in one signed JSON delivery', async () => {
    const result = await destination.write(ctx, audience, { adds: [items[0]], removes: [items[1]] });
    expect(result.adds).toEqual([{ ok: true }]);
    expect(result.removes).toEqual([{ ok: true }]);
    const delivery = receiver.deliveries.at(-1)!;
    expect(delivery.body).toEqual({
      id: delivery.id,
      type: 'audience.changes',
      audience: { id: 'aud_vip', name: 'VIP', externalId: 'aud_vip', activationId: 'act_vip' },
      changes: [
        {
          type: 'entered',
          profileId: 'p1',
          identifiers: [{ type: 'email', value: 'ada@example.com' }],
          traits: { plan: 'pro' },
        },
        { type: 'exited', profileId: 'p2', identifiers: [{ type: 'user_id', value: 'u-2' }], traits: {} },
      ],
      sentAt: new Date(delivery.timestamp * 1000).toISOString(),
    });
    expect(result.requests).toEqual([
      { operation: 'add', items: 1, requestId: delivery.id },
      { operation: 'remove', items: 1, requestId: delivery.id },
    ]);
  });

  it('signs the timestamp with the body: a replay with a new timestamp or a stale one is refused', async () => {
    const body = JSON.stringify({ id: 'x', type: 'ping' });
    const old = Math.floor(Date.now() / 1000) - 600;
    const send = (timestamp: number, signature: string) =>
      fetch(receiver.url, {
        method: 'POST',
        body,
        headers: { 'X-Plexus-Timestamp': String(timestamp), 'X-Plexus-Signature': signature, 'X-Plexus-Delivery': 'x' },
      });
    expect((await send(old, signDelivery(SECRET, old, body))).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    expect((await send(now, signDelivery(SECRET, old, body))).status).toBe(401);
    expect(receiver.refused.slice(-2).map((r) => r.reason)).toEqual(['stale timestamp', 'bad signature']);
    expect((await send(now, signDelivery(SECRET, now, body))).status).toBe(200);
  });

  it('retries 503 and turns a persistent 4xx into aborts', async () => {
    receiver.failNext(503, 2);
    expect((await destination.write(ctx, audience, { adds: items, removes: [] })).adds).toEqual([
      { ok: true },
      { ok: true },
    ]);
    receiver.failNext(400, 1);
    const refused = await destination.write(ctx, audience, { adds: items, removes: [] });
    expect(refused.adds).toEqual(
      items.map(() => ({ abort: expect.stringContaining('400') as string, failureType: 'system' })),
    );
  });
});
