import { createHmac, randomBytes } from 'node:crypto';
import { isSha256Hex, madidProblem } from '../common/identifiers.js';
import { RollingWindow } from '../common/rate.js';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';

/**
 * Meta Marketing API (Graph API) Custom Audiences, as documented: `POST /{version}/act_{id}/customaudiences`,
 * `GET /{version}/{audience_id}`, `POST|DELETE /{version}/{audience_id}/users` and
 * `POST /{version}/{audience_id}/usersreplace` with `payload = { schema, data }` (JSON or form-encoded) and an
 * optional `session`. Hashed fields must be 64 lower-case hex characters, `MADID` a raw lower-case advertising
 * id, rows as long as the schema, at most 10,000 rows a request. Errors are Graph API error bodies; throttling
 * answers code 80003 (or the configured 4/17/613) with `x-business-use-case-usage`.
 */

/** The multi-key schema fields Meta documents. */
export const META_FIELDS = [
  'EXTERN_ID',
  'EMAIL',
  'PHONE',
  'GEN',
  'DOBY',
  'DOBM',
  'DOBD',
  'LN',
  'FN',
  'FI',
  'CT',
  'ST',
  'ZIP',
  'MADID',
  'COUNTRY',
] as const;
export type MetaField = (typeof META_FIELDS)[number];
/** Single-key schemas and the field each stands for. */
const SINGLE_KEY: Record<string, MetaField> = {
  EMAIL_SHA256: 'EMAIL',
  PHONE_SHA256: 'PHONE',
  MOBILE_ADVERTISER_ID: 'MADID',
};
/** Fields matched on their own; the others (names, city, zip…) only help a match. */
const STRONG_FIELDS: MetaField[] = ['EMAIL', 'PHONE', 'MADID', 'EXTERN_ID'];
export const META_MAX_ROWS = 10_000;
const CUSTOMER_FILE_SOURCES = ['USER_PROVIDED_ONLY', 'PARTNER_PROVIDED_ONLY', 'BOTH_USER_AND_PARTNER_PROVIDED'];

export type MetaRow = Partial<Record<MetaField, string>>;

export interface MetaAudience {
  id: string;
  accountId: string;
  name: string;
  description?: string;
  subtype: string;
  customerFileSource: string;
  deleted: boolean;
  /** Members by their first strong key, e.g. `EMAIL:<hash>`. */
  members: Map<string, MetaRow>;
  /** Strong key `FIELD:value` → member key, so a removal by any key finds the member. */
  index: Map<string, string>;
  replace?: { sessionId: string; lastSeq: number; rows: MetaRow[]; startedAt: number };
}

export interface MetaEmulatorOptions extends EmulatorOptions {
  /** Accepted access tokens (default `['meta-demo-token']`). */
  tokens?: string[];
  /** Ad account ids (digits, without `act_`) the tokens may manage (default `['1000']`). */
  adAccounts?: string[];
  /** When set, every request must carry `appsecret_proof` = hex HMAC-SHA256 of the token with this secret. */
  appSecret?: string;
  /** Requests per window per ad account (default 100 per second); `false` turns the limit off. */
  rateLimit?: { max: number; windowMs: number } | false;
  /** The throttle code answered (default 80003, the Custom Audience limit; 4, 17 and 613 are the others). */
  throttleCode?: 4 | 17 | 613 | 80003;
  /** Minutes announced in `estimated_time_to_regain_access` when throttled (default 0: under a minute). */
  regainAccessMinutes?: number;
  /** How long an unfinished replace session lasts (default 90 minutes, as Meta documents). */
  replaceSessionTimeoutMs?: number;
}

export class MetaState {
  readonly audiences = new Map<string, MetaAudience>();
  throttled = 0;
  /** When each request the rate limit admitted arrived (ms since the epoch), in order: how close a client ran to it. */
  readonly admitted: number[] = [];
  private nextId = 23_800_000_000_001;

  constructor(
    readonly tokens: Set<string>,
    readonly accounts: Set<string>,
  ) {}

  createAudience(accountId: string, fields: Partial<MetaAudience> & { name: string }): MetaAudience {
    const audience: MetaAudience = {
      subtype: 'CUSTOM',
      customerFileSource: 'USER_PROVIDED_ONLY',
      ...fields,
      id: String(this.nextId++),
      accountId,
      deleted: false,
      members: new Map(),
      index: new Map(),
    };
    this.audiences.set(audience.id, audience);
    return audience;
  }

