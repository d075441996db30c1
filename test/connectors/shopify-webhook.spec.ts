import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import { signShopifyWebhook } from '../emulators/shopify/webhook.js';
import { startShopify, type ShopifyEmulator } from '../emulators/shopify/shopify.emulator.js';
import type { ShopifyCustomer, ShopifyOrder } from '../emulators/shopify/shopify.data.js';
import { until } from '../support/wait.js';

const TOKEN = 'shpat_webhook_test';
const SECRET = 'shpss_webhook_secret_0123';

const customer = {
  id: 6_100_000_001,
  email: 'Lena.Real@shop-mail.net',
  phone: null,
  first_name: 'Lena',
  last_name: 'Real',
  created_at: '2026-05-01T08:00:00-00:00',
  updated_at: '2026-05-01T08:00:00-00:00',
  orders_count: 1,
  total_spent: '59.00',
  email_marketing_consent: { state: 'subscribed', opt_in_level: 'single_opt_in', consent_updated_at: null },
  default_address: null,
} as unknown as ShopifyCustomer;

const order = {
  id: 7_200_000_001,
  email: 'Lena.Real@shop-mail.net',
  created_at: '2026-05-01T09:00:00-00:00',
  updated_at: '2026-05-01T09:00:00-00:00',
  cancelled_at: null,
  financial_status: 'paid',
  total_price: '59.00',
  subtotal_price: '50.00',
  total_tax: '9.00',
  currency: 'EUR',
  line_items: [{ id: 1, product_id: 11, variant_id: 12, sku: 'MUG', title: 'Mug', quantity: 2, price: '25.00' }],
  customer,
} as unknown as ShopifyOrder;

/** The Shopify connector in real time: signed webhooks on POST /v1/webhooks/:sourceId, deduplicated with the scheduled sync. */
describe('shopify webhooks through the hub (PostgreSQL)', () => {
  let t: TestApp;
  let shop: ShopifyEmulator;
  let sourceId: string;

  beforeAll(async () => {
    shop = await startShopify({ tokens: [TOKEN], customers: [customer], orders: [order] });
    t = await startTestApp({ label: 'shopify-webhook' });
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'shop',
        connector: 'shopify',
        config: { baseUrl: shop.url, accessToken: TOKEN, webhookSecret: SECRET },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.config.webhookSecret).toBe('********');
    sourceId = created.body.id as string;
  });
  afterAll(async () => {
    await t.close();
    await shop.close();
  });

  const deliver = (topic: string, payload: unknown, secret = SECRET) => {
    const body = JSON.stringify(payload);
    return fetch(`${t.url}/v1/webhooks/${sourceId}`, {
      method: 'POST',
      headers: signShopifyWebhook({ secret, body, topic }),
      body,
    });
  };

  it('rejects a forged signature and stores nothing', async () => {
    const forged = await deliver('orders/create', order, 'not-the-secret');
    expect(forged.status).toBe(401);
    const lookup = await call(
      t.url,
      'GET',
      `/v1/profiles?identifier=${encodeURIComponent('email:lena.real@shop-mail.net')}`,
      { headers: t.auth },
    );
    expect(lookup.body.data ?? []).toEqual([]);
  });

  it('stores a signed orders/create as an Order Completed event, once, even after a sync reads the same order', async () => {
    expect((await deliver('orders/create', order)).status).toBe(200);
    expect((await deliver('orders/create', order)).status).toBe(200); // Shopify redelivers
    const found = await call(
      t.url,
      'GET',
      `/v1/profiles?identifier=${encodeURIComponent('email:Lena.Real@shop-mail.net ')}`,
      { headers: t.auth },
    );
    const profileId = found.body.data[0].id as string;
    const started = await call(t.url, 'POST', `/v1/sources/${sourceId}/sync`, { headers: t.auth });
    await until(async () => {
      const r = await call(t.url, 'GET', `/v1/runs/${started.body.runId}`, { headers: t.auth });
      return ['succeeded', 'partial', 'failed'].includes(r.body.status) ? r.body : undefined;
    });
    const events = (await call(t.url, 'GET', `/v1/profiles/${profileId}/events?limit=100`, { headers: t.auth })).body
      .data;
    const orders = events.filter((e: { name: string }) => e.name === 'Order Completed');
    expect(orders).toHaveLength(1);
    expect(orders[0].properties).toMatchObject({ total: 59, currency: 'EUR' });
    const profile = (await call(t.url, 'GET', `/v1/profiles/${profileId}`, { headers: t.auth })).body;
    expect(profile.identifiers.map((i: { type: string; value: string }) => `${i.type}:${i.value}`)).toContain(
      `external_id:${sourceId}:customer:${customer.id}`,
    );
  });

  it('applies customers/update: traits and email consent', async () => {
    const res = await deliver('customers/update', {
      ...customer,
      first_name: 'Helena',
      updated_at: '2026-06-01T08:00:00-00:00',
      email_marketing_consent: {
        state: 'unsubscribed',
        opt_in_level: 'single_opt_in',
        consent_updated_at: '2026-06-01T08:00:00-00:00',
      },
    });
    expect(res.status).toBe(200);
    const found = await call(
      t.url,
      'GET',
      `/v1/profiles?identifier=${encodeURIComponent('email:lena.real@shop-mail.net')}`,
      { headers: t.auth },
    );
    const profile = (await call(t.url, 'GET', `/v1/profiles/${found.body.data[0].id}`, { headers: t.auth })).body;
    expect(JSON.stringify(profile.traits)).toContain('Helena');
    expect(profile.consent.email.granted).toBe(false);
  });
});
