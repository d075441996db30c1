import { LeakyBucket } from '../common/rate.js';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';
import { RecordTable, type Seed } from '../common/table.js';
import { shopifyTime, type ShopifyCustomer, type ShopifyOrder } from './shopify.data.js';

export interface ShopifyEmulatorOptions extends EmulatorOptions {
  /** Accepted `X-Shopify-Access-Token` values (default `['shpat_demo_token']`). */
  tokens?: string[];
  customers?: Seed<ShopifyCustomer>;
  orders?: Seed<ShopifyOrder>;
  /** The leaky bucket (default 40 requests, leaking 2/s; Shopify Plus is 400 and 20/s). `false` turns it off. */
  rateLimit?: { bucketSize: number; leakPerSecond: number } | false;
}

type Resource = 'customers' | 'orders';
type ShopifyRecord = ShopifyCustomer | ShopifyOrder;

export class ShopifyStore<T extends ShopifyRecord> {
  readonly table = new RecordTable<T>((r) => ({ id: String(r.id), modifiedMs: Date.parse(r.updated_at) }));

  constructor(seed: Seed<T> | undefined) {
    if (seed) this.table.load(seed);
  }

  get count(): number {
    return this.table.count;
  }

  get(id: number): T | undefined {
    const row = this.table.rowOf(String(id));
    return row === undefined ? undefined : this.table.get(row);
  }

  insert(record: T): T {
    this.table.insert(record);
    return record;
  }

  /** Changes fields and bumps `updated_at` to `at` (default now). */
  update(id: number, fields: Partial<T>, at = Date.now()): T {
    const row = this.table.rowOf(String(id));
    if (row === undefined) throw new Error(`no record ${id}`);
    const next = { ...this.table.get(row), ...fields, id, updated_at: shopifyTime(at) };
    this.table.replace(row, next);
    return next;
  }
}

export interface ShopifyState {
  customers: ShopifyStore<ShopifyCustomer>;
  orders: ShopifyStore<ShopifyOrder>;
  tokens: Set<string>;
  /** 429 answers sent because the bucket was full. */
  throttled: number;
}

export type ShopifyEmulator = Emulator<ShopifyState>;

/** Filters a first request may carry; a `page_info` request carries them inside the cursor instead. */
const FILTERS = [
  'ids',
  'since_id',
  'created_at_min',
  'created_at_max',
  'updated_at_min',
  'updated_at_max',
  'status',
  'order',
] as const;
const PAGE_INFO_ALLOWED = new Set(['page_info', 'limit', 'fields']);

interface Cursor {
  filters: Record<string, string>;
  /** Sort key of the boundary record: `[value, id]`. */
  last: [number, number];
  direction: 'next' | 'prev';
}

const THROTTLED_BODY = {
  errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
};
const INVALID_TOKEN_BODY = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };

