import {
  CONSENT_PURPOSES,
  isIdentifierType,
  type Consent,
  type Identifier,
  type IdentifierType,
  type ProfileRecord,
  type TraitValue,
} from '@plexus/sdk';
import {
  candidateValue,
  emailSha256,
  identifierKey,
  normalizeIdentifier,
  truncate,
  type PhoneNormalizer,
} from './identifier.normalizer.js';
import { dictionary, ownValue, toDictionary } from './safe-input.js';

/** An identifier the core refused, and why (shown to admins and in ingest results). */
export interface DroppedIdentifier {
  type: string;
  value: string;
  reason: string;
}

export interface NormalizedEvent {
  name: string;
  occurredAt: Date;
  properties: Record<string, TraitValue>;
  id?: string;
}

/** A {@link ProfileRecord} after normalisation: what identity resolution and storage see. */
export interface NormalizedRecord {
  /** Valid, de-duplicated identifiers, plus `email_sha256` derived from every email. */
  identifiers: Identifier[];
  dropped: DroppedIdentifier[];
  traits: Record<string, TraitValue>;
  /** Trait name → when it stops applying. */
  traitExpiry: Record<string, Date>;
  consent: Consent;
  events: NormalizedEvent[];
  observedAt: Date;
}

export interface RecordNormalizeOptions {
  /** The source's default country for phone numbers without one; the record's own `country` wins. */
  defaultCountry?: string;
  /** Identifier values refused by rule (placeholders such as `n/a`); checked before and after validation. */
  isBlocked?: (type: IdentifierType, value: string) => boolean;
  phones?: PhoneNormalizer;
  /** Used when the record has no `observedAt`. */
  now?: Date;
}

export type RecordNormalization = { ok: true; record: NormalizedRecord } | { ok: false; reason: string };

/**
 * Normalises a record's identifiers, traits, consent and events. A record keeps its valid identifiers; one
 * with none left is refused with the reasons (the caller quarantines it).
 *
 * @example normalizeRecord({ identifiers: [{ type: 'email', value: 'n/a' }] }, { isBlocked }) // → { ok: false, reason: "no valid identifier: email 'n/a' is blocked" }
 */
export function normalizeRecord(record: ProfileRecord, options: RecordNormalizeOptions = {}): RecordNormalization {
  const observedAt = toDate(record.observedAt) ?? options.now ?? new Date();
  const country = record.country ?? options.defaultCountry;
  const identifiers: Identifier[] = [];
  const dropped: DroppedIdentifier[] = [];
  const seen = new Set<string>();
  const add = (identifier: Identifier): void => {
    const key = identifierKey(identifier);
    if (seen.has(key)) return;
    if (options.isBlocked?.(identifier.type, identifier.value)) {
      dropped.push({ ...identifier, reason: `${identifier.type} '${truncate(identifier.value)}' is blocked` });
      return;
    }
    seen.add(key);
    identifiers.push(identifier);
  };
  for (const given of Array.isArray(record.identifiers) ? record.identifiers : []) {
    const type: unknown = (given as { type?: unknown } | null)?.type;
    if (!isIdentifierType(type)) {
      dropped.push({
        type: String(type),
        value: String(given?.value),
        reason: `unknown identifier type '${String(type)}'`,
      });
      continue;
    }
    const candidate = candidateValue(given);
    if (options.isBlocked?.(type, candidate)) {
      dropped.push({ type, value: candidate, reason: `${type} '${truncate(candidate)}' is blocked` });
      continue;
    }
    const result = normalizeIdentifier(given, { country, phones: options.phones });
    if (!result.ok) {
      dropped.push({ type, value: candidate, reason: result.reason });
      continue;
    }
    add(result.identifier);
    if (type === 'email') add({ type: 'email_sha256', value: emailSha256(result.identifier.value) });
  }
  if (identifiers.length === 0) {
    const why = dropped.length ? dropped.map((d) => d.reason).join('; ') : 'the record has no identifiers';
    return { ok: false, reason: `no valid identifier: ${why}` };
  }
  // Names come from clients: null-prototype dictionaries keep `constructor` or `__proto__` ordinary keys.
  const traitExpiry = dictionary<Date>();
  for (const [name, at] of Object.entries(record.traitExpiry ?? {})) {
    const date = toDate(at);
    if (date) traitExpiry[name] = date;
  }
  const consent: Consent = {};
  for (const purpose of CONSENT_PURPOSES) {
    const value = ownValue(record.consent, purpose);
    if (typeof value === 'boolean') consent[purpose] = value;
  }
  const events: NormalizedEvent[] = [];
  for (const event of record.events ?? []) {
    const occurredAt = toDate(event.occurredAt);
    if (!event.name || !occurredAt) continue;
    events.push({
      name: event.name,
      occurredAt,
      properties: toDictionary(event.properties),
      ...(event.id !== undefined && event.id !== '' ? { id: String(event.id) } : {}),
    });
  }
  return {
    ok: true,
    record: { identifiers, dropped, traits: toDictionary(record.traits), traitExpiry, consent, events, observedAt },
  };
}

function toDate(value: string | Date | undefined): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
