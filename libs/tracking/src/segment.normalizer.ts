import { hash } from 'node:crypto';
import type { Identifier, ProfileEvent, ProfileRecord, TraitValue } from '@plexus/sdk';
import { findUnstorableInput, toDictionary } from '@plexus/profile';
import { consentFromContext } from './consent.util.js';
import { truncateIp } from './ip.util.js';

/** The Segment call types (the `type` of a batch item, or the route of a single call). */
export const SEGMENT_CALL_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];

export function isSegmentCallType(value: unknown): value is SegmentCallType {
  return typeof value === 'string' && (SEGMENT_CALL_TYPES as readonly string[]).includes(value);
}

/** Segment's limits: 32 KB per message, 500 KB per batch request. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;
const MAX_ID_LENGTH = 255;
/** Event times accepted (after clock-skew correction): what PostgreSQL, JavaScript and every client agree on. */
export const EARLIEST_EVENT_TIME = Date.UTC(1900, 0, 1);
export const LATEST_EVENT_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const inEventRange = (ms: number): boolean => ms >= EARLIEST_EVENT_TIME && ms <= LATEST_EVENT_TIME;

export interface SegmentNormalizeOptions {
  /** When the request arrived: clock-skew correction and the default event time. */
  receivedAt: Date;
  /** Keep `context.ip` as sent instead of truncating it (a source setting). */
  keepFullIp?: boolean;
  /** Batch-level `context`, `integrations` and `sentAt`, applied to every message of the batch. */
  batch?: { context?: Record<string, unknown>; sentAt?: unknown };
}

