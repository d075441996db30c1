import { ConfigurationError, ConnectorError } from '@plexus/sdk';
import { createTestContext, describeSourceConformance, readStream, type FaultRequest } from '@plexus/sdk/testing';
import source, {
  CUSTOMER_NODE_COST,
  CUSTOMERS_PAGE,
  ORDER_NODE_COST,
  ORDERS_PAGE,
  throttleDelayMs,
  type ShopifyCheckpoint,
} from '../../connectors/shopify/index.js';
import { call } from '../support/http.js';
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
const customerGid = (n: number) => `gid://shopify/Customer/${CUSTOMER_ID_BASE + n}`;
const orderGid = (n: number) => `gid://shopify/Order/${ORDER_ID_BASE + n}`;

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
const config = () => ({ baseUrl: shop.url, accessToken: TOKEN, pageSize: 7, apiVersion: '2026-10' });

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
        return [customerGid(2), `gid://shopify/Customer/${id}`];
      },
    },
    orders: {
      recordCount: ORDERS,
      verify: ({ profiles, records }) => {
        const problems: string[] = [];
        if (!profiles.every((p) => p.events?.length && p.traits?.lastOrderAt)) problems.push('an order without events');
        const items = (records as Array<{ lineItems?: { nodes: unknown[] } }>).map(
          (o) => o.lineItems?.nodes.length ?? 0,
        );
        if (items.some((n) => n === 0)) problems.push('an order without its line items');
        if (!profiles.some((p) => p.events?.some((e) => e.name === 'Order Refunded'))) problems.push('no refund read');
        return problems;
      },
      addNewer: async () => {
        shop.state.orders.insert(newOrder(shop, ORDER_ID_BASE + 5000, 'late.guest@example.org'));
        shop.state.orders.update(ORDER_ID_BASE + 2, { financial_status: 'refunded' });
        return [`gid://shopify/Order/${ORDER_ID_BASE + 5000}`, orderGid(2)];
      },
    },
  },
  injectFault: (fault) => shop.faults.inject(emulatorFault(fault)),
  pendingFaults: () => shop.faults.pending().reduce((n, f) => n + f.remaining, 0),
});

