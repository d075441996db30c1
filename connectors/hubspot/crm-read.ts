import { LocalRateBudget, SystemError, type Batch, type ConnectorContext } from '@plexus/sdk';
import type { HubSpotConfig } from './config.js';
import { parseHubSpotDate, type HubSpotRecord } from './mapping.js';
import { explainHubSpotError } from './policy.js';
import { prefetch } from './prefetch.js';

/**
 * Where the sync of one object type stands. A first run lists every record (`list`), then reads what changed
 * while it listed; later runs search for records modified since `modified.since` and list the archived records to
 * send those archived since `archived.since` as deletes (`archivedScan` while that listing is under way).
 */
export interface HubSpotCheckpoint {
  /** A full listing in progress: the list cursor of the next page and the server time the listing started. */
  list?: { after?: string; startedAt?: number };
  /** Records modified up to `since` (ms) are read, and of those modified exactly at `since`, the `ids`. */
  modified: { since: number; ids: string[] };
  /** Records archived up to `since` (ms) were sent as deletes, and of those archived exactly at `since`, the `ids`. */
  archived: { since: number; ids: string[] };
  /** An archived listing in progress: the cursor of the next page and the latest archive time seen so far. */
  archivedScan?: { after?: string; latest: number; latestIds: string[] };
}

export type Ctx = ConnectorContext<HubSpotConfig>;
type RecordBatch<R> = Batch<R, HubSpotCheckpoint>;

/** How one object type is read. */
export interface ObjectReadSpec<R extends HubSpotRecord> {
  /** The path segment of `/crm/v3/objects/{type}`: `contacts`, `deals`, `tickets`, … */
  type: string;
  /** The property that dates a change: `lastmodifieddate` for contacts, `hs_lastmodifieddate` otherwise. */
  modifiedProperty: string;
  /** Properties asked for. */
  properties(config: HubSpotConfig): string[];
  /** Extra query parameters of the full listing (e.g. `associations`). */
  listParams?(config: HubSpotConfig): Record<string, string>;
  /** Completes one page of the full listing before it is handed on (e.g. company details). */
  completeListPage?(ctx: Ctx, records: R[]): Promise<void>;
}

/** HubSpot answers 400 to a search paging past its 10,000th result. */
export const SEARCH_RESULT_CEILING = 10_000;

/** A fresh checkpoint: list everything first. */
export const FIRST_RUN: HubSpotCheckpoint = {
  list: {},
  modified: { since: 0, ids: [] },
  archived: { since: 0, ids: [] },
};

/** The modification time of a record in ms (its modification property, else `updatedAt`); NaN when unreadable. */
export function modifiedAtOf(record: HubSpotRecord, property: string): number {
  const raw = record.properties?.[property] ?? record.updatedAt;
  return typeof raw === 'string' ? parseHubSpotDate(raw) : NaN;
}

/** Search limits are per account, so connections of one process share a pacer (and 429s are retried anyway). */
const searchPacers = new Map<string, LocalRateBudget>();
function searchPacer(ctx: Ctx): LocalRateBudget {
  const key = `${ctx.connectionId}:${ctx.config.searchRequestsPerSecond}`;
  let pacer = searchPacers.get(key);
  if (!pacer) {
    // A tenth of a second of margin: the vendor counts arrivals, and latency varies between requests.
    pacer = new LocalRateBudget({ requests: ctx.config.searchRequestsPerSecond, perMs: 1_100 });
    searchPacers.set(key, pacer);
  }
  return pacer;
}

/** One request with HubSpot's errors explained and the daily allowance watched. */
export async function hubspotRequest<T>(
  ctx: Ctx,
  options: { method?: 'get' | 'post'; url: string; params?: Record<string, unknown>; data?: unknown },
) {
  try {
    const response = await ctx.http.request<T>({ method: options.method ?? 'get', ...options });
    watchDailyBudget(ctx, response.headers);
    return response;
  } catch (error) {
    throw explainHubSpotError(error);
  }
}

/** Warns once the account's daily allowance (`X-HubSpot-RateLimit-Daily-Remaining`) runs low. */
function watchDailyBudget(ctx: Ctx, headers: Record<string, unknown>): void {
  const daily = Number(headers['x-hubspot-ratelimit-daily']);
  const remaining = Number(headers['x-hubspot-ratelimit-daily-remaining']);
  if (daily > 0 && Number.isFinite(remaining) && remaining < daily * 0.05 && remaining % 100 === 0) {
    ctx.log.warn(`HubSpot daily request allowance almost spent: ${remaining} of ${daily} left`);
  }
}

