import { defineStream, LocalRateBudget, SystemError, type Batch, type ConnectorContext } from '@plexus/sdk';
import type { HubSpotConfig } from './config.js';
import {
  CONTACT_PROPERTIES,
  contactExternalId,
  mapContact,
  modifiedAt,
  parseHubSpotDate,
  type HubSpotContact,
} from './mapping.js';
import { explainHubSpotError } from './policy.js';
import { prefetch } from './prefetch.js';

/**
 * Where a HubSpot sync stands. A first run lists every contact (`list`), then reads what changed while it
 * listed; later runs search for contacts modified since `modified.since` and list the archived contacts to send
 * those archived since `archived.since` as deletes (`archivedScan` while that listing is under way).
 */
export interface HubSpotCheckpoint {
  /** A full listing in progress: the list cursor of the next page and the server time the listing started. */
  list?: { after?: string; startedAt?: number };
  /** Contacts modified up to `since` (ms) are read, and of those modified exactly at `since`, the `ids`. */
  modified: { since: number; ids: string[] };
  /** Contacts archived up to `since` (ms) were sent as deletes, and of those archived exactly at `since`, the `ids`. */
  archived: { since: number; ids: string[] };
  /** An archived listing in progress: the cursor of the next page and the latest archive time seen so far. */
  archivedScan?: { after?: string; latest: number; latestIds: string[] };
}

type Ctx = ConnectorContext<HubSpotConfig>;
type ContactBatch = Batch<HubSpotContact, HubSpotCheckpoint>;

/** HubSpot answers 400 to a search paging past its 10,000th result. */
export const SEARCH_RESULT_CEILING = 10_000;
const COMPANY_CACHE_LIMIT = 50_000;

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

function propertiesOf(config: HubSpotConfig): string[] {
  const properties: string[] = [...CONTACT_PROPERTIES];
  if (config.userIdProperty && !properties.includes(config.userIdProperty)) properties.push(config.userIdProperty);
  return properties;
}

async function request<T>(
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

interface ListAnswer {
  results?: HubSpotContact[];
  paging?: { next?: { after?: string } };
}
interface SearchAnswer extends ListAnswer {
  total?: number;
}

function resultsOf(body: ListAnswer, what: string): HubSpotContact[] {
  if (body.results === undefined) return [];
  if (!Array.isArray(body.results)) throw new SystemError(`HubSpot ${what} answered without a results list`);
  return body.results;
}

/** Adds the primary associated company's name and domain, reading companies not seen yet in one batch. */
async function addCompanies(
  ctx: Ctx,
  contacts: HubSpotContact[],
  cache: Map<string, { name: string | null; domain: string | null }>,
): Promise<void> {
  const primary = (c: HubSpotContact): string | undefined => {
    const links = c.associations?.companies?.results ?? [];
    return (links.find((l) => l.type === 'contact_to_company') ?? links[0])?.id;
  };
  const missing = [...new Set(contacts.map(primary).filter((id): id is string => id !== undefined && !cache.has(id)))];
  for (let i = 0; i < missing.length; i += 100) {
    const ids = missing.slice(i, i + 100);
    const { data } = await request<{ results?: Array<{ id: string; properties?: Record<string, string | null> }> }>(
      ctx,
      {
        method: 'post',
        url: '/crm/v3/objects/companies/batch/read',
        data: { inputs: ids.map((id) => ({ id })), properties: ['name', 'domain'] },
      },
    );
    if (cache.size + ids.length > COMPANY_CACHE_LIMIT) cache.clear();
    for (const id of ids) cache.set(id, { name: null, domain: null }); // missing (207) companies are not asked again
    for (const company of data.results ?? []) {
      cache.set(company.id, { name: company.properties?.name ?? null, domain: company.properties?.domain ?? null });
    }
  }
  for (const contact of contacts) {
    const id = primary(contact);
    const company = id === undefined ? undefined : cache.get(id);
    if (id !== undefined && company) contact.company = { id, ...company };
  }
}

interface ListedPage {
  records: HubSpotContact[];
  next?: string;
  startedAt: number;
}

/** The pages of the full listing (`GET /crm/v3/objects/contacts` paged with `after`), one request each. */
async function* listPages(
  ctx: Ctx,
  after: string | undefined,
  startedAt: number | undefined,
): AsyncGenerator<ListedPage> {
  const companies = new Map<string, { name: string | null; domain: string | null }>();
  for (;;) {
    const response = await request<ListAnswer>(ctx, {
      url: '/crm/v3/objects/contacts',
      params: {
        limit: ctx.config.pageSize,
        properties: propertiesOf(ctx.config).join(','),
        archived: false,
        ...(ctx.config.companyDetails ? { associations: 'companies' } : {}),
        ...(after === undefined ? {} : { after }),
      },
    });
    // Changes made while the listing runs are read afterwards, by a search from the moment it started.
    startedAt ??= serverTime(response.headers);
    const records = resultsOf(response.data, 'contact list');
    if (ctx.config.companyDetails) await addCompanies(ctx, records, companies);
    const next = response.data.paging?.next?.after;
    if (next !== undefined && next === after) throw new SystemError(`HubSpot returned the list cursor ${next} twice`);
    yield { records, next, startedAt };
    if (next === undefined) return;
    after = next;
  }
}

/**
 * Full listing: pages are fetched ahead (up to `prefetchPages`) while the hub stores the previous batch, and
 * combined into batches of about `recordsPerBatch` contacts, each checkpointed on the cursor after its last page.
 */
async function* listAll(ctx: Ctx, state: HubSpotCheckpoint): AsyncGenerator<ContactBatch, HubSpotCheckpoint> {
  let records: HubSpotContact[] = [];
  const pages = prefetch(listPages(ctx, state.list?.after, state.list?.startedAt), ctx.config.prefetchPages);
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
  throw new SystemError('the HubSpot contact listing ended without a last page');
}

/**
 * Incremental read: searches contacts with `lastmodifieddate >= since`, ascending. After every page the window
 * moves to the last modification time seen (skipping the ids already read at that instant), so no query ever
 * pages towards the 10,000-result ceiling and contacts modified meanwhile cannot shift the pages. Only when a
 * whole page shares one instant does it page with `after` inside that instant.
 */
async function* searchChanges(ctx: Ctx, state: HubSpotCheckpoint): AsyncGenerator<ContactBatch, HubSpotCheckpoint> {
  let since = state.modified.since;
  let seen = new Set(state.modified.ids);
  let offset = 0;
  const pacer = searchPacer(ctx);
  for (;;) {
    await pacer.acquire(ctx.signal);
    const { data } = await request<SearchAnswer>(ctx, {
      method: 'post',
      url: '/crm/v3/objects/contacts/search',
      data: {
        filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(since) }] }],
        sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
        properties: propertiesOf(ctx.config),
        limit: ctx.config.searchPageSize,
        after: String(offset),
      },
    });
    const results = resultsOf(data, 'contact search');
    const fresh = results.filter((c) => !(modifiedAt(c) === since && seen.has(c.id)));
    const times = results.map(modifiedAt).filter((t) => !Number.isNaN(t));
    const latest = times.length > 0 ? Math.max(...times) : since;
    if (latest > since) {
      since = latest;
      seen = new Set(results.filter((c) => modifiedAt(c) === latest).map((c) => c.id));
      offset = 0;
    } else {
      for (const c of results) seen.add(c.id);
      offset += results.length;
    }
    const checkpoint: HubSpotCheckpoint = { ...state, modified: { since, ids: [...seen] } };
    const more = data.paging?.next?.after !== undefined && results.length > 0;
    yield { records: fresh, checkpoint };
    if (!more) return checkpoint;
    if (offset >= SEARCH_RESULT_CEILING) {
      throw new SystemError(
        `more than ${SEARCH_RESULT_CEILING} HubSpot contacts share lastmodifieddate ${new Date(since).toISOString()}; the search API cannot page past them`,
      );
    }
  }
}

