import { COUNTRY_NAMES, lazyRecords, noise, pick, syntheticPerson, type RecordSource } from '../common/table.js';

export interface ShopifyAddress {
  id: number;
  customer_id: number;
  first_name: string | null;
  last_name: string | null;
  address1: string | null;
  city: string | null;
  zip: string | null;
  phone: string | null;
  country: string | null;
  country_code: string | null;
  country_name: string | null;
  default: boolean;
}

export interface ShopifyMarketingConsent {
  state: 'subscribed' | 'not_subscribed' | 'unsubscribed' | 'pending';
  opt_in_level: 'single_opt_in' | 'confirmed_opt_in' | 'unknown' | null;
  consent_updated_at: string | null;
}

/** A customer as the Admin REST API returns it (the fields the connectors read, plus the usual extras). */
export interface ShopifyCustomer {
  id: number;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  created_at: string;
  updated_at: string;
  orders_count: number;
  total_spent: string;
  last_order_id: number | null;
  state: 'disabled' | 'invited' | 'enabled' | 'declined';
  verified_email: boolean;
  tags: string;
  currency: string;
  accepts_marketing: boolean;
  email_marketing_consent: ShopifyMarketingConsent | null;
  sms_marketing_consent: (ShopifyMarketingConsent & { consent_collected_from: string }) | null;
  default_address: ShopifyAddress | null;
  addresses: ShopifyAddress[];
  admin_graphql_api_id: string;
}

export interface ShopifyLineItem {
  id: number;
  product_id: number | null;
  variant_id: number | null;
  title: string;
  sku: string | null;
  quantity: number;
  price: string;
}

/** A refund of an order, with the transactions that paid the money back. */
export interface ShopifyRefund {
  id: number;
  created_at: string;
  note: string | null;
  transactions: Array<{ id: number; amount: string; kind: 'refund'; gateway: string; status: 'success' }>;
}

/** A customer summary embedded in an order. */
export type ShopifyOrderCustomer = Pick<
  ShopifyCustomer,
  'id' | 'email' | 'phone' | 'first_name' | 'last_name' | 'created_at' | 'updated_at' | 'default_address'
>;

export interface ShopifyOrder {
  id: number;
  name: string;
  order_number: number;
  email: string | null;
  phone: string | null;
  created_at: string;
  updated_at: string;
  processed_at: string;
  closed_at: string | null;
  cancelled_at: string | null;
  financial_status: string;
  fulfillment_status: string | null;
  currency: string;
  total_price: string;
  subtotal_price: string;
  total_tax: string;
  customer: ShopifyOrderCustomer | null;
  line_items: ShopifyLineItem[];
  /** The gateways that took payment (`shopify_payments`, `paypal`, `manual`, `gift_card`…). */
  payment_gateway_names?: string[];
  refunds?: ShopifyRefund[];
  admin_graphql_api_id: string;
}

/** Shopify's timestamps carry the shop's UTC offset: `2024-01-01T07:00:00-05:00`. */
export function shopifyTime(ms: number, offsetMinutes = -300): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const GATEWAYS = ['shopify_payments', 'shopify_payments', 'paypal', 'manual', 'gift_card'] as const;

const PRODUCTS = [
  { id: 632910392, title: 'Linen shirt', price: 49.0 },
  { id: 632910393, title: 'Canvas tote', price: 19.5 },
  { id: 632910394, title: 'Wool scarf', price: 35.0 },
  { id: 632910395, title: 'Leather belt', price: 59.9 },
  { id: 632910396, title: 'Cotton socks', price: 9.95 },
] as const;

export const CUSTOMER_ID_BASE = 7_000_000_000;
export const ORDER_ID_BASE = 5_000_000_000;

export interface SyntheticShopifyOptions {
  /** Person index of the first customer (default 0, so customer i is `syntheticPerson(i)`). */
  personOffset?: number;
  /** Orders placed by guests (no customer, only an email), appended after the customers' orders. Default 0. */
  guestOrders?: number;
  /** Creation time of the first record (default 2024-01-01T00:00:00Z) and spacing (default 1 s). */
  startMs?: number;
  stepMs?: number;
}

/**
 * Synthetic customers and their orders, generated on demand and consistent with each other: customer `c` has
 * `c % 3` orders, so `orders_count`, `total_spent` and `last_order_id` match the orders served.
 */