describe('shopify full syncs through bulk operations', () => {
  let faulty: ShopifyEmulator;
  const cfg = () => ({ baseUrl: faulty.url, accessToken: TOKEN, pageSize: 5 });
  const ids = (records: unknown[]) => records.map((r) => (r as { id: string }).id);
  const allCustomers = Array.from({ length: CUSTOMERS }, (_, i) => customerGid(i + 1));

  beforeAll(async () => {
    faulty = await startShopify({
      tokens: [TOKEN],
      scopedTokens: { shpat_customers_only: ['read_customers'] },
      ...syntheticShopifyData(CUSTOMERS, { guestOrders: GUEST_ORDERS }),
      rateLimit: false,
    });
  });
  afterAll(() => faulty.close());
  afterEach(() => faulty.faults.clear());

  it('runs one bulk query with grouped objects, downloads the JSONL without the token, and ends at the operation start', async () => {
    const before = faulty.requests.length;
    const result = await readStream<{ id: string }, ShopifyCheckpoint>(source, 'orders', cfg());
    expect(new Set(ids(result.records)).size).toBe(ORDERS);
    expect(result.logs.some((l) => /read_all_orders/.test(l.message))).toBe(false);
    const requests = faulty.requests.slice(before);
    const mutation = requests.find((r) => JSON.stringify(r.body).includes('bulkOperationRunQuery'))!;
    expect((mutation.body as { query: string }).query).toContain('groupObjects: true');
    const downloads = requests.filter((r) => r.path.startsWith('/bulk-operation-results/'));
    expect(downloads).toHaveLength(1);
    expect(downloads[0].headers['x-shopify-access-token']).toBeUndefined();
    const op = [...faulty.state.bulkOperations.values()].at(-1)!;
    expect(result.lastCheckpoint).toEqual({
      since: new Date(op.createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      seen: [],
    });
    // Line items came as their own lines and were put back under their order.
    const order = result.records.find((r) => r.id === orderGid(3)) as any;
    expect(order.lineItems.nodes.length).toBe(faulty.state.orders.get(ORDER_ID_BASE + 3)!.line_items.length);
  });

  it('retries THROTTLED and 5xx answers, reading every record once', async () => {
    faulty.faults.inject({ kind: '429', times: 2 }, { kind: '5xx', status: 500 }, { kind: '5xx', status: 502 });
    const result = await readStream(source, 'customers', cfg());
    expect(faulty.faults.pending()).toEqual([]);
    expect(ids(result.records).sort()).toEqual([...allCustomers].sort());
    expect(result.logs.filter((l) => /retrying/.test(l.message)).length).toBeGreaterThanOrEqual(4);
  });

  it('reads on after the result download breaks off, losing and doubling nothing', async () => {
    faulty.faults.inject({ kind: 'truncated', path: '^/bulk-operation-results/' });
    const result = await readStream(source, 'orders', cfg());
    expect(faulty.faults.fired.at(-1)?.kind).toBe('truncated');
    expect(result.records).toHaveLength(ORDERS);
    expect(new Set(ids(result.records)).size).toBe(ORDERS);
    expect(result.logs.some((l) => l.level === 'warn' && /broke off/.test(l.message))).toBe(true);
  });

  it('waits out an HTTP 429 with Retry-After', async () => {
    faulty.state.tooManyRequests = 2;
    const result = await readStream(source, 'customers', cfg());
    expect(faulty.state.tooManyRequests).toBe(0);
    expect(result.records).toHaveLength(CUSTOMERS);
  });

  it('asks again for a GraphQL answer cut short', async () => {
    faulty.faults.inject({ kind: 'truncated', path: 'graphql\\.json$' });
    const result = await readStream(source, 'customers', cfg());
    expect(faulty.faults.fired.at(-1)?.kind).toBe('truncated');
    expect(result.records).toHaveLength(CUSTOMERS);
  });

  it('reports exactly the malformed record as a mapping error and reads on', async () => {
    faulty.faults.inject({ kind: 'malformed-record', path: '^/bulk-operation-results/' });
    const result = await readStream(source, 'customers', cfg());
    const bad = faulty.faults.fired.at(-1)!.detail!;
    expect(result.records).toHaveLength(CUSTOMERS);
    expect(result.mappingErrors).toHaveLength(1);
    expect(result.mappingErrors[0]).toMatchObject({ record: { id: bad } });
    expect(result.mappingErrors[0].error).toMatch(/updatedAt is not a date/);
    expect(result.profiles).toHaveLength(CUSTOMERS - 1);
  });

  it('fails fast with a config failure when the token expires mid-run, naming the setting', async () => {
    faulty.faults.inject({ kind: 'expired-token', path: 'graphql\\.json$' });
    const error = await readStream(source, 'customers', cfg()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConnectorError).message).toMatch(/401.*accessToken/);
    expect((error as ConnectorError).message).not.toContain(TOKEN);
  });

  it('says which scope is missing, at check and when a bulk operation is denied', async () => {
    const { ctx } = await createTestContext(source, {
      ...cfg(),
      accessToken: 'shpat_customers_only',
    });
    const error = await source.check(ctx as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/read_orders/);
    const denied = await readStream(source, 'orders', { ...cfg(), accessToken: 'shpat_customers_only' }).catch(
      (e: unknown) => e,
    );
    expect(denied).toBeInstanceOf(ConfigurationError);
    expect((denied as Error).message).toMatch(/ACCESS_DENIED/);
  });

  it('commits the bulk operation as soon as it starts, so a run that dies while it runs waits for the same one', async () => {
    const { ctx } = await createTestContext(source, cfg());
    const stream = source.streams.find((s) => s.name === 'customers')!;
    const iterator = stream.read(ctx as never, undefined)[Symbol.asyncIterator]();
    const first = await iterator.next();
    await iterator.return?.(undefined);
    expect(first.value).toEqual({ records: [], checkpoint: { bulk: expect.objectContaining({ line: 0 }) } });
    const operations = faulty.state.bulkOperations.size;
    const resumed = await readStream(source, 'customers', cfg(), first.value.checkpoint);
    expect(ids(resumed.records).sort()).toEqual([...allCustomers].sort());
    expect(faulty.state.bulkOperations.size).toBe(operations);
  });

  it('starts a new bulk operation when the interrupted one can no longer be read', async () => {
    const stale: ShopifyCheckpoint = {
      bulk: { id: 'gid://shopify/BulkOperation/999999', line: 10, startedAt: '2026-01-01T00:00:00Z' },
    };
    const resumed = await readStream<{ id: string }, ShopifyCheckpoint>(source, 'customers', cfg(), stale);
    expect(ids(resumed.records).sort()).toEqual([...allCustomers].sort());
    expect(resumed.logs.some((l) => l.level === 'warn' && /starting a new one/.test(l.message))).toBe(true);
  });

  it('reads only records updated since startDate on the first run', async () => {
    const startDate = new Date(Date.parse(faulty.state.customers.get(CUSTOMER_ID_BASE + 21)!.updated_at)).toISOString();
    const result = await readStream(source, 'customers', { ...cfg(), startDate });
    expect(ids(result.records).sort()).toEqual(allCustomers.slice(20).sort());
  });
});

