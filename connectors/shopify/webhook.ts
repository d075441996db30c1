import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ProfileRecord, WebhookDefinition, WebhookRequest } from '@plexus/sdk';
import type { ShopifyConfig } from './config.js';
import { mapCustomer, mapOrder } from './mapping.js';
import type { ShopifyCustomer, ShopifyOrder } from './shopify.types.js';

/** `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the app's secret; compared in constant time. */
export function verifyShopifySignature(request: WebhookRequest, secret: string): boolean {
  const given = request.headers['x-shopify-hmac-sha256'];
  if (!given) return false;
  const expected = createHmac('sha256', secret).update(request.rawBody).digest();
  const actual = Buffer.from(given, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** `X-Shopify-Webhook-Id`: the same on every retry of one delivery (Shopify's advice: deduplicate on it). */
export function shopifyDeliveryId(request: WebhookRequest): string | undefined {
  return request.headers['x-shopify-webhook-id'] || undefined;
}

/** Topics Plexus maps; Shopify sends the same JSON as the Admin REST resource, so the streams' mapping serves both. */
const TOPICS: Record<string, (body: unknown, sourceId: string) => ProfileRecord[]> = {
  'orders/create': (body, sourceId) => [mapOrder(body as ShopifyOrder, sourceId)],
  'orders/updated': (body, sourceId) => [mapOrder(body as ShopifyOrder, sourceId)],
  'orders/paid': (body, sourceId) => [mapOrder(body as ShopifyOrder, sourceId)],
  'customers/create': (body, sourceId) => [mapCustomer(body as ShopifyCustomer, sourceId)],
  'customers/update': (body, sourceId) => [mapCustomer(body as ShopifyCustomer, sourceId)],
};

/**
 * Real-time Shopify: point the store's webhooks (orders/create, customers/update, …) at
 * `POST /v1/webhooks/<sourceId>` and set `webhookSecret` to the app's client secret. Records carry the same
 * external ids and event ids as the scheduled streams, so a webhook and a later sync of the same order are one event.
 */
export const shopifyWebhook: WebhookDefinition<ShopifyConfig> = {
  verify(request, config) {
    return typeof config.webhookSecret === 'string' && verifyShopifySignature(request, config.webhookSecret);
  },
  toProfiles(request, _config, source) {
    const topic = request.headers['x-shopify-topic'];
    const map = topic && Object.hasOwn(TOPICS, topic) ? TOPICS[topic] : undefined;
    if (!map) return [];
    return map(JSON.parse(request.rawBody.toString('utf8')) as unknown, source.connectionId);
  },
  deliveryId: shopifyDeliveryId,
};
