import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ProfileRecord, WebhookDefinition, WebhookRequest } from '@plexus/sdk';
import type { ShopifyConfig } from './config.js';
import { mapCustomer, mapOrder } from './mapping.js';
import type { ShopifyCustomerNode, ShopifyOrderNode } from './shopify.types.js';

/** A customer as webhooks send it (the REST resource's JSON): the fields the connector reads. */
export interface ShopifyWebhookCustomer {
  id: number;
  email?: string | null;
  phone?: string | null;
  first_name?: string | null;
  last_name?: string | null;
  created_at?: string | null;
  updated_at: string;
  orders_count?: number | null;
  total_spent?: string | null;
  currency?: string | null;
  accepts_marketing?: boolean | null;
  email_marketing_consent?: { state?: string | null; consent_updated_at?: string | null } | null;
  default_address?: { country_code?: string | null } | null;
}

/** An order as webhooks send it. */
export interface ShopifyWebhookOrder {
  id: number;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  created_at: string;
  updated_at: string;
  cancelled_at?: string | null;
  financial_status?: string | null;
  currency?: string | null;
  total_price?: string | null;
  subtotal_price?: string | null;
  total_tax?: string | null;
  payment_gateway_names?: string[] | null;
  customer?: Pick<ShopifyWebhookCustomer, 'id' | 'email' | 'phone' | 'default_address'> | null;
  line_items?: Array<{
    id?: number;
    product_id?: number | null;
    variant_id?: number | null;
    title?: string | null;
    sku?: string | null;
    quantity?: number | null;
    price?: string | null;
  }> | null;
  refunds?: Array<{
    id: number;
    created_at?: string | null;
    transactions?: Array<{ amount?: string; kind?: string }>;
  }> | null;
}

const gidOf = (type: string, id: unknown): string => `gid://shopify/${type}/${String(id)}`;
const bag = (amount: string | null | undefined, currencyCode?: string | null) =>
  amount === undefined || amount === null ? null : { shopMoney: { amount, currencyCode: currencyCode ?? null } };

/**
 * A webhook customer in the GraphQL shape the streams read, so one mapping serves both. Payloads of old API
 * versions carry `accepts_marketing` instead of `email_marketing_consent`.
 */
export function customerNodeFromWebhook(c: ShopifyWebhookCustomer): ShopifyCustomerNode {
  const state =
    typeof c.email_marketing_consent?.state === 'string'
      ? c.email_marketing_consent.state.toUpperCase()
      : typeof c.accepts_marketing === 'boolean'
        ? c.accepts_marketing
          ? 'SUBSCRIBED'
          : 'NOT_SUBSCRIBED'
        : null;
  return {
    id: gidOf('Customer', c.id),
    firstName: c.first_name,
    lastName: c.last_name,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
    numberOfOrders: c.orders_count,
    amountSpent: c.total_spent === undefined ? null : { amount: c.total_spent, currencyCode: c.currency },
    defaultEmailAddress:
      c.email === undefined || c.email === null ? null : { emailAddress: c.email, marketingState: state },
    defaultPhoneNumber: c.phone === undefined || c.phone === null ? null : { phoneNumber: c.phone },
    defaultAddress: c.default_address ? { countryCodeV2: c.default_address.country_code } : null,
  };
}

/** A webhook order in the GraphQL shape: money as bags, ids as GIDs, refunds summed from their transactions. */
export function orderNodeFromWebhook(o: ShopifyWebhookOrder): ShopifyOrderNode {
  const refunds = (o.refunds ?? []).map((r) => ({
    id: gidOf('Refund', r.id),
    createdAt: r.created_at,
    totalRefundedSet: bag(
      (r.transactions ?? [])
        .filter((t) => t.kind === undefined || t.kind === 'refund')
        .reduce((sum, t) => sum + Number(t.amount ?? 0), 0)
        .toFixed(2),
      o.currency,
    ),
  }));
  const refunded = refunds.reduce((sum, r) => sum + Number(r.totalRefundedSet?.shopMoney.amount ?? 0), 0);
  const customer = o.customer;
  return {
    id: gidOf('Order', o.id),
    name: o.name,
    email: o.email,
    phone: o.phone,
    createdAt: o.created_at,
    updatedAt: o.updated_at,
    cancelledAt: o.cancelled_at,
    displayFinancialStatus: o.financial_status,
    currencyCode: o.currency,
    paymentGatewayNames: o.payment_gateway_names,
    totalPriceSet: bag(o.total_price, o.currency),
    subtotalPriceSet: bag(o.subtotal_price, o.currency),
    totalTaxSet: bag(o.total_tax, o.currency),
    totalRefundedSet: bag(refunded.toFixed(2), o.currency),
    customer: customer
      ? {
          id: gidOf('Customer', customer.id),
          defaultEmailAddress: customer.email ? { emailAddress: customer.email } : null,
          defaultPhoneNumber: customer.phone ? { phoneNumber: customer.phone } : null,
          defaultAddress: customer.default_address ? { countryCodeV2: customer.default_address.country_code } : null,
        }
      : null,
    refunds,
    lineItems: {
      nodes: (o.line_items ?? []).map((item) => ({
        id: gidOf('LineItem', item.id),
        title: item.title,
        sku: item.sku,
        quantity: item.quantity,
        product: item.product_id ? { id: gidOf('Product', item.product_id) } : null,
        variant: item.variant_id ? { id: gidOf('ProductVariant', item.variant_id) } : null,
        originalUnitPriceSet: bag(item.price, o.currency),
      })),
    },
  };
}

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

const order = (body: unknown, sourceId: string) => [
  mapOrder(orderNodeFromWebhook(body as ShopifyWebhookOrder), sourceId),
];
const customer = (body: unknown, sourceId: string) => [
  mapCustomer(customerNodeFromWebhook(body as ShopifyWebhookCustomer), sourceId),
];

/**
 * Topics Plexus maps. Webhooks carry the REST resource's JSON; it is put in the GraphQL shape first, so the
 * streams' mapping serves both and a webhook and a sync of the same order make one event.
 */
const TOPICS: Record<string, (body: unknown, sourceId: string) => ProfileRecord[]> = {
  'orders/create': order,
  'orders/updated': order,
  'orders/paid': order,
  'customers/create': customer,
  'customers/update': customer,
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
