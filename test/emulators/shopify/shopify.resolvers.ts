import { GraphQLError } from 'graphql';
import type { RecordTable } from '../common/table.js';
import type { ShopifyAddress, ShopifyCustomer, ShopifyOrder, ShopifyRefund } from './shopify.data.js';
import { MAX_PAGE_SIZE } from './shopify.cost.js';

/** What resolvers know about the request: the shop's data, the token's scopes, whether a bulk operation runs. */
export interface ResolverContext {
  customers: RecordTable<ShopifyCustomer>;
  orders: RecordTable<ShopifyOrder>;
  scopes: ReadonlySet<string>;
  /** Bulk operations page nothing: every connection returns all its nodes. */
  bulk: boolean;
  shopName: string;
  /** Search warnings for `extensions.search`, as Shopify reports terms it ignored. */
  searchWarnings: Array<{ path: string[]; query: string; warnings: Array<{ field: string; message: string }> }>;
  bulkOperations: {
    run(query: string, groupObjects: boolean): unknown;
    get(id: string): unknown;
    current(): unknown;
    cancel(id: string): unknown;
  };
}

export const gid = (type: string, id: number | string): string => `gid://shopify/${type}/${id}`;

/** The numeric id of a GID of `type` (or a bare number), else undefined. */
export function idOfGid(value: unknown, type?: string): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^gid:\/\/shopify\/(\w+)\/(\d+)$/.exec(value) ?? /^()(\d+)$/.exec(value);
  if (!match || (type && match[1] !== '' && match[1] !== type)) return undefined;
  return Number(match[2]);
}

/** Shopify's GraphQL DateTime: ISO-8601 in UTC, to the second. */
export function utc(value: string | null | undefined): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function requireScope(ctx: ResolverContext, scope: string, field: string): void {
  if (ctx.scopes.has(scope)) return;
  throw new GraphQLError(`Access denied for ${field} field. Required access: \`${scope}\` access scope.`, {
    extensions: {
      code: 'ACCESS_DENIED',
      documentation: 'https://shopify.dev/api/usage/access-scopes',
      requiredAccess: `\`${scope}\` access scope.`,
    },
  });
}

const money = (amount: string | number, currencyCode: string) => ({
  amount: typeof amount === 'number' ? amount.toFixed(2) : amount,
  currencyCode,
});
const bag = (amount: string | number, currencyCode: string) => ({
  shopMoney: money(amount, currencyCode),
  presentmentMoney: money(amount, currencyCode),
});

function addressView(address: ShopifyAddress | null | undefined) {
  if (!address) return null;
  return {
    __typename: 'MailingAddress',
    id: gid('MailingAddress', address.id),
    firstName: address.first_name,
    lastName: address.last_name,
    address1: address.address1,
    city: address.city,
    zip: address.zip,
    phone: address.phone,
    country: address.country,
    countryCodeV2: address.country_code,
  };
}

export function customerView(c: ShopifyCustomer) {
  const consent = c.email_marketing_consent;
  return {
    __typename: 'Customer',
    id: gid('Customer', c.id),
    legacyResourceId: String(c.id),
    firstName: c.first_name,
    lastName: c.last_name,
    displayName: [c.first_name, c.last_name].filter(Boolean).join(' ') || c.email || '',
    defaultEmailAddress: c.email
      ? {
          emailAddress: c.email,
          marketingState: (consent?.state ?? 'not_subscribed').toUpperCase(),
          marketingOptInLevel: consent?.opt_in_level ? consent.opt_in_level.toUpperCase() : null,
          marketingUpdatedAt: utc(consent?.consent_updated_at),
        }
      : null,
    defaultPhoneNumber: c.phone ? { phoneNumber: c.phone, marketingState: 'NOT_SUBSCRIBED' } : null,
    defaultAddress: addressView(c.default_address),
    createdAt: utc(c.created_at),
    updatedAt: utc(c.updated_at),
    numberOfOrders: String(c.orders_count),
    amountSpent: money(c.total_spent, c.currency),
    state: c.state.toUpperCase(),
    tags: c.tags ? c.tags.split(',').map((t) => t.trim()) : [],
    verifiedEmail: c.verified_email,
    orders: (args: ConnectionArgs, ctx: ResolverContext) => {
      requireScope(ctx, 'read_orders', 'orders');
      const rows: number[] = [];
      const order = ctx.orders.byId();
      for (let p = 0; p < order.length; p++) {
        const o = ctx.orders.get(order[p]);
        if (o.customer?.id === c.id && visibleOrder(ctx, o)) rows.push(order[p]);
      }
      return arrayConnection(
        rows.map((row) => orderView(ctx.orders.get(row), ctx)),
        args,
        ctx,
      );
    },
  };
}

