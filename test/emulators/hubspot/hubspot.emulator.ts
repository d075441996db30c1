import { randomUUID } from 'node:crypto';
import { RollingWindow } from '../common/rate.js';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';
import { RecordTable, type Seed } from '../common/table.js';
import {
  batchAnswer,
  defaultPipelines,
  objectsNotFound,
  historyOf,
  HubSpotAssociations,
  HUBSPOT_OBJECT_TYPES,
  serveCrmExtras,
  type HubSpotObjectType,
  type HubSpotPipeline,
} from './crm.js';
import type { HubSpotObject } from './hubspot.data.js';
import { newWriteBackState, serveWriteBack, type HubSpotWriteBackState } from './writeback.js';

export interface HubSpotRateLimit {
  /** Requests per rolling interval (default 190, the Professional/Enterprise private-app burst). */
  max?: number;
  /** The rolling interval (default 10,000 ms). */
  intervalMs?: number;
  /** Requests per second (default max / 10, rounded up). */
  secondly?: number;
  /** Requests per day (default 1,000,000). */
  daily?: number;
}

export interface HubSpotEmulatorOptions extends EmulatorOptions {
  /** Accepted bearer tokens (default `['hubspot-demo-token']`). */
  tokens?: string[];
  contacts?: Seed<HubSpotObject>;
  companies?: Seed<HubSpotObject>;
  deals?: Seed<HubSpotObject>;
  line_items?: Seed<HubSpotObject>;
  tickets?: Seed<HubSpotObject>;
  emails?: Seed<HubSpotObject>;
  calls?: Seed<HubSpotObject>;
  meetings?: Seed<HubSpotObject>;
  /** Associations to create at start: `[fromType, fromId, toType, toId]` (stored both ways). */
  associations?: Iterable<readonly [HubSpotObjectType, string, HubSpotObjectType, string]>;
  /** The account's id, answered by `GET /account-info/v3/details` (default 62515). */
  portalId?: number;
  /** `false` turns the burst limits off (search keeps its own limit unless `searchPerSecond` is false too). */
  rateLimit?: HubSpotRateLimit | false;
  /** Search requests per second per account (default 5). */
  searchPerSecond?: number | false;
}

/** Objects of one type, with the mutations tests use to drive incremental syncs. */
export class HubSpotObjectStore {
  readonly table = new RecordTable<HubSpotObject>((o) => ({
    id: o.id,
    modifiedMs: Date.parse(o.updatedAt),
    archived: o.archived,
  }));
  private nextId = 1;

  constructor(
    readonly objectType: HubSpotObjectType,
    seed: Seed<HubSpotObject> | undefined,
  ) {
    if (seed) this.table.load(seed);
    for (let row = 0; row < this.table.count; row++) {
      const n = Number(this.table.idAt(row));
      if (Number.isInteger(n) && n >= this.nextId) this.nextId = n + 1;
    }
  }

  /** The property holding the modification time (`lastmodifieddate` for contacts, `hs_lastmodifieddate` otherwise). */
  get modifiedProperty(): string {
    return this.objectType === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate';
  }

  get count(): number {
    return this.table.count;
  }

  get(id: string): HubSpotObject | undefined {
    const row = this.table.rowOf(id);
    return row === undefined ? undefined : this.table.get(row);
  }

  private require(id: string): { row: number; object: HubSpotObject } {
    const row = this.table.rowOf(id);
    if (row === undefined) throw new Error(`no ${this.objectType} ${id}`);
    return { row, object: this.table.get(row) };
  }

  /** Creates an object; returns it. `at` is its creation (and modification) time, default now. */
  create(properties: Record<string, string | null>, at = Date.now(), companyIds?: string[]): HubSpotObject {
    const id = String(this.nextId++);
    const iso = new Date(at).toISOString();
    const object: HubSpotObject = {
      id,
      properties: { ...properties, hs_object_id: id, createdate: iso, [this.modifiedProperty]: iso },
      createdAt: iso,
      updatedAt: iso,
      archived: false,
      ...(companyIds ? { companyIds } : {}),
    };
    this.table.insert(object);
    return object;
  }

