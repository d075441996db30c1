import { createHmac } from 'node:crypto';
import { call } from '../../support/http.js';
import { CUSTOMER_ID_BASE, shopifyTime, syntheticShopifyData } from './shopify.data.js';
import { startShopify, type ShopifyEmulator } from './shopify.emulator.js';
import { signShopifyWebhook } from './webhook.js';

const TOKEN = 'shpat_test';
const auth = { 'X-Shopify-Access-Token': TOKEN };
const API = '/admin/api/2024-07';

/** Follows the Link header as given; returns every record and the number of pages. */
async function pageAll(base: string, path: string, key: 'customers' | 'orders') {
  const records: any[] = [];
  let url: string | undefined = `${base}${path}`;
  let pages = 0;
  while (url) {
    const res = await fetch(url, { headers: auth });
    expect(res.status).toBe(200);
    records.push(...((await res.json()) as any)[key]);
    pages++;
    url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return { records, pages };
}

describe('Shopify emulator', () => {
  let shop: ShopifyEmulator;
  const data = syntheticShopifyData(900, { guestOrders: 20 });

  beforeAll(async () => {
    shop = await startShopify({ tokens: [TOKEN], ...data, rateLimit: false });
  });
  afterAll(() => shop.close());
  afterEach(() => shop.faults.clear());

  it('pages customers to the end with the Link header and page_info', async () => {
    const { records, pages } = await pageAll(shop.url, `${API}/customers.json?limit=250`, 'customers');
    expect(pages).toBe(4);
    expect(records).toHaveLength(900);
    expect(new Set(records.map((c) => c.id)).size).toBe(900);
    expect(records[0]).toMatchObject({
      id: CUSTOMER_ID_BASE + 1,
      email: expect.stringContaining('@example.org'),
      orders_count: 0,
      total_spent: '0.00',
      email_marketing_consent: { state: expect.any(String) },
      default_address: { country_code: expect.stringMatching(/^[A-Z]{2}$/) },
    });
  });

  it('links back with rel="previous"', async () => {
    const first = await fetch(`${shop.url}${API}/customers.json?limit=100`, { headers: auth });
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get('link')!)![1];
    const second = await fetch(next, { headers: auth });
    const previous = /<([^>]+)>;\s*rel="previous"/.exec(second.headers.get('link')!)![1];
    const back = (await (await fetch(previous, { headers: auth })).json()) as any;
    expect(back.customers.map((c: any) => c.id)).toEqual(((await first.json()) as any).customers.map((c: any) => c.id));
  });

  it('keeps orders consistent with customers, includes guest orders, and defaults to status=open', async () => {
    const all = await pageAll(shop.url, `${API}/orders.json?status=any&limit=250`, 'orders');
    expect(all.records).toHaveLength(900 + 20);
    const guests = all.records.filter((o) => o.customer === null);
    expect(guests).toHaveLength(20);
    expect(guests.every((o) => typeof o.email === 'string')).toBe(true);
    const customer = shop.state.customers.get(CUSTOMER_ID_BASE + 3)!;
    const theirs = all.records.filter((o) => o.customer?.id === customer.id);
    expect(theirs).toHaveLength(customer.orders_count);
    const spent = theirs.filter((o) => !o.cancelled_at).reduce((s, o) => s + Number(o.total_price), 0);
    expect(customer.total_spent).toBe(spent.toFixed(2));
    expect(theirs[0].line_items[0]).toMatchObject({
      title: expect.any(String),
      quantity: expect.any(Number),
      price: expect.any(String),
    });
    const open = await pageAll(shop.url, `${API}/orders.json?limit=250`, 'orders');
    expect(open.records.length).toBeLessThan(all.records.length);
    expect(open.records.every((o) => o.closed_at === null && o.cancelled_at === null)).toBe(true);
  });

  it('filters by updated_at_min and orders by updated_at, seeing updates', async () => {
    const since = shopifyTime(Date.UTC(2024, 0, 1) + 850_000);
    const res = await call(
      shop.url,
      'GET',
      `${API}/customers.json?limit=250&updated_at_min=${encodeURIComponent(since)}`,
      { headers: auth },
    );
    expect(res.body.customers).toHaveLength(50);
    shop.state.customers.update(CUSTOMER_ID_BASE + 1, { first_name: 'Updated' }, Date.UTC(2025, 0, 1));
    const after = await pageAll(
      shop.url,
      `${API}/customers.json?limit=20&order=updated_at+asc&updated_at_min=${encodeURIComponent(since)}`,
      'customers',
    );
    expect(after.records).toHaveLength(51);
    expect(after.records.at(-1)).toMatchObject({ id: CUSTOMER_ID_BASE + 1, first_name: 'Updated' });
    const count = await call(
      shop.url,
      'GET',
      `${API}/customers/count.json?updated_at_min=${encodeURIComponent(since)}`,
      { headers: auth },
    );
    expect(count.body).toEqual({ count: 51 });
  });

  it('rejects a bad limit and filters next to page_info with 400', async () => {
    for (const limit of ['0', '251', 'x']) {
      const res = await call(shop.url, 'GET', `${API}/customers.json?limit=${limit}`, { headers: auth });
      expect(res.status).toBe(400);
      expect(res.body.errors).toHaveProperty('limit');
    }
    const first = await fetch(`${shop.url}${API}/orders.json?status=any&limit=10`, { headers: auth });
    const next = /<([^>]+)>;\s*rel="next"/.exec(first.headers.get('link')!)![1];
    expect(new URL(next).searchParams.get('status')).toBeNull();
    const mixed = await call(shop.url, 'GET', `${new URL(next).pathname}${new URL(next).search}&status=any`, {
      headers: auth,
    });
    expect(mixed.status).toBe(400);
    expect(mixed.body.errors.status).toMatch(/cannot be passed when page_info is present/);
    const garbage = await call(shop.url, 'GET', `${API}/orders.json?page_info=garbage`, { headers: auth });
    expect(garbage.status).toBe(400);
    expect(garbage.body.errors).toEqual({ page_info: 'Invalid value.' });
    const fields = await call(shop.url, 'GET', `${API}/customers.json?limit=1&fields=id,email`, { headers: auth });
    expect(Object.keys(fields.body.customers[0])).toEqual(['id', 'email']);
  });

  it("answers 401 with Shopify's body for a missing or wrong token", async () => {
    for (const headers of [{}, { 'X-Shopify-Access-Token': 'nope' }] as Array<Record<string, string>>) {
      const res = await call(shop.url, 'GET', `${API}/customers.json`, { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      });
    }
  });

  it('injects every fault kind', async () => {
    const get = () => call(shop.url, 'GET', `${API}/customers.json?limit=10`, { headers: auth });
    shop.faults.inject({ kind: '429' }, { kind: '5xx', status: 500 }, { kind: 'expired-token' });
    const throttled = await get();
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '2.0']);
    expect((await get()).status).toBe(500);
    expect((await get()).status).toBe(401);
    shop.faults.inject({ kind: 'truncated' }, { kind: 'slow', delayMs: 200 });
    const started = performance.now();
    const truncated = await fetch(`${shop.url}${API}/customers.json?limit=10`, { headers: auth });
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await expect(truncated.json()).rejects.toThrow(/JSON/);
    shop.faults.inject({ kind: 'malformed-record' });
    const page = await get();
    const bad = page.body.customers.filter((c: any) => c.updated_at === 'not-a-date');
    expect(bad).toHaveLength(1);
    expect(shop.faults.fired.at(-1)?.detail).toBe(String(bad[0].id));
  });
});