/** Archived contacts (`archived=true`) archived after the watermark become deletes of their `external_id`. */
async function* archivedSince(ctx: Ctx, state: HubSpotCheckpoint): AsyncGenerator<ContactBatch, HubSpotCheckpoint> {
  const sent = new Set(state.archived.ids);
  let after = state.archivedScan?.after;
  let latest = state.archivedScan?.latest ?? state.archived.since;
  let latestIds = new Set(state.archivedScan?.latestIds ?? state.archived.ids);
  for (;;) {
    const response = await request<ListAnswer>(ctx, {
      url: '/crm/v3/objects/contacts',
      params: { limit: 100, archived: true, properties: 'email', ...(after === undefined ? {} : { after }) },
    });
    const deletedIds: string[] = [];
    for (const contact of resultsOf(response.data, 'archived contact list')) {
      const at = parseHubSpotDate(String(contact.archivedAt ?? contact.updatedAt));
      if (Number.isNaN(at) || at < state.archived.since || (at === state.archived.since && sent.has(contact.id)))
        continue;
      deletedIds.push(contact.id);
      if (at > latest) {
        latest = at;
        latestIds = new Set([contact.id]);
      } else if (at === latest) latestIds.add(contact.id);
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

export const contacts = defineStream<HubSpotConfig, HubSpotContact, HubSpotCheckpoint>({
  name: 'contacts',
  primaryKey: ['id'],
  mode: 'incremental',
  cursorField: 'lastmodifieddate',
  deletes: 'deleted-ids',
  async *read(ctx, checkpoint) {
    let state: HubSpotCheckpoint = checkpoint ?? {
      list: {},
      modified: { since: 0, ids: [] },
      archived: { since: 0, ids: [] },
    };
    if (state.list) state = yield* listAll(ctx, state);
    if (!state.archivedScan) state = yield* searchChanges(ctx, state);
    yield* archivedSince(ctx, state);
  },
  toProfile: (contact, ctx) =>
    mapContact(contact, {
      sourceId: ctx.connectionId,
      userIdProperty: ctx.config.userIdProperty,
      defaultCountry: ctx.config.defaultCountry,
    }),
  deletedIdentifier: (id, ctx) => contactExternalId(ctx.connectionId, id),
});