  /**
   * Changes properties and bumps `lastmodifieddate`/`updatedAt` to `at` (default now); each changed value joins
   * the property's history (`propertiesWithHistory`).
   */
  update(id: string, properties: Record<string, string | null>, at = Date.now()): HubSpotObject {
    const { row, object } = this.require(id);
    const iso = new Date(at).toISOString();
    const history = { ...object.history };
    for (const [name, value] of Object.entries(properties)) {
      const before = history[name] ?? [{ value: object.properties[name] ?? null, timestamp: object.createdAt }];
      if (before[0].value !== value) history[name] = [{ value, timestamp: iso }, ...before];
    }
    const next: HubSpotObject = {
      ...object,
      properties: { ...object.properties, ...properties, [this.modifiedProperty]: iso },
      updatedAt: iso,
      history,
    };
    this.table.replace(row, next);
    return next;
  }

  /** Deletes an object for good (GDPR delete): it is gone from lists, search and the archive's properties. */
  purge(id: string): void {
    const { row, object } = this.require(id);
    const iso = new Date().toISOString();
    this.table.replace(row, {
      id,
      properties: {},
      createdAt: object.createdAt,
      updatedAt: iso,
      archived: true,
      archivedAt: iso,
    });
  }

  /** Archives (soft-deletes) an object: it leaves the default list and search, and appears with `archived=true`. */
  archive(id: string, at = Date.now()): HubSpotObject {
    const { row, object } = this.require(id);
    const iso = new Date(at).toISOString();
    const next: HubSpotObject = { ...object, archived: true, archivedAt: iso, updatedAt: iso };
    this.table.replace(row, next);
    return next;
  }
}

export interface HubSpotState {
  contacts: HubSpotObjectStore;
  companies: HubSpotObjectStore;
  deals: HubSpotObjectStore;
  line_items: HubSpotObjectStore;
  tickets: HubSpotObjectStore;
  emails: HubSpotObjectStore;
  calls: HubSpotObjectStore;
  meetings: HubSpotObjectStore;
  /** Associations between records (associations v4), both directions. */
  associations: HubSpotAssociations;
  /** Pipelines and their stages, per object type (`GET /crm/v3/pipelines/{deals|tickets}`). */
  pipelines: Record<'deals' | 'tickets', HubSpotPipeline[]>;
  /** What Plexus writes back: contact properties, lists and GDPR deletions. */
  writeBack: HubSpotWriteBackState;
  portalId: number;
  /** Accepted tokens; delete one to make it invalid. */
  tokens: Set<string>;
  /** Requests counted against the daily limit so far. */
  dailyUsed(): number;
  /** The day rolls over: nothing used of the daily limit, which becomes `max` when given. */
  resetDaily(max?: number): void;
  /** Rate-limited (429) answers sent so far, by policy. */
  throttled: Record<'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY' | 'SEARCH', number>;
}

export type HubSpotEmulator = Emulator<HubSpotState>;

