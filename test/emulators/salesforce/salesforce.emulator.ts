import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';
import type { Seed } from '../common/table.js';
import { SALESFORCE_OBJECTS, type SalesforceObject, type SalesforceRecord } from './salesforce.data.js';
import { bulkQueryJobs, type BulkJob } from './salesforce.bulk.js';
import { recordWrites } from './salesforce.collections.js';
import { QueryEngine, type Selection } from './salesforce.query.js';
import { SalesforceObjectStore } from './salesforce.store.js';

export { SalesforceObjectStore } from './salesforce.store.js';
export type { BulkJob, BulkJobState } from './salesforce.bulk.js';

export interface SalesforceEmulatorOptions extends EmulatorOptions {
  /** Accepted session tokens (`Authorization: Bearer <token>`; default `['salesforce-demo-token']`). */
  tokens?: string[];
  contacts?: Seed<SalesforceRecord>;
  leads?: Seed<SalesforceRecord>;
  opportunities?: Seed<SalesforceRecord>;
  contactRoles?: Seed<SalesforceRecord>;
  cases?: Seed<SalesforceRecord>;
  tasks?: Seed<SalesforceRecord>;
  emailMessages?: Seed<SalesforceRecord>;
  campaigns?: Seed<SalesforceRecord>;
  campaignMembers?: Seed<SalesforceRecord>;
  /** API requests allowed per 24 h (default 100,000); beyond → 403 REQUEST_LIMIT_EXCEEDED. */
  dailyApiLimit?: number;
  /** False for a single-currency org: no `CurrencyIsoCode` field (default true). */
  multiCurrency?: boolean;
  /** Bulk API 2.0: status reads answered `InProgress` before a query job completes (default 1). */
  bulkPollsBeforeComplete?: number;
  /** Bulk API 2.0: rows per results page when the request sets no `maxRecords` (default 50,000). */
  bulkDefaultPageSize?: number;
}

const MAX_OPEN_CURSORS = 50;

export interface SalesforceState {
  objects: Record<SalesforceObject, SalesforceObjectStore>;
  contacts: SalesforceObjectStore;
  leads: SalesforceObjectStore;
  opportunities: SalesforceObjectStore;
  contactRoles: SalesforceObjectStore;
  cases: SalesforceObjectStore;
  tasks: SalesforceObjectStore;
  emailMessages: SalesforceObjectStore;
  campaigns: SalesforceObjectStore;
  campaignMembers: SalesforceObjectStore;
  /** Bulk API 2.0 query jobs by id (set a job's `state` to `Failed` to simulate a failed job). */
  bulkJobs: Map<string, BulkJob>;
  tokens: Set<string>;
  /** API requests counted today; set it to simulate a spent budget. */
  apiUsage: { used: number; limit: number };
}

export type SalesforceEmulator = Emulator<SalesforceState>;

interface Cursor {
  version: string;
  selection: Selection;
}

/**
 * Starts a Salesforce emulator: REST `query` / `queryAll` with `nextRecordsUrl` cursors and parent-to-child
 * subqueries, Bulk API 2.0 query jobs with CSV results, sObject Collections writes, `describe`, the org's daily
 * request allowance and fault injection.
 */
