import { randomBytes } from 'node:crypto';
import { isSha256Hex } from '../common/identifiers.js';
import { RollingWindow } from '../common/rate.js';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';

/**
 * TikTok Marketing API audiences, as documented: `POST /open_api/v1.3/segment/mapping/` with header `Access-Token`
 * and `{ advertiser_ids, action: "add" | "delete", id_schema, batch_data }` — one inner array per user, aligned with
 * `id_schema`, `{}` for a missing identifier, every id a lower-case SHA-256 — and `GET /open_api/v1.3/advertiser/info/`.
 * Every answer is HTTP 200 with `{ code, message, request_id, data }`; throttling is `code: 40100`.
 */

export const TIKTOK_ID_TYPES = ['EMAIL_SHA256', 'PHONE_SHA256', 'IDFA_SHA256', 'AAID_SHA256'] as const;
export const TIKTOK_MAX_USERS = 10_000;

export interface TikTokEmulatorOptions extends EmulatorOptions {
  /** Accepted access tokens (default `['tiktok-demo-token']`). */
  tokens?: string[];
  /** Advertiser id → its audience ids (default `{ '7000000000000000001': ['9001'] }`). */
  advertisers?: Record<string, string[]>;
  /** Requests per window (default 10 per second, TikTok's usual QPS); `false` turns the limit off. */
  rateLimit?: { max: number; windowMs: number } | false;
}

export class TikTokState {
  /** `advertiser/audience` → the set of `TYPE:hash` ids it holds. */
  readonly audiences = new Map<string, Set<string>>();
  throttled = 0;
  constructor(readonly tokens: Set<string>) {}

  /** The ids an audience holds, as `EMAIL_SHA256:<hash>` (inspection API for tests). */
  ids(advertiserId: string, audienceId: string): string[] {
    return [...(this.audiences.get(`${advertiserId}/${audienceId}`) ?? [])];
  }
}

export type TikTokEmulator = Emulator<TikTokState>;

const answer = (code: number, message: string, data: unknown = {}): Reply => ({
  status: 200,
  json: { code, message, request_id: randomBytes(12).toString('hex'), data },
});

export async function startTikTok(options: TikTokEmulatorOptions = {}): Promise<TikTokEmulator> {
  const state = new TikTokState(new Set(options.tokens ?? ['tiktok-demo-token']));
  const advertisers = options.advertisers ?? { '7000000000000000001': ['9001'] };
  for (const [advertiser, audiences] of Object.entries(advertisers)) {
    for (const audience of audiences) state.audiences.set(`${advertiser}/${audience}`, new Set());
  }
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? { max: 10, windowMs: 1000 });
  const window = rate ? new RollingWindow(rate.max, rate.windowMs) : undefined;
  const throttled = (): Reply => {
    state.throttled++;
    return answer(40100, 'Too many requests. Please retry in some time.');
  };

  return startEmulator<TikTokState>(
    {
      throttled,
      serverError: (_req, status) => ({ status, json: { code: 50000, message: 'System error', request_id: 'x' } }),
      expiredToken: () => answer(40102, 'Access token has expired.'),
      handle,
    },
    state,
    options,
  );

  function handle(req: EmulatorRequest): Reply {
    const token = req.header('access-token');
    if (!token) return answer(40104, 'Access token is null.');
    if (!state.tokens.has(token)) return answer(40105, 'Access token is incorrect or has been revoked.');
    if (req.takeFault('permission')) return answer(40001, 'No permission to operate advertiser.');
    if (window && !window.tryTake(req.receivedAt)) return throttled();
    if (req.path === '/open_api/v1.3/advertiser/info/' && req.method === 'GET') {
      let ids: unknown;
      try {
        ids = JSON.parse(req.query.get('advertiser_ids') ?? '');
      } catch {
        return answer(40002, 'advertiser_ids: Not a valid list.');
      }
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' || !(id in advertisers))) {
        return answer(40001, 'No permission to operate advertiser.');
      }
      return answer(0, 'OK', { list: ids.map((id: string) => ({ advertiser_id: id, name: `Advertiser ${id}` })) });
    }
    if (req.path !== '/open_api/v1.3/segment/mapping/' || req.method !== 'POST') {
      return { status: 404, json: { code: 40400, message: 'Not found', request_id: 'x' } };
    }
    let body: Record<string, unknown>;
    try {
      body = req.json() as Record<string, unknown>;
    } catch {
      return answer(40002, 'Invalid JSON body.');
    }
    const ids = body.advertiser_ids;
    if (!Array.isArray(ids) || ids.length !== 1 || typeof ids[0] !== 'string') {
      return answer(40002, 'advertiser_ids: exactly one advertiser id is required.');
    }
    const advertiser = ids[0];
    if (!(advertiser in advertisers)) return answer(40001, 'No permission to operate advertiser.');
    if (body.action !== 'add' && body.action !== 'delete') return answer(40002, 'action: must be one of add, delete.');
    const schema = body.id_schema;
    if (
      !Array.isArray(schema) ||
      schema.length === 0 ||
      schema.some((s) => !(TIKTOK_ID_TYPES as readonly unknown[]).includes(s)) ||
      new Set(schema).size !== schema.length
    ) {
      return answer(40002, `id_schema: a list of distinct values of ${TIKTOK_ID_TYPES.join(', ')}.`);
    }
    const batch = body.batch_data;
    if (!Array.isArray(batch) || batch.length === 0) return answer(40002, 'batch_data: must not be empty.');
    if (batch.length > TIKTOK_MAX_USERS) {
      return answer(40002, `batch_data: at most ${TIKTOK_MAX_USERS} users per request (got ${batch.length}).`);
    }
    const failFirst = req.takeFault('partial-failure') !== undefined;
    const changes: Array<{ key: string; audiences: string[] }> = [];
    for (const [row, user] of batch.entries()) {
      if (!Array.isArray(user) || user.length !== schema.length) {
        return answer(
          40002,
          `batch_data[${row}]: ${Array.isArray(user) ? user.length : 0} entries for ${schema.length} id_schema types.`,
        );
      }
      let present = 0;
      for (const [col, entry] of user.entries()) {
        const e = entry as { id?: unknown; audience_ids?: unknown };
        if (!e || typeof e !== 'object' || Object.keys(e).length === 0) continue;
        present++;
        if (!isSha256Hex(e.id) || (failFirst && row === 0)) {
          return answer(
            40002,
            `batch_data[${row}][${col}].id: not a lower-case SHA-256 hash of a normalised ${String(schema[col])}.`,
          );
        }
        const audiences = e.audience_ids;
        if (!Array.isArray(audiences) || audiences.length === 0) {
          return answer(40002, `batch_data[${row}][${col}].audience_ids: required.`);
        }
        for (const audience of audiences) {
          if (!state.audiences.has(`${advertiser}/${String(audience)}`)) {
            return answer(40002, `audience_ids: audience ${String(audience)} does not exist under the advertiser.`);
          }
        }
        changes.push({ key: `${String(schema[col])}:${e.id}`, audiences: audiences.map(String) });
      }
      if (present === 0) return answer(40002, `batch_data[${row}]: the user has no id.`);
    }
    for (const change of changes) {
      for (const audience of change.audiences) {
        const held = state.audiences.get(`${advertiser}/${audience}`)!;
        if (body.action === 'add') held.add(change.key);
        else held.delete(change.key);
      }
    }
    return answer(0, 'OK');
  }
}