const SEARCH_MAX_LIMIT = 200;
const SEARCH_MAX_RESULTS = 10_000;
const LIST_MAX_LIMIT = 100;
const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
];
const DATE_PROPERTIES = new Set(['createdate', 'lastmodifieddate', 'hs_lastmodifieddate']);
const DEFAULT_PROPERTIES: Record<HubSpotObjectType, string[]> = {
  contacts: ['firstname', 'lastname', 'email'],
  companies: ['name', 'domain'],
  deals: ['dealname', 'amount', 'closedate', 'pipeline', 'dealstage'],
  line_items: ['name', 'quantity', 'price', 'amount'],
  tickets: ['subject', 'content', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_priority'],
  emails: ['hs_timestamp', 'hs_email_subject', 'hs_email_direction'],
  calls: ['hs_timestamp', 'hs_call_title', 'hs_call_direction'],
  meetings: ['hs_timestamp', 'hs_meeting_title', 'hs_meeting_outcome'],
};

interface Filter {
  propertyName: string;
  operator: string;
  value?: string;
  highValue?: string;
  values?: string[];
}

/** Starts a HubSpot CRM v3 emulator (contacts, companies, search, associations, rate limits, faults). */
export async function startHubSpot(options: HubSpotEmulatorOptions = {}): Promise<HubSpotEmulator> {
  const rate = options.rateLimit === false ? undefined : options.rateLimit;
  const max = rate?.max ?? 190;
  const burst = options.rateLimit === false ? undefined : new RollingWindow(max, rate?.intervalMs ?? 10_000);
  const secondly =
    options.rateLimit === false ? undefined : new RollingWindow(rate?.secondly ?? Math.ceil(max / 10), 1_000);
  let dailyMax = rate?.daily ?? 1_000_000;
  const search = options.searchPerSecond === false ? undefined : new RollingWindow(options.searchPerSecond ?? 5, 1_000);
  let dailyUsed = 0;

  const associations = new HubSpotAssociations();
  for (const [fromType, fromId, toType, toId] of options.associations ?? []) {
    associations.associate(fromType, fromId, toType, toId);
  }
  const state: HubSpotState = {
    contacts: new HubSpotObjectStore('contacts', options.contacts),
    companies: new HubSpotObjectStore('companies', options.companies),
    deals: new HubSpotObjectStore('deals', options.deals),
    line_items: new HubSpotObjectStore('line_items', options.line_items),
    tickets: new HubSpotObjectStore('tickets', options.tickets),
    emails: new HubSpotObjectStore('emails', options.emails),
    calls: new HubSpotObjectStore('calls', options.calls),
    meetings: new HubSpotObjectStore('meetings', options.meetings),
    associations,
    pipelines: defaultPipelines(),
    writeBack: newWriteBackState(),
    portalId: options.portalId ?? 62515,
    tokens: new Set(options.tokens ?? ['hubspot-demo-token']),
    dailyUsed: () => dailyUsed,
    resetDaily: (max) => {
      dailyUsed = 0;
      if (max !== undefined) dailyMax = max;
    },
    throttled: { TEN_SECONDLY_ROLLING: 0, SECONDLY: 0, DAILY: 0, SEARCH: 0 },
  };

  const error = (status: number, category: string, message: string, extra: Record<string, unknown> = {}): Reply => ({
    status,
    json: { status: 'error', message, correlationId: randomUUID(), category, ...extra },
  });

  /** The budget's headers as the window ending at `now` (when the request arrived) stands. */
  const rateHeaders = (now = Date.now()): Record<string, string> =>
    burst && secondly
      ? {
          'X-HubSpot-RateLimit-Daily': String(dailyMax),
          'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, dailyMax - dailyUsed)),
          'X-HubSpot-RateLimit-Interval-Milliseconds': String(burst.windowMs),
          'X-HubSpot-RateLimit-Max': String(burst.max),
          'X-HubSpot-RateLimit-Remaining': String(burst.remaining(now)),
          'X-HubSpot-RateLimit-Secondly': String(secondly.max),
          'X-HubSpot-RateLimit-Secondly-Remaining': String(secondly.remaining(now)),
        }
      : {};

  const rateLimited = (
    policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY',
    headers: Record<string, string>,
  ): Reply => ({
    status: 429,
    headers,
    json: {
      status: 'error',
      message: `You have reached your ${policy.toLowerCase()} limit.`,
      errorType: 'RATE_LIMIT',
      correlationId: randomUUID(),
      policyName: policy,
    },
  });

  const isSearch = (req: EmulatorRequest) => req.method === 'POST' && /\/search$/.test(req.path);

  const emulator = await startEmulator<HubSpotState>(
    {
      throttled: (req) =>
        isSearch(req)
          ? rateLimited('SECONDLY', {})
          : rateLimited('TEN_SECONDLY_ROLLING', {
              ...rateHeaders(req.receivedAt),
              'X-HubSpot-RateLimit-Remaining': '0',
            }),
      serverError: (_req, status) =>
        error(status, 'INTERNAL_ERROR', status === 502 || status === 504 ? 'Bad gateway' : 'internal error'),
      expiredToken: () =>
        error(401, 'EXPIRED_AUTHENTICATION', 'The OAuth token used to make this call expired 2 hour(s) ago.', {
          context: { 'expire time': [new Date(Date.now() - 2 * 3_600_000).toISOString()] },
        }),
      handle(req) {
        const auth = req.header('authorization');
        if (!auth) {
          return error(
            401,
            'INVALID_AUTHENTICATION',
            'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
          );
        }
        const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
        if (!token || !state.tokens.has(token)) {
          return error(
            401,
            'INVALID_AUTHENTICATION',
            'Authentication credentials not found. This API supports both API Key and OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
          );
        }

        const now = req.receivedAt; // a request counts from when it arrived
        if (dailyUsed >= dailyMax) {
          state.throttled.DAILY++;
          return rateLimited('DAILY', rateHeaders(now));
        }
        let headers: Record<string, string> = {};
        if (isSearch(req)) {
          // Search has its own per-second limit and sends no rate-limit headers.
          if (search && !search.tryTake(now)) {
            state.throttled.SEARCH++;
            return rateLimited('SECONDLY', {});
          }
        } else if (burst && secondly) {
          if (burst.used(now) >= burst.max) {
            state.throttled.TEN_SECONDLY_ROLLING++;
            return rateLimited('TEN_SECONDLY_ROLLING', rateHeaders(now));
          }
          if (!secondly.tryTake(now)) {
            state.throttled.SECONDLY++;
            return rateLimited('SECONDLY', rateHeaders(now));
          }
          burst.tryTake(now);
        }
        dailyUsed++;
        if (!isSearch(req)) headers = rateHeaders(now);

        const reply = route(req);
        return { ...reply, headers: { ...headers, ...reply.headers } };
      },
    },
    state,
    options,
  );

  function route(req: EmulatorRequest): Reply {
    const crm = serveCrmExtras(req, state, error);
    if (crm) return crm;
    const writeBack = serveWriteBack(req, state, error);
    if (writeBack) return writeBack;
    const match = new RegExp(`^/crm/v3/objects/(${HUBSPOT_OBJECT_TYPES.join('|')})(?:/([^/]+))?(?:/([^/]+))?$`).exec(
      req.path,
    );
    if (!match) return error(404, 'OBJECT_NOT_FOUND', `No route for ${req.method} ${req.path}`);
    const store = state[match[1] as HubSpotObjectType];
    const [, , first, second] = match;
    if (req.method === 'GET' && first === undefined) return list(req, store);
    if (req.method === 'POST' && first === 'search' && second === undefined) return searchObjects(req, store);
    if (req.method === 'POST' && first === 'batch' && second === 'read') return batchRead(req, store);
    if (req.method === 'GET' && first !== undefined && second === undefined) return readOne(req, store, first);
    return error(405, 'VALIDATION_ERROR', `Method ${req.method} not allowed on ${req.path}`);
  }

  function requestedProperties(req: EmulatorRequest, store: HubSpotObjectStore): string[] {
    const raw = req.query
      .getAll('properties')
      .flatMap((p) => p.split(','))
      .map((p) => p.trim())
      .filter(Boolean);
    return raw.length > 0 ? raw : DEFAULT_PROPERTIES[store.objectType];
  }

  function render(
    object: HubSpotObject,
    store: HubSpotObjectStore,
    properties: string[],
    withCompanies = false,
    withHistory: string[] = [],
  ) {
    const selected: Record<string, string | null> = {};
    for (const name of new Set([...properties, 'createdate', store.modifiedProperty, 'hs_object_id'])) {
      selected[name] = object.properties[name] ?? null;
    }
    return {
      id: object.id,
      properties: selected,
      ...(withHistory.length > 0 ? { propertiesWithHistory: historyOf(object, withHistory) } : {}),
      createdAt: object.createdAt,
      updatedAt: object.updatedAt,
      archived: object.archived,
      ...(object.archivedAt ? { archivedAt: object.archivedAt } : {}),
      ...(withCompanies && object.companyIds?.length
        ? {
            associations: {
              companies: { results: object.companyIds.map((id) => ({ id, type: 'contact_to_company' })) },
            },
          }
        : {}),
    };
  }

  /** Corrupts one record of a page when a `malformed-record` fault is armed. */
  function maybeMalform(req: EmulatorRequest, results: Array<Record<string, unknown>>): void {
    if (results.length === 0 || !req.takeFault('malformed-record')) return;
    const index = Math.floor(results.length / 2);
    const id = String(results[index].id);
    results[index] = { id, properties: null, createdAt: 'not-a-date', updatedAt: 'not-a-date', archived: 'no' };
    req.noteFault(id);
  }

  function list(req: EmulatorRequest, store: HubSpotObjectStore): Reply {
    const limitParam = req.query.get('limit');
    const limit = limitParam === null ? 10 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX_LIMIT) {
      return error(400, 'VALIDATION_ERROR', `limit must be between 1 and ${LIST_MAX_LIMIT}, got ${limitParam}`, {
        errors: [{ message: `limit must be between 1 and ${LIST_MAX_LIMIT}`, in: 'limit' }],
      });
    }
    const archivedParam = req.query.get('archived') ?? 'false';
    if (archivedParam !== 'true' && archivedParam !== 'false') {
      return error(
        400,
        'VALIDATION_ERROR',
        `Unable to process JSON: archived must be true or false, got ${archivedParam}`,
      );
    }
    const archived = archivedParam === 'true';
    const after = req.query.get('after');
    const withCompanies = req.query
      .getAll('associations')
      .flatMap((a) => a.split(','))
      .includes('companies');
    const properties = requestedProperties(req, store);
    const withHistory = req.query
      .getAll('propertiesWithHistory')
      .flatMap((p) => p.split(','))
      .filter(Boolean);
    const order = store.table.byId();
    let position = after === null ? 0 : store.table.idLowerBound(after, true);
    const results: Array<Record<string, unknown>> = [];
    let nextAfter: string | undefined;
    for (; position < order.length; position++) {
      const row = order[position];
      if (store.table.isArchived(row) !== archived) continue;
      if (results.length === limit) {
        nextAfter = store.table.idAt(row);
        break;
      }
      results.push(
        render(store.table.get(row), store, properties, withCompanies && store.objectType === 'contacts', withHistory),
      );
    }
    maybeMalform(req, results);
    const body: Record<string, unknown> = { results };
    if (nextAfter !== undefined) {
      const link = new URL(req.url.href);
      link.searchParams.set('after', nextAfter);
      body.paging = { next: { after: nextAfter, link: link.href } };
    }
    return { status: 200, json: body };
  }

  function readOne(req: EmulatorRequest, store: HubSpotObjectStore, id: string): Reply {
    const object = store.get(id);
    const archived = req.query.get('archived') === 'true';
    if (!object || object.archived !== archived) {
      return error(404, 'OBJECT_NOT_FOUND', 'resource not found');
    }
    return { status: 200, json: render(object, store, requestedProperties(req, store)) };
  }

  function batchRead(req: EmulatorRequest, store: HubSpotObjectStore): Reply {
    let body: { inputs?: Array<{ id?: unknown }>; properties?: unknown; propertiesWithHistory?: unknown };
    try {
      body = req.json() as typeof body;
    } catch {
      return error(
        400,
        'VALIDATION_ERROR',
        'Invalid input JSON on line 1, column 1: Cannot build BatchReadInputSimplePublicObjectId',
      );
    }
    const inputs = Array.isArray(body.inputs) ? body.inputs : [];
    if (inputs.length > 100) return error(400, 'VALIDATION_ERROR', 'Batch size must be 100 or fewer inputs.');
    const properties = Array.isArray(body.properties)
      ? body.properties.map(String)
      : DEFAULT_PROPERTIES[store.objectType];
    const withHistory = Array.isArray(body.propertiesWithHistory) ? body.propertiesWithHistory.map(String) : [];
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const object = store.get(String(input.id));
      if (object && !object.archived) results.push(render(object, store, properties, false, withHistory));
      else missing.push(String(input.id));
    }
    return batchAnswer(results, objectsNotFound(store.objectType, missing));
  }

  function searchObjects(req: EmulatorRequest, store: HubSpotObjectStore): Reply {
    let body: Record<string, unknown>;
    try {
      body = req.json() as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return error(
        400,
        'VALIDATION_ERROR',
        'Invalid input JSON on line 1, column 1: Cannot build PublicObjectSearchRequest',
      );
    }
    const limit = body.limit === undefined ? 10 : Number(body.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_MAX_LIMIT) {
      return error(
        400,
        'VALIDATION_ERROR',
        `limit must be between 1 and ${SEARCH_MAX_LIMIT}, got ${String(body.limit)}`,
      );
    }
    const afterValue: unknown = body.after ?? '0';
    const afterRaw = typeof afterValue === 'string' || typeof afterValue === 'number' ? String(afterValue) : '?';
    if (!/^\d+$/.test(afterRaw))
      return error(400, 'VALIDATION_ERROR', `after must be a non-negative integer, got ${afterRaw}`);
    const after = Number(afterRaw);
    // Paging past the 10,000th result of a query fails; clients must narrow the window instead.
    if (after >= SEARCH_MAX_RESULTS) {
      return error(
        400,
        'VALIDATION_ERROR',
        `There was a problem with the request: search results are limited to ${SEARCH_MAX_RESULTS} per query (after=${after}).`,
      );
    }

    const groups = (Array.isArray(body.filterGroups) ? body.filterGroups : []) as Array<{ filters?: Filter[] }>;
    if (groups.length > 5) return error(400, 'VALIDATION_ERROR', 'Too many filter groups: at most 5 are allowed.');
    for (const group of groups) {
      const filters = group.filters ?? [];
      if (!Array.isArray(filters) || filters.length > 6) {
        return error(400, 'VALIDATION_ERROR', 'Too many filters in a group: at most 6 are allowed.');
      }
      for (const filter of filters) {
        if (typeof filter.propertyName !== 'string' || !OPERATORS.includes(filter.operator)) {
          return error(400, 'VALIDATION_ERROR', `Invalid filter: ${JSON.stringify(filter)}`);
        }
        if (DATE_PROPERTIES.has(filter.propertyName)) {
          for (const v of [filter.value, filter.highValue, ...(filter.values ?? [])]) {
            if (v !== undefined && Number.isNaN(toMs(v))) {
              return error(400, 'VALIDATION_ERROR', `${v} is not a valid date value for ${filter.propertyName}`);
            }
          }
        }
      }
    }
    const sorts = (Array.isArray(body.sorts) ? body.sorts : []) as Array<
      { propertyName?: string; direction?: string } | string
    >;
    const sort =
      sorts[0] === undefined ? undefined : typeof sorts[0] === 'string' ? { propertyName: sorts[0] } : sorts[0];
    const descending = sort?.direction === 'DESCENDING';
    const properties = Array.isArray(body.properties)
      ? body.properties.map(String)
      : DEFAULT_PROPERTIES[store.objectType];

    const table = store.table;
    const modifiedProp = store.modifiedProperty;
    const valueOf = (row: number, name: string, cache: { object?: HubSpotObject }): string | null => {
      if (name === modifiedProp) return new Date(table.modifiedAt(row)).toISOString();
      if (name === 'hs_object_id') return table.idAt(row);
      cache.object ??= table.get(row);
      return cache.object.properties[name] ?? null;
    };
    const matches = (row: number): boolean => {
      if (table.isArchived(row)) return false;
      if (groups.length === 0) return true;
      const cache: { object?: HubSpotObject } = {};
      return groups.some((g) =>
        (g.filters ?? []).every((f) =>
          testFilter(f, f.propertyName === modifiedProp ? table.modifiedAt(row) : valueOf(row, f.propertyName, cache)),
        ),
      );
    };

    let rows: ArrayLike<number>;
    let start = 0;
    let end: number;
    if (sort === undefined || sort.propertyName === modifiedProp) {
      rows = sort === undefined ? table.byId() : table.byModified();
      end = rows.length;
      if (sort !== undefined) {
        // Narrow to the positions the modification-time filters allow (every group must bound it).
        const bounds = groups.map((g) => modifiedBounds(g.filters ?? [], modifiedProp));
        if (bounds.length > 0 && bounds.every((b) => b.lo !== undefined)) {
          start = Math.min(...bounds.map((b) => table.modifiedLowerBound(b.lo!.ms, !b.lo!.inclusive)));
        }
        if (bounds.length > 0 && bounds.every((b) => b.hi !== undefined)) {
          end = Math.max(...bounds.map((b) => table.modifiedLowerBound(b.hi!.ms, b.hi!.inclusive)));
        }
      }
    } else {
      const cache = new Map<number, string | null>();
      const all: number[] = [];
      for (let row = 0; row < table.count; row++) if (matches(row)) all.push(row);
      const name = sort.propertyName ?? 'hs_object_id';
      const key = (row: number) => {
        if (!cache.has(row)) cache.set(row, valueOf(row, name, {}));
        return cache.get(row) ?? '';
      };
      all.sort((a, b) => compareValues(key(a), key(b), DATE_PROPERTIES.has(name)) || table.compareRowsById(a, b));
      rows = all;
      end = all.length;
    }

    let total = 0;
    const results: Array<Record<string, unknown>> = [];
    for (let i = 0; i < end - start; i++) {
      const row = rows[descending ? end - 1 - i : start + i];
      if (!matches(row)) continue;
      if (total >= after && total < SEARCH_MAX_RESULTS && results.length < limit)
        results.push(render(table.get(row), store, properties));
      total++;
    }
    maybeMalform(req, results);
    const answer: Record<string, unknown> = { total, results };
    if (after + results.length < total) answer.paging = { next: { after: String(after + results.length) } };
    return { status: 200, json: answer };
  }

  return emulator;
}

