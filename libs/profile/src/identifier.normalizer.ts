import { hash } from 'node:crypto';
import { parsePhoneNumberFromString as parseWithMetadata, type CountryCode } from 'libphonenumber-js/core';
// The full ("max") metadata validates numbers by their real ranges, not just their length. It is imported as the
// package's JS module rather than through `libphonenumber-js/max`, whose raw JSON import newer loaders warn about.
import metadata from 'libphonenumber-js/metadata.max';
import type { Identifier, IdentifierType } from '@plexus/sdk';

const parsePhoneNumberFromString = (text: string, options?: { defaultCountry?: CountryCode }) =>
  parseWithMetadata(text, options ?? {}, metadata);

/** The outcome of normalising one identifier: the canonical value, or why it was refused. */
export type NormalizedIdentifier = { ok: true; identifier: Identifier } | { ok: false; reason: string };

/** Longest identifier value accepted; anything longer is a mapping mistake, not a person. */
export const MAX_IDENTIFIER_LENGTH = 512;

// Pragmatic, not RFC 5322: one @, a dotted domain, no spaces. What ad platforms and ESPs accept.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const COUNTRY = /^[A-Z]{2}$/;

/** Hex SHA-256 of a string (one-shot `crypto.hash`, about three times faster than createHash). */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** `' Alice@Example.COM '` → `alice@example.com`; undefined when it is not an email address. */
export function normalizeEmail(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  return value.length <= MAX_IDENTIFIER_LENGTH && EMAIL.test(value) ? value : undefined;
}

/** The hashed form of an email as ad platforms expect it: hex SHA-256 of the normalised address. */
export function emailSha256(normalizedEmail: string): string {
  return sha256Hex(normalizedEmail);
}

/** A 64-hex digest, lower-cased; undefined for anything else (a plain email sent as a hash is refused). */
export function normalizeEmailSha256(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  return HEX64.test(value) ? value : undefined;
}

/** IDFA / GAID: a lower-case UUID; the all-zero ID (tracking disabled) is refused. */
export function normalizeDeviceId(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  return UUID.test(value) && value !== ZERO_UUID ? value : undefined;
}

/** `<sourceId>:<object>:<id>` with no empty part; the id itself may contain colons. */
export function normalizeExternalId(raw: string): string | undefined {
  const value = raw.trim();
  const first = value.indexOf(':');
  const second = first < 0 ? -1 : value.indexOf(':', first + 1);
  if (first <= 0 || second <= first + 1 || second === value.length - 1) return undefined;
  return value.length <= MAX_IDENTIFIER_LENGTH ? value : undefined;
}

/** The `<sourceId>:<object>` part of an external id: limits apply per source object. */
export function externalIdNamespace(value: string): string {
  const first = value.indexOf(':');
  return value.slice(0, value.indexOf(':', first + 1));
}

/**
 * Parses phone numbers to E.164 with a bounded cache: parsing is the most expensive normalisation
 * (about 50,000/s per core) and sources repeat the same numbers across records and syncs.
 */
export class PhoneNormalizer {
  private readonly cache = new Map<string, string | null>();

  constructor(private readonly maxEntries = 100_000) {}

  /** `'(415) 555-2671'` with country `US` → `+14155552671`; undefined when not a valid number. */
  normalize(raw: string, country?: string): string | undefined {
    const input = raw.trim();
    if (!input) return undefined;
    const region = country && COUNTRY.test(country.toUpperCase()) ? (country.toUpperCase() as CountryCode) : undefined;
    // A number written with + does not depend on the country, so it shares one cache entry.
    const key = input.startsWith('+') ? input : `${region ?? ''}|${input}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let result: string | null = null;
    try {
      const parsed = parsePhoneNumberFromString(input, region ? { defaultCountry: region } : undefined);
      if (parsed?.isValid()) result = parsed.number;
    } catch {
      result = null;
    }
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(key, result);
    return result ?? undefined;
  }
}

const sharedPhones = new PhoneNormalizer();

/** Trimmed free-form key (`user_id`, `anonymous_id`, `cookie_id`): case is kept, it may be meaningful. */
function normalizeKey(raw: string): string | undefined {
  const value = raw.trim();
  return value && value.length <= MAX_IDENTIFIER_LENGTH ? value : undefined;
}

export interface NormalizeOptions {
  /** ISO alpha-2 country for phone numbers written without a country code. */
  country?: string;
  phones?: PhoneNormalizer;
}

/**
 * The canonical value of one identifier, exactly as identity resolution and lookups compare it.
 *
 * @example normalizeIdentifier({ type: 'email', value: ' Alice@Example.com' }) // → { ok: true, identifier: { type: 'email', value: 'alice@example.com' } }
 * @example normalizeIdentifier({ type: 'phone', value: '020 7946 0018' }, { country: 'GB' }) // → +442079460018
 */
export function normalizeIdentifier(identifier: Identifier, options: NormalizeOptions = {}): NormalizedIdentifier {
  const raw: unknown = identifier.value;
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    return { ok: false, reason: `${identifier.type} is not a string` };
  }
  const text = String(raw);
  let value: string | undefined;
  const type: IdentifierType = identifier.type;
  switch (type) {
    case 'email':
      value = normalizeEmail(text);
      break;
    case 'email_sha256':
      value = normalizeEmailSha256(text);
      break;
    case 'phone':
      value = (options.phones ?? sharedPhones).normalize(text, options.country);
      break;
    case 'device_id':
      value = normalizeDeviceId(text);
      break;
    case 'external_id':
      value = normalizeExternalId(text);
      break;
    case 'user_id':
    case 'anonymous_id':
    case 'cookie_id':
      value = normalizeKey(text);
      break;
    default: {
      const unknownType: never = type;
      return { ok: false, reason: `unknown identifier type '${String(unknownType)}'` };
    }
  }
  return value === undefined
    ? { ok: false, reason: `${type} '${truncate(text)}' is not valid` }
    : { ok: true, identifier: { type, value } };
}

/**
 * The value as a blocked-values rule sees it before validation: trimmed, and lower-cased for the types
 * compared case-insensitively. So `' N/A '` given as an email is reported as blocked, not as malformed.
 */
export function candidateValue(identifier: Identifier): string {
  const text = String(identifier.value).trim();
  switch (identifier.type) {
    case 'email':
    case 'email_sha256':
    case 'device_id':
      return text.toLowerCase();
    case 'phone':
    case 'user_id':
    case 'anonymous_id':
    case 'cookie_id':
    case 'external_id':
      return text;
  }
}

export function truncate(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `type:value`, the one string key an identifier is stored and compared under. */
export function identifierKey(identifier: Identifier): string {
  return `${identifier.type}:${identifier.value}`;
}
