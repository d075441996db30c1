import {
  defineSource,
  IsOptional,
  IsString,
  Length,
  type Identifier,
  type ProfileRecord,
  type WebhookRequest,
} from '@plexus/sdk';
import { shopifyDeliveryId, verifyShopifySignature } from '../../../../connectors/shopify/webhook.js';

/**
 * A webhook-only Shopify source, written as the real connector's `webhook.ts` would be: it proves the hub's
 * webhook route end to end (raw body, signature, mapping, storage) independently of the Shopify connector.
 */
export class ShopifyWebhookConfig {
  @IsString()
  @Length(8, 200)
  webhookSecret!: string;

  @IsOptional()
  @IsString()
  shop?: string;
}

/** The real connector's check: base64 HMAC-SHA256 of the raw body, compared in constant time. */
export const verifyShopifyWebhook = verifyShopifySignature;

interface ShopifyCustomer {
  id: number;
  email?: string | null;
  phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  email_marketing_consent?: { state?: string } | null;
  updated_at?: string;
}

function customerIdentifiers(customer: ShopifyCustomer | undefined, email?: string | null): Identifier[] {
  const out: Identifier[] = [];
  if (customer?.id !== undefined) out.push({ type: 'external_id', value: `shopify:customer:${customer.id}` });
  const address = email ?? customer?.email;
  if (address) out.push({ type: 'email', value: address });
  if (customer?.phone) out.push({ type: 'phone', value: customer.phone });
  return out;
}

/** `orders/create` → an `Order Completed` event (id = the order id: redeliveries are one event); `customers/update` → traits and consent. */
export function shopifyWebhookRecords(request: WebhookRequest): ProfileRecord[] {
  const topic = request.headers['x-shopify-topic'];
  const body = JSON.parse(request.rawBody.toString('utf8')) as Record<string, unknown>;
  if (topic === 'orders/create') {
    const order = body as {
      id: number;
      email?: string;
      created_at: string;
      total_price: string;
      currency: string;
      customer?: ShopifyCustomer;
    };
    return [
      {
        identifiers: customerIdentifiers(order.customer, order.email),
        events: [
          {
            name: 'Order Completed',
            id: `shopify:order:${order.id}`,
            occurredAt: order.created_at,
            properties: { orderId: String(order.id), total: Number(order.total_price), currency: order.currency },
          },
        ],
        observedAt: order.created_at,
      },
    ];
  }
  if (topic === 'customers/update') {
    const customer = body as unknown as ShopifyCustomer;
    const record: ProfileRecord = {
      identifiers: customerIdentifiers(customer),
      traits: { firstName: customer.first_name ?? null, lastName: customer.last_name ?? null },
      ...(customer.updated_at ? { observedAt: customer.updated_at } : {}),
    };
    const state = customer.email_marketing_consent?.state;
    if (state) record.consent = { email: state === 'subscribed' };
    return [record];
  }
  return [];
}

export default defineSource<ShopifyWebhookConfig>({
  id: 'shopify-webhooks',
  version: '0.1.0',
  sdk: '^0.1.0',
  kind: 'source',
  displayName: 'Shopify webhooks (test)',
  config: ShopifyWebhookConfig,
  secrets: ['webhookSecret'],
  async check() {},
  streams: [],
  webhook: {
    verify: (request, config) => verifyShopifyWebhook(request, config.webhookSecret),
    toProfiles: (request) => shopifyWebhookRecords(request),
    deliveryId: shopifyDeliveryId,
  },
});