function refundView(refund: ShopifyRefund, currency: string) {
  const total = refund.transactions.reduce((sum, t) => sum + Number(t.amount), 0);
  return {
    __typename: 'Refund',
    id: gid('Refund', refund.id),
    createdAt: utc(refund.created_at),
    note: refund.note,
    totalRefundedSet: bag(total, currency),
  };
}

const FULFILLMENT: Record<string, string> = { fulfilled: 'FULFILLED', partial: 'PARTIALLY_FULFILLED' };

export function orderView(o: ShopifyOrder, ctx: ResolverContext) {
  const refunds = o.refunds ?? [];
  const refunded = refunds.reduce((sum, r) => sum + r.transactions.reduce((s, t) => s + Number(t.amount), 0), 0);
  const customerRow = o.customer ? ctx.customers.rowOf(String(o.customer.id)) : undefined;
  const address = addressView(o.customer?.default_address);
  return {
    __typename: 'Order',
    id: gid('Order', o.id),
    legacyResourceId: String(o.id),
    name: o.name,
    email: o.email,
    phone: o.phone,
    createdAt: utc(o.created_at),
    updatedAt: utc(o.updated_at),
    processedAt: utc(o.processed_at),
    closedAt: utc(o.closed_at),
    cancelledAt: utc(o.cancelled_at),
    closed: o.closed_at !== null,
    displayFinancialStatus: o.financial_status ? o.financial_status.toUpperCase() : null,
    displayFulfillmentStatus: FULFILLMENT[o.fulfillment_status ?? ''] ?? 'UNFULFILLED',
    currencyCode: o.currency,
    totalPriceSet: bag(o.total_price, o.currency),
    subtotalPriceSet: bag(o.subtotal_price, o.currency),
    totalTaxSet: bag(o.total_tax, o.currency),
    totalRefundedSet: bag(refunded, o.currency),
    paymentGatewayNames: o.payment_gateway_names ?? [],
    customer: (_args: unknown, c: ResolverContext) => {
      if (!o.customer) return null;
      requireScope(c, 'read_customers', 'customer');
      return customerView(customerRow === undefined ? (o.customer as ShopifyCustomer) : c.customers.get(customerRow));
    },
    billingAddress: address,
    shippingAddress: address,
    lineItems: (args: ConnectionArgs, c: ResolverContext) =>
      arrayConnection(
        o.line_items.map((item) => ({
          __typename: 'LineItem',
          id: gid('LineItem', item.id),
          title: item.title,
          name: item.title,
          sku: item.sku,
          quantity: item.quantity,
          variant: item.variant_id
            ? {
                __typename: 'ProductVariant',
                id: gid('ProductVariant', item.variant_id),
                legacyResourceId: String(item.variant_id),
              }
            : null,
          product: item.product_id
            ? { __typename: 'Product', id: gid('Product', item.product_id), legacyResourceId: String(item.product_id) }
            : null,
          originalUnitPriceSet: bag(item.price, o.currency),
          originalTotalSet: bag(Number(item.price) * item.quantity, o.currency),
        })),
        args,
        c,
      ),
    refunds: (args: { first?: number }) =>
      refunds.slice(0, args.first ?? refunds.length).map((r) => refundView(r, o.currency)),
  };
}

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  query?: string | null;
  sortKey?: string | null;
  reverse?: boolean | null;
}

const encodeCursor = (key: Array<number | string>): string => Buffer.from(JSON.stringify(key)).toString('base64url');

