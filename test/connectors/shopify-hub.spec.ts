import { startTestApp, type TestApp } from '../support/app.js';
import { call } from '../support/http.js';
import {
  CUSTOMER_ID_BASE,
  ORDER_ID_BASE,
  shopifyTime,
  syntheticShopifyData,
  type ShopifyOrder,
} from '../emulators/shopify/shopify.data.js';
import { startShopify, type ShopifyEmulator } from '../emulators/shopify/shopify.emulator.js';
import { lazyRecords, type RecordSource } from '../emulators/common/table.js';
import { profileBy, syncAndWait } from '../support/hub.js';

const TOKEN = 'shpat_hub_test';

/**
 * The synthetic people live at example.org, a placeholder domain the default identity rules block; these tests
 * are about Shopify, so the shop's people get a real-looking domain.
 */
function withRealDomains<T>(source: RecordSource<T>): RecordSource<T> {
  return lazyRecords(
    source.count,
    (i) => JSON.parse(JSON.stringify(source.at(i)).replaceAll('@example.org', '@shop-mail.net')) as T,
  );
}

describe('shopify through the hub (PostgreSQL)', () => {
  let t: TestApp;
  let shop: ShopifyEmulator;
  let sourceId: string;
  let corrupted: string;

  const sync = (): Promise<any> => syncAndWait(t, sourceId);
  const profileOf = (identifier: string): Promise<any> => profileBy(t, identifier);
  const eventsOf = async (profileId: string): Promise<any[]> =>
    (await call(t.url, 'GET', `/v1/profiles/${profileId}/events?limit=100`, { headers: t.auth })).body.data;

  beforeAll(async () => {
    // 12 customers (customer c has c % 3 orders: 12 orders) and 2 guest checkouts, behind the real leaky bucket.
    const data = syntheticShopifyData(12, { guestOrders: 2 });
    shop = await startShopify({
      tokens: [TOKEN],
      customers: withRealDomains(data.customers),
      orders: withRealDomains(data.orders),
    });
    t = await startTestApp({ label: 'shopify_hub' });
  });
  afterAll(async () => {
    await t.close();
    await shop.close();
  });

  it('creates the source through the REST API with the token kept secret, and checks it', async () => {
    const created = await call(t.url, 'POST', '/v1/sources', {
      headers: t.auth,
      body: {
        name: 'shop',
        connector: 'shopify',
        config: { baseUrl: shop.url, accessToken: TOKEN, apiVersion: '2026-10', pageSize: 5 },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.config.accessToken).toBe('********');
    sourceId = created.body.id;
    expect((await call(t.url, 'POST', `/v1/sources/${sourceId}/check`, { headers: t.auth })).body).toEqual({
      ok: true,
    });
  });

  it('syncs customers and orders in full: traits, roll-ups, consent and Order Completed events on one profile', async () => {
    const run = await sync();
    expect(run).toMatchObject({ status: 'succeeded', stats: { read: 12 + 14, quarantined: 0 } });

    const buyer = shop.state.customers.get(CUSTOMER_ID_BASE + 3)!; // two orders
    const profile = await profileOf(`email:${buyer.email}`);
    expect(profile.traits).toMatchObject({
      firstName: { value: buyer.first_name },
      ordersCount: { value: 2 },
      totalSpent: { value: Number(buyer.total_spent) },
      lastOrderAt: { value: expect.any(String) },
    });
    expect(profile.consent.email?.granted).toBe(buyer.email_marketing_consent!.state === 'subscribed');
    const byExternalId = await profileOf(`external_id:${sourceId}:customer:${buyer.id}`);
    expect(byExternalId.id).toBe(profile.id);

    const events = await eventsOf(profile.id);
    const orders = events.filter((e) => e.name === 'Order Completed');
    expect(orders).toHaveLength(2);
    expect(orders[0].properties).toMatchObject({
      orderId: expect.any(String),
      total: expect.any(Number),
      currency: 'USD',
      items: expect.arrayContaining([
        expect.objectContaining({ name: expect.any(String), quantity: expect.any(Number) }),
      ]),
    });
    expect(orders[0].properties.paymentGateway).toEqual(expect.any(String));
    const spent = orders.reduce((sum, e) => sum + (e.properties.total as number), 0);
    expect(spent.toFixed(2)).toBe(buyer.total_spent);
  });

  it('records refunds as Order Refunded events next to the order, with what the customer spent net of them', async () => {
    // The synthetic order #1008 had its first item refunded a day after it was placed.
    const refunded = shop.state.orders.get(ORDER_ID_BASE + 8)!;
    const buyer = shop.state.customers.get(refunded.customer!.id)!;
    const profile = await profileOf(`external_id:${sourceId}:customer:${buyer.id}`);
    const events = await eventsOf(profile.id);
    const refund = events.find((e) => e.name === 'Order Refunded');
    const amount = Number(refunded.refunds![0].transactions[0].amount);
    expect(refund).toMatchObject({ properties: { orderId: String(refunded.id), total: amount, currency: 'USD' } });
    const completed = events.filter((e) => e.name === 'Order Completed');
    expect(completed.find((e) => e.properties.orderId === String(refunded.id))!.properties.refunded).toBe(amount);
    const net = completed.reduce(
      (sum, e) => sum + (e.properties.total as number) - ((e.properties.refunded as number) ?? 0),
      0,
    );
    expect(net.toFixed(2)).toBe(buyer.total_spent);
  });

  it('resolves a guest checkout by its email alone', async () => {
    const guest = shop.state.orders.get(ORDER_ID_BASE + 13)!;
    expect(guest.customer).toBeNull();
    const profile = await profileOf(`email:${guest.email}`);
    expect(profile).toBeDefined();
    expect(profile.traits.lastOrderAt.value).toBe(new Date(guest.created_at).toISOString());
    expect((await eventsOf(profile.id)).map((e) => [e.name, e.properties.orderId])).toEqual([
      ['Order Completed', String(guest.id)],
    ]);
  });

  it('reads only what changed on the next run', async () => {
    const customer = shop.state.customers.update(CUSTOMER_ID_BASE + 1, { first_name: 'Renamed' });
    const template = shop.state.orders.get(ORDER_ID_BASE + 1)!;
    const now = Date.now();
    const order: ShopifyOrder = {
      ...template,
      id: ORDER_ID_BASE + 500,
      name: '#1500',
      email: customer.email,
      customer: { ...template.customer!, id: customer.id, email: customer.email },
      created_at: shopifyTime(now),
      updated_at: shopifyTime(now),
    };
    shop.state.orders.insert(order);
    const run = await sync();
    expect(run).toMatchObject({ status: 'succeeded', stats: { read: 2, quarantined: 0 } });
    const profile = await profileOf(`external_id:${sourceId}:customer:${customer.id}`);
    expect(profile.traits.firstName.value).toBe('Renamed');
    expect((await eventsOf(profile.id)).map((e) => e.properties.orderId)).toContain(String(order.id));
    expect((await sync()).stats.read).toBe(0);
  });

  it('quarantines a malformed customer with its reason and writes the rest', async () => {
    shop.state.customers.update(CUSTOMER_ID_BASE + 5, { last_name: 'Five' });
    shop.state.customers.update(CUSTOMER_ID_BASE + 6, { last_name: 'Six' });
    shop.faults.inject({ kind: 'malformed-record', path: 'graphql\\.json$' });
    const run = await sync();
    expect(run).toMatchObject({ status: 'partial', stats: { read: 2, quarantined: 1 } });
    const bad = shop.faults.fired.at(-1)!.detail!.replace('gid://shopify/Customer/', '');
    corrupted = bad;
    const quarantine = await call(t.url, 'GET', `/v1/sources/${sourceId}/quarantine`, { headers: t.auth });
    expect(quarantine.body.data).toEqual([
      expect.objectContaining({
        stream: 'customers',
        record: expect.objectContaining({ id: `gid://shopify/Customer/${bad}` }),
        reason: expect.stringMatching(new RegExp(`customer ${bad}: .* is not`)),
      }),
    ]);
  });

  it('fails the run with a config error when the token is rejected', async () => {
    shop.state.customers.update(CUSTOMER_ID_BASE + 7, { last_name: 'Seven' });
    shop.faults.inject({ kind: 'expired-token' });
    const run = await sync();
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ type: 'config', message: expect.stringMatching(/401.*accessToken/) });
    expect(run.error.message).not.toContain(TOKEN);
    // Nothing was lost: the next run picks the change up, and the customer whose page came corrupted before (its
    // updated_at never became the cursor) is read again, intact.
    const next = await sync();
    expect(next).toMatchObject({ status: 'succeeded', stats: { read: 2, quarantined: 0 } });
    const recovered = await profileOf(`external_id:${sourceId}:customer:${corrupted}`);
    expect(['Five', 'Six']).toContain(recovered.traits.lastName.value);
    expect(recovered.traits.lastName.value).toBe(shop.state.customers.get(Number(corrupted))!.last_name);
  });
});