export function syntheticShopifyData(
  customerCount: number,
  options: SyntheticShopifyOptions = {},
): { customers: RecordSource<ShopifyCustomer>; orders: RecordSource<ShopifyOrder> } {
  const start = options.startMs ?? Date.UTC(2024, 0, 1);
  const step = options.stepMs ?? 1_000;
  const offset = options.personOffset ?? 0;
  const blocks = Math.floor(customerCount / 3);
  const customerOrders = blocks * 3;
  const guestOrders = options.guestOrders ?? 0;

  const lineItems = (j: number): ShopifyLineItem[] => {
    const n = 1 + Math.floor(noise(j, 51) * 2);
    return Array.from({ length: n }, (_, k) => {
      const product = pick(PRODUCTS, j * 3 + k, 52);
      return {
        id: 466157049 + j * 3 + k,
        product_id: product.id,
        variant_id: product.id * 10 + 1,
        title: product.title,
        sku: `SKU-${product.id}`,
        quantity: 1 + Math.floor(noise(j * 3 + k, 53) * 3),
        price: product.price.toFixed(2),
      };
    });
  };
  const orderTotal = (j: number) => lineItems(j).reduce((sum, item) => sum + Number(item.price) * item.quantity, 0);
  const isCancelled = (j: number) => j % 25 === 24;
  /** Every 10th order (not cancelled) had its first item refunded once, a day after it was placed. */
  const refundedAmount = (j: number) => (j % 10 === 7 && !isCancelled(j) ? Number(lineItems(j)[0].price) : 0);
  /** The orders of customer c, as order indexes. */
  const ordersOf = (c: number): number[] => {
    const b = Math.floor(c / 3);
    if (b >= blocks) return [];
    return c % 3 === 1 ? [3 * b] : c % 3 === 2 ? [3 * b + 1, 3 * b + 2] : [];
  };

  const address = (c: number): ShopifyAddress => {
    const p = syntheticPerson(c + offset);
    return {
      id: 207119551 + c,
      customer_id: CUSTOMER_ID_BASE + c + 1,
      first_name: p.firstName,
      last_name: p.lastName,
      address1: `${1 + (c % 200)} Market Street`,
      city: 'Springfield',
      zip: String(10_000 + (c % 89_999)),
      phone: p.phone,
      country: COUNTRY_NAMES[p.country],
      country_code: p.country,
      country_name: COUNTRY_NAMES[p.country],
      default: true,
    };
  };

  const customer = (c: number): ShopifyCustomer => {
    const p = syntheticPerson(c + offset);
    const id = CUSTOMER_ID_BASE + c + 1;
    const orders = ordersOf(c);
    const created = shopifyTime(start + c * step);
    const subscribed = noise(c, 54) < 0.6;
    const addr = address(c);
    return {
      id,
      email: p.email,
      phone: c % 4 === 0 ? p.phone : null,
      first_name: p.firstName,
      last_name: p.lastName,
      created_at: created,
      updated_at: created,
      orders_count: orders.length,
      // Cancelled (voided) orders count as orders but not as money spent.
      total_spent: orders
        .reduce((sum, j) => sum + (isCancelled(j) ? 0 : orderTotal(j) - refundedAmount(j)), 0)
        .toFixed(2),
      last_order_id: orders.length ? ORDER_ID_BASE + orders[orders.length - 1] + 1 : null,
      state: 'enabled',
      verified_email: true,
      tags: '',
      currency: 'USD',
      accepts_marketing: subscribed,
      email_marketing_consent: {
        state: subscribed ? 'subscribed' : 'not_subscribed',
        opt_in_level: 'single_opt_in',
        consent_updated_at: subscribed ? created : null,
      },
      sms_marketing_consent: null,
      default_address: addr,
      addresses: [addr],
      admin_graphql_api_id: `gid://shopify/Customer/${id}`,
    };
  };

  const order = (j: number): ShopifyOrder => {
    const guest = j >= customerOrders;
    const items = lineItems(j);
    const subtotal = items.reduce((sum, item) => sum + Number(item.price) * item.quantity, 0);
    const id = ORDER_ID_BASE + j + 1;
    const createdMs = start + (customerCount + j) * step;
    let buyer: ShopifyOrderCustomer | null = null;
    let email: string;
    if (guest) {
      email = syntheticPerson(offset + 1_000_000 + j).email;
    } else {
      const b = Math.floor(j / 3);
      const c = j % 3 === 0 ? 3 * b + 1 : 3 * b + 2;
      const full = customer(c);
      buyer = {
        id: full.id,
        email: full.email,
        phone: full.phone,
        first_name: full.first_name,
        last_name: full.last_name,
        created_at: full.created_at,
        updated_at: full.updated_at,
        default_address: full.default_address,
      };
      email = full.email!;
    }
    const cancelled = isCancelled(j);
    const closed = !cancelled && j % 4 !== 0;
    const refunded = refundedAmount(j);
    const gateway = pick(GATEWAYS, j, 55);
    const refunds: ShopifyRefund[] = refunded
      ? [
          {
            id: 909_000_000 + j,
            created_at: shopifyTime(createdMs + 86_400_000),
            note: 'Item returned',
            transactions: [
              { id: 389_000_000 + j, amount: refunded.toFixed(2), kind: 'refund', gateway, status: 'success' },
            ],
          },
        ]
      : [];
    return {
      id,
      name: `#${1001 + j}`,
      order_number: 1001 + j,
      email,
      phone: null,
      created_at: shopifyTime(createdMs),
      updated_at: shopifyTime(refunded ? createdMs + 86_400_000 : createdMs),
      processed_at: shopifyTime(createdMs),
      closed_at: closed ? shopifyTime(createdMs) : null,
      cancelled_at: cancelled ? shopifyTime(createdMs) : null,
      financial_status: cancelled ? 'voided' : refunded ? 'partially_refunded' : 'paid',
      fulfillment_status: closed ? 'fulfilled' : null,
      currency: 'USD',
      total_price: subtotal.toFixed(2),
      subtotal_price: subtotal.toFixed(2),
      total_tax: '0.00',
      customer: buyer,
      line_items: items,
      payment_gateway_names: [gateway],
      refunds,
      admin_graphql_api_id: `gid://shopify/Order/${id}`,
    };
  };

  return {
    customers: lazyRecords(customerCount, customer),
    orders: lazyRecords(customerOrders + guestOrders, order),
  };
}