describe('shopify incremental syncs through cost-paced queries', () => {
  let shopify: ShopifyEmulator;
  const cfg = () => ({ baseUrl: shopify.url, accessToken: TOKEN, pageSize: 5 });
  const ids = (records: unknown[]) => records.map((r) => (r as { id: string }).id);

  beforeAll(async () => {
    shopify = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(CUSTOMERS, { guestOrders: GUEST_ORDERS }),
      rateLimit: false,
    });
  });
  afterAll(() => shopify.close());
  afterEach(() => shopify.faults.clear());

  it('asks for updated_at:>= the checkpoint, oldest change first, and skips what the boundary second committed', async () => {
    const full = await readStream<{ id: string }, ShopifyCheckpoint>(source, 'orders', cfg());
    const boundary = full.lastCheckpoint!;
    const at = Date.parse(boundary.since!);
    // Orders changed in the same second as the bulk operation started are read again only if not seen.
    shopify.state.orders.insert(newOrder(shopify, ORDER_ID_BASE + 9000, 'same.second@example.org', at));
    const before = shopify.requests.length;
    const next = await readStream<{ id: string }, ShopifyCheckpoint>(source, 'orders', cfg(), boundary);
    expect(ids(next.records)).toEqual([orderGid(9000)]);
    const page = shopify.requests.slice(before).find((r) => JSON.stringify(r.body).includes('OrdersPage'))!;
    expect((page.body as any).variables).toMatchObject({ query: `updated_at:>='${boundary.since}'`, first: 5 });
    expect((page.body as any).query).toContain('sortKey: UPDATED_AT');
    expect(next.lastCheckpoint).toEqual({
      since: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      seen: [orderGid(9000)],
    });
    const again = await readStream(source, 'orders', cfg(), next.lastCheckpoint);
    expect(again.records).toEqual([]);
    expect(next.profiles[0]).toMatchObject({
      identifiers: [{ type: 'email', value: 'same.second@example.org' }],
      events: [{ name: 'Order Completed', id: String(ORDER_ID_BASE + 9000) }],
    });
  });

  it('reads a backlog of more than bulkAbove changes through a bulk operation filtered on updated_at', async () => {
    const since = new Date(Date.parse(shopify.state.customers.get(CUSTOMER_ID_BASE + 21)!.updated_at)).toISOString();
    const before = shopify.requests.length;
    const result = await readStream<{ id: string }, ShopifyCheckpoint>(
      source,
      'customers',
      { ...cfg(), bulkAbove: 5 },
      { since },
    );
    expect(ids(result.records).sort()).toEqual(Array.from({ length: 10 }, (_, i) => customerGid(21 + i)).sort());
    const mutation = shopify.requests
      .slice(before)
      .find((r) => JSON.stringify(r.body).includes('bulkOperationRunQuery'))!;
    expect((mutation.body as any).variables.query).toContain(
      `customers(query: "updated_at:>='${since.replace('.000Z', 'Z')}'")`,
    );
    expect(result.batches[0].checkpoint).toMatchObject({
      bulk: { search: `updated_at:>='${since.replace('.000Z', 'Z')}'` },
    });
    expect(result.lastCheckpoint).toEqual({ since: expect.any(String), seen: [] });
    // At or under the threshold, pages as usual.
    const paged = await readStream(source, 'customers', { ...cfg(), bulkAbove: 10 }, { since });
    expect(paged.records).toHaveLength(10);
    expect(shopify.state.bulkOperations.size).toBe(1 + 1); // the full read of the first test, and the backlog
  });

  it('reads every line item of an order with more than a page holds', async () => {
    const template = shopify.state.orders.get(ORDER_ID_BASE + 1)!;
    const items = Array.from({ length: 12 }, (_, k) => ({
      ...template.line_items[0],
      id: 777_000 + k,
      sku: `SKU-${k}`,
    }));
    const at = Date.UTC(2030, 0, 1);
    shopify.state.orders.insert({
      ...newOrder(shopify, ORDER_ID_BASE + 9100, 'big.basket@example.org', at),
      line_items: items,
    });
    const result = await readStream<any, ShopifyCheckpoint>(source, 'orders', cfg(), {
      since: new Date(at).toISOString(),
    });
    expect(result.records).toHaveLength(1);
    expect(result.records[0].lineItems.nodes.map((i: any) => i.sku)).toEqual(items.map((i) => i.sku));
    expect(result.profiles[0].events![0].properties!.items).toHaveLength(12);
  });

  it('still accepts a configuration saved by the REST version (requestsPerSecond is ignored)', async () => {
    const result = await readStream(
      source,
      'customers',
      { ...cfg(), requestsPerSecond: 2 },
      { since: '2031-06-01T00:00:00Z' },
    );
    expect(result.records).toEqual([]);
  });

  it('takes over from a checkpoint of the REST version of the connector', async () => {
    const since = shopify.state.customers.get(CUSTOMER_ID_BASE + 28)!.updated_at; // with the shop's offset
    const legacy = {
      since,
      seen: [CUSTOMER_ID_BASE + 28],
      next: 'https://acme.myshopify.com/admin/api/2025-01/customers.json?page_info=x',
    };
    const result = await readStream(source, 'customers', cfg(), legacy as unknown as ShopifyCheckpoint);
    expect(ids(result.records)).toEqual([customerGid(29), customerGid(30)]);
  });

  it('quarantines a malformed record of a page without making it the cursor', async () => {
    const at = Date.UTC(2031, 0, 1);
    for (const n of [5, 6, 7])
      shopify.state.customers.update(CUSTOMER_ID_BASE + n, { last_name: `L${n}` }, at + n * 1000);
    shopify.faults.inject({ kind: 'malformed-record', path: 'graphql\\.json$' });
    const result = await readStream<{ id: string }, ShopifyCheckpoint>(source, 'customers', cfg(), {
      since: new Date(at).toISOString(),
    });
    expect(result.records).toHaveLength(3);
    expect(result.mappingErrors).toHaveLength(1);
    expect(result.mappingErrors[0].error).toMatch(/updatedAt is not a date/);
    expect(result.lastCheckpoint).toEqual({
      since: new Date(at + 7000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      seen: [customerGid(7)],
    });
  });

  it("sizes pages by the queries' cost, which the emulator computes the same way", async () => {
    const cost = async (query: string, first: number) =>
      (
        await call(shopify.url, 'POST', '/admin/api/2026-10/graphql.json', {
          headers: { 'X-Shopify-Access-Token': TOKEN },
          body: { query, variables: { first, query: 'id:0' } },
        })
      ).body.extensions.cost.requestedQueryCost as number;
    expect(await cost(CUSTOMERS_PAGE, 10)).toBe(2 + 10 * CUSTOMER_NODE_COST);
    expect(await cost(ORDERS_PAGE, 10)).toBe(2 + 10 * ORDER_NODE_COST);
    const before = shopify.requests.length;
    await readStream(source, 'customers', { ...cfg(), pageSize: 250 }, { since: '2020-01-01T00:00:00Z' });
    const page = shopify.requests.slice(before).find((r) => JSON.stringify(r.body).includes('CustomersPage'))!;
    const first = (page.body as any).variables.first as number;
    expect(first).toBe(Math.floor(998 / CUSTOMER_NODE_COST));
  });
});

