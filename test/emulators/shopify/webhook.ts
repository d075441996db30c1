import { createHmac } from 'node:crypto';

/**
 * Signs a webhook the way Shopify does: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw
 * body, keyed with the app's client secret. Receivers must verify it against the raw bytes, before parsing.
 *
 * @example
 * const body = JSON.stringify(order);
 * const headers = signShopifyWebhook({ secret, topic: 'orders/create', shop: 'demo.myshopify.com', body });
 * await fetch(`${hub}/webhooks/shopify`, { method: 'POST', headers, body });
 */
export function signShopifyWebhook(input: {
  secret: string;
  body: string | Buffer;
  topic: string;
  shop?: string;
  apiVersion?: string;
  webhookId?: string;
}): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Shopify-Hmac-Sha256': createHmac('sha256', input.secret).update(input.body).digest('base64'),
    'X-Shopify-Topic': input.topic,
    'X-Shopify-Shop-Domain': input.shop ?? 'plexus-demo.myshopify.com',
    'X-Shopify-API-Version': input.apiVersion ?? '2024-07',
    'X-Shopify-Webhook-Id': input.webhookId ?? crypto.randomUUID(),
    'X-Shopify-Triggered-At': new Date().toISOString(),
  };
}