function decodeCursor(cursor: string): Array<number | string> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(key) && key.length === 2 && key.every((k) => typeof k === 'number' || typeof k === 'string')) {
      return key;
    }
  } catch {
    // answered below
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`, { extensions: { code: 'BAD_REQUEST' } });
}

function pageSize(args: ConnectionArgs, ctx: ResolverContext): number {
  if (ctx.bulk) return Number.POSITIVE_INFINITY;
  const size = args.first ?? args.last;
  return typeof size === 'number' ? Math.min(size, MAX_PAGE_SIZE) : 0;
}

/** A connection over a small list (line items, a customer's orders), the cursor being the position. */
function arrayConnection<T>(items: T[], args: ConnectionArgs, ctx: ResolverContext) {
  let start = 0;
  if (args.after) start = Number(decodeCursor(args.after)[1]) + 1;
  const size = pageSize(args, ctx);
  const page = items.slice(start, Math.min(items.length, start + size));
  const edges = page.map((node, i) => ({ cursor: encodeCursor(['i', start + i]), node }));
  return {
    edges,
    nodes: page,
    pageInfo: {
      hasNextPage: start + page.length < items.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** One term of Shopify's search syntax: `updated_at:>'2026-11-01T00:00:00Z'`, `id:>=123`, `email:a@b.c`. */
interface SearchTerm {
  field: string;
  op: '>' | '>=' | '<' | '<=' | '=';
  value: string;
}

const TERM = /(-)?([a-z_]+):(>=|<=|>|<)?(?:'([^']*)'|"([^"]*)"|(\S+))/gi;

function parseSearch(query: string): { terms: SearchTerm[]; rest: string } {
  const terms: SearchTerm[] = [];
  const rest = query.replace(
    TERM,
    (_m, _neg: string, field: string, op: string, q1?: string, q2?: string, bare?: string) => {
      terms.push({ field: field.toLowerCase(), op: (op ?? '=') as SearchTerm['op'], value: q1 ?? q2 ?? bare ?? '' });
      return ' ';
    },
  );
  return { terms, rest: rest.replace(/\bAND\b/g, ' ').trim() };
}

function compare(a: number, op: SearchTerm['op'], b: number): boolean {
  switch (op) {
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '=':
      return a === b;
  }
}

type Filter = (row: number) => boolean;

/**
 * Filters a table by a search query. Known fields: `updated_at`, `created_at` (timestamps, to the second), `id`,
 * and `email` for customers; other terms are ignored with a warning, as Shopify does. Orders older than 60 days
 * are hidden from a token without `read_all_orders`.
 */
function searchFilter<T extends ShopifyCustomer | ShopifyOrder>(
  table: RecordTable<T>,
  query: string | null | undefined,
  path: string[],
  ctx: ResolverContext,
  kind: 'customers' | 'orders',
): { filters: Filter[]; updatedMin?: number } {
  const filters: Filter[] = [];
  if (kind === 'orders') filters.push((row) => visibleOrder(ctx, table.get(row) as ShopifyOrder));
  if (!query) return { filters };
  const { terms, rest } = parseSearch(query);
  const warnings: Array<{ field: string; message: string }> = [];
  let updatedMin: number | undefined;
  if (rest !== '') warnings.push({ field: 'default', message: `Free-text search is not supported: ${rest}` });
  for (const term of terms) {
    if (term.field === 'updated_at' || term.field === 'created_at') {
      const ms = Date.parse(term.value);
      if (Number.isNaN(ms)) {
        warnings.push({ field: term.field, message: `Invalid timestamp for query filter \`${term.field}\`.` });
        continue;
      }
      const at = Math.floor(ms / 1000) * 1000;
      if (term.field === 'updated_at') {
        if (term.op === '>' || term.op === '>=' || term.op === '=') updatedMin = at + (term.op === '>' ? 1000 : 0);
        filters.push((row) => compare(Math.floor(table.modifiedAt(row) / 1000) * 1000, term.op, at));
      } else {
        filters.push((row) => compare(Math.floor(Date.parse(table.get(row).created_at) / 1000) * 1000, term.op, at));
      }
    } else if (term.field === 'id') {
      const id = idOfGid(term.value);
      if (id === undefined) warnings.push({ field: 'id', message: 'Invalid id.' });
      else filters.push((row) => compare(Number(table.idAt(row)), term.op, id));
    } else if (term.field === 'email' && kind === 'customers') {
      const email = term.value.toLowerCase();
      filters.push((row) => (table.get(row) as ShopifyCustomer).email?.toLowerCase() === email);
    } else {
      warnings.push({ field: term.field, message: `Invalid search field for this query.` });
    }
  }
  if (warnings.length > 0) ctx.searchWarnings.push({ path, query, warnings });
  return { filters, updatedMin };
}

