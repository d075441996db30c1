import type { Consent, Identifier, ProfileEvent, ProfileRecord, TraitValue } from '@plexus/sdk';
import type {
  ShopifyCustomerNode,
  ShopifyLineItemNode,
  ShopifyMoneyBag,
  ShopifyOrderNode,
  ShopifyRefundNode,
} from './shopify.types.js';

/** `<source id>:customer:<id>`: the customer's key in this shop, shared by the customers and orders streams. */
export function customerExternalId(sourceId: string, customerId: number | string): string {
  return `${sourceId}:customer:${customerId}`;
}

/** The numeric id of a GID (`gid://shopify/Order/450789469` → `450789469`); throws when it is not one of `type`. */
export function legacyId(gid: unknown, type: string, what: string): string {
  const match = typeof gid === 'string' ? /^gid:\/\/shopify\/(\w+)\/(\d+)$/.exec(gid) : null;
  if (!match || match[1] !== type) throw new Error(`${what} without a ${type} id: ${JSON.stringify(gid)}`);
  return match[2];
}

/** The numeric id of a GID, or undefined (line items' product and variant). */
function optionalLegacyId(gid: unknown): string | undefined {
  return typeof gid === 'string' ? /^gid:\/\/shopify\/\w+\/(\d+)$/.exec(gid)?.[1] : undefined;
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

function amount(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${what} is not an amount: ${JSON.stringify(value)}`);
  return n;
}

const shopMoney = (bag: ShopifyMoneyBag | null | undefined, what: string) => amount(bag?.shopMoney?.amount, what);

/**
 * Email marketing consent from `defaultEmailAddress.marketingState`: `SUBSCRIBED` grants `email`;
 * `NOT_SUBSCRIBED` and `UNSUBSCRIBED` deny it; `PENDING` (double opt-in not confirmed), `INVALID` and unknown
 * states say nothing.
 */
export function emailConsent(customer: ShopifyCustomerNode): boolean | undefined {
  const state = customer.defaultEmailAddress?.marketingState;
  if (state === 'SUBSCRIBED') return true;
  if (state === 'NOT_SUBSCRIBED' || state === 'UNSUBSCRIBED') return false;
  return undefined;
}

/**
 * A customer: identifiers (email, phone, `external_id`), name, country, Shopify's own roll-ups (`numberOfOrders`,
 * `amountSpent`: refunds and cancellations already accounted for) and email marketing consent, observed at
 * `updatedAt`. Throws (→ quarantine) when the record is malformed.
 */
export function mapCustomer(customer: ShopifyCustomerNode, sourceId: string): ProfileRecord {
  const id = legacyId(customer?.id, 'Customer', 'customer');
  const what = `customer ${id}`;
  const observedAt = isoTime(customer.updatedAt, `${what}: updatedAt`);
  const email = optionalText(customer.defaultEmailAddress?.emailAddress, `${what}: defaultEmailAddress.emailAddress`);
  const phone = optionalText(customer.defaultPhoneNumber?.phoneNumber, `${what}: defaultPhoneNumber.phoneNumber`);
  const identifiers: Identifier[] = [];
  if (email) identifiers.push({ type: 'email', value: email });
  if (phone) identifiers.push({ type: 'phone', value: phone });
  identifiers.push({ type: 'external_id', value: customerExternalId(sourceId, id) });

  const country = optionalText(customer.defaultAddress?.countryCodeV2, `${what}: defaultAddress.countryCodeV2`);
  const traits: Record<string, TraitValue> = {};
  const firstName = optionalText(customer.firstName, `${what}: firstName`);
  const lastName = optionalText(customer.lastName, `${what}: lastName`);
  if (firstName) traits.firstName = firstName;
  if (lastName) traits.lastName = lastName;
  if (country) traits.country = country.toUpperCase();
  const orders = amount(customer.numberOfOrders, `${what}: numberOfOrders`);
  if (orders !== undefined) traits.ordersCount = orders;
  const spent = amount(customer.amountSpent?.amount, `${what}: amountSpent.amount`);
  if (spent !== undefined) traits.totalSpent = spent;

  const record: ProfileRecord = { identifiers, traits, observedAt };
  const consent: Consent = {};
  const granted = emailConsent(customer);
  if (granted !== undefined) consent.email = granted;
  if (Object.keys(consent).length > 0) record.consent = consent;
  if (country && /^[A-Za-z]{2}$/.test(country)) record.country = country.toUpperCase();
  return record;
}

function mapItem(item: ShopifyLineItemNode, what: string): Record<string, TraitValue> {
  const out: Record<string, TraitValue> = {};
  const productId = optionalLegacyId(item.product?.id);
  const variantId = optionalLegacyId(item.variant?.id);
  if (productId) out.productId = productId;
  if (variantId) out.variantId = variantId;
  if (typeof item.sku === 'string' && item.sku !== '') out.sku = item.sku;
  if (typeof item.title === 'string') out.name = item.title;
  out.quantity = typeof item.quantity === 'number' ? item.quantity : 1;
  const price = shopMoney(item.originalUnitPriceSet, `${what}: line item price`);
  if (price !== undefined) out.price = price;
  return out;
}

function refundEvent(
  refund: ShopifyRefundNode,
  orderId: string,
  fallbackAt: string,
  currency: string | undefined,
  what: string,
): ProfileEvent {
  const refundId = legacyId(refund?.id, 'Refund', `${what}: refund`);
  const properties: Record<string, TraitValue> = { orderId, refundId };
  const total = shopMoney(refund.totalRefundedSet, `${what}: refund ${refundId} totalRefundedSet`);
  if (total !== undefined) properties.total = total;
  const refundCurrency = refund.totalRefundedSet?.shopMoney?.currencyCode ?? currency;
  if (typeof refundCurrency === 'string') properties.currency = refundCurrency;
  return {
    name: 'Order Refunded',
    occurredAt: refund.createdAt ? isoTime(refund.createdAt, `${what}: refund ${refundId} createdAt`) : fallbackAt,
    id: `${orderId}:refund:${refundId}`,
    properties,
  };
}

/**
 * An order: an `Order Completed` event (or `Order Cancelled` for a cancelled one) with total, currency, items,
 * payment gateways and the amount refunded, one `Order Refunded` event per refund, and the `lastOrderAt` trait —
 * on the buyer, found by the customer's `external_id` and the order's email (a guest checkout has only the email)
 * or phone. The record is observed at the order's creation, so the latest order sets `lastOrderAt` whatever
 * order the orders are read in.
 */
export function mapOrder(order: ShopifyOrderNode, sourceId: string): ProfileRecord {
  const id = legacyId(order?.id, 'Order', 'order');
  const what = `order ${id}`;
  const createdAt = isoTime(order.createdAt, `${what}: createdAt`);
  const updatedAt = isoTime(order.updatedAt, `${what}: updatedAt`);
  const customer = order.customer ?? undefined;
  const email =
    optionalText(order.email, `${what}: email`) ??
    optionalText(customer?.defaultEmailAddress?.emailAddress, `${what}: customer.defaultEmailAddress`);
  const phone =
    optionalText(order.phone, `${what}: phone`) ??
    optionalText(customer?.defaultPhoneNumber?.phoneNumber, `${what}: customer.defaultPhoneNumber`);
  const identifiers: Identifier[] = [];
  if (email) identifiers.push({ type: 'email', value: email });
  if (phone) identifiers.push({ type: 'phone', value: phone });
  if (customer) {
    identifiers.push({
      type: 'external_id',
      value: customerExternalId(sourceId, legacyId(customer.id, 'Customer', `${what}: customer`)),
    });
  }
  if (identifiers.length === 0) throw new Error(`${what} has no customer, email or phone to attach it to`);

  const currency = order.currencyCode ?? order.totalPriceSet?.shopMoney?.currencyCode ?? undefined;
  const properties: Record<string, TraitValue> = {
    orderId: id,
    items: (order.lineItems?.nodes ?? []).map((item) => mapItem(item, what)),
  };
  if (typeof order.name === 'string') properties.orderNumber = order.name;
  const total = shopMoney(order.totalPriceSet, `${what}: totalPriceSet`);
  if (total !== undefined) properties.total = total;
  const subtotal = shopMoney(order.subtotalPriceSet, `${what}: subtotalPriceSet`);
  if (subtotal !== undefined) properties.subtotal = subtotal;
  const tax = shopMoney(order.totalTaxSet, `${what}: totalTaxSet`);
  if (tax !== undefined) properties.tax = tax;
  if (typeof currency === 'string') properties.currency = currency;
  if (typeof order.displayFinancialStatus === 'string') {
    properties.financialStatus = order.displayFinancialStatus.toLowerCase();
  }
  const gateways = (order.paymentGatewayNames ?? []).filter((g): g is string => typeof g === 'string' && g !== '');
  if (gateways.length > 0) {
    properties.paymentGateway = gateways[0];
    properties.paymentGateways = gateways;
  }
  const refunded = shopMoney(order.totalRefundedSet, `${what}: totalRefundedSet`);
  if (refunded) properties.refunded = refunded;

  const events: ProfileEvent[] = [];
  if (order.cancelledAt) {
    events.push({
      name: 'Order Cancelled',
      occurredAt: isoTime(order.cancelledAt, `${what}: cancelledAt`),
      id: `${id}:cancelled`,
      properties,
    });
  } else {
    events.push({ name: 'Order Completed', occurredAt: createdAt, id, properties });
  }
  for (const refund of order.refunds ?? []) events.push(refundEvent(refund, id, updatedAt, currency, what));
  const record: ProfileRecord = { identifiers, traits: { lastOrderAt: createdAt }, events, observedAt: createdAt };
  const country = customer?.defaultAddress?.countryCodeV2;
  if (typeof country === 'string' && /^[A-Za-z]{2}$/.test(country)) record.country = country.toUpperCase();
  return record;
}