describe('shopify orders beyond 60 days', () => {
  it('warns when the token lacks read_all_orders, since Shopify then shows only recent orders', async () => {
    const shop = await startShopify({
      scopedTokens: { shpat_recent: ['read_customers', 'read_orders'] },
      ...syntheticShopifyData(9),
      rateLimit: false,
    });
    try {
      shop.state.orders.insert(newOrder(shop, ORDER_ID_BASE + 777, 'recent@example.org'));
      const recent = await readStream(source, 'orders', { baseUrl: shop.url, accessToken: 'shpat_recent' });
      expect(recent.records.map((r) => (r as { id: string }).id)).toEqual([orderGid(777)]);
      expect(recent.logs.some((l) => l.level === 'warn' && /read_all_orders/.test(l.message))).toBe(true);
    } finally {
      await shop.close();
    }
  });
});

describe('shopify cost-based throttling', () => {
  it('paces on throttleStatus so a small bucket never answers THROTTLED', async () => {
    const shop = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(60),
      rateLimit: { maximumAvailable: 120, restoreRate: 400 },
    });
    try {
      // 10 customers a page: 52 points requested, about 40 spent; the bucket holds two pages.
      const result = await readStream(
        source,
        'customers',
        { baseUrl: shop.url, accessToken: TOKEN, pageSize: 10 },
        {
          since: '2020-01-01T00:00:00Z',
        },
      );
      expect(result.records).toHaveLength(60);
      expect(shop.state.throttled).toBe(0);
      expect(result.logs.some((l) => /waiting for the bucket|ms waiting/.test(l.message))).toBe(true);
    } finally {
      await shop.close();
    }
  });

  it('waits until the bucket restores what a throttled query asked for', () => {
    const throttled = (requested: number, available: number, restoreRate: number) => ({
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
      extensions: {
        cost: {
          requestedQueryCost: requested,
          actualQueryCost: null,
          throttleStatus: { maximumAvailable: 2000, currentlyAvailable: available, restoreRate },
        },
      },
    });
    expect(throttleDelayMs(throttled(752, 500, 100))).toBe(2520);
    expect(throttleDelayMs(throttled(100, 99, 1000))).toBe(250);
    expect(throttleDelayMs({ data: {}, extensions: {} })).toBeUndefined();
    expect(throttleDelayMs({ errors: [{ message: 'x', extensions: { code: 'ACCESS_DENIED' } }] })).toBeUndefined();
  });

  it('fails a frozen shop (402) with a config error saying so', async () => {
    const shop = await startShopify({ tokens: [TOKEN], ...syntheticShopifyData(3), rateLimit: false });
    try {
      shop.state.shopStatus = 'frozen';
      const frozen = await readStream(source, 'customers', { baseUrl: shop.url, accessToken: TOKEN }).catch(
        (e: unknown) => e,
      );
      expect(frozen).toBeInstanceOf(ConfigurationError);
      expect((frozen as Error).message).toMatch(/frozen/);
    } finally {
      await shop.close();
    }
  });
});