/** Without `read_all_orders`, Shopify shows an app only the orders of the last 60 days. */
const ORDER_WINDOW_MS = 60 * 86_400_000;

function visibleOrder(ctx: ResolverContext, order: ShopifyOrder): boolean {
  return ctx.scopes.has('read_all_orders') || Date.parse(order.created_at) >= Date.now() - ORDER_WINDOW_MS;
}

/**
 * A connection over a table: sorted by `sortKey` (ID, UPDATED_AT or CREATED_AT), filtered by the search
 * query, paged forward with `first`/`after` (or backward with `last`/`before`). Cursors carry the sort key
 * of their row, so a page asked with a new `query` continues from the same position.
 */
export function tableConnection<T extends ShopifyCustomer | ShopifyOrder>(
  table: RecordTable<T>,
  args: ConnectionArgs,
  ctx: ResolverContext,
  kind: 'customers' | 'orders',
  view: (record: T) => unknown,
) {
  const sortKey = (args.sortKey ?? 'ID').toUpperCase();
  const { filters, updatedMin } = searchFilter(table, args.query, [kind], ctx, kind);
  let order: ArrayLike<number>;
  let keyOf: (row: number) => [number, number];
  let start = 0;
  if (sortKey === 'UPDATED_AT') {
    order = table.byModified();
    keyOf = (row) => [table.modifiedAt(row), Number(table.idAt(row))];
    if (updatedMin !== undefined && !args.reverse) start = table.modifiedLowerBound(updatedMin);
  } else if (sortKey === 'ID') {
    order = table.byId();
    keyOf = (row) => [Number(table.idAt(row)), Number(table.idAt(row))];
  } else {
    const created = (row: number) => Date.parse(table.get(row).created_at);
    const rows = Array.from(table.byId());
    rows.sort((a, b) => created(a) - created(b) || Number(table.idAt(a)) - Number(table.idAt(b)));
    order = rows;
    keyOf = (row) => [created(row), Number(table.idAt(row))];
  }
  const positions = { length: order.length, at: (p: number) => order[args.reverse ? order.length - 1 - p : p] };
  if (args.reverse) start = 0;
  const sign = args.reverse ? -1 : 1;
  const cmp = (row: number, key: Array<number | string>) =>
    sign * (keyOf(row)[0] - Number(key[0]) || keyOf(row)[1] - Number(key[1]));
  const matches = (row: number) => filters.every((f) => f(row));

  const backward = args.first == null && args.last != null;
  const size = pageSize(args, ctx);
  const page: number[] = [];
  let hasMore = false;
  if (!backward) {
    if (args.after) {
      const key = decodeCursor(args.after);
      let lo = start;
      let hi = positions.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmp(positions.at(mid), key) <= 0) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    for (let p = start; p < positions.length; p++) {
      const row = positions.at(p);
      if (!matches(row)) continue;
      if (page.length >= size) {
        hasMore = true;
        break;
      }
      page.push(row);
    }
  } else {
    const before = args.before ? decodeCursor(args.before) : undefined;
    for (let p = positions.length - 1; p >= start; p--) {
      const row = positions.at(p);
      if ((before && cmp(row, before) >= 0) || !matches(row)) continue;
      if (page.length >= size) {
        hasMore = true;
        break;
      }
      page.unshift(row);
    }
  }
  const edges = page.map((row) => ({ cursor: encodeCursor(keyOf(row)), node: view(table.get(row)) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage: backward ? false : hasMore,
      hasPreviousPage: backward ? hasMore : Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** The root resolvers (graphql-js calls a function-valued property with args, context and info). */
export function rootValue() {
  return {
    shop: (_args: unknown, ctx: ResolverContext) => ({
      id: gid('Shop', 1),
      name: ctx.shopName,
      myshopifyDomain: `${ctx.shopName}.myshopify.com`,
      currencyCode: 'USD',
    }),
    customers: (args: ConnectionArgs, ctx: ResolverContext) => {
      requireScope(ctx, 'read_customers', 'customers');
      return tableConnection(ctx.customers, args, ctx, 'customers', customerView);
    },
    orders: (args: ConnectionArgs, ctx: ResolverContext) => {
      requireScope(ctx, 'read_orders', 'orders');
      return tableConnection(ctx.orders, args, ctx, 'orders', (o) => orderView(o, ctx));
    },
    currentAppInstallation: (_args: unknown, ctx: ResolverContext) => ({
      id: gid('AppInstallation', 1),
      accessScopes: [...ctx.scopes].map((handle) => ({ handle, description: handle })),
    }),
    customersCount: (args: { query?: string | null; limit?: number | null }, ctx: ResolverContext) => {
      requireScope(ctx, 'read_customers', 'customersCount');
      return countOf(ctx.customers, args, ctx, 'customers');
    },
    ordersCount: (args: { query?: string | null; limit?: number | null }, ctx: ResolverContext) => {
      requireScope(ctx, 'read_orders', 'ordersCount');
      return countOf(ctx.orders, args, ctx, 'orders');
    },
    customer: (args: { id: string }, ctx: ResolverContext) => {
      requireScope(ctx, 'read_customers', 'customer');
      return findNode(ctx, args.id, 'Customer');
    },
    order: (args: { id: string }, ctx: ResolverContext) => {
      requireScope(ctx, 'read_orders', 'order');
      return findNode(ctx, args.id, 'Order');
    },
    node: (args: { id: string }, ctx: ResolverContext) => findNode(ctx, args.id),
    nodes: (args: { ids: string[] }, ctx: ResolverContext) => {
      if (args.ids.length > MAX_PAGE_SIZE) {
        throw new GraphQLError(
          `The input array size of ${args.ids.length} is greater than the maximum allowed of 250.`,
          {
            extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
          },
        );
      }
      return args.ids.map((id) => findNode(ctx, id));
    },
    bulkOperation: (args: { id: string }, ctx: ResolverContext) => ctx.bulkOperations.get(args.id),
    currentBulkOperation: (_args: unknown, ctx: ResolverContext) => ctx.bulkOperations.current(),
    bulkOperationRunQuery: (args: { query: string; groupObjects: boolean }, ctx: ResolverContext) =>
      ctx.bulkOperations.run(args.query, args.groupObjects),
    bulkOperationCancel: (args: { id: string }, ctx: ResolverContext) => ctx.bulkOperations.cancel(args.id),
  };
}

/** `customersCount`/`ordersCount`: the records matching `query`, counted up to `limit` (then `AT_LEAST`). */
function countOf<T extends ShopifyCustomer | ShopifyOrder>(
  table: RecordTable<T>,
  args: { query?: string | null; limit?: number | null },
  ctx: ResolverContext,
  kind: 'customers' | 'orders',
) {
  const { filters, updatedMin } = searchFilter(table, args.query, [`${kind}Count`], ctx, kind);
  const limit = args.limit ?? Number.POSITIVE_INFINITY;
  const order = table.byModified();
  let count = 0;
  for (let p = updatedMin === undefined ? 0 : table.modifiedLowerBound(updatedMin); p < order.length; p++) {
    if (!filters.every((f) => f(order[p]))) continue;
    if (count >= limit) return { count, precision: 'AT_LEAST' };
    count++;
  }
  return { count, precision: 'EXACT' };
}

function findNode(ctx: ResolverContext, id: string, only?: 'Customer' | 'Order'): unknown {
  const match = /^gid:\/\/shopify\/(\w+)\/(\d+)$/.exec(id);
  if (!match) {
    throw new GraphQLError(`Invalid global id '${id}'`, { extensions: { code: 'argumentLiteralsIncompatible' } });
  }
  const [, type, raw] = match;
  if (only && type !== only) return null;
  if (type === 'Customer') {
    requireScope(ctx, 'read_customers', 'node');
    const row = ctx.customers.rowOf(raw);
    return row === undefined ? null : customerView(ctx.customers.get(row));
  }
  if (type === 'Order') {
    requireScope(ctx, 'read_orders', 'node');
    const row = ctx.orders.rowOf(raw);
    if (row === undefined || !visibleOrder(ctx, ctx.orders.get(row))) return null;
    return orderView(ctx.orders.get(row), ctx);
  }
  if (type === 'BulkOperation') return ctx.bulkOperations.get(id);
  return null;
}