function toMs(value: string | number): number {
  if (typeof value === 'number') return value;
  if (/^-?\d+$/.test(value)) return Number(value);
  return Date.parse(value);
}

function compareValues(a: string | number, b: string | number, dates: boolean): number {
  if (dates) return toMs(a) - toMs(b);
  const an = Number(a);
  const bn = Number(b);
  if (a !== '' && b !== '' && !Number.isNaN(an) && !Number.isNaN(bn)) return an - bn;
  const as = String(a).toLowerCase();
  const bs = String(b).toLowerCase();
  return as < bs ? -1 : as > bs ? 1 : 0;
}

/** Evaluates one search filter against a value (a number is a modification time in ms). */
function testFilter(filter: Filter, value: string | number | null): boolean {
  const dates = typeof value === 'number' || DATE_PROPERTIES.has(filter.propertyName);
  const cmp = (other: string | undefined) =>
    value === null || other === undefined ? NaN : compareValues(value, other, dates);
  switch (filter.operator) {
    case 'HAS_PROPERTY':
      return value !== null && value !== '';
    case 'NOT_HAS_PROPERTY':
      return value === null || value === '';
    case 'EQ':
      return cmp(filter.value) === 0;
    case 'NEQ':
      return !(cmp(filter.value) === 0);
    case 'LT':
      return cmp(filter.value) < 0;
    case 'LTE':
      return cmp(filter.value) <= 0;
    case 'GT':
      return cmp(filter.value) > 0;
    case 'GTE':
      return cmp(filter.value) >= 0;
    case 'BETWEEN':
      return cmp(filter.value) >= 0 && cmp(filter.highValue) <= 0;
    case 'IN':
      return (filter.values ?? []).some((v) => cmp(v) === 0);
    case 'NOT_IN':
      return !(filter.values ?? []).some((v) => cmp(v) === 0);
    default:
      return false;
  }
}