/** The server's clock from the `Date` header (whole seconds, so never ahead of it), else the local clock. */
function serverTime(headers: Record<string, unknown>): number {
  const date = typeof headers.date === 'string' ? Date.parse(headers.date) : NaN;
  return Number.isNaN(date) ? Date.now() : Math.min(date, Date.now());
}

interface ListAnswer<R> {
  results?: R[];
  paging?: { next?: { after?: string } };
}

function resultsOf<R>(body: ListAnswer<R>, what: string): R[] {
  if (body.results === undefined) return [];
  if (!Array.isArray(body.results)) throw new SystemError(`HubSpot ${what} answered without a results list`);
  return body.results;
}

interface ListedPage<R> {
  records: R[];
  next?: string;
  startedAt: number;
}

/** The pages of the full listing (`GET /crm/v3/objects/{type}` paged with `after`), one request each. */
async function* listPages<R extends HubSpotRecord>(
  ctx: Ctx,
  spec: ObjectReadSpec<R>,
  after: string | undefined,
  startedAt: number | undefined,
): AsyncGenerator<ListedPage<R>> {
  for (;;) {
    const response = await hubspotRequest<ListAnswer<R>>(ctx, {
      url: `/crm/v3/objects/${spec.type}`,
      params: {
        limit: ctx.config.pageSize,
        properties: spec.properties(ctx.config).join(','),
        archived: false,
        ...spec.listParams?.(ctx.config),
        ...(after === undefined ? {} : { after }),
      },
    });
    // Changes made while the listing runs are read afterwards, by a search from the moment it started.
    startedAt ??= serverTime(response.headers);
    const records = resultsOf(response.data, `${spec.type} list`);
    await spec.completeListPage?.(ctx, records);
    const next = response.data.paging?.next?.after;
    if (next !== undefined && next === after) throw new SystemError(`HubSpot returned the list cursor ${next} twice`);
    yield { records, next, startedAt };
    if (next === undefined) return;
    after = next;
  }
}

/**
 * Full listing: pages are fetched ahead (up to `prefetchPages`) while the hub stores the previous batch, and
 * combined into batches of about `recordsPerBatch` records, each checkpointed on the cursor after its last page.
 */
export async function* listAll<R extends HubSpotRecord>(
  ctx: Ctx,
  spec: ObjectReadSpec<R>,
  state: HubSpotCheckpoint,
): AsyncGenerator<RecordBatch<R>, HubSpotCheckpoint> {
  let records: R[] = [];
  const pages = prefetch(listPages(ctx, spec, state.list?.after, state.list?.startedAt), ctx.config.prefetchPages);
  for await (const page of pages) {
    records = records.length === 0 ? page.records : records.concat(page.records);
    if (page.next === undefined) {
      const done: HubSpotCheckpoint = {
        modified: { since: page.startedAt, ids: [] },
        archived: { since: page.startedAt, ids: [] },
      };
      yield { records, checkpoint: done };
      return done;
    }
    if (records.length >= ctx.config.recordsPerBatch) {
      yield { records, checkpoint: { ...state, list: { after: page.next, startedAt: page.startedAt } } };
      records = [];
    }
  }
  throw new SystemError(`the HubSpot ${spec.type} listing ended without a last page`);
}

/**
 * Incremental read: searches records with `modifiedProperty >= since`, ascending. After every page the window
 * moves to the last modification time seen (skipping the ids already read at that instant), so no query ever
 * pages towards the 10,000-result ceiling and records modified meanwhile cannot shift the pages. Only when a
 * whole page shares one instant does it page with `after` inside that instant.
 */
