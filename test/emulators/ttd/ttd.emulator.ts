import { createHmac, timingSafeEqual } from 'node:crypto';
import { LOWER_UUID } from '../common/identifiers.js';
import { RollingWindow } from '../common/rate.js';
import {
  startEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorRequest,
  type Reply,
} from '../common/server.js';

/**
 * The Trade Desk first-party data API, as documented: `POST /data/advertiser` signed with `TtdSignature` (base64
 * HMAC-SHA1 of the raw body keyed with the advertiser's secret), body `{ AdvertiserId, Items: [{ DAID | TDID | UID2,
 * Data: [{ Name, TTLInMinutes }] }] }` of at most 2.5 MB; `TTLInMinutes: 0` removes. HTTP 200 even when lines fail:
 * `{ FailedLines: [{ ErrorCode, Message, LineNumber }] }` (`LineNumber`: the item's index in `Items`).
 */

export const TTD_MAX_BODY_BYTES = 2_500_000;
/** 180 days: the longest membership TTD keeps. */
export const TTD_MAX_TTL_MINUTES = 259_200;
const ID_KEYS = ['DAID', 'TDID', 'UID2'] as const;

export interface TtdEmulatorOptions extends EmulatorOptions {
  /** Advertiser id → its secret key (default `{ adv1: 'ttd-demo-secret' }`). */
  advertisers?: Record<string, string>;
  /** Requests per window (default 100 per second); `false` turns the limit off. */
  rateLimit?: { max: number; windowMs: number } | false;
  /** `Retry-After` seconds of a 429 (default 1). */
  retryAfterSeconds?: number;
}

export class TtdState {
  /** `advertiser/segment` → id (`DAID:<id>`) → expiry (ms). */
  readonly segments = new Map<string, Map<string, number>>();
  throttled = 0;

  /** The ids a segment holds now (inspection API for tests). */
  members(advertiserId: string, segment: string, now = Date.now()): string[] {
    return [...(this.segments.get(`${advertiserId}/${segment}`) ?? [])]
      .filter(([, exp]) => exp > now)
      .map(([id]) => id);
  }
}

export type TtdEmulator = Emulator<TtdState>;

export function signTtd(body: string | Buffer, secret: string): string {
  return createHmac('sha1', secret).update(body).digest('base64');
}

export async function startTtd(options: TtdEmulatorOptions = {}): Promise<TtdEmulator> {
  const state = new TtdState();
  const advertisers = options.advertisers ?? { adv1: 'ttd-demo-secret' };
  const rate = options.rateLimit === false ? undefined : (options.rateLimit ?? { max: 100, windowMs: 1000 });
  const window = rate ? new RollingWindow(rate.max, rate.windowMs) : undefined;
  const throttled = (): Reply => {
    state.throttled++;
    return {
      status: 429,
      headers: { 'Retry-After': String(options.retryAfterSeconds ?? 1) },
      json: { Message: 'Too Many Requests' },
    };
  };
  const forbidden = (message: string): Reply => ({ status: 403, json: { Message: message } });

  return startEmulator<TtdState>(
    {
      throttled,
      serverError: (_req, status) => ({ status, json: { Message: 'An error has occurred.' } }),
      expiredToken: () => forbidden('The signature does not match: the secret key was rotated.'),
      handle,
    },
    state,
    options,
  );

  function handle(req: EmulatorRequest): Reply {
    if (req.path !== '/data/advertiser' || req.method !== 'POST')
      return { status: 404, json: { Message: 'Not found' } };
    if (req.rawBody.length > TTD_MAX_BODY_BYTES) {
      return { status: 413, json: { Message: `The request body exceeds ${TTD_MAX_BODY_BYTES} bytes.` } };
    }
    let body: Record<string, unknown>;
    try {
      body = req.json() as Record<string, unknown>;
    } catch {
      return { status: 400, json: { Message: 'The request body is not JSON.' } };
    }
    const advertiser = body.AdvertiserId;
    if (typeof advertiser !== 'string' || !(advertiser in advertisers)) return forbidden('Unknown AdvertiserId.');
    const signature = req.header('ttdsignature');
    const expected = Buffer.from(signTtd(req.rawBody, advertisers[advertiser]));
    if (!signature || signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), expected)) {
      return forbidden('TtdSignature is missing or does not match the body.');
    }
    if (req.takeFault('permission')) return forbidden('The advertiser is not enabled for first-party data.');
    if (window && !window.tryTake(req.receivedAt)) return throttled();
    const items = body.Items;
    if (!Array.isArray(items)) return { status: 400, json: { Message: 'Items is required.' } };
    const failFirst = req.takeFault('partial-failure') !== undefined;
    const failed: Array<{ ErrorCode: string; Message: string; LineNumber: number }> = [];
    const now = Date.now();
    items.forEach((raw, line) => {
      const problem =
        failFirst && line === 0 ? 'InvalidUserId: the id is not a known device or cookie id' : itemProblem(raw);
      if (problem) {
        const [code, message] = problem.split(': ');
        failed.push({ ErrorCode: code, Message: message, LineNumber: line });
        return;
      }
      const item = raw as Record<string, unknown>;
      const key = ID_KEYS.find((k) => k in item)!;
      const id = `${key}:${String(item[key])}`;
      for (const data of item.Data as Array<{ Name: string; TTLInMinutes: number }>) {
        const segmentKey = `${advertiser}/${data.Name}`;
        let segment = state.segments.get(segmentKey);
        if (!segment) state.segments.set(segmentKey, (segment = new Map()));
        if (data.TTLInMinutes === 0) segment.delete(id);
        else segment.set(id, now + data.TTLInMinutes * 60_000);
      }
    });
    return { status: 200, json: failed.length ? { FailedLines: failed } : {} };
  }
}

/** `ErrorCode: message` when TTD would refuse the line, undefined when it is fine. */
function itemProblem(raw: unknown): string | undefined {
  if (!raw || typeof raw !== 'object') return 'InvalidItem: an item must be an object';
  const item = raw as Record<string, unknown>;
  const keys = ID_KEYS.filter((k) => k in item);
  if (keys.length !== 1) return `MissingUserId: exactly one of ${ID_KEYS.join(', ')} is required (got ${keys.length})`;
  const id = item[keys[0]];
  if (typeof id !== 'string' || id === '') return 'InvalidUserId: the id must be a non-empty string';
  if ((keys[0] === 'TDID' || keys[0] === 'DAID') && !LOWER_UUID.test(id.toLowerCase())) {
    return `InvalidUserId: ${keys[0]} must be a UUID`;
  }
  if (keys[0] === 'DAID' && /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(id))
    return 'InvalidUserId: the zeroed device id is not a user';
  const data = item.Data;
  if (!Array.isArray(data) || data.length === 0) return 'MissingData: Data must list at least one segment';
  for (const entry of data as Array<Record<string, unknown>>) {
    if (typeof entry?.Name !== 'string' || entry.Name === '') return 'InvalidSegmentName: Name is required';
    const ttl = entry.TTLInMinutes;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > TTD_MAX_TTL_MINUTES) {
      return `InvalidTTL: TTLInMinutes must be an integer from 0 to ${TTD_MAX_TTL_MINUTES}`;
    }
  }
  return undefined;
}