  /** The members an audience holds now (inspection API for tests). */
  members(audienceId: string): MetaRow[] {
    return [...(this.audiences.get(audienceId)?.members.values() ?? [])];
  }

  /** Whether an audience holds a member with this value of `field` (e.g. `EMAIL`, a hash). */
  has(audienceId: string, field: MetaField, value: string): boolean {
    return this.audiences.get(audienceId)?.index.has(`${field}:${value}`) ?? false;
  }

  /** Deletes an audience as an admin would in Ads Manager: every later request on it fails. */
  deleteAudience(audienceId: string): void {
    const audience = this.audiences.get(audienceId);
    if (audience) audience.deleted = true;
  }
}

export type MetaEmulator = Emulator<MetaState>;

interface GraphError {
  message: string;
  type?: string;
  code: number;
  error_subcode?: number;
  is_transient?: boolean;
  error_user_msg?: string;
}

const graphError = (status: number, error: GraphError, headers?: Record<string, string>): Reply => ({
  status,
  headers,
  json: {
    error: { type: 'OAuthException', is_transient: false, ...error, fbtrace_id: randomBytes(8).toString('base64url') },
  },
});
const invalidParameter = (message: string): Reply =>
  graphError(400, { message: `(#100) ${message}`, code: 100, error_user_msg: message });

