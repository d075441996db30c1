import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';
import { RecordTable, type Seed } from '../common/table.js';
import {
  SALESFORCE_FIELDS,
  salesforceId,
  sfDateTime,
  type SalesforceObject,
  type SalesforceRecord,
} from './salesforce.data.js';
import { parseSoql, SoqlError, type SoqlQuery } from './soql.js';

export interface SalesforceEmulatorOptions extends EmulatorOptions {
  /** Accepted session tokens (`Authorization: Bearer <token>`; default `['salesforce-demo-token']`). */
  tokens?: string[];
  contacts?: Seed<SalesforceRecord>;
  leads?: Seed<SalesforceRecord>;
  /** API requests allowed per 24 h (default 100,000); beyond → 403 REQUEST_LIMIT_EXCEEDED. */
  dailyApiLimit?: number;
}

const DATE_FIELDS = new Set(['CreatedDate', 'LastModifiedDate', 'SystemModstamp']);
const MAX_OPEN_CURSORS = 50;

export class SalesforceObjectStore {
  readonly table = new RecordTable<SalesforceRecord>((r) => ({
    id: r.Id,
    modifiedMs: Date.parse(r.SystemModstamp.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')),
    archived: r.IsDeleted === true,
  }));
  private nextNumber: number;

  constructor(
    readonly object: SalesforceObject,
    seed: Seed<SalesforceRecord> | undefined,
  ) {
    if (seed) this.table.load(seed);
    this.nextNumber = 10_000_000 + this.table.count;
  }

  get count(): number {
    return this.table.count;
  }

  get(id: string): SalesforceRecord | undefined {
    const row = this.table.rowOf(id);
    return row === undefined ? undefined : this.table.get(row);
  }

  /** Inserts a record; `SystemModstamp`, `CreatedDate` and `LastModifiedDate` are set to `at` (default now). */
  insert(fields: Record<string, string | number | boolean | null>, at = Date.now()): SalesforceRecord {
    const stamp = sfDateTime(at);
    const record: SalesforceRecord = {
      IsDeleted: false,
      ...fields,
      Id: salesforceId(this.object, this.nextNumber++),
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      SystemModstamp: stamp,
    };
    this.table.insert(record);
    return record;
  }

  /** Updates fields and bumps `LastModifiedDate` and `SystemModstamp` to `at` (default now). */
  update(id: string, fields: Record<string, string | number | boolean | null>, at = Date.now()): SalesforceRecord {
    const row = this.table.rowOf(id);
    if (row === undefined) throw new Error(`no ${this.object} ${id}`);
    const stamp = sfDateTime(at);
    const record = { ...this.table.get(row), ...fields, Id: id, LastModifiedDate: stamp, SystemModstamp: stamp };
    this.table.replace(row, record);
    return record;
  }

  /** Deletes (to the recycle bin): hidden from `query`, visible with `IsDeleted = true` through `queryAll`. */
  delete(id: string, at = Date.now()): SalesforceRecord {
    const row = this.table.rowOf(id);
    if (row === undefined) throw new Error(`no ${this.object} ${id}`);
    const record = { ...this.table.get(row), IsDeleted: true, SystemModstamp: sfDateTime(at) };
    this.table.replace(row, record);
    return record;
  }
}

export interface SalesforceState {
  contacts: SalesforceObjectStore;
  leads: SalesforceObjectStore;
  tokens: Set<string>;
  /** API requests counted today; set it to simulate a spent budget. */
  apiUsage: { used: number; limit: number };
}

export type SalesforceEmulator = Emulator<SalesforceState>;

interface Cursor {
  version: string;
  object: SalesforceObject;
  fields: string[];
  rows: Uint32Array;
}

/** Starts a Salesforce REST emulator (`query`, `queryAll`, `nextRecordsUrl` cursors, limits, faults). */
export async function startSalesforce(options: SalesforceEmulatorOptions = {}): Promise<SalesforceEmulator> {
  const state: SalesforceState = {
    contacts: new SalesforceObjectStore('Contact', options.contacts),
    leads: new SalesforceObjectStore('Lead', options.leads),
    tokens: new Set(options.tokens ?? ['salesforce-demo-token']),
    apiUsage: { used: 0, limit: options.dailyApiLimit ?? 100_000 },
  };
  const cursors = new Map<string, Cursor>();
  let cursorSeq = 0;

  const errors = (status: number, errorCode: string, message: string, extra: Record<string, string> = {}): Reply => ({
    status,
    headers: extra,
    json: [{ message, errorCode }],
  });
  const limitInfo = () => ({ 'Sforce-Limit-Info': `api-usage=${state.apiUsage.used}/${state.apiUsage.limit}` });

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
        const reply = route(req);
        return { ...reply, headers: { ...limitInfo(), ...reply.headers } };
      },
    },
    state,
    options,
  );

  function route(req: EmulatorRequest): Reply {
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
      if (!cursor || !Number.isInteger(offset) || offset < 0 || offset > cursor.rows.length) {
        return errors(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
      }
      return page(req, locator.slice(0, dash), cursor, offset, batchSize);
    }
    const soql = req.query.get('q');
    if (!soql) return errors(400, 'MALFORMED_QUERY', 'unexpected end of query');
    let query: SoqlQuery;
    try {
      query = parseSoql(soql);
    } catch (error) {
      if (error instanceof SoqlError)
        return errors(400, error.errorCode, `\n${soql}\n^\nERROR at Row:1:Column:1\n${error.message}`);
      throw error;
    }
    const resolved = resolve(query, soql);
    if ('status' in resolved) return resolved;
    const { store, fields, rows } = select(resolved.query, resolved.store, kind === 'queryAll');
    const id = `01g${String(++cursorSeq).padStart(12, '0')}AAA`;
    cursors.set(id, { version, object: store.object, fields, rows });
    if (cursors.size > MAX_OPEN_CURSORS) cursors.delete(cursors.keys().next().value!);
    return page(req, id, cursors.get(id)!, 0, batchSize);
  }

  /** Checks the object and field names, and canonicalises their spelling. */
  function resolve(query: SoqlQuery, soql: string): { query: SoqlQuery; store: SalesforceObjectStore } | Reply {
    const object = (['Contact', 'Lead'] as const).find((o) => o.toLowerCase() === query.object.toLowerCase());
    if (!object) {
      return errors(
        400,
        'INVALID_TYPE',
        `\n${soql}\n^\nERROR at Row:1:Column:1\nsObject type '${query.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const known = SALESFORCE_FIELDS[object];
    const canonical = (field: string) => known.find((f) => f.toLowerCase() === field.toLowerCase());
    const invalid = (field: string) =>
      errors(
        400,
        'INVALID_FIELD',
        `\n${soql}\n^\nERROR at Row:1:Column:1\nNo such column '${field}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    const fields: string[] = [];
    for (const f of query.fields) {
      const c = canonical(f);
      if (!c) return invalid(f);
      fields.push(c);
    }
    const where: SoqlQuery['where'] = [];
    for (const condition of query.where) {
      const c = canonical(condition.field);
      if (!c) return invalid(condition.field);
      if (DATE_FIELDS.has(c) && typeof condition.value === 'string') {
        return errors(
          400,
          'INVALID_FIELD',
          `\n${soql}\n^\nERROR at Row:1:Column:1\nvalue of filter criterion for field '${c}' must be of type dateTime and should not be enclosed in quotes`,
        );
      }
      if (!DATE_FIELDS.has(c) && c !== 'Id') {
        return errors(
          400,
          'MALFORMED_QUERY',
          `\n${soql}\n^\nERROR at Row:1:Column:1\nthe emulator filters only on datetime fields and Id, not '${c}'`,
        );
      }
      if (c === 'Id' && typeof condition.value !== 'string') return invalid(condition.field);
      where.push({ ...condition, field: c });
    }
    const orderBy: SoqlQuery['orderBy'] = [];
    for (const o of query.orderBy) {
      const c = canonical(o.field);
      if (!c) return invalid(o.field);
      if (!DATE_FIELDS.has(c) && c !== 'Id') {
        return errors(
          400,
          'MALFORMED_QUERY',
          `\n${soql}\n^\nERROR at Row:1:Column:1\nthe emulator orders only by datetime fields and Id, not '${c}'`,
        );
      }
      orderBy.push({ ...o, field: c });
    }
    return {
      query: { ...query, fields, where, orderBy, object },
      store: object === 'Contact' ? state.contacts : state.leads,
    };
  }

  /** Runs a query into a snapshot of matching rows, as Salesforce's query cursors are. */
  function select(query: SoqlQuery, store: SalesforceObjectStore, includeDeleted: boolean) {
    const table = store.table;
    const dateOf = (row: number, field: string): number =>
      field === 'SystemModstamp'
        ? table.modifiedAt(row)
        : Date.parse(String(table.get(row)[field]).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    const test = (row: number): boolean => {
      if (!includeDeleted && table.isArchived(row)) return false;
      return query.where.every((c) => {
        const cmp =
          c.field === 'Id' ? table.compareIdTo(row, c.value as string) : dateOf(row, c.field) - (c.value as number);
        switch (c.operator) {
          case '=':
            return cmp === 0;
          case '!=':
            return cmp !== 0;
          case '<':
            return cmp < 0;
          case '<=':
            return cmp <= 0;
          case '>':
            return cmp > 0;
          case '>=':
            return cmp >= 0;
        }
      });
    };
    const [first, second] = query.orderBy;
    let rows: number[];
    if (first === undefined || (first.field === 'Id' && second === undefined)) {
      rows = Array.from(table.byId()).filter(test);
      if (first?.descending) rows.reverse();
    } else if (
      first.field === 'SystemModstamp' &&
      (second === undefined || (second.field === 'Id' && second.descending === first.descending))
    ) {
      // The common incremental shape: narrow by the SystemModstamp lower bound through the index.
      const order = table.byModified();
      let start = 0;
      for (const c of query.where) {
        if (c.field === 'SystemModstamp' && (c.operator === '>' || c.operator === '>=')) {
          start = Math.max(start, table.modifiedLowerBound(c.value as number, c.operator === '>'));
        }
      }
      rows = [];
      for (let p = start; p < order.length; p++) if (test(order[p])) rows.push(order[p]);
      if (first.descending) rows.reverse();
    } else {
      rows = [];
      for (let row = 0; row < table.count; row++) if (test(row)) rows.push(row);
      const keys = query.orderBy;
      rows.sort((a, b) => {
        for (const k of keys) {
          const d = k.field === 'Id' ? table.compareRowsById(a, b) : dateOf(a, k.field) - dateOf(b, k.field);
          if (d !== 0) return k.descending ? -d : d;
        }
        return table.compareRowsById(a, b);
      });
    }
    if (query.limit !== undefined) rows = rows.slice(0, query.limit);
    return { store, fields: query.fields, rows: Uint32Array.from(rows) };
  }

  function page(req: EmulatorRequest, id: string, cursor: Cursor, offset: number, batchSize: number): Reply {
    const store = cursor.object === 'Contact' ? state.contacts : state.leads;
    const end = Math.min(cursor.rows.length, offset + batchSize);
    const records: Array<Record<string, unknown>> = [];
    for (let p = offset; p < end; p++) {
      const record = store.table.get(cursor.rows[p]);
      const out: Record<string, unknown> = {
        attributes: {
          type: cursor.object,
          url: `/services/data/${cursor.version}/sobjects/${cursor.object}/${record.Id}`,
        },
      };
      for (const f of cursor.fields) out[f] = record[f] ?? null;
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
    const done = end >= cursor.rows.length;
    const body: Record<string, unknown> = { totalSize: cursor.rows.length, done };
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
