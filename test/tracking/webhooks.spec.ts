import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '@plexus/storage';
import { startTestApp, type TestApp } from '../support/app.js';
import { profileIdOf } from '../support/database.js';
import { call } from '../support/http.js';
import { hubSpotContactEvent, signHubSpotWebhook } from '../emulators/hubspot/webhook.js';
import { signShopifyWebhook } from '../emulators/shopify/webhook.js';

const PLUGINS = join(dirname(fileURLToPath(import.meta.url)), 'plugins');
const SHOPIFY_SECRET = 'shpss_0123456789abcdef';
const HUBSPOT_SECRET = 'hubspot-client-secret-42';

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const order = (id: number, email: string) => ({
  id,
  email,
  created_at: '2026-05-02T09:30:00Z',
  total_price: '129.90',
  currency: 'EUR',
  customer: { id: 7001, email, phone: null, first_name: 'Ada' },
});

describe('webhooks routed to source connectors (PostgreSQL)', () => {
  let t: TestApp;
  let db: Database;
  let shopify: string;
  let hubspot: string;

  const events = (source: string) =>
    db.db.selectFrom('profile_events').selectAll().where('source_id', '=', source).orderBy('id').execute();
  const profileOf = (type: string, value: string) => profileIdOf(db, type, value);

  beforeAll(async () => {
    t = await startTestApp({ label: 'webhooks', env: { CONNECTORS_PATH: PLUGINS } });
    db = await t.database!.open();
    const create = async (connector: string, config: Record<string, unknown>) => {
      const res = await call(t.url, 'POST', '/v1/sources', {
        headers: t.auth,
        body: { name: connector, connector, config },
      });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    shopify = await create('shopify-webhooks', { webhookSecret: SHOPIFY_SECRET });
    hubspot = await create('hubspot-webhooks', { clientSecret: HUBSPOT_SECRET });
  });
  afterAll(async () => {
    await db?.close();
    await t?.close();
  });

  it('Shopify: verifies the HMAC of the raw body, stores the order once however often it is delivered', async () => {
    // Spacing and key order kept exactly as sent: the signature covers these bytes, not a re-serialisation.
    const body = JSON.stringify(order(555001, 'Ada@Shop.io'), null, 2);
    const headers = signShopifyWebhook({ secret: SHOPIFY_SECRET, topic: 'orders/create', body });
    const first = await post(`${t.url}/v1/webhooks/${shopify}`, body, headers);
    expect(first).toEqual({ status: 200, body: { success: true, received: 1, stored: 1 } });
    // The same delivery (X-Shopify-Webhook-Id) replayed: accepted once, answered as a duplicate afterwards.
    for (let replay = 0; replay < 3; replay++) {
      const res = await post(`${t.url}/v1/webhooks/${shopify}`, body, headers);
      expect(res).toEqual({ status: 200, body: { success: true, received: 0, stored: 0, duplicate: true } });
    }
    // Another delivery of the same order (a new webhook id) is processed: the very same record, so it is counted
    // as unchanged and not stored again, and the order stays one event.
    const redelivered = await post(
      `${t.url}/v1/webhooks/${shopify}`,
      body,
      signShopifyWebhook({ secret: SHOPIFY_SECRET, topic: 'orders/create', body }),
    );
    expect(redelivered).toEqual({ status: 200, body: { success: true, received: 1, stored: 0, unchanged: 1 } });
    expect(
      await db.db.selectFrom('webhook_deliveries').select('stored_at').where('source_id', '=', shopify).execute(),
    ).toEqual([{ stored_at: expect.any(Date) }, { stored_at: expect.any(Date) }]);
    const stored = await events(shopify);
    expect(stored.map((e) => [e.name, e.event_id])).toEqual([['Order Completed', 'shopify:order:555001']]);
    expect(stored[0].properties).toEqual({ orderId: '555001', total: 129.9, currency: 'EUR' });
    expect(stored[0].profile_id).toBe(await profileOf('email', 'ada@shop.io'));
    expect(await profileOf('external_id', 'shopify:customer:7001')).toBe(stored[0].profile_id);
  });

  it('Shopify: customers/update sets traits and e-mail consent', async () => {
    const body = JSON.stringify({
      id: 7001,
      email: 'ada@shop.io',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email_marketing_consent: { state: 'subscribed' },
    });
    const res = await post(
      `${t.url}/v1/webhooks/${shopify}`,
      body,
      signShopifyWebhook({ secret: SHOPIFY_SECRET, topic: 'customers/update', body }),
    );
    expect(res.status).toBe(200);
    const profile = await call(t.url, 'GET', `/v1/profiles/${await profileOf('email', 'ada@shop.io')}`, {
      headers: t.auth,
    });
    expect(JSON.stringify(profile.body.traits)).toContain('Lovelace');
    expect(profile.body.consent.email.granted).toBe(true);
  });

  it('Shopify: rejects forgeries — wrong secret, tampered body, missing signature', async () => {
    const body = JSON.stringify(order(555002, 'eve@shop.io'));
    const forged = await post(
      `${t.url}/v1/webhooks/${shopify}`,
      body,
      signShopifyWebhook({ secret: 'not-the-secret', topic: 'orders/create', body }),
    );
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ statusCode: 401, message: 'Invalid webhook signature' });
    const signed = signShopifyWebhook({ secret: SHOPIFY_SECRET, topic: 'orders/create', body });
    const tampered = body.replace('129.90', '0.01');
    expect((await post(`${t.url}/v1/webhooks/${shopify}`, tampered, signed)).status).toBe(401);
    const { ['X-Shopify-Hmac-Sha256']: _dropped, ...unsigned } = signed;
    expect((await post(`${t.url}/v1/webhooks/${shopify}`, body, unsigned)).status).toBe(401);
    expect((await events(shopify)).some((e) => e.event_id === 'shopify:order:555002')).toBe(false);
    expect(await profileOf('email', 'eve@shop.io')).toBeUndefined();
  });

  it('HubSpot: verifies signature v3 over method, URL, body and timestamp; refuses forgeries and replays', async () => {
    const uri = `${t.url}/v1/webhooks/${hubspot}`;
    const body = JSON.stringify([
      hubSpotContactEvent({ objectId: 901, subscriptionType: 'contact.creation' }),
      hubSpotContactEvent({
        objectId: 901,
        subscriptionType: 'contact.propertyChange',
        propertyName: 'email',
        propertyValue: 'Grace@Hub.io',
      }),
      hubSpotContactEvent({
        objectId: 901,
        subscriptionType: 'contact.propertyChange',
        propertyName: 'lifecyclestage',
        propertyValue: 'customer',
      }),
    ]);
    const ok = await post(uri, body, { ...signHubSpotWebhook({ secret: HUBSPOT_SECRET, method: 'POST', uri, body }) });
    expect(ok).toEqual({ status: 200, body: { success: true, received: 3, stored: 3 } });
    // A retry of the same batch (same event ids), freshly signed within the 5 minutes: stored once.
    const retried = await post(uri, body, {
      ...signHubSpotWebhook({ secret: HUBSPOT_SECRET, method: 'POST', uri, body, timestamp: Date.now() + 1 }),
    });
    expect(retried).toEqual({ status: 200, body: { success: true, received: 0, stored: 0, duplicate: true } });
    const profileId = await profileOf('external_id', 'hubspot:contact:901');
    expect(profileId).toBeDefined();
    expect(await profileOf('email', 'grace@hub.io')).toBe(profileId);
    const profile = await call(t.url, 'GET', `/v1/profiles/${profileId}`, { headers: t.auth });
    expect(JSON.stringify(profile.body.traits)).toContain('customer');

    const forged = await post(uri, body, {
      ...signHubSpotWebhook({ secret: 'wrong-secret', method: 'POST', uri, body }),
    });
    expect(forged.status).toBe(401);
    const otherUrl = await post(uri, body, {
      ...signHubSpotWebhook({ secret: HUBSPOT_SECRET, method: 'POST', uri: `${t.url}/v1/webhooks/other`, body }),
    });
    expect(otherUrl.status).toBe(401);
    const replay = await post(uri, body, {
      ...signHubSpotWebhook({ secret: HUBSPOT_SECRET, method: 'POST', uri, body, timestamp: Date.now() - 6 * 60_000 }),
    });
    expect(replay.status).toBe(401);
  });

  it('answers 404 for unknown sources and sources without a webhook', async () => {
    expect((await post(`${t.url}/v1/webhooks/src_missing`, '{}', { 'content-type': 'application/json' })).status).toBe(
      404,
    );
    const push = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: { name: 'Site', connector: 'http-events', config: {} },
    });
    const res = await post(`${t.url}/v1/webhooks/${push.body.id}`, '{}', { 'content-type': 'application/json' });
    expect(res.status).toBe(404);
    expect(res.body.message).toMatch(/does not accept webhooks/);
  });
});
