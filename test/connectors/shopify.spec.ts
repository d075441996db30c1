import { ConfigurationError, ConnectorError } from '@plexus/sdk';
import { describeSourceConformance, readStream, type FaultRequest } from '@plexus/sdk/testing';
import source, { callLimitDelayMs, type ShopifyCheckpoint } from '../../connectors/shopify/index.js';
import {
  CUSTOMER_ID_BASE,
  ORDER_ID_BASE,
  shopifyTime,
  syntheticShopifyData,
  type ShopifyOrder,
} from '../emulators/shopify/shopify.data.js';
import { startShopify, type ShopifyEmulator } from '../emulators/shopify/shopify.emulator.js';

const TOKEN = 'shpat_conformance';
const CUSTOMERS = 30;
const GUEST_ORDERS = 3;
/** Customer c has c % 3 orders: 30 customers place 30 orders; guests 3 more. */
const ORDERS = 30 + GUEST_ORDERS;

function emulatorFault(fault: FaultRequest) {
  return fault.status === 429
    ? { kind: '429' as const, times: fault.times }
    : { kind: '5xx' as const, times: fault.times, status: fault.status };
}

function newOrder(shop: ShopifyEmulator, id: number, email: string, at = Date.now()): ShopifyOrder {
  const template = shop.state.orders.get(ORDER_ID_BASE + 1)!;
  return {
    ...template,
    id,
    name: `#${id}`,
    email,
    customer: null,
    created_at: shopifyTime(at),
    updated_at: shopifyTime(at),
    cancelled_at: null,
  };
}

let shop: ShopifyEmulator;
const config = () => ({ baseUrl: shop.url, accessToken: TOKEN, pageSize: 7, apiVersion: '2024-07' });

describeSourceConformance({
  definition: source,
  setup: async () => {
    shop = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(CUSTOMERS, { guestOrders: GUEST_ORDERS }),
      rateLimit: false,
    });
  },
  teardown: () => shop.close(),
  config,
  invalidCredentials: () => ({ ...config(), accessToken: 'shpat_revoked' }),
  streams: {
    customers: {
      recordCount: CUSTOMERS,
      verify: ({ profiles }) => {
        const first = profiles.find((p) =>
          p.identifiers.some((i) => i.value === `test-connection:customer:${CUSTOMER_ID_BASE + 3}`),
        );
        return first?.traits?.ordersCount === 2 && typeof first.traits.totalSpent === 'number'
          ? []
          : [`customer 3 lacks its roll-ups: ${JSON.stringify(first)}`];
      },
      addNewer: async () => {
        shop.state.customers.update(CUSTOMER_ID_BASE + 2, { first_name: 'Renamed' });
        const id = CUSTOMER_ID_BASE + 1000;
        shop.state.customers.insert({
          ...shop.state.customers.get(CUSTOMER_ID_BASE + 1)!,
          id,
          email: 'new.customer@example.org',
          created_at: shopifyTime(Date.now()),
          updated_at: shopifyTime(Date.now()),
        });
        return [String(CUSTOMER_ID_BASE + 2), String(id)];
      },
    },
    orders: {
      recordCount: ORDERS,
      verify: ({ profiles }) =>
        profiles.every((p) => p.events?.length === 1 && p.traits?.lastOrderAt) ? [] : ['an order without its event'],
      addNewer: async () => {
        shop.state.orders.insert(newOrder(shop, ORDER_ID_BASE + 5000, 'late.guest@example.org'));
        shop.state.orders.update(ORDER_ID_BASE + 2, { financial_status: 'refunded' });
        return [String(ORDER_ID_BASE + 5000), String(ORDER_ID_BASE + 2)];
      },
    },
  },
  injectFault: (fault) => shop.faults.inject(emulatorFault(fault)),
  pendingFaults: () => shop.faults.pending().reduce((n, f) => n + f.remaining, 0),
});

