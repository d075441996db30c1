import type { Batch, ConnectorContext } from '@plexus/sdk';
import { DEFAULT_PAGE_SIZE, type ShopifyConfig } from './config.js';
import { QueryTooExpensiveError, type ShopifyGraphql } from './graphql.js';
import { MAX_QUERY_COST } from './queries.js';
import type { ShopifyCheckpoint } from './shopify.types.js';

interface Versioned {
  id: string;
  updatedAt: string;
}

interface Connection<T> {
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  nodes: T[];
}

export interface PagedQuery<T> {
  stream: 'customers' | 'orders';
  query: string;
  /** Requested cost of one node of the page. */
  nodeCost: number;
  /** Completes a page's records before they are yielded (an order's line items past the first page). */
  complete?: (records: T[]) => Promise<void>;
}

/** Shopify's DateTime to the second, as the search syntax takes it. */
export function searchTime(value: string): string {
  return new Date(Date.parse(value)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The search term of records changed at or after `since`: `updated_at:>='2026-11-01T00:00:00Z'`. */
export function changedSince(since: string): string {
  return `updated_at:>='${searchTime(since)}'`;
}

/** How many nodes a page may ask for and stay under the single-query cost limit. */
export function pageSizeFor(nodeCost: number, configured: number): number {
  return Math.max(1, Math.min(configured, Math.floor((MAX_QUERY_COST - 2) / nodeCost)));
}

/**
 * Reads what changed since the checkpoint: `query: "updated_at:>='<since>'"` with `sortKey: UPDATED_AT`, paged with
 * `first`/`after`. One page is one batch; its checkpoint is the greatest `updatedAt` committed with the GIDs
 * committed at exactly that second (the filter is inclusive: they are skipped when read again). The page cursor
 * is not kept: a resumed run asks again from `since`, which loses and doubles nothing. `first` is sized so the
 * query's requested cost stays under 1,000 points, and shrunk if Shopify still finds it too expensive.
 */
export async function* readIncremental<T extends Versioned>(
  ctx: ConnectorContext<ShopifyConfig>,
  client: ShopifyGraphql,
  paged: PagedQuery<T>,
  checkpoint: ShopifyCheckpoint & { since: string },
): AsyncGenerator<Batch<T, ShopifyCheckpoint>> {
  let since = checkpoint.since;
  let seen = new Set(checkpoint.seen ?? []);
  const search = changedSince(since);
  let first = pageSizeFor(paged.nodeCost, ctx.config.pageSize ?? DEFAULT_PAGE_SIZE);
  let after: string | undefined;
  for (let shrunk = 0; ;) {
    let page: Connection<T>;
    try {
      const data = await client.request<Record<string, Connection<T>>>(
        paged.query,
        { first, after: after ?? null, query: search },
        2 + first * paged.nodeCost,
      );
      page = data[paged.stream];
    } catch (error) {
      if (!(error instanceof QueryTooExpensiveError) || shrunk >= 3 || first === 1) throw error;
      shrunk++;
      first = Math.max(1, Math.floor((first * error.maxCost) / Math.max(error.cost, 1)) - 1);
      ctx.log.warn(
        `${paged.stream}: Shopify found the page too expensive (${error.cost} points): asking ${first} at a time`,
      );
      continue;
    }
    if (paged.complete) await paged.complete(page.nodes);
    const records: T[] = [];
    for (const record of page.nodes) {
      const at = Date.parse(record?.updatedAt);
      const sinceMs = Date.parse(since);
      // Already committed: the boundary of the inclusive filter.
      if (at < sinceMs || (at === sinceMs && seen.has(record.id))) continue;
      records.push(record);
      if (Number.isNaN(at)) continue; // malformed: quarantined by the mapping, never a cursor
      if (at > sinceMs) {
        since = record.updatedAt;
        seen = new Set();
      }
      seen.add(record.id);
    }
    yield { records, checkpoint: { since, seen: [...seen] } };
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
    after = page.pageInfo.endCursor;
  }
}

/**
 * A checkpoint of the REST version of this connector (`since` with the shop's offset, numeric ids in `seen`, a
 * `page_info` URL in `next`) in today's terms: the same position, GIDs instead of ids, no page URL.
 */
export function upgradeCheckpoint(
  checkpoint: (Omit<ShopifyCheckpoint, 'seen'> & { seen?: Array<string | number>; next?: string }) | undefined,
  gidType: 'Customer' | 'Order',
): ShopifyCheckpoint | undefined {
  if (!checkpoint) return undefined;
  const { next: _next, seen, ...rest } = checkpoint;
  return {
    ...rest,
    ...(seen ? { seen: seen.map((id) => (typeof id === 'number' ? `gid://shopify/${gidType}/${id}` : id)) } : {}),
  };
}
