import type { AxiosInstance, AxiosResponse, Method } from 'axios';
import { getPath } from './config.js';
import { SystemError, TransientError } from './errors.js';

/**
 * One page of results. `next` is the position of the following page — checkpoint on it after storing
 * `items`, and pass it back as the start position to resume right after this page. `next` is undefined on
 * the last page.
 */
export interface Page<T, P> {
  items: T[];
  next: P | undefined;
  response: AxiosResponse;
}

/** Where a page's items are: a dotted path into the JSON body (`results`, `data.items`) or a function. */
export type ItemsSelector<T> = string | ((body: unknown, response: AxiosResponse) => T[]);

interface CommonOptions<T> {
  url: string;
  params?: Record<string, unknown>;
  /** Where the items are in the body. Default: the body itself when it is an array. */
  items?: ItemsSelector<T>;
  signal?: AbortSignal;
}

function selectItems<T>(selector: ItemsSelector<T> | undefined, response: AxiosResponse): T[] {
  const body: unknown = response.data;
  // A body that did not parse as JSON (a page cut off in transit) must not read as an empty page: its records
  // would be skipped silently. Failing transiently makes the run retry from its last checkpoint.
  if (typeof body === 'string' && body.trim() !== '') {
    throw new TransientError(
      `the answer of ${response.config.url ?? 'the request'} is not valid JSON (truncated?): not reading past it`,
    );
  }
  const found = typeof selector === 'function' ? selector(body, response) : selector ? getPath(body, selector) : body;
  if (found === undefined || found === null) return [];
  if (!Array.isArray(found)) {
    throw new SystemError(
      `expected a list of items at ${typeof selector === 'string' ? `"${selector}"` : 'the body'} of ${response.config.url ?? 'the answer'}`,
    );
  }
  return found as T[];
}

export interface CursorPaginationOptions<T> extends CommonOptions<T> {
  method?: Method;
  /** Request body (for search endpoints that page with a cursor in the body, e.g. HubSpot search). */
  data?: Record<string, unknown>;
  /** Where the request carries the cursor. Default `query`. */
  cursorIn?: 'query' | 'body';
  /** The request parameter (or body field) naming the cursor. Default `after`. */
  cursorParam?: string;
  /** Where the answer carries the next cursor: a dotted path or a function. Default `paging.next.after`. */
  nextCursor?: string | ((body: unknown, response: AxiosResponse) => string | undefined | null);
  /** Resume from this cursor (a previous page's `next`). */
  startCursor?: string;
}

/**
 * Pages with a cursor the answer hands back in its body (HubSpot `paging.next.after`, Stripe-style).
 *
 * @example
 * ```ts
 * // HubSpot: GET /crm/v3/objects/contacts?limit=100&after=<cursor> → { results, paging?: { next: { after } } }
 * for await (const page of paginateCursor<Contact>(ctx.http, {
 *   url: '/crm/v3/objects/contacts', params: { limit: 100 }, items: 'results', startCursor: checkpoint?.after,
 * })) {
 *   yield { records: page.items, checkpoint: { after: page.next } };
 * }
 * // HubSpot search: the cursor goes in the POST body
 * paginateCursor(ctx.http, { url: '/crm/v3/objects/contacts/search', method: 'post', cursorIn: 'body',
 *   data: { filterGroups, sorts, limit: 200 }, items: 'results' });
 * ```
 */
export async function* paginateCursor<T>(
  http: AxiosInstance,
  options: CursorPaginationOptions<T>,
): AsyncGenerator<Page<T, string>> {
  const cursorParam = options.cursorParam ?? 'after';
  const nextCursor = options.nextCursor ?? 'paging.next.after';
  let cursor = options.startCursor;
  for (;;) {
    const params = { ...options.params };
    const data = options.data === undefined && options.cursorIn !== 'body' ? undefined : { ...options.data };
    if (cursor !== undefined) {
      if (options.cursorIn === 'body') data![cursorParam] = cursor;
      else params[cursorParam] = cursor;
    }
    const response = await http.request({
      url: options.url,
      method: options.method ?? 'get',
      params,
      data,
      signal: options.signal,
    });
    const items = selectItems(options.items, response);
    const raw: unknown =
      typeof nextCursor === 'function' ? nextCursor(response.data, response) : getPath(response.data, nextCursor);
    const next = typeof raw === 'string' || typeof raw === 'number' ? String(raw) || undefined : undefined;
    if (next !== undefined && next === cursor) {
      throw new SystemError(`${options.url} returned the same cursor twice (${next}); stopping to avoid a loop`);
    }
    yield { items, next, response };
    if (next === undefined) return;
    cursor = next;
  }
}

export interface LinkHeaderPaginationOptions<T> extends CommonOptions<T> {
  /** The link relation to follow. Default `next`. */
  rel?: string;
  /** Resume from this URL (a previous page's `next`); `url` and `params` are then ignored. */
  startUrl?: string;
}

/**
 * Pages by following the RFC 8288 `Link` header (`<https://…?page_info=X&limit=250>; rel="next"`) exactly as
 * given — Shopify refuses other filters next to `page_info`, so the first request's params are not repeated.
 *
 * @example
 * ```ts
 * for await (const page of paginateLinkHeader<Customer>(ctx.http, {
 *   url: '/admin/api/2024-04/customers.json', params: { limit: 250, updated_at_min: since }, items: 'customers',
 *   startUrl: checkpoint?.nextUrl,
 * })) {
 *   yield { records: page.items, checkpoint: { nextUrl: page.next } };
 * }
 * ```
 */
