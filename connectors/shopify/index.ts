import { defineSource, defineStream, type Batch, type ConnectorContext, type Identifier } from '@plexus/sdk';
import { DEFAULT_BULK_ABOVE, shopBaseUrl, ShopifyConfig } from './config.js';
import { readBulk } from './bulk.js';
import { ShopifyGraphql, throttleDelayMs } from './graphql.js';
import { changedSince, readIncremental, upgradeCheckpoint, type PagedQuery } from './incremental.js';
import { mapCustomer, mapOrder } from './mapping.js';
import { completeLineItems } from './line-items.js';
import {
  ACCESS_SCOPES,
  CHECK_ACCESS,
  compact,
  countQuery,
  CUSTOMER_NODE_COST,
  CUSTOMERS_PAGE,
  ORDER_NODE_COST,
  ORDERS_PAGE,
} from './queries.js';
import { shopifyWebhook } from './webhook.js';
import type { ShopifyCheckpoint, ShopifyCustomerNode, ShopifyOrderNode } from './shopify.types.js';

export { ShopifyConfig } from './config.js';
export { shopifyWebhook, verifyShopifySignature } from './webhook.js';
export { ShopifyGraphql, throttleDelayMs } from './graphql.js';
export { CUSTOMER_NODE_COST, ORDER_NODE_COST, CUSTOMERS_PAGE, ORDERS_PAGE } from './queries.js';
export { customerExternalId, emailConsent, mapCustomer, mapOrder } from './mapping.js';
export type { ShopifyCheckpoint, ShopifyCustomerNode, ShopifyOrderNode } from './shopify.types.js';

/**
 * One stream's read: a full sync (no checkpoint, or one mid-way through a bulk operation) through a bulk
 * operation, an incremental one through cursor-paged queries from the checkpoint's `since`.
 */
async function* readStream<T extends { id: string; updatedAt: string }>(
  ctx: ConnectorContext<ShopifyConfig>,
  saved: ShopifyCheckpoint | undefined,
  paged: PagedQuery<T>,
  nested: Record<string, string> = {},
  client = new ShopifyGraphql(ctx),
): AsyncGenerator<Batch<T, ShopifyCheckpoint>> {
  const checkpoint = upgradeCheckpoint(saved, paged.stream === 'customers' ? 'Customer' : 'Order');
  if (checkpoint?.bulk) {
    yield* readBulk<T>(ctx, client, paged.stream, checkpoint.bulk, nested);
  } else if (checkpoint?.since === undefined) {
    const startDate = ctx.config.startDate;
    yield* readBulk<T>(ctx, client, paged.stream, undefined, nested, startDate ? changedSince(startDate) : undefined);
  } else {
    // A backlog (a first incremental run after a long pause, a mass update) costs little as a bulk operation,
    // and a lot of points and time as pages.
    const search = changedSince(checkpoint.since);
    const threshold = ctx.config.bulkAbove ?? DEFAULT_BULK_ABOVE;
    const { count } = await client.request<{ count: { count: number } }>(
      countQuery(paged.stream),
      { query: search, limit: threshold + 1 },
      1,
    );
    if (count.count > threshold) {
      ctx.log.info(`${paged.stream}: more than ${threshold} changes since ${checkpoint.since}: reading them in bulk`);
      yield* readBulk<T>(ctx, client, paged.stream, undefined, nested, search);
    } else {
      yield* readIncremental(ctx, client, paged, { ...checkpoint, since: checkpoint.since });
    }
  }
  const { requested, actual, queries, waitedMs } = client.spent;
  ctx.log.info(
    `${paged.stream}: ${queries} queries, ${actual} points spent of ${requested} requested, ${waitedMs} ms waiting for the bucket`,
  );
}

export const customers = defineStream<ShopifyConfig, ShopifyCustomerNode, ShopifyCheckpoint>({
  name: 'customers',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'updatedAt',
  read: (ctx, checkpoint) =>
    readStream<ShopifyCustomerNode>(ctx, checkpoint, {
      stream: 'customers',
      query: compact(CUSTOMERS_PAGE),
      nodeCost: CUSTOMER_NODE_COST,
    }),
  toProfile: (customer, ctx) => mapCustomer(customer, ctx.connectionId),
});