export type SegmentOutcome =
  | { ok: true; messageId: string; type: SegmentCallType; record: ProfileRecord }
  | { ok: false; messageId?: string; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class Invalid extends Error {}

function id(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new Invalid(`${field} is required`);
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number') throw new Invalid(`${field} must be a string`);
  const text = String(value).trim();
  if (text === '') {
    if (required) throw new Invalid(`${field} is required`);
    return undefined;
  }
  if (text.length > MAX_ID_LENGTH) throw new Invalid(`${field} is longer than ${MAX_ID_LENGTH} characters`);
  return text;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new Invalid(`${field} must be an object`);
  return value;
}

function time(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Invalid(`${field} must be an ISO-8601 date string`);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Invalid(`${field} is not a valid date: ${value.slice(0, 40)}`);
  if (!inEventRange(date.getTime()))
    throw new Invalid(`${field} is out of range (years 1900 to 9999): ${value.slice(0, 40)}`);
  return date;
}

/**
 * The event time, corrected for the client's clock: `timestamp + (receivedAt − sentAt)` when the client said
 * when it sent the message (as Segment does), the request time when the message has no timestamp.
 */
export function correctedTimestamp(timestamp: Date | undefined, sentAt: Date | undefined, receivedAt: Date): Date {
  if (!timestamp) return receivedAt;
  if (!sentAt) return timestamp;
  return new Date(timestamp.getTime() + (receivedAt.getTime() - sentAt.getTime()));
}

/** `context` as stored with events: IP truncated, identifiers and consent (kept on the profile) left out. */
function storedContext(context: Record<string, unknown>, keepFullIp: boolean): Record<string, TraitValue> {
  const out = { ...context } as Record<string, TraitValue>;
  for (const key of ['traits', 'consent', 'consentManagement', 'gdpr_consent']) delete out[key];
  if (isObject(context.device)) {
    const device = { ...context.device } as Record<string, TraitValue>;
    delete device.advertisingId;
    out.device = device;
  }
  if (typeof context.ip === 'string') {
    const ip = keepFullIp ? context.ip.trim() : truncateIp(context.ip);
    if (ip) out.ip = ip;
    else delete out.ip;
  } else delete out.ip;
  return out;
}

/**
 * Validates one Segment message and maps it to a {@link ProfileRecord}.
 *
 * - identifiers: `userId` → `user_id`, `anonymousId` → `anonymous_id`, `context.device.advertisingId` →
 *   `device_id` (unless `adTrackingEnabled` is false), `traits.email` / `context.traits.email` → `email`;
 *   `alias` adds `previousId` as an `anonymous_id` (the id the visitor had before);
 * - `identify` folds `context.traits` then `traits` into the profile's traits; `group` sets the traits
 *   `groupId` and `group` (the group's traits with its id);
 * - `track` is an event named after `event`; `page` and `screen` are `Page Viewed` / `Screen Viewed` events
 *   with `name` and `category` among the properties; events keep the message's `context` (IP truncated) as
 *   `$context` and use `messageId` as their idempotency key;
 * - consent from `context` (TCF v2 string and categories); time from `timestamp`/`originalTimestamp`
 *   corrected by `sentAt`.
 *
 * @example normalizeSegmentMessage({ type: 'track', event: 'Signed Up', anonymousId: 'a1' }, undefined, { receivedAt: new Date() })
 */
export function normalizeSegmentMessage(
  message: unknown,
  routeType: SegmentCallType | undefined,
  options: SegmentNormalizeOptions,
): SegmentOutcome {
  if (!isObject(message)) return { ok: false, reason: 'a message must be a JSON object' };
  let messageId: string | undefined;
  try {
    messageId = id(message.messageId, 'messageId', false);
    const type = routeType ?? message.type;
    if (!isSegmentCallType(type))
      throw new Invalid(
        `type must be one of ${SEGMENT_CALL_TYPES.join(', ')} (got ${JSON.stringify(type) ?? 'nothing'})`,
      );
    const ownContext = object(message.context, 'context');
    const context = options.batch?.context ? { ...options.batch.context, ...ownContext } : ownContext;
    const traits = object(message.traits, 'traits');
    const properties = object(message.properties, 'properties');
    const contextTraits = object(context.traits, 'context.traits');
    const device = object(context.device, 'context.device');

    const userId = id(message.userId, 'userId', type === 'alias');
    const anonymousId = id(message.anonymousId, 'anonymousId', false);
    const previousId = type === 'alias' ? id(message.previousId, 'previousId', true) : undefined;
    if (!userId && !anonymousId) throw new Invalid('userId or anonymousId is required');

    const identifiers: Identifier[] = [];
    if (userId) identifiers.push({ type: 'user_id', value: userId });
    if (anonymousId) identifiers.push({ type: 'anonymous_id', value: anonymousId });
    if (previousId && previousId !== userId && previousId !== anonymousId)
      identifiers.push({ type: 'anonymous_id', value: previousId });
    const advertisingId =
      device.adTrackingEnabled === false ? undefined : id(device.advertisingId, 'context.device.advertisingId', false);
    if (advertisingId) identifiers.push({ type: 'device_id', value: advertisingId });
    const email = [traits.email, contextTraits.email].find(
      (e): e is string => typeof e === 'string' && e.trim() !== '',
    );
    if (email) identifiers.push({ type: 'email', value: email });

    const timestamp = time(message.timestamp, 'timestamp') ?? time(message.originalTimestamp, 'originalTimestamp');
    const sentAt = time(message.sentAt, 'sentAt') ?? time(options.batch?.sentAt, 'sentAt');
    const occurredAt = correctedTimestamp(timestamp, sentAt, options.receivedAt);
    if (!inEventRange(occurredAt.getTime()))
      throw new Invalid('timestamp corrected by sentAt is out of range (years 1900 to 9999)');
    const finalId = messageId ?? `h-${hash('sha256', JSON.stringify(message), 'hex').slice(0, 40)}`;

    const record: ProfileRecord = { identifiers, observedAt: occurredAt };
    const consent = consentFromContext(context);
    if (Object.keys(consent).length > 0) record.consent = consent;
    const stored = (): Record<string, TraitValue> => storedContext(context, options.keepFullIp ?? false);
    const event = (name: string, props: Record<string, unknown>): ProfileEvent => ({
      name,
      occurredAt,
      id: finalId,
      properties: Object.assign(toDictionary(props as Record<string, TraitValue>), { $context: stored() }),
    });
    switch (type) {
      case 'identify':
        // Null-prototype: `constructor` or `__proto__` are trait names like any other.
        record.traits = Object.assign(
          toDictionary(contextTraits as Record<string, TraitValue>),
          traits as Record<string, TraitValue>,
        );
        break;
      case 'track': {
        const name = id(message.event, 'event', true)!;
        record.events = [event(name, properties)];
        break;
      }
      case 'page':
      case 'screen': {
        const named: Record<string, unknown> = { ...properties };
        for (const field of ['name', 'category'])
          if (typeof message[field] === 'string' && named[field] === undefined) named[field] = message[field];
        record.events = [event(type === 'page' ? 'Page Viewed' : 'Screen Viewed', named)];
        break;
      }
      case 'group': {
        const groupId = id(message.groupId, 'groupId', true)!;
        record.traits = Object.assign(toDictionary<TraitValue>({ groupId }), {
          group: Object.assign(toDictionary(traits as Record<string, TraitValue>), { id: groupId }),
        });
        break;
      }
      case 'alias':
        break;
    }
    return { ok: true, messageId: finalId, type, record };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, reason: error.message, ...(messageId ? { messageId } : {}) };
    throw error;
  }
}

/**
 * Checks that a message holds nothing PostgreSQL cannot store (NUL, lone surrogates), is not nested deeper than a
 * request body may be, and fits Segment's 32 KB. Returns the reason it is refused, or undefined.
 */
export function messageProblem(message: unknown): string | undefined {
  const unstorable = findUnstorableInput(message);
  if (unstorable) return `${unstorable.field} ${unstorable.problem}`;
  const json = JSON.stringify(message) ?? '';
  if (Buffer.byteLength(json) > MAX_MESSAGE_BYTES) return `message is larger than ${MAX_MESSAGE_BYTES / 1024} KB`;
  return undefined;
}