export async function* paginateLinkHeader<T>(
  http: AxiosInstance,
  options: LinkHeaderPaginationOptions<T>,
): AsyncGenerator<Page<T, string>> {
  const rel = options.rel ?? 'next';
  let url = options.startUrl ?? options.url;
  let params = options.startUrl ? undefined : options.params;
  for (;;) {
    const response = await http.request({ url, method: 'get', params, signal: options.signal });
    const items = selectItems(options.items, response);
    const header = response.headers.link as unknown;
    const next = typeof header === 'string' ? parseLinkHeader(header)[rel] : undefined;
    if (next !== undefined && next === url) {
      throw new SystemError(`${url} links to itself as "${rel}"; stopping to avoid a loop`);
    }
    yield { items, next, response };
    if (next === undefined) return;
    url = next;
    params = undefined;
  }
}

/**
 * The targets of a `Link` header by relation (RFC 8288); a link with several relations is listed under each.
 *
 * @example parseLinkHeader('<https://x/?p=2>; rel="next", <https://x/?p=1>; rel="previous"') // { next: 'https://x/?p=2', previous: 'https://x/?p=1' }
 */
export function parseLinkHeader(header: string): Record<string, string> {
  const links: Record<string, string> = {};
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const target = match[1];
    const relMatch = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2] ?? '');
    const rels = (relMatch?.[1] ?? relMatch?.[2] ?? '').split(/\s+/).filter(Boolean);
    for (const rel of rels) if (!(rel.toLowerCase() in links)) links[rel.toLowerCase()] = target;
  }
  return links;
}

export interface OffsetPaginationOptions<T> extends CommonOptions<T> {
  offsetParam?: string;
  limitParam?: string;
  /** Page size. Default 100. */
  limit?: number;
  /** Resume at this offset (a previous page's `next`). Default 0. */
  startOffset?: number;
  /** Dotted path of the total count in the body, when the API gives one. */
  total?: string;
}

/**
 * Pages with `offset` and `limit` parameters; stops at a short page (or at `total`).
 *
 * @example
 * ```ts
 * for await (const page of paginateOffset<Member>(ctx.http, { url: '/members', items: 'data', limit: 500, startOffset: checkpoint?.offset })) {
 *   yield { records: page.items, checkpoint: { offset: page.next } };
 * }
 * ```
 */
export async function* paginateOffset<T>(
  http: AxiosInstance,
  options: OffsetPaginationOptions<T>,
): AsyncGenerator<Page<T, number>> {
  const limit = options.limit ?? 100;
  let offset = options.startOffset ?? 0;
  for (;;) {
    const params = {
      ...options.params,
      [options.offsetParam ?? 'offset']: offset,
      [options.limitParam ?? 'limit']: limit,
    };
    const response = await http.request({ url: options.url, method: 'get', params, signal: options.signal });
    const items = selectItems(options.items, response);
    const after = offset + items.length;
    const total = options.total === undefined ? undefined : Number(getPath(response.data, options.total));
    const last = items.length < limit || (total !== undefined && Number.isFinite(total) && after >= total);
    yield { items, next: last ? undefined : after, response };
    if (last) return;
    offset = after;
  }
}

export interface PagePaginationOptions<T> extends CommonOptions<T> {
  pageParam?: string;
  sizeParam?: string;
  /** Items per page. Default 100. */
  pageSize?: number;
  /** The number of the first page. Default 1. */
  firstPage?: number;
  /** Resume at this page (a previous page's `next`). */
  startPage?: number;
  /** Dotted path of the page count in the body, when the API gives one. */
  totalPages?: string;
}

/**
 * Pages with a page number (`?page=2&per_page=100`); stops at a short page (or at `totalPages`).
 *
 * @example
 * ```ts
 * for await (const page of paginatePage<Order>(ctx.http, { url: '/orders', items: 'orders', pageSize: 50, startPage: checkpoint?.page })) {
 *   yield { records: page.items, checkpoint: { page: page.next } };
 * }
 * ```
 */
export async function* paginatePage<T>(
  http: AxiosInstance,
  options: PagePaginationOptions<T>,
): AsyncGenerator<Page<T, number>> {
  const pageSize = options.pageSize ?? 100;
  const firstPage = options.firstPage ?? 1;
  let page = options.startPage ?? firstPage;
  for (;;) {
    const params = {
      ...options.params,
      [options.pageParam ?? 'page']: page,
      [options.sizeParam ?? 'per_page']: pageSize,
    };
    const response = await http.request({ url: options.url, method: 'get', params, signal: options.signal });
    const items = selectItems(options.items, response);
    const totalPages =
      options.totalPages === undefined ? undefined : Number(getPath(response.data, options.totalPages));
    const pagesSeen = page - firstPage + 1;
    const last =
      items.length < pageSize || (totalPages !== undefined && Number.isFinite(totalPages) && pagesSeen >= totalPages);
    yield { items, next: last ? undefined : page + 1, response };
    if (last) return;
    page += 1;
  }
}
