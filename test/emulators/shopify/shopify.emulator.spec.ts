import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../../support/http.js';
import { CUSTOMER_ID_BASE, ORDER_ID_BASE, syntheticShopifyData } from './shopify.data.js';
import { startShopify, type ShopifyEmulator } from './shopify.emulator.js';
import { signShopifyWebhook } from './webhook.js';

const TOKEN = 'shpat_test';
const API = '/admin/api/2026-10/graphql.json';

function gql(shop: ShopifyEmulator, query: string, variables?: Record<string, unknown>, token = TOKEN) {
  return call(shop.url, 'POST', API, { headers: { 'X-Shopify-Access-Token': token }, body: { query, variables } });
}

const CUSTOMERS_PAGE = /* GraphQL */ `
  query Customers($first: Int!, $after: String, $query: String) {
    customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        updatedAt
        defaultEmailAddress {
          emailAddress
          marketingState
        }
        numberOfOrders
        amountSpent {
          amount
        }
      }
    }
  }
`;

async function pageAll(shop: ShopifyEmulator, query?: string, first = 250) {
  const nodes: any[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const res = await gql(shop, CUSTOMERS_PAGE, { first, after, query });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    nodes.push(...res.body.data.customers.nodes);
    after = res.body.data.customers.pageInfo.hasNextPage ? res.body.data.customers.pageInfo.endCursor : null;
    pages++;
  } while (after);
  return { nodes, pages };
}

async function bulk(shop: ShopifyEmulator, query: string, groupObjects = false) {
  const res = await gql(
    shop,
    `mutation Run($query: String!, $group: Boolean!) {
      bulkOperationRunQuery(query: $query, groupObjects: $group) { bulkOperation { id status } userErrors { field message code } }
    }`,
    { query, group: groupObjects },
  );
  return res.body.data.bulkOperationRunQuery;
}

async function completed(shop: ShopifyEmulator, id: string) {
  for (;;) {
    const res = await gql(
      shop,
      `query ($id: ID!) { bulkOperation(id: $id) { status url objectCount rootObjectCount errorCode } }`,
      { id },
    );
    const op = res.body.data.bulkOperation;
    if (op.status !== 'RUNNING' && op.status !== 'CREATED') return op;
    await sleep(20);
  }
}

