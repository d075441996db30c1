import type { Consent, Identifier, ProfileEvent, ProfileRecord, TraitValue } from '@plexus/sdk';
import type { ShopifyCustomer, ShopifyLineItem, ShopifyOrder } from './shopify.types.js';

/** `<source id>:customer:<id>`: the customer's key in this shop, shared by the customers and orders streams. */
export function customerExternalId(sourceId: string, customerId: number | string): string {
  return `${sourceId}:customer:${customerId}`;
}

function isoTime(value: unknown, what: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new Error(`${what} is not a date: ${JSON.stringify(value)}`);
  }
  return new Date(value).toISOString();
}

function optionalText(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Error(`${what} is not a string: ${JSON.stringify(value)}`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function money(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${what} is not an amount: ${JSON.stringify(value)}`);
  return n;
}

function requireId(record: { id?: unknown }, kind: string): number {
  if (typeof record?.id !== 'number' || !Number.isSafeInteger(record.id)) {
    throw new Error(`${kind} without a numeric id: ${JSON.stringify(record?.id)}`);
  }
  return record.id;
}

/**
 * Email marketing consent: `subscribed` grants `email`; `not_subscribed` and `unsubscribed` deny it; `pending`
 * (double opt-in not confirmed) and unknown states say nothing. Old API versions only have `accepts_marketing`.
 */
export function emailConsent(customer: ShopifyCustomer): boolean | undefined {
  const state = customer.email_marketing_consent?.state;
  if (typeof state === 'string') {
    if (state === 'subscribed') return true;
    if (state === 'not_subscribed' || state === 'unsubscribed') return false;
    return undefined;
  }
  return typeof customer.accepts_marketing === 'boolean' ? customer.accepts_marketing : undefined;
}

/**
 * A customer: identifiers (email, phone, `external_id`), name, country, Shopify's own roll-ups (`orders_count`,
 * `total_spent`: refunds and cancellations already accounted for) and email marketing consent, observed at
 * `updated_at`. Throws (→ quarantine) when the record is malformed.
 */
export function mapCustomer(customer: ShopifyCustomer, sourceId: string): ProfileRecord {
  const id = requireId(customer, 'customer');
  const what = `customer ${id}`;
  const observedAt = isoTime(customer.updated_at, `${what}: updated_at`);
  const email = optionalText(customer.email, `${what}: email`);
  const phone = optionalText(customer.phone, `${what}: phone`);
  const identifiers: Identifier[] = [];
  if (email) identifiers.push({ type: 'email', value: email });
  if (phone) identifiers.push({ type: 'phone', value: phone });
  identifiers.push({ type: 'external_id', value: customerExternalId(sourceId, id) });

  const country = optionalText(customer.default_address?.country_code, `${what}: default_address.country_code`);
  const traits: Record<string, TraitValue> = {};
  const firstName = optionalText(customer.first_name, `${what}: first_name`);
  const lastName = optionalText(customer.last_name, `${what}: last_name`);
  if (firstName) traits.firstName = firstName;
  if (lastName) traits.lastName = lastName;
  if (country) traits.country = country.toUpperCase();
  if (typeof customer.orders_count === 'number') traits.ordersCount = customer.orders_count;
  const spent = money(customer.total_spent, `${what}: total_spent`);
  if (spent !== undefined) traits.totalSpent = spent;

  const record: ProfileRecord = { identifiers, traits, observedAt };
  const consent: Consent = {};
  const granted = emailConsent(customer);
  if (granted !== undefined) consent.email = granted;
  if (Object.keys(consent).length > 0) record.consent = consent;
  if (country && /^[A-Za-z]{2}$/.test(country)) record.country = country.toUpperCase();
  return record;
}

function mapItem(item: ShopifyLineItem, what: string): Record<string, TraitValue> {
  const out: Record<string, TraitValue> = {};
  if (typeof item.product_id === 'number') out.productId = String(item.product_id);
  if (typeof item.variant_id === 'number') out.variantId = String(item.variant_id);
  if (typeof item.sku === 'string' && item.sku !== '') out.sku = item.sku;
  if (typeof item.title === 'string') out.name = item.title;
  out.quantity = typeof item.quantity === 'number' ? item.quantity : 1;
  const price = money(item.price, `${what}: line item price`);
  if (price !== undefined) out.price = price;
  return out;
}

/**
 * An order: an `Order Completed` event (or `Order Cancelled` for a cancelled one) with total, currency and
 * items on the buyer's profile, and the `lastOrderAt` trait. The buyer is found by the customer's
 * `external_id` and the order's email (a guest checkout has only the email) or phone. The record is observed
 * at the order's creation, so the latest order sets `lastOrderAt` whatever order the orders are read in.
 */
export function mapOrder(order: ShopifyOrder, sourceId: string): ProfileRecord {
  const id = requireId(order, 'order');
  const what = `order ${id}`;
  const createdAt = isoTime(order.created_at, `${what}: created_at`);
  isoTime(order.updated_at, `${what}: updated_at`);
  const customer = order.customer ?? undefined;
  const email = optionalText(order.email, `${what}: email`) ?? optionalText(customer?.email, `${what}: customer.email`);
  const phone = optionalText(order.phone, `${what}: phone`) ?? optionalText(customer?.phone, `${what}: customer.phone`);
  const identifiers: Identifier[] = [];
  if (email) identifiers.push({ type: 'email', value: email });
  if (phone) identifiers.push({ type: 'phone', value: phone });
  if (customer && customer.id !== undefined && customer.id !== null) {
    identifiers.push({
      type: 'external_id',
      value: customerExternalId(sourceId, requireId(customer, `${what}: customer`)),
    });
  }
  if (identifiers.length === 0) throw new Error(`${what} has no customer, email or phone to attach it to`);

  const total = money(order.total_price, `${what}: total_price`);
  const properties: Record<string, TraitValue> = {
    orderId: String(id),
    items: (Array.isArray(order.line_items) ? order.line_items : []).map((item) => mapItem(item, what)),
  };
  if (typeof order.name === 'string') properties.orderNumber = order.name;
  if (total !== undefined) properties.total = total;
  const subtotal = money(order.subtotal_price, `${what}: subtotal_price`);
  if (subtotal !== undefined) properties.subtotal = subtotal;
  const tax = money(order.total_tax, `${what}: total_tax`);
  if (tax !== undefined) properties.tax = tax;
  if (typeof order.currency === 'string') properties.currency = order.currency;
  if (typeof order.financial_status === 'string') properties.financialStatus = order.financial_status;

  const events: ProfileEvent[] = [];
  if (order.cancelled_at) {
    events.push({
      name: 'Order Cancelled',
      occurredAt: isoTime(order.cancelled_at, `${what}: cancelled_at`),
      id: `${id}:cancelled`,
      properties,
    });
  } else {
    events.push({ name: 'Order Completed', occurredAt: createdAt, id: String(id), properties });
  }
  const record: ProfileRecord = { identifiers, traits: { lastOrderAt: createdAt }, events, observedAt: createdAt };
  const country = customer?.default_address?.country_code;
  if (typeof country === 'string' && /^[A-Za-z]{2}$/.test(country)) record.country = country.toUpperCase();
  return record;
}