describe('shopify faults and pacing', () => {
  let faulty: ShopifyEmulator;
  const cfg = () => ({ baseUrl: faulty.url, accessToken: TOKEN, pageSize: 5, apiVersion: '2024-07' });
  const ids = (records: unknown[]) => records.map((r) => (r as { id: number }).id);

  beforeAll(async () => {
    faulty = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(CUSTOMERS, { guestOrders: GUEST_ORDERS }),
      rateLimit: false,
    });
  });
  afterAll(() => faulty.close());
  afterEach(() => faulty.faults.clear());

  it('retries a 429 burst (Retry-After: 2.0) and 5xx answers, reading every record once', async () => {
    faulty.faults.inject(
      { kind: '429', times: 2 },
      { kind: '5xx', status: 500, times: 1 },
      { kind: '5xx', status: 502 },
    );
    const result = await readStream(source, 'customers', cfg());
    expect(faulty.faults.pending()).toEqual([]);
    expect(ids(result.records).sort()).toEqual(Array.from({ length: CUSTOMERS }, (_, i) => CUSTOMER_ID_BASE + i + 1));
    expect(faulty.requests.filter((r) => r.status === 429)).toHaveLength(2);
  });

  it('asks again for a page cut short instead of reading it as empty', async () => {
    faulty.faults.inject({ kind: 'truncated', path: '/orders\\.json$' });
    const result = await readStream(source, 'orders', cfg());
    expect(faulty.faults.fired.at(-1)?.kind).toBe('truncated');
    expect(new Set(ids(result.records)).size).toBe(ORDERS);
    expect(result.records).toHaveLength(ORDERS);
  });

  it('fails fast with a config failure when the token expires mid-run, naming the setting', async () => {
    faulty.faults.inject({ kind: 'expired-token', path: '/customers\\.json$' });
    const error = await readStream(source, 'customers', cfg()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConnectorError).message).toMatch(/401.*accessToken/);
    expect((error as ConnectorError).message).not.toContain(TOKEN);
  });

  it('reports exactly the malformed record as a mapping error and reads on', async () => {
    faulty.faults.inject({ kind: 'malformed-record', path: '/customers\\.json$' });
    const result = await readStream(source, 'customers', cfg());
    const bad = faulty.faults.fired.at(-1)!.detail!;
    expect(result.records).toHaveLength(CUSTOMERS);
    expect(result.mappingErrors).toHaveLength(1);
    expect(result.mappingErrors[0]).toMatchObject({ record: { id: Number(bad) } });
    expect(result.mappingErrors[0].error).toMatch(/updated_at is not a date/);
    expect(result.profiles).toHaveLength(CUSTOMERS - 1);
  });

  it('only sends page_info, limit and fields on following pages, and status=any first', async () => {
    const before = faulty.requests.length;
    await readStream(source, 'orders', cfg());
    const requests = faulty.requests.slice(before);
    expect(requests[0].query).toMatchObject({ status: 'any', order: 'updated_at asc', limit: '5' });
    for (const r of requests.slice(1)) expect(Object.keys(r.query).sort()).toEqual(['limit', 'page_info']);
    expect(requests.every((r) => r.headers['x-shopify-access-token'] === TOKEN)).toBe(true);
  });

  it('restarts from the saved updated_at when Shopify refuses a saved page_info, losing and doubling nothing', async () => {
    const full = await readStream<{ id: number }, ShopifyCheckpoint>(source, 'customers', cfg());
    const mid = full.checkpoints[2];
    const stale = { ...mid, next: `${faulty.url}/admin/api/2024-07/customers.json?limit=5&page_info=expired` };
    const resumed = await readStream<{ id: number }, ShopifyCheckpoint>(source, 'customers', cfg(), stale);
    const committed = full.batches.slice(0, 3).flatMap((b) => ids(b.records));
    expect([...committed, ...ids(resumed.records)].sort()).toEqual(ids(full.records).sort());
    expect(resumed.logs.some((l) => l.level === 'warn' && /page_info/.test(l.message))).toBe(true);
  });

  it('skips records committed at the boundary second and picks up guests and updates', async () => {
    const full = await readStream<{ id: number }, ShopifyCheckpoint>(source, 'orders', cfg());
    const boundary = full.lastCheckpoint!;
    expect(boundary.next).toBeUndefined();
    expect(boundary.seen!.length).toBeGreaterThan(0);
    const at = Date.parse(boundary.since!);
    // A new guest order in the same second as the last one committed: the inclusive filter returns both.
    faulty.state.orders.insert(newOrder(faulty, ORDER_ID_BASE + 9000, 'same.second@example.org', at));
    const next = await readStream<{ id: number }, ShopifyCheckpoint>(source, 'orders', cfg(), boundary);
    expect(ids(next.records)).toEqual([ORDER_ID_BASE + 9000]);
    expect(next.profiles[0]).toMatchObject({
      identifiers: [{ type: 'email', value: 'same.second@example.org' }],
      events: [{ name: 'Order Completed', id: String(ORDER_ID_BASE + 9000) }],
    });
  });
});

describe('shopify leaky bucket', () => {
  it('paces on X-Shopify-Shop-Api-Call-Limit so a small bucket never overflows', async () => {
    const shop = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(CUSTOMERS),
      rateLimit: { bucketSize: 8, leakPerSecond: 10 },
    });
    try {
      const result = await readStream(source, 'customers', {
        baseUrl: shop.url,
        accessToken: TOKEN,
        pageSize: 2,
        requestsPerSecond: 10,
      });
      expect(result.records).toHaveLength(CUSTOMERS);
      expect(shop.requests.length).toBe(CUSTOMERS / 2);
      expect(shop.state.throttled).toBe(0);
    } finally {
      await shop.close();
    }
  });

  it('computes the pause from the header and the leak rate', () => {
    expect(callLimitDelayMs('10/40', 2)).toBe(0);
    expect(callLimitDelayMs('32/40', 2)).toBe(500);
    expect(callLimitDelayMs('40/40', 2)).toBe(4500);
    expect(callLimitDelayMs('320/400', 20)).toBe(50);
    expect(callLimitDelayMs(undefined, 2)).toBe(0);
  });
});