describe('Shopify emulator leaky bucket', () => {
  it('counts calls in X-Shopify-Shop-Api-Call-Limit and answers 429 with Retry-After when full', async () => {
    const shop = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(3),
      rateLimit: { bucketSize: 4, leakPerSecond: 0.01 },
    });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await call(shop.url, 'GET', `${API}/customers.json`, { headers: auth }));
      expect(answers.map((a) => a.headers.get('x-shopify-shop-api-call-limit'))).toEqual([
        '1/4',
        '2/4',
        '3/4',
        '4/4',
        '4/4',
      ]);
      expect(answers[4].status).toBe(429);
      expect(answers[4].headers.get('retry-after')).toBe('2.0');
      expect(answers[4].body.errors).toMatch(/Exceeded 2 calls per second/);
      expect(shop.state.throttled).toBe(1);
    } finally {
      await shop.close();
    }
  });
});

describe('Shopify webhook signature', () => {
  it('is the base64 HMAC-SHA256 of the raw body', () => {
    const body = '{"id":1}';
    const headers = signShopifyWebhook({ secret: 'k', body, topic: 'orders/create' });
    expect(headers['X-Shopify-Hmac-Sha256']).toBe(createHmac('sha256', 'k').update(body).digest('base64'));
    expect(headers['X-Shopify-Topic']).toBe('orders/create');
  });
});