/** Starts a Shopify Admin REST emulator (customers, orders, Link-header pagination, leaky bucket, faults). */
export async function startShopify(options: ShopifyEmulatorOptions = {}): Promise<ShopifyEmulator> {
  const state: ShopifyState = {
    customers: new ShopifyStore(options.customers),
    orders: new ShopifyStore(options.orders),
    tokens: new Set(options.tokens ?? ['shpat_demo_token']),
    throttled: 0,
  };
  const bucket =
    options.rateLimit === false
      ? undefined
      : new LeakyBucket(options.rateLimit?.bucketSize ?? 40, options.rateLimit?.leakPerSecond ?? 2);
  const callLimit = (): Record<string, string> =>
    bucket ? { 'X-Shopify-Shop-Api-Call-Limit': `${Math.ceil(bucket.current())}/${bucket.capacity}` } : {};
  const badRequest = (errors: unknown): Reply => ({ status: 400, json: { errors } });

  return startEmulator<ShopifyState>(
    {
      throttled: () => ({
        status: 429,
        headers: {
          'Retry-After': '2.0',
          'X-Shopify-Shop-Api-Call-Limit': `${bucket?.capacity ?? 40}/${bucket?.capacity ?? 40}`,
        },
        json: THROTTLED_BODY,
      }),
      serverError: (_req, status) => ({
        status,
        json: { errors: status === 503 ? 'Unavailable Shop' : 'Internal Server Error' },
      }),
      expiredToken: () => ({ status: 401, json: INVALID_TOKEN_BODY }),
      handle(req) {
        const token = req.header('x-shopify-access-token');
        if (!token || !state.tokens.has(token)) return { status: 401, json: INVALID_TOKEN_BODY };
        if (bucket && !bucket.tryAdd()) {
          state.throttled++;
          return { status: 429, headers: { 'Retry-After': '2.0', ...callLimit() }, json: THROTTLED_BODY };
        }
        const reply = route(req);
        return { ...reply, headers: { ...callLimit(), ...reply.headers } };
      },
    },
    state,
    options,
  );

  function route(req: EmulatorRequest): Reply {
    const match = /^\/admin\/api\/(\d{4}-\d{2}|unstable)\/(customers|orders)(?:\/(count|\d+))?\.json$/.exec(req.path);
    if (!match || req.method !== 'GET') return { status: 404, json: { errors: 'Not Found' } };
    const resource = match[2] as Resource;
    if (match[3] === 'count') {
      const filters = Object.fromEntries(FILTERS.filter((f) => req.query.has(f)).map((f) => [f, req.query.get(f)!]));
      const rows = matchingRows(resource, filters);
      return 'status' in rows ? rows : { status: 200, json: { count: rows.rows.length } };
    }
    if (match[3] !== undefined) {
      const record = (resource === 'customers' ? state.customers : state.orders).get(Number(match[3]));
      if (!record) return { status: 404, json: { errors: 'Not Found' } };
      return {
        status: 200,
        json: { [resource === 'customers' ? 'customer' : 'order']: selectFields(record, req.query.get('fields')) },
      };
    }
    return list(req, resource);
  }

  function list(req: EmulatorRequest, resource: Resource): Reply {
    const limitParam = req.query.get('limit');
    const limit = limitParam === null ? 50 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) {
      return badRequest({ limit: 'Limit must be between 1 and 250' });
    }
    let cursor: Cursor | undefined;
    const pageInfo = req.query.get('page_info');
    if (pageInfo !== null) {
      for (const key of req.query.keys()) {
        if (!PAGE_INFO_ALLOWED.has(key)) {
          return badRequest({
            [key]: `${key} cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information.`,
          });
        }
      }
      cursor = decodeCursor(pageInfo);
      if (!cursor) return badRequest({ page_info: 'Invalid value.' });
    }
    const filters =
      cursor?.filters ?? Object.fromEntries(FILTERS.filter((f) => req.query.has(f)).map((f) => [f, req.query.get(f)!]));
    const matched = matchingRows(resource, filters);
    if ('status' in matched) return matched;
    const { rows, keyOf } = matched;

    // Position of the page within the sorted rows, from the cursor's boundary key.
    const compareKey = (row: number, key: [number, number]) => {
      const [value, id] = keyOf(row);
      return value - key[0] || id - key[1];
    };
    /** First position whose key is after `key` (or at it, when `inclusive`) in the requested order. */
    const position = (key: [number, number], inclusive: boolean) => {
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const c = compareKey(rows[mid], key) * matched.sign;
        if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    let start = 0;
    let end: number;
    if (!cursor) end = Math.min(rows.length, limit);
    else if (cursor.direction === 'next') {
      start = position(cursor.last, false);
      end = Math.min(rows.length, start + limit);
    } else {
      end = position(cursor.last, true); // rows strictly before the boundary
      start = Math.max(0, end - limit);
    }

    const store = resource === 'customers' ? state.customers : state.orders;
    const fields = req.query.get('fields');
    const page: Array<Record<string, unknown>> = [];
    for (let p = start; p < end; p++) page.push(selectFields(store.table.get(rows[p]), fields));
    if (page.length > 0 && req.takeFault('malformed-record')) {
      const index = Math.floor(page.length / 2);
      const id = page[index].id;
      page[index] = { id, email: 42, updated_at: 'not-a-date', created_at: null };
      req.noteFault(String(id));
    }

    const links: string[] = [];
    const link = (boundary: number, direction: 'next' | 'prev') => {
      const url = new URL(req.url.pathname, req.origin);
      url.searchParams.set('limit', String(limit));
      if (fields !== null) url.searchParams.set('fields', fields);
      url.searchParams.set('page_info', encodeCursor({ filters, last: keyOf(rows[boundary]), direction }));
      return `<${url.href}>; rel="${direction === 'next' ? 'next' : 'previous'}"`;
    };
    if (start > 0 && end > start) links.push(link(start, 'prev'));
    if (end < rows.length && end > start) links.push(link(end - 1, 'next'));
    return {
      status: 200,
      headers: links.length ? { Link: links.join(', ') } : {},
      json: { [resource]: page },
    };
  }

  /** Applies the filters and sort; the answer lists rows in order with each row's sort key. */
  function matchingRows(
    resource: Resource,
    filters: Record<string, string>,
  ): { rows: number[]; keyOf: (row: number) => [number, number]; sign: 1 | -1 } | Reply {
    const store = resource === 'customers' ? state.customers : state.orders;
    const table = store.table;
    const time = (name: string): number | undefined | Reply => {
      const value = filters[name];
      if (value === undefined) return undefined;
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? badRequest({ [name]: `${name} is invalid` }) : ms;
    };
    const bounds: Record<string, number | undefined> = {};
    for (const name of ['created_at_min', 'created_at_max', 'updated_at_min', 'updated_at_max']) {
      const t = time(name);
      if (typeof t === 'object') return t;
      bounds[name] = t;
    }
    const status = filters.status ?? 'open';
    if (resource === 'orders' && !['open', 'closed', 'cancelled', 'any'].includes(status)) {
      return badRequest({ status: `status is invalid: ${status}` });
    }
    const sinceId = filters.since_id === undefined ? undefined : Number(filters.since_id);
    const ids = filters.ids === undefined ? undefined : new Set(filters.ids.split(',').map((s) => Number(s.trim())));
    const orderParam = (filters.order ?? 'id asc').trim().toLowerCase().split(/\s+/);
    const [sortField, sortDir = 'asc'] = orderParam;
    if (!['id', 'updated_at', 'created_at'].includes(sortField) || !['asc', 'desc'].includes(sortDir)) {
      return badRequest({ order: `order is invalid: ${filters.order}` });
    }
    const needsRecord =
      bounds.created_at_min !== undefined ||
      bounds.created_at_max !== undefined ||
      resource === 'orders' ||
      sortField === 'created_at';
    const createdCache = new Map<number, number>();
    const keyOf = (row: number): [number, number] => {
      const id = Number(table.idAt(row));
      if (sortField === 'id') return [id, id];
      if (sortField === 'updated_at') return [table.modifiedAt(row), id];
      let created = createdCache.get(row);
      if (created === undefined) createdCache.set(row, (created = Date.parse(table.get(row).created_at)));
      return [created, id];
    };
    const rows: number[] = [];
    const order = sortField === 'updated_at' ? table.byModified() : table.byId();
    for (let p = 0; p < order.length; p++) {
      const row = order[p];
      const modified = table.modifiedAt(row);
      if (bounds.updated_at_min !== undefined && modified < bounds.updated_at_min) continue;
      if (bounds.updated_at_max !== undefined && modified > bounds.updated_at_max) continue;
      const id = Number(table.idAt(row));
      if (sinceId !== undefined && id <= sinceId) continue;
      if (ids && !ids.has(id)) continue;
      if (needsRecord) {
        const record = table.get(row);
        const created = Date.parse(record.created_at);
        createdCache.set(row, created);
        if (bounds.created_at_min !== undefined && created < bounds.created_at_min) continue;
        if (bounds.created_at_max !== undefined && created > bounds.created_at_max) continue;
        if (resource === 'orders' && status !== 'any') {
          const o = record as ShopifyOrder;
          const state = o.cancelled_at ? 'cancelled' : o.closed_at ? 'closed' : 'open';
          if (state !== status) continue;
        }
      }
      rows.push(row);
    }
    if (sortField === 'created_at') rows.sort((a, b) => keyOf(a)[0] - keyOf(b)[0] || keyOf(a)[1] - keyOf(b)[1]);
    if (sortDir === 'desc') rows.reverse();
    return { rows, keyOf, sign: sortDir === 'desc' ? -1 : 1 };
  }
}

function selectFields(record: ShopifyRecord, fields: string | null): Record<string, unknown> {
  if (!fields) return { ...record };
  const out: Record<string, unknown> = {};
  for (const name of fields.split(',').map((f) => f.trim())) {
    if (name in record) out[name] = (record as unknown as Record<string, unknown>)[name];
  }
  return out;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(
    JSON.stringify({
      ...cursor.filters,
      last_value: cursor.last[0],
      last_id: cursor.last[1],
      direction: cursor.direction,
    }),
  ).toString('base64url');
}

function decodeCursor(pageInfo: string): Cursor | undefined {
  try {
    const raw = JSON.parse(Buffer.from(pageInfo, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { last_value, last_id, direction, ...filters } = raw;
    if (typeof last_value !== 'number' || typeof last_id !== 'number') return undefined;
    if (direction !== 'next' && direction !== 'prev') return undefined;
    if (Object.values(filters).some((v) => typeof v !== 'string')) return undefined;
    return { filters: filters as Record<string, string>, last: [last_value, last_id], direction };
  } catch {
    return undefined;
  }
}