export async function startMeta(options: MetaEmulatorOptions = {}): Promise<MetaEmulator> {
  const state = new MetaState(new Set(options.tokens ?? ['meta-demo-token']), new Set(options.adAccounts ?? ['1000']));
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? { max: 100, windowMs: 1000 });
  const windows = new Map<string, RollingWindow>();
  const throttleCode = options.throttleCode ?? 80003;
  const sessionTimeoutMs = options.replaceSessionTimeoutMs ?? 90 * 60_000;

  const usageHeader = (accountId: string, regain: number): Record<string, string> => ({
    'x-business-use-case-usage': JSON.stringify({
      [accountId]: [
        {
          type: 'custom_audience',
          call_count: 100,
          total_cputime: 20,
          total_time: 20,
          estimated_time_to_regain_access: regain,
        },
      ],
    }),
  });
  const throttled = (accountId: string): Reply => {
    state.throttled++;
    const messages: Record<number, string> = {
      4: '(#4) Application request limit reached',
      17: '(#17) User request limit reached',
      613: '(#613) Calls to this api have exceeded the rate limit.',
      80003: '(#80003) There have been too many calls to this ad-account. Wait a bit and try again.',
    };
    const subcodes: Record<number, number | undefined> = { 17: 2446079, 613: 1487742 };
    return graphError(
      400,
      {
        message: messages[throttleCode],
        code: throttleCode,
        error_subcode: subcodes[throttleCode],
        is_transient: true,
      },
      usageHeader(accountId, options.regainAccessMinutes ?? 0),
    );
  };

  return startEmulator<MetaState>(
    {
      throttled: () => throttled([...state.accounts][0] ?? '0'),
      serverError: (_req, status) =>
        graphError(status, {
          message: status === 503 ? 'Service temporarily unavailable' : 'An unknown error occurred',
          code: status === 503 ? 2 : 1,
          is_transient: true,
        }),
      expiredToken: () =>
        graphError(400, {
          message: 'Error validating access token: Session has expired on Friday, 04-Dec-26 10:00:00 PST.',
          code: 190,
          error_subcode: 463,
        }),
      handle,
    },
    state,
    options,
  );

  function handle(req: EmulatorRequest): Reply {
    const match = /^\/(v\d+\.\d+)\/(.+)$/.exec(req.path);
    if (!match) return graphError(400, { message: 'Unknown path components', code: 2500 });
    let params: Record<string, unknown>;
    try {
      params = requestParams(req);
    } catch {
      return invalidParameter('the request body is neither JSON nor form-encoded');
    }
    const auth = req.header('authorization');
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : params.access_token;
    if (typeof token !== 'string' || token === '')
      return graphError(400, { message: 'An access token is required to request this resource.', code: 104 });
    if (!state.tokens.has(token))
      return graphError(400, { message: 'Invalid OAuth access token - Cannot parse access token', code: 190 });
    if (options.appSecret !== undefined) {
      const proof = createHmac('sha256', options.appSecret).update(token).digest('hex');
      if (params.appsecret_proof !== proof)
        return invalidParameter('Invalid appsecret_proof provided in the API argument');
    }
    if (req.takeFault('permission')) {
      return graphError(403, {
        message: '(#200) Requires ads_management permission to manage the object',
        code: 200,
      });
    }

    const segments = match[2].split('/');
    const account = /^act_(\d+)$/.exec(segments[0])?.[1];
    if (account !== undefined) return accountRoute(req, account, segments.slice(1), params);
    const audience = state.audiences.get(segments[0]);
    if (!audience) {
      return graphError(400, {
        message: `Unsupported ${req.method.toLowerCase()} request. Object with ID '${segments[0]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        code: 100,
        error_subcode: 33,
      });
    }
    if (!state.accounts.has(audience.accountId)) return noAccountPermission();
    if (audience.deleted) {
      return graphError(400, {
        message: 'This custom audience has been deleted and can no longer be updated.',
        code: 2650,
        error_subcode: 1487366,
        error_user_msg: 'Custom Audience Deleted',
      });
    }
    if (!takeRate(req, audience.accountId)) return throttled(audience.accountId);
    if (segments.length === 1 && req.method === 'GET') return { status: 200, json: audienceJson(audience, params) };
    if (segments.length === 2 && segments[1] === 'users' && (req.method === 'POST' || req.method === 'DELETE')) {
      return users(req, audience, params, req.method === 'POST' ? 'add' : 'remove');
    }
    if (segments.length === 2 && segments[1] === 'usersreplace' && req.method === 'POST') {
      return users(req, audience, params, 'replace');
    }
    return graphError(400, { message: `Unknown path components: /${segments.slice(1).join('/')}`, code: 2500 });
  }

  function noAccountPermission(): Reply {
    return graphError(403, {
      message: '(#200) Ad account owner has NOT grant ads_management or ads_read permission',
      code: 200,
    });
  }

  /** Counts the request against its ad account's limit at the time it arrived. */
  function takeRate(req: EmulatorRequest, accountId: string): boolean {
    if (!rate) return true;
    let window = windows.get(accountId);
    if (!window) windows.set(accountId, (window = new RollingWindow(rate.max, rate.windowMs)));
    if (!window.tryTake(req.receivedAt)) return false;
    state.admitted.push(req.receivedAt);
    return true;
  }

  function accountRoute(
    req: EmulatorRequest,
    accountId: string,
    rest: string[],
    params: Record<string, unknown>,
  ): Reply {
    if (!state.accounts.has(accountId)) return noAccountPermission();
    if (!takeRate(req, accountId)) return throttled(accountId);
    if (rest.length === 0 && req.method === 'GET') {
      return { status: 200, json: { id: `act_${accountId}`, account_id: accountId, name: `Ad account ${accountId}` } };
    }
    if (rest.length === 1 && rest[0] === 'customaudiences' && req.method === 'GET') {
      const all = [...state.audiences.values()].filter((a) => a.accountId === accountId && !a.deleted);
      const limit = Math.min(Number(params.limit ?? 25) || 25, 500);
      const after = typeof params.after === 'string' ? Buffer.from(params.after, 'base64url').toString() : undefined;
      const start = after === undefined ? 0 : all.findIndex((a) => a.id === after) + 1;
      const page = all.slice(start, start + limit);
      const more = start + limit < all.length;
      const cursor = (a: MetaAudience | undefined) => (a ? Buffer.from(a.id).toString('base64url') : undefined);
      return {
        status: 200,
        json: {
          data: page.map((a) => audienceJson(a, params)),
          paging: page.length
            ? {
                cursors: { before: cursor(page[0]), after: cursor(page.at(-1)) },
                ...(more ? { next: `${req.origin}${req.path}?after=${cursor(page.at(-1))}&limit=${limit}` } : {}),
              }
            : undefined,
        },
      };
    }
    if (rest.length === 1 && rest[0] === 'customaudiences' && req.method === 'POST') {
      if (typeof params.name !== 'string' || params.name.trim() === '') return invalidParameter('name is required');
      if (params.subtype !== 'CUSTOM') return invalidParameter('subtype must be CUSTOM for a customer list audience');
      if (
        typeof params.customer_file_source !== 'string' ||
        !CUSTOMER_FILE_SOURCES.includes(params.customer_file_source)
      ) {
        return invalidParameter(`customer_file_source must be one of ${CUSTOMER_FILE_SOURCES.join(', ')}`);
      }
      const audience = state.createAudience(accountId, {
        name: params.name,
        description: typeof params.description === 'string' ? params.description : undefined,
        subtype: 'CUSTOM',
        customerFileSource: params.customer_file_source,
      });
      return { status: 200, json: { id: audience.id } };
    }
    return graphError(400, { message: `Unknown path components: /${rest.join('/')}`, code: 2500 });
  }

  function users(
    req: EmulatorRequest,
    audience: MetaAudience,
    params: Record<string, unknown>,
    operation: 'add' | 'remove' | 'replace',
  ): Reply {
    if (audience.replace && Date.now() - audience.replace.startedAt > sessionTimeoutMs) audience.replace = undefined;
    const payload = parseJsonParam(params.payload);
    if (!payload || typeof payload !== 'object') return invalidParameter('payload is required: { schema, data }');
    const parsed = parsePayload(payload as Record<string, unknown>);
    if ('error' in parsed) return invalidParameter(parsed.error);
    const session = parseJsonParam(params.session) as Record<string, unknown> | undefined;
    if (session !== undefined && (typeof session !== 'object' || session === null)) {
      return invalidParameter('session must be an object { session_id, batch_seq, last_batch_flag }');
    }
    const rawSessionId = session?.session_id;
    let sessionId =
      typeof rawSessionId === 'number' || typeof rawSessionId === 'string' ? String(rawSessionId) : undefined;
    if (operation !== 'replace' && audience.replace) {
      return graphError(400, {
        message: 'Failed to update the custom audience: a replace session is in progress on this audience.',
        code: 2650,
        is_transient: true,
      });
    }
    if (operation === 'replace') {
      if (!session) return invalidParameter('session is required for usersreplace');
      const seq = session.batch_seq;
      if (!/^\d{1,19}$/.test(sessionId ?? '') || !Number.isInteger(seq) || (seq as number) < 1) {
        return invalidParameter('session.session_id must be an integer and session.batch_seq an integer from 1');
      }
      if (typeof session.last_batch_flag !== 'boolean')
        return invalidParameter('session.last_batch_flag must be a boolean');
      const active = audience.replace;
      if (seq === 1 && (!active || active.sessionId !== sessionId)) {
        if (active) {
          return graphError(400, {
            message: 'Failed to update the custom audience: another replace session is in progress.',
            code: 2650,
            is_transient: true,
          });
        }
        audience.replace = { sessionId: sessionId!, lastSeq: 0, rows: [], startedAt: Date.now() };
      } else if (!active || active.sessionId !== sessionId) {
        return invalidParameter(`session ${sessionId} is not a replace session in progress (batch_seq 1 starts one)`);
      } else if (seq !== active.lastSeq + 1 && seq !== active.lastSeq) {
        return invalidParameter(`batch_seq ${String(seq)} is out of order: expected ${active.lastSeq + 1}`);
      }
    }
    sessionId ??= String(Date.now());

    const failFirst = req.takeFault('partial-failure') !== undefined;
    const samples: Record<string, string> = {};
    let invalid = 0;
    const valid: MetaRow[] = [];
    parsed.rows.forEach((row, index) => {
      const problem = failFirst && index === 0 ? { value: firstValue(row), reason: 'Invalid entry' } : rowProblem(row);
      if (problem) {
        invalid++;
        if (Object.keys(samples).length < 100) samples[problem.value] = problem.reason;
      } else valid.push(row);
    });
    if (operation === 'replace') {
      const active = audience.replace!;
      const seq = session!.batch_seq as number;
      if (seq !== active.lastSeq) active.rows.push(...valid); // the same batch_seq again is a retry: no-op
      active.lastSeq = seq;
      if (session!.last_batch_flag === true) {
        audience.members.clear();
        audience.index.clear();
        for (const row of active.rows) addRow(audience, row);
        audience.replace = undefined;
      }
    } else {
      for (const row of valid) (operation === 'add' ? addRow : removeRow)(audience, row);
    }
    return {
      status: 200,
      json: {
        audience_id: audience.id,
        session_id: sessionId,
        num_received: parsed.rows.length,
        num_invalid_entries: invalid,
        invalid_entry_samples: samples,
      },
    };
  }
}

function addRow(audience: MetaAudience, row: MetaRow): void {
  const keys = strongKeys(row);
  let existing: string | undefined;
  for (const k of keys) if ((existing = audience.index.get(k)) !== undefined) break;
  const key = existing ?? keys[0] ?? JSON.stringify(row);
  const merged: MetaRow = existing ? { ...audience.members.get(existing) } : {};
  for (const field in row) {
    const value = row[field as MetaField];
    if (value !== '') merged[field as MetaField] = value;
  }
  audience.members.set(key, merged);
  for (const k of existing ? strongKeys(merged) : keys) audience.index.set(k, key);
}

function removeRow(audience: MetaAudience, row: MetaRow): void {
  for (const k of strongKeys(row)) {
    const key = audience.index.get(k);
    if (key === undefined) continue;
    const member = audience.members.get(key);
    audience.members.delete(key);
    for (const other of member ? strongKeys(member) : []) audience.index.delete(other);
  }
}

function strongKeys(row: MetaRow): string[] {
  const keys: string[] = [];
  for (const field of STRONG_FIELDS) if (row[field]) keys.push(`${field}:${row[field]}`);
  return keys;
}

function firstValue(row: MetaRow): string {
  return Object.values(row).find((v) => v) ?? '';
}

/** Why Meta would count this row invalid, naming the offending value; undefined when it is usable. */
function rowProblem(row: MetaRow): { value: string; reason: string } | undefined {
  let usable = false;
  for (const key in row) {
    const field = key as MetaField;
    const value = row[field]!;
    if (value === '') continue;
    if (field === 'EXTERN_ID') {
      usable = true;
      continue;
    }
    if (field === 'MADID') {
      const problem = madidProblem(value);
      if (problem) return { value, reason: problem };
      usable = true;
      continue;
    }
    if (!isSha256Hex(value)) return { value, reason: `${field} must be a SHA-256 hash in lower-case hex` };
    usable = true;
  }
  return usable ? undefined : { value: '', reason: 'the row has no identifier' };
}

function parsePayload(payload: Record<string, unknown>): { rows: MetaRow[] } | { error: string } {
  const rawSchema = payload.schema;
  let schema: MetaField[];
  let single = false;
  if (typeof rawSchema === 'string') {
    const field = SINGLE_KEY[rawSchema] ?? (META_FIELDS.includes(rawSchema as MetaField) ? rawSchema : undefined);
    if (!field) return { error: `Invalid schema: ${rawSchema}` };
    schema = [field];
    single = true;
  } else if (Array.isArray(rawSchema) && rawSchema.length > 0) {
    const unknown = rawSchema.filter((f) => !META_FIELDS.includes(f as MetaField));
    if (unknown.length > 0) return { error: `Invalid schema field(s): ${unknown.map(String).join(', ')}` };
    if (new Set(rawSchema).size !== rawSchema.length) return { error: 'The schema names a field twice' };
    schema = rawSchema as MetaField[];
  } else return { error: 'payload.schema is required' };
  const data = payload.data;
  if (!Array.isArray(data) || data.length === 0) return { error: 'payload.data must be a non-empty array' };
  if (data.length > META_MAX_ROWS) {
    return { error: `The number of users in a request should not exceed ${META_MAX_ROWS} (got ${data.length})` };
  }
  const rows = new Array<MetaRow>(data.length);
  for (let index = 0; index < data.length; index++) {
    const raw: unknown = data[index];
    const values: unknown[] = single && !Array.isArray(raw) ? [raw] : (raw as unknown[]);
    if (!Array.isArray(values) || values.length !== schema.length) {
      return {
        error: `Schema and data length mismatch: row ${index} has ${Array.isArray(values) ? values.length : 'no'} values for ${schema.length} schema fields`,
      };
    }
    const row: MetaRow = {};
    for (let i = 0; i < schema.length; i++) {
      const value = values[i];
      if (typeof value !== 'string') return { error: `row ${index}: every value must be a string` };
      row[schema[i]] = value;
    }
    rows[index] = row;
  }
  return { rows };
}

function requestParams(req: EmulatorRequest): Record<string, unknown> {
  const params: Record<string, unknown> = Object.fromEntries(req.query.entries());
  if (req.rawBody.length === 0) return params;
  const type = req.header('content-type') ?? '';
  if (type.includes('json')) return { ...params, ...(req.json() as Record<string, unknown>) };
  if (type.includes('x-www-form-urlencoded')) {
    return { ...params, ...Object.fromEntries(new URLSearchParams(req.rawBody.toString('utf8')).entries()) };
  }
  throw new Error('unsupported body');
}

function parseJsonParam(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function audienceJson(audience: MetaAudience, params: Record<string, unknown>): Record<string, unknown> {
  const all: Record<string, unknown> = {
    id: audience.id,
    account_id: audience.accountId,
    name: audience.name,
    description: audience.description,
    subtype: audience.subtype,
    customer_file_source: audience.customerFileSource,
    approximate_count_lower_bound: audience.members.size,
    operation_status: { code: 200, description: 'Normal' },
  };
  const fields = typeof params.fields === 'string' ? params.fields.split(',') : ['id'];
  return Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]));
}
