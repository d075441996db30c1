import { defineSource, defineStream, type Identifier } from '@plexus/sdk';
import { apiPath, DEFAULT_REQUESTS_PER_SECOND, shopBaseUrl, ShopifyConfig } from './config.js';
import { readIncremental } from './incremental.js';
import { mapCustomer, mapOrder } from './mapping.js';
import { shopifyWebhook } from './webhook.js';
import type { ShopifyCheckpoint, ShopifyCustomer, ShopifyOrder } from './shopify.types.js';

export { ShopifyConfig } from './config.js';
export { shopifyWebhook, verifyShopifySignature } from './webhook.js';
export { callLimitDelayMs } from './incremental.js';
export { customerExternalId, emailConsent, mapCustomer, mapOrder } from './mapping.js';
export type { ShopifyCheckpoint, ShopifyCustomer, ShopifyOrder } from './shopify.types.js';

export const customers = defineStream<ShopifyConfig, ShopifyCustomer, ShopifyCheckpoint>({
  name: 'customers',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'updated_at',
  read: (ctx, checkpoint) => readIncremental<ShopifyCustomer>(ctx, 'customers', checkpoint),
  toProfile: (customer, ctx) => mapCustomer(customer, ctx.connectionId),
});

export const orders = defineStream<ShopifyConfig, ShopifyOrder, ShopifyCheckpoint>({
  name: 'orders',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'updated_at',
  // status=any: the default (open) would miss closed and cancelled orders.
  read: (ctx, checkpoint) => readIncremental<ShopifyOrder>(ctx, 'orders', checkpoint, { status: 'any' }),
  toProfile: (order, ctx) => mapOrder(order, ctx.connectionId),
});

export default defineSource<ShopifyConfig>({
  id: 'shopify',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Shopify',
  description:
    'Customers (identifiers, traits, email consent, order roll-ups) and orders (Order Completed events) from the Shopify Admin REST API',
  config: ShopifyConfig,
  secrets: ['accessToken', 'webhookSecret'],
  // baseUrl counts as an address by its @IsUrl(); shop names the store the token is sent to.
  addresses: ['shop'],
  webhook: shopifyWebhook,
  identifiers: ['email', 'phone', 'external_id'] satisfies Identifier['type'][],
  // The leaky bucket holds 20 s of leak (40 at 2/s, 400 at 20/s on Plus): the same budget as a sliding window.
  rateLimit: (config) => {
    const perSecond = (config as ShopifyConfig).requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND;
    return { requests: perSecond * 20, perMs: 20_000 };
  },
  http: {
    baseUrl: (config) => shopBaseUrl(config as ShopifyConfig),
    authHeaders: (config) => ({
      'X-Shopify-Access-Token': (config as ShopifyConfig).accessToken,
      Accept: 'application/json',
    }),
    // Every Admin REST answer is JSON: a success whose body does not parse was cut short on the way; ask again.
    classify: (status, body) => (status < 300 && typeof body === 'string' ? 'transient' : undefined),
  },
  async check(ctx) {
    // One call per scope: read_customers, then read_orders.
    await ctx.http.get(apiPath(ctx.config, 'customers'), { params: { limit: 1, fields: 'id' } });
    await ctx.http.get(apiPath(ctx.config, 'orders'), { params: { limit: 1, status: 'any', fields: 'id' } });
  },
  streams: [customers, orders],
});