describe('Shopify GraphQL emulator', () => {
  let shop: ShopifyEmulator;
  const data = syntheticShopifyData(600, { guestOrders: 20 });

  beforeAll(async () => {
    shop = await startShopify({
      tokens: [TOKEN],
      scopedTokens: { shpat_customers_only: ['read_customers'] },
      ...data,
      rateLimit: false,
    });
  });
  afterAll(() => shop.close());
  afterEach(() => {
    shop.faults.clear();
    shop.state.shopStatus = 'active';
  });

  it('pages customers with first/after and pageInfo, in GraphQL field names', async () => {
    const { nodes, pages } = await pageAll(shop);
    expect(pages).toBe(3);
    expect(nodes).toHaveLength(600);
    expect(new Set(nodes.map((c) => c.id)).size).toBe(600);
    expect(nodes[0]).toMatchObject({
      id: `gid://shopify/Customer/${CUSTOMER_ID_BASE + 1}`,
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      defaultEmailAddress: {
        emailAddress: expect.stringContaining('@'),
        marketingState: expect.stringMatching(/SUBSCRIBED/),
      },
      numberOfOrders: '0',
      amountSpent: { amount: '0.00' },
    });
  });

  it("filters on updated_at with Shopify's search syntax, seeing updates, and warns about unknown fields", async () => {
    const since = new Date(Date.UTC(2024, 0, 1) + 550_000).toISOString();
    expect((await pageAll(shop, `updated_at:>'${since}'`)).nodes).toHaveLength(49);
    expect((await pageAll(shop, `updated_at:>='${since}'`)).nodes).toHaveLength(50);
    shop.state.customers.update(CUSTOMER_ID_BASE + 1, { first_name: 'Updated' }, Date.UTC(2025, 0, 1));
    const after = await pageAll(shop, `updated_at:>='${since}'`, 20);
    expect(after.nodes).toHaveLength(51);
    expect(after.nodes.at(-1).id).toBe(`gid://shopify/Customer/${CUSTOMER_ID_BASE + 1}`);
    const warned = await gql(shop, CUSTOMERS_PAGE, { first: 1, query: 'favourite_colour:blue' });
    expect(warned.body.extensions.search[0].warnings).toEqual([
      { field: 'favourite_colour', message: 'Invalid search field for this query.' },
    ]);
  });

  it('counts matching records up to a limit', async () => {
    const count = async (query: string, limit: number) =>
      (
        await gql(shop, `query ($q: String, $l: Int) { customersCount(query: $q, limit: $l) { count precision } }`, {
          q: query,
          l: limit,
        })
      ).body.data.customersCount;
    const since = new Date(Date.UTC(2024, 0, 1) + 550_000).toISOString();
    expect(await count(`updated_at:>='${since}'`, 1000)).toEqual({ count: 51, precision: 'EXACT' });
    expect(await count(`updated_at:>='${since}'`, 10)).toEqual({ count: 10, precision: 'AT_LEAST' });
  });

  it('serves orders with line items, refunds and payment gateways, consistent with customers', async () => {
    const res = await gql(
      shop,
      `{ orders(first: 10, query: "id:${ORDER_ID_BASE + 8}") { nodes { id name paymentGatewayNames displayFinancialStatus
          customer { id } totalPriceSet { shopMoney { amount currencyCode } } totalRefundedSet { shopMoney { amount } }
          refunds(first: 5) { id createdAt totalRefundedSet { shopMoney { amount } } }
          lineItems(first: 5) { nodes { title quantity sku variant { id } originalUnitPriceSet { shopMoney { amount } } } } } } }`,
    );
    const order = res.body.data.orders.nodes[0];
    expect(order).toMatchObject({
      id: `gid://shopify/Order/${ORDER_ID_BASE + 8}`,
      paymentGatewayNames: [expect.any(String)],
      displayFinancialStatus: 'PARTIALLY_REFUNDED',
      refunds: [
        {
          id: expect.stringMatching(/^gid:\/\/shopify\/Refund\//),
          totalRefundedSet: { shopMoney: { amount: expect.any(String) } },
        },
      ],
    });
    expect(order.totalRefundedSet.shopMoney.amount).toBe(order.refunds[0].totalRefundedSet.shopMoney.amount);
    expect(order.lineItems.nodes[0]).toMatchObject({ title: expect.any(String), quantity: expect.any(Number) });
  });

  it('reports requested and actual cost: objects 1, connections 2 + first × node', async () => {
    const res = await gql(shop, `{ customers(first: 10) { nodes { id defaultEmailAddress { emailAddress } } } }`);
    // 2 + 10 × (customer 1 + email 1) requested; every returned customer has an email.
    expect(res.body.extensions.cost).toMatchObject({ requestedQueryCost: 22, actualQueryCost: 22 });
    const few = await gql(
      shop,
      `{ customers(first: 100, query: "id:${CUSTOMER_ID_BASE + 5}") { edges { node { id } } } }`,
    );
    expect(few.body.extensions.cost).toMatchObject({ requestedQueryCost: 102, actualQueryCost: 3 });
    const nested = await gql(
      shop,
      `{ orders(first: 5) { nodes { id lineItems(first: 10) { nodes { id product { id } } } } } }`,
    );
    expect(nested.body.extensions.cost.requestedQueryCost).toBe(2 + 5 * (1 + 2 + 10 * 2));
  });

  it('refuses a query over 1,000 points, a page over 250 and a connection without first', async () => {
    const big = await gql(
      shop,
      `{ customers(first: 250) { nodes { id defaultAddress { id } defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } amountSpent { amount } } } }`,
    );
    expect(big.status).toBe(200);
    expect(big.body.errors[0].extensions).toMatchObject({
      code: 'MAX_COST_EXCEEDED',
      cost: 2 + 250 * 5,
      maxCost: 1000,
    });
    const page = await gql(shop, `{ customers(first: 251) { nodes { id } } }`);
    expect(page.body.errors[0].message).toMatch(/between 0 and 250/);
    const none = await gql(shop, `{ customers { nodes { id } } }`);
    expect(none.body.errors[0].message).toBe('you must provide one of first or last');
  });

  it("answers Shopify's error shapes: undefined fields, syntax, scopes, 400, 401, 402, 403, 423, 429", async () => {
    const field = await gql(shop, `{ customers(first: 1) { nodes { email } } }`);
    expect(field.body.errors[0]).toMatchObject({
      message: "Field 'email' doesn't exist on type 'Customer'",
      extensions: { code: 'undefinedField', typeName: 'Customer', fieldName: 'email' },
    });
    expect((await gql(shop, `{ customers(first: 1) {`)).body.errors[0].message).toMatch(/Syntax Error/);
    const denied = await gql(shop, `{ orders(first: 1) { nodes { id } } }`, {}, 'shpat_customers_only');
    expect(denied.body.errors[0]).toMatchObject({
      message: 'Access denied for orders field. Required access: `read_orders` access scope.',
      extensions: { code: 'ACCESS_DENIED' },
    });
    const missing = await call(shop.url, 'POST', API, { headers: { 'X-Shopify-Access-Token': TOKEN }, body: {} });
    expect([missing.status, missing.body]).toEqual([
      400,
      { errors: { query: 'Required parameter missing or invalid' } },
    ]);
    const unauthorised = await gql(shop, '{ shop { name } }', {}, 'nope');
    expect([unauthorised.status, unauthorised.body.errors]).toEqual([
      401,
      expect.stringMatching(/Invalid API key or access token/),
    ]);
    shop.state.shopStatus = 'frozen';
    expect((await gql(shop, '{ shop { name } }')).status).toBe(402);
    shop.state.shopStatus = 'fraudulent';
    expect((await gql(shop, '{ shop { name } }')).status).toBe(403);
    shop.state.shopStatus = 'locked';
    expect((await gql(shop, '{ shop { name } }')).status).toBe(423);
    shop.state.shopStatus = 'active';
    shop.state.tooManyRequests = 1;
    const flooded = await gql(shop, '{ shop { name } }');
    expect([flooded.status, flooded.headers.get('retry-after'), flooded.body]).toEqual([
      429,
      '1.0',
      { errors: 'Too Many Requests' },
    ]);
    expect((await gql(shop, '{ shop { name } }')).status).toBe(200);
  });

  it('falls forward from a version past its support window, and says which version served', async () => {
    const res = await call(shop.url, 'POST', '/admin/api/2024-07/graphql.json', {
      headers: { 'X-Shopify-Access-Token': TOKEN },
      body: { query: '{ shop { name } }' },
    });
    expect(res.headers.get('x-shopify-api-version')).toBe('2026-01');
  });

  it('runs a bulk query: JSONL with nested connection items as lines carrying __parentId', async () => {
    const query = `{ orders { edges { node { id name lineItems { edges { node { id title } } } } } } }`;
    const started = await bulk(shop, query, true);
    expect(started).toMatchObject({
      bulkOperation: { id: expect.stringMatching(/BulkOperation/), status: 'CREATED' },
      userErrors: [],
    });
    const op = await completed(shop, started.bulkOperation.id);
    expect(op).toMatchObject({ status: 'COMPLETED', rootObjectCount: String(shop.state.orders.count) });
    const download = await fetch(op.url);
    expect(download.headers.get('content-type')).toBe('application/jsonl');
    const lines = (await download.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(Number(op.objectCount));
    expect(lines[0]).toEqual({ id: `gid://shopify/Order/${ORDER_ID_BASE + 1}`, name: '#1001' });
    expect(lines[1]).toMatchObject({ id: expect.stringMatching(/LineItem/), __parentId: lines[0].id });
    // Grouped: each item follows its order before the next order.
    let parent = '';
    for (const line of lines) {
      if (line.__parentId) expect(line.__parentId).toBe(parent);
      else parent = line.id;
    }
    // Ungrouped: items only come after their parent, here after every order.
    const loose = await completed(shop, (await bulk(shop, query, false)).bulkOperation.id);
    const looseLines = (await (await fetch(loose.url)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(looseLines.slice(0, shop.state.orders.count).every((l) => !l.__parentId)).toBe(true);
    // The signed URL is the only key: a wrong signature is refused the way the storage bucket refuses it.
    const forged = await fetch(op.url.replace(/X-Goog-Signature=\w+/, 'X-Goog-Signature=0000'));
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('SignatureDoesNotMatch');
  });

  it('refuses bulk queries Shopify refuses, with userErrors', async () => {
    const messages = async (query: string) => (await bulk(shop, query)).userErrors.map((e: any) => e.message);
    expect(await messages('{ shop { name } }')).toEqual(['Bulk queries must contain at least 1 connection.']);
    expect(await messages('{ node(id: "gid://shopify/Order/1") { id } }')).toEqual([
      'Bulk queries cannot contain a top level `node` or `nodes` field.',
    ]);
    expect(await messages('{ orders { edges { node { name lineItems { edges { node { id } } } } } } }')).toEqual([
      expect.stringMatching(/must select the 'id' field/),
    ]);
    expect(await messages('{ customers { edges { node { email } } } }')).toEqual([
      "Invalid bulk query: Field 'email' doesn't exist on type 'Customer'",
    ]);
    const deep = `{ customers { edges { node { id orders { edges { node { id lineItems { edges { node { id } } } } } } } } } }`;
    expect(await messages(deep)).toEqual([
      'Bulk queries cannot contain connections with a nesting depth greater than 2.',
    ]);
  });

  it('fails a bulk operation whose token lacks a scope with ACCESS_DENIED', async () => {
    const res = await gql(
      shop,
      `mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id } } } }") { bulkOperation { id } userErrors { message } } }`,
      {},
      'shpat_customers_only',
    );
    const op = await completed(shop, res.body.data.bulkOperationRunQuery.bulkOperation.id);
    expect(op).toMatchObject({ status: 'FAILED', errorCode: 'ACCESS_DENIED', url: null });
  });

  it('injects every fault kind', async () => {
    const ask = () => gql(shop, CUSTOMERS_PAGE, { first: 10 });
    shop.faults.inject(
      { kind: '429' },
      { kind: '5xx', status: 500 },
      { kind: 'expired-token' },
      { kind: 'permission' },
    );
    const throttled = await ask();
    expect([throttled.status, throttled.body.errors[0].extensions.code]).toEqual([200, 'THROTTLED']);
    expect((await ask()).status).toBe(500);
    expect((await ask()).status).toBe(401);
    expect((await ask()).body.errors[0].extensions.code).toBe('ACCESS_DENIED');
    shop.faults.inject({ kind: 'truncated' });
    const truncated = await fetch(`${shop.url}${API}`, {
      method: 'POST',
      headers: { 'X-Shopify-Access-Token': TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ shop { name } }' }),
    });
    await expect(truncated.json()).rejects.toThrow(/JSON/);
    shop.faults.inject({ kind: 'malformed-record' });
    const page = await ask();
    const bad = page.body.data.customers.nodes.filter((c: any) => c.updatedAt === 'not-a-date');
    expect(bad).toHaveLength(1);
    expect(shop.faults.fired.at(-1)?.detail).toBe(bad[0].id);
  });
});

describe('Shopify emulator cost bucket', () => {
  it('takes the requested cost, gives back what went unused, and answers THROTTLED when short', async () => {
    const shop = await startShopify({
      tokens: [TOKEN],
      ...syntheticShopifyData(3),
      rateLimit: { maximumAvailable: 100, restoreRate: 0.001 },
    });
    try {
      const query = `{ customers(first: 40) { nodes { id } } }`; // requested 2 + 40 = 42, actual 2 + 3 = 5
      const first = await gql(shop, query);
      expect(first.body.extensions.cost).toEqual({
        requestedQueryCost: 42,
        actualQueryCost: 5,
        throttleStatus: { maximumAvailable: 100, currentlyAvailable: 95, restoreRate: 0.001 },
      });
      const big = `{ customers(first: 96) { nodes { id } } }`; // requested 98 > 95 available
      const throttled = await gql(shop, big);
      expect(throttled.status).toBe(200);
      expect(throttled.body).toMatchObject({
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
        extensions: {
          cost: { requestedQueryCost: 98, actualQueryCost: null, throttleStatus: { currentlyAvailable: 95 } },
        },
      });
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
