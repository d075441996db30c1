import {
  abortableSleep,
  ConnectorError,
  paginateLinkHeader,
  type Batch,
  type ConnectorContext,
  type Page,
} from '@plexus/sdk';
import { apiPath, DEFAULT_PAGE_SIZE, DEFAULT_REQUESTS_PER_SECOND, type ShopifyConfig } from './config.js';
import type { ShopifyCheckpoint } from './shopify.types.js';

interface Versioned {
  id: number;
  updated_at: string;
}

/**
 * Reads one resource incrementally: `updated_at_min=<since>&order=updated_at asc`, then the `Link` header's
 * `page_info` URLs exactly as given (Shopify refuses other filters next to `page_info`). One page is one batch;
 * its checkpoint is the greatest `updated_at` committed with the ids committed at exactly that time (the
 * filter is inclusive: they are skipped when read again) and, mid-run, the URL of the next page. A `page_info`
 * Shopify no longer accepts (400) restarts from `since`, which loses and doubles nothing thanks to `seen`.
 */
export async function* readIncremental<T extends Versioned>(
  ctx: ConnectorContext<ShopifyConfig>,
  resource: 'customers' | 'orders',
  checkpoint: ShopifyCheckpoint | undefined,
  extraParams: Record<string, string> = {},
): AsyncGenerator<Batch<T, ShopifyCheckpoint>> {
  const config = ctx.config;
  let since = checkpoint?.since;
  let seen = new Set(checkpoint?.seen ?? []);
  const params = {
    limit: config.pageSize ?? DEFAULT_PAGE_SIZE,
    ...extraParams,
    order: 'updated_at asc',
    ...((since ?? config.startDate) ? { updated_at_min: since ?? config.startDate } : {}),
  };
  const pages = (startUrl: string | undefined): AsyncGenerator<Page<T, string>> =>
    paginateLinkHeader<T>(ctx.http, {
      url: apiPath(config, resource),
      params,
      startUrl,
      items: (body) => itemsOf<T>(body, resource),
      signal: ctx.signal,
    });

  let iterator = pages(checkpoint?.next);
  for (let first = true; ; first = false) {
    let next: IteratorResult<Page<T, string>>;
    try {
      next = await iterator.next();
    } catch (error) {
      if (!(first && checkpoint?.next && isBadRequest(error))) throw error;
      ctx.log.warn(
        `${resource}: Shopify refused the saved page_info; reading again from updated_at ${since ?? 'start'}`,
      );
      iterator = pages(undefined);
      continue;
    }
    if (next.done) return;
    const page = next.value;
    const records: T[] = [];
    const sinceMs = since === undefined ? -Infinity : Date.parse(since);
    for (const record of page.items) {
      const at = Date.parse(record?.updated_at);
      // Already committed: the boundary of the inclusive updated_at_min filter.
      if (at < sinceMs || (at === sinceMs && seen.has(record.id))) continue;
      records.push(record);
      if (Number.isNaN(at)) continue; // malformed: quarantined by the mapping, never a cursor
      if (since === undefined || at > Date.parse(since)) {
        since = record.updated_at;
        seen = new Set();
      }
      if (at === Date.parse(since)) seen.add(record.id);
    }
    const state: ShopifyCheckpoint = {
      ...(since !== undefined ? { since, seen: [...seen] } : {}),
      ...(page.next !== undefined ? { next: page.next } : {}),
    };
    yield { records, checkpoint: state };
    if (page.next !== undefined) await paceWithCallLimit(ctx, page.response.headers);
  }
}

/** The list of a page; anything else (an error body in a 200, a body cut short) must not read as an empty page. */
function itemsOf<T>(body: unknown, resource: string): T[] {
  const list = (body as Record<string, unknown> | null)?.[resource];
  if (!Array.isArray(list)) throw new ConnectorError(`Shopify answered without a ${resource} list`, 'transient');
  return list as T[];
}

function isBadRequest(error: unknown): boolean {
  return error instanceof ConnectorError && error.details.status === 400;
}

/**
 * Shopify's REST leaky bucket: `X-Shopify-Shop-Api-Call-Limit: 32/40` says how full the shop's bucket is (it is
 * shared with every other app of the shop). Near the top, wait for it to leak so the next request fits instead
 * of drawing a 429: above 80 % each request waits one leak interval per call over the mark.
 */
export async function paceWithCallLimit(
  ctx: ConnectorContext<ShopifyConfig>,
  headers: Record<string, unknown>,
): Promise<void> {
  const waitMs = callLimitDelayMs(
    headers['x-shopify-shop-api-call-limit'],
    ctx.config.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND,
  );
  if (waitMs > 0) {
    ctx.log.debug(`Shopify call limit ${String(headers['x-shopify-shop-api-call-limit'])}: pausing ${waitMs} ms`);
    await abortableSleep(waitMs, ctx.signal);
  }
}

/** How long to wait before the next call given the call-limit header (`used/capacity`) and the leak rate. */
export function callLimitDelayMs(header: unknown, leakPerSecond: number): number {
  const match = typeof header === 'string' ? /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(header) : null;
  if (!match) return 0;
  const used = Number(match[1]);
  const capacity = Number(match[2]);
  const mark = Math.floor(capacity * 0.8);
  if (capacity <= 0 || used < mark) return 0;
  return Math.ceil(((used - mark + 1) * 1000) / leakPerSecond);
}