/** The modification-time range a group of AND-ed filters allows. */
function modifiedBounds(
  filters: Filter[],
  property: string,
): { lo?: { ms: number; inclusive: boolean }; hi?: { ms: number; inclusive: boolean } } {
  let lo: { ms: number; inclusive: boolean } | undefined;
  let hi: { ms: number; inclusive: boolean } | undefined;
  const raise = (ms: number, inclusive: boolean) => {
    if (!lo || ms > lo.ms || (ms === lo.ms && !inclusive)) lo = { ms, inclusive };
  };
  const lower = (ms: number, inclusive: boolean) => {
    if (!hi || ms < hi.ms || (ms === hi.ms && !inclusive)) hi = { ms, inclusive };
  };
  for (const f of filters) {
    if (f.propertyName !== property || f.value === undefined) continue;
    const ms = toMs(f.value);
    if (f.operator === 'GTE' || f.operator === 'BETWEEN' || f.operator === 'EQ') raise(ms, true);
    if (f.operator === 'GT') raise(ms, false);
    if (f.operator === 'LTE' || f.operator === 'EQ') lower(ms, true);
    if (f.operator === 'LT') lower(ms, false);
    if (f.operator === 'BETWEEN' && f.highValue !== undefined) lower(toMs(f.highValue), true);
  }
  return { lo, hi };
}