/** Without `read_all_orders` Shopify shows an app the last 60 days of orders only: a silent gap, so say it. */
async function warnIfRecentOrdersOnly(ctx: ConnectorContext<ShopifyConfig>, client: ShopifyGraphql): Promise<void> {
  const data = await client.request<{ currentAppInstallation: { accessScopes: Array<{ handle: string }> } }>(
    compact(ACCESS_SCOPES),
    {},
    2,
  );
  if (!data.currentAppInstallation.accessScopes.some((scope) => scope.handle === 'read_all_orders')) {
    ctx.log.warn(
      'orders: the token lacks the read_all_orders scope, so Shopify shows only the last 60 days of orders: grant it to read older ones',
    );
  }
}

export const orders = defineStream<ShopifyConfig, ShopifyOrderNode, ShopifyCheckpoint>({
  name: 'orders',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'updatedAt',
  async *read(ctx, checkpoint) {
    const client = new ShopifyGraphql(ctx);
    await warnIfRecentOrdersOnly(ctx, client);
    yield* readStream<ShopifyOrderNode>(
      ctx,
      checkpoint,
      {
        stream: 'orders',
        query: compact(ORDERS_PAGE),
        nodeCost: ORDER_NODE_COST,
        complete: (page) => completeLineItems(client, page),
      },
      { LineItem: 'lineItems' },
      client,
    );
  },
  toProfile: (order, ctx) => mapOrder(order, ctx.connectionId),
});

export default defineSource<ShopifyConfig>({
  id: 'shopify',
  version: '0.2.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Shopify',
  description:
    'Customers (identifiers, traits, email consent, order roll-ups) and orders (Order Completed/Cancelled/Refunded events with items, payment gateways and refunds) from the Shopify GraphQL Admin API: bulk operations for full syncs, cost-paced queries for incremental ones',
  config: ShopifyConfig,
  secrets: ['accessToken', 'webhookSecret'],
  // baseUrl counts as an address by its @IsUrl(); shop names the store the token is sent to.
  addresses: ['shop'],
  webhook: shopifyWebhook,
  identifiers: ['email', 'phone', 'external_id'] satisfies Identifier['type'][],
  // No request budget: the GraphQL Admin API limits by query cost, and every answer says what the app's bucket
  // on the shop holds; the client paces on that (shared by every worker, since Shopify keeps the bucket).
  http: {
    baseUrl: (config) => shopBaseUrl(config as ShopifyConfig),
    authHeaders: (config) => ({
      'X-Shopify-Access-Token': (config as ShopifyConfig).accessToken,
      'Content-Type': 'application/json',
      Accept: 'application/json',
    }),
    // THROTTLED comes in a 200: wait until the bucket has restored the points the query asked for.
    throttle: (status, body) => (status === 200 ? throttleDelayMs(body) : undefined),
    classify: (status, body) => {
      // Every GraphQL answer is JSON: a success whose body does not parse was cut short on the way; ask again.
      if (status < 300 && typeof body === 'string') return 'transient';
      if (status === 402) return 'config';
      if (status === 423) return 'transient';
      return undefined;
    },
    explain: (status) =>
      status === 402
        ? 'Shopify answered 402 Payment Required: the shop is frozen until its owner settles the bill'
        : status === 423
          ? 'Shopify answered 423 Locked: the shop is unavailable for now'
          : status === 403
            ? 'Shopify answered 403 Forbidden: the shop refuses this app (marked as fraudulent, or the app was uninstalled): check the shop and accessToken'
            : undefined,
  },
  async check(ctx) {
    // One query proves the token (401), the shop (402/403/423) and both read scopes (ACCESS_DENIED).
    await new ShopifyGraphql(ctx).request(compact(CHECK_ACCESS), {}, 10);
  },
  streams: [customers, orders],
});