export async function startSalesforce(options: SalesforceEmulatorOptions = {}): Promise<SalesforceEmulator> {
  const seeds: Record<SalesforceObject, Seed<SalesforceRecord> | undefined> = {
    Contact: options.contacts,
    Lead: options.leads,
    Opportunity: options.opportunities,
    OpportunityContactRole: options.contactRoles,
    Case: options.cases,
    Task: options.tasks,
    EmailMessage: options.emailMessages,
    Campaign: options.campaigns,
    CampaignMember: options.campaignMembers,
  };
  const objects = Object.fromEntries(
    SALESFORCE_OBJECTS.map((o) => [o, new SalesforceObjectStore(o, seeds[o])]),
  ) as Record<SalesforceObject, SalesforceObjectStore>;
  const state: SalesforceState = {
    objects,
    contacts: objects.Contact,
    leads: objects.Lead,
    opportunities: objects.Opportunity,
    contactRoles: objects.OpportunityContactRole,
    cases: objects.Case,
    tasks: objects.Task,
    emailMessages: objects.EmailMessage,
    campaigns: objects.Campaign,
    campaignMembers: objects.CampaignMember,
    bulkJobs: new Map(),
    tokens: new Set(options.tokens ?? ['salesforce-demo-token']),
    apiUsage: { used: 0, limit: options.dailyApiLimit ?? 100_000 },
  };
  const engine = new QueryEngine(
    objects,
    new Set(options.multiCurrency === false ? ['Opportunity.CurrencyIsoCode'] : []),
  );
  const cursors = new Map<string, Cursor>();
  let cursorSeq = 0;

  const errors = (status: number, errorCode: string, message: string, extra: Record<string, string> = {}): Reply => ({
    status,
    headers: extra,
    json: [{ message, errorCode }],
  });
  const limitInfo = () => ({ 'Sforce-Limit-Info': `api-usage=${state.apiUsage.used}/${state.apiUsage.limit}` });
  const bulk = bulkQueryJobs(
    engine,
    objects,
    {
      pollsBeforeComplete: options.bulkPollsBeforeComplete ?? 1,
      defaultPageSize: options.bulkDefaultPageSize ?? 50_000,
    },
    errors,
    state.bulkJobs,
  );
  const writes = recordWrites(objects, errors);

  return startEmulator<SalesforceState>(
    {
      throttled: () => errors(403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.', limitInfo()),
      serverError: (_req, status) =>
        status === 503
          ? errors(503, 'SERVER_UNAVAILABLE', 'Server unavailable; please try again later.')
          : errors(
              status,
              'UNKNOWN_EXCEPTION',
              'An unexpected error occurred. Please include this ErrorId if you contact support: 1920564713-101 (-1238422143)',
            ),
      expiredToken: () => errors(401, 'INVALID_SESSION_ID', 'Session expired or invalid'),
      handle(req) {
        const token = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(req.header('authorization') ?? '')?.[1];
        if (!token || !state.tokens.has(token)) return errors(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
        if (state.apiUsage.used >= state.apiUsage.limit) {
          return errors(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', limitInfo());
        }
        state.apiUsage.used++;
        if (req.takeFault('permission')) {
          return errors(403, 'INSUFFICIENT_ACCESS', 'insufficient access rights on object id', limitInfo());
        }
        const reply = route(req);
        return { ...reply, headers: { ...limitInfo(), ...reply.headers } };
      },
    },
    state,
    options,
  );

  function route(req: EmulatorRequest): Reply {
    const served = bulk(req) ?? writes(req);
    if (served) return served;
    const match = /^\/services\/data\/(v\d{2,3}\.\d)\/(query|queryAll)(?:\/([^/]+))?\/?$/.exec(req.path);
    if (!match || req.method !== 'GET') {
      return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    const [, version, kind, locator] = match;
    if (Number(version.slice(1)) < 20) return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
    const batchSize = parseBatchSize(req.header('sforce-query-options'));
    if (locator !== undefined) {
      const dash = locator.lastIndexOf('-');
      const cursor = dash > 0 ? cursors.get(locator.slice(0, dash)) : undefined;
      const offset = Number(locator.slice(dash + 1));
      if (!cursor || !Number.isInteger(offset) || offset < 0 || offset > cursor.selection.rows.length) {
        return errors(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      }
      return page(req, locator.slice(0, dash), cursor, offset, batchSize);
    }
    const soql = req.query.get('q');
    if (!soql) return errors(400, 'MALFORMED_QUERY', 'unexpected end of query');
    const resolved = engine.resolve(soql);
    if ('errorCode' in resolved) return errors(resolved.status, resolved.errorCode, resolved.message);
    const selection = engine.select(resolved, kind === 'queryAll');
    const id = `01g${String(++cursorSeq).padStart(12, '0')}AAA`;
    cursors.set(id, { version, selection });
    if (cursors.size > MAX_OPEN_CURSORS) cursors.delete(cursors.keys().next().value!);
    return page(req, id, cursors.get(id)!, 0, batchSize);
  }

  function page(req: EmulatorRequest, id: string, cursor: Cursor, offset: number, batchSize: number): Reply {
    const { query, rows } = cursor.selection;
    const store = objects[query.object];
    const end = Math.min(rows.length, offset + batchSize);
    const records: Array<Record<string, unknown>> = [];
    const url = (type: string, recordId: unknown) =>
      `/services/data/${cursor.version}/sobjects/${type}/${String(recordId)}`;
    for (let p = offset; p < end; p++) {
      const record = store.table.get(rows[p]);
      const out: Record<string, unknown> = { attributes: { type: query.object, url: url(query.object, record.Id) } };
      for (const f of query.fields) out[f] = record[f] ?? null;
      for (const sub of query.subqueries) {
        const children = engine.children(sub, record.Id);
        out[sub.relationship] =
          children.length === 0
            ? null
            : {
                totalSize: children.length,
                done: true,
                records: children.map((child) => ({
                  attributes: { type: sub.child, url: url(sub.child, child.Id) },
                  ...Object.fromEntries(sub.fields.map((f) => [f, child[f] ?? null])),
                })),
              };
      }
      records.push(out);
    }
    if (records.length > 0 && req.takeFault('malformed-record')) {
      const index = Math.floor(records.length / 2);
      const bad = records[index];
      records[index] = {
        attributes: bad.attributes,
        Id: bad.Id ?? null,
        SystemModstamp: 'not-a-date',
        Email: { value: 42 },
      };
      req.noteFault(String(bad.Id));
    }
    const done = end >= rows.length;
    const body: Record<string, unknown> = { totalSize: rows.length, done };
    if (!done) body.nextRecordsUrl = `/services/data/${cursor.version}/query/${id}-${end}`;
    else cursors.delete(id);
    body.records = records;
    return { status: 200, json: body };
  }
}

/** `Sforce-Query-Options: batchSize=N` — 200 to 2,000, default 2,000; out-of-range values are clamped. */
function parseBatchSize(header: string | undefined): number {
  const n = Number(/batchSize\s*=\s*(\d+)/i.exec(header ?? '')?.[1] ?? 2000);
  return Math.min(2000, Math.max(200, n));
}