export async function* searchChanges<R extends HubSpotRecord>(
  ctx: Ctx,
  spec: ObjectReadSpec<R>,
  state: HubSpotCheckpoint,
): AsyncGenerator<RecordBatch<R>, HubSpotCheckpoint> {
  let since = state.modified.since;
  let seen = new Set(state.modified.ids);
  let offset = 0;
  const modifiedAt = (r: R) => modifiedAtOf(r, spec.modifiedProperty);
  const pacer = searchPacer(ctx);
  for (;;) {
    await pacer.acquire(ctx.signal);
    const { data } = await hubspotRequest<ListAnswer<R>>(ctx, {
      method: 'post',
      url: `/crm/v3/objects/${spec.type}/search`,
      data: {
        filterGroups: [{ filters: [{ propertyName: spec.modifiedProperty, operator: 'GTE', value: String(since) }] }],
        sorts: [{ propertyName: spec.modifiedProperty, direction: 'ASCENDING' }],
        properties: spec.properties(ctx.config),
        limit: ctx.config.searchPageSize,
        after: String(offset),
      },
    });
    const results = resultsOf(data, `${spec.type} search`);
    const fresh = results.filter((r) => !(modifiedAt(r) === since && seen.has(r.id)));
    const times = results.map(modifiedAt).filter((t) => !Number.isNaN(t));
    const latest = times.length > 0 ? Math.max(...times) : since;
    if (latest > since) {
      since = latest;
      seen = new Set(results.filter((r) => modifiedAt(r) === latest).map((r) => r.id));
      offset = 0;
    } else {
      for (const r of results) seen.add(r.id);
      offset += results.length;
    }
    const checkpoint: HubSpotCheckpoint = { ...state, modified: { since, ids: [...seen] } };
    const more = data.paging?.next?.after !== undefined && results.length > 0;
    yield { records: fresh, checkpoint };
    if (!more) return checkpoint;
    if (offset >= SEARCH_RESULT_CEILING) {
      throw new SystemError(
        `more than ${SEARCH_RESULT_CEILING} HubSpot ${spec.type} share ${spec.modifiedProperty} ${new Date(since).toISOString()}; the search API cannot page past them`,
      );
    }
  }
}

/** Archived records (`archived=true`) archived after the watermark become `deletedIds`. */
export async function* archivedSince<R extends HubSpotRecord>(
  ctx: Ctx,
  spec: ObjectReadSpec<R>,
  state: HubSpotCheckpoint,
): AsyncGenerator<RecordBatch<R>, HubSpotCheckpoint> {
  const sent = new Set(state.archived.ids);
  let after = state.archivedScan?.after;
  let latest = state.archivedScan?.latest ?? state.archived.since;
  let latestIds = new Set(state.archivedScan?.latestIds ?? state.archived.ids);
  for (;;) {
    const response = await hubspotRequest<ListAnswer<R>>(ctx, {
      url: `/crm/v3/objects/${spec.type}`,
      params: { limit: 100, archived: true, ...(after === undefined ? {} : { after }) },
    });
    const deletedIds: string[] = [];
    for (const record of resultsOf(response.data, `archived ${spec.type} list`)) {
      const at = parseHubSpotDate(String(record.archivedAt ?? record.updatedAt));
      if (Number.isNaN(at) || at < state.archived.since || (at === state.archived.since && sent.has(record.id)))
        continue;
      deletedIds.push(record.id);
      if (at > latest) {
        latest = at;
        latestIds = new Set([record.id]);
      } else if (at === latest) latestIds.add(record.id);
    }
    const next = response.data.paging?.next?.after;
    if (next !== undefined && next === after) throw new SystemError(`HubSpot returned the list cursor ${next} twice`);
    if (next === undefined) {
      const done: HubSpotCheckpoint = { modified: state.modified, archived: { since: latest, ids: [...latestIds] } };
      yield { records: [], deletedIds, checkpoint: done };
      return done;
    }
    yield {
      records: [],
      deletedIds,
      checkpoint: { ...state, archivedScan: { after: next, latest, latestIds: [...latestIds] } },
    };
    after = next;
  }
}

/** The whole read of one object type from a checkpoint: full listing (first run), changes, then archives. */
export async function* readObjects<R extends HubSpotRecord>(
  ctx: Ctx,
  spec: ObjectReadSpec<R>,
  checkpoint: HubSpotCheckpoint | undefined,
): AsyncGenerator<RecordBatch<R>, HubSpotCheckpoint> {
  let state: HubSpotCheckpoint = checkpoint ?? FIRST_RUN;
  if (state.list) state = yield* listAll(ctx, spec, state);
  if (!state.archivedScan) state = yield* searchChanges(ctx, spec, state);
  return yield* archivedSince(ctx, spec, state);
}
