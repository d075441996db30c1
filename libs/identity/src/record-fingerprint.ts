import { hash } from 'node:crypto';
import { identifierKey, toDictionary, type NormalizedRecord } from '@plexus/profile';
import type { FingerprintMatch, RecordFingerprint } from '@plexus/storage';
import type { CompiledRules } from './identity-rules.js';
import { foldConsent, foldTraits } from './trait-merge.js';

/**
 * JSON with every object's keys sorted, so equal content always gives the same text. Written with loops and
 * string appends (it runs on every ingested record): no intermediate arrays per object.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.getTime());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `${out}}`;
}

const hash16 = (text: string): string => hash('sha256', text, 'hex').slice(0, 32);

const rulesDigests = new WeakMap<CompiledRules, string>();

/** A digest of the identity rules in force: a change of rules changes every fingerprint. */
export function rulesDigest(rules: CompiledRules): string {
  let digest = rulesDigests.get(rules);
  if (digest === undefined) {
    digest = hash16(canonicalJson(rules.rules));
    rulesDigests.set(rules, digest);
  }
  return digest;
}

/** A record's fingerprint, and whether a stored equal one may skip it. */
export interface RecordPrint extends RecordFingerprint {
  /**
   * False for a record with an event without id: two deliveries of it may be two occurrences, so it is always
   * stored (its fingerprint is still written).
   */
  skippable: boolean;
}

/**
 * The key of a normalised record within its source (its sorted identifier keys: a source record is the set of
 * identifiers it carries) and the hash of everything storing it depends on: identifiers, traits, trait expiry,
 * consent, events, the time it was observed (`null` when the record gave none and the hub's clock stood in) and
 * the identity rules in force. 16 bytes of SHA-256 each, as hex.
 */
export function recordFingerprint(record: NormalizedRecord, observedAtGiven: boolean, rules: string): RecordPrint {
  const identifiers = record.identifiers.map(identifierKey).sort();
  const key = hash16(JSON.stringify(identifiers));
  const fingerprint = hash16(
    canonicalJson([
      rules,
      identifiers,
      record.traits,
      record.traitExpiry,
      record.consent,
      record.events,
      observedAtGiven ? record.observedAt : null,
    ]),
  );
  return { key, fingerprint, skippable: record.events.every((e) => e.id !== undefined) };
}

/** Whether a raw record's `observedAt` is a valid time (otherwise normalisation used the hub's clock). */
export function hasObservedAt(observedAt: string | Date | undefined): boolean {
  if (observedAt === undefined || observedAt === null) return false;
  return !Number.isNaN((observedAt instanceof Date ? observedAt : new Date(observedAt)).getTime());
}

/**
 * Whether folding the record's traits and consent into its profile as stored now would leave them as they are:
 * the check that lets a record with an unchanged fingerprint be skipped even after other records changed the
 * profile (another source's later value wins over the record's again; an equal time would let the record win, so
 * it is stored). A record without its own `observedAt` is observed "now" and would win every time: it changes
 * nothing when every value it carries is already this source's same value, only the time would move (for at most
 * a day, `FINGERPRINT_MAX_AGE_MS`, after which the record is stored again).
 */
export function foldsToSame(
  record: NormalizedRecord,
  observedAtGiven: boolean,
  profile: FingerprintMatch,
  sourceId: string,
  rules: CompiledRules,
): boolean {
  const traits = toDictionary(profile.traits);
  const consent = toDictionary(profile.consent);
  const ownTimeless = (values: Record<string, { s: string; t: number }>): object =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.s === sourceId ? { ...v, t: 0 } : v]));
  // Canonical: a stored value comes back from jsonb with its keys in another order than a folded one.
  const view = (): string =>
    canonicalJson(observedAtGiven ? [traits, consent] : [ownTimeless(traits), ownTimeless(consent)]);
  const before = view();
  const observedAt = record.observedAt.getTime();
  const expiry: Record<string, number> = {};
  for (const [name, at] of Object.entries(record.traitExpiry)) expiry[name] = at.getTime();
  foldTraits(traits, record.traits, sourceId, observedAt, toDictionary(expiry), rules.rules.traitSourcePriority);
  foldConsent(consent, record.consent, sourceId, observedAt);
  return view() === before;
}
