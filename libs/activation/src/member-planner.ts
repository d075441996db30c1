import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  sha256Hex,
  type ActivationMember,
  type ConsentPurpose,
  type DestinationDefinition,
  type Identifier,
  type IdentifierType,
  type TraitValue,
} from '@plexus/sdk';
import {
  emptyBatchPayload,
  type BatchPayload,
  type MemberRow,
  type MemberState,
  type PlannedMember,
} from '@plexus/storage';
import type { IdentifierFingerprints } from './fingerprints.js';

/**
 * A profile as activation reads it (`ActivationRepository.profileSnapshots`): live or not, its identifiers,
 * visible traits (computed trait values included) and consent.
 */
export interface ProfileSnapshot {
  id: string;
  live: boolean;
  identifiers: Identifier[];
  traits: Record<string, TraitValue>;
  consent: Record<string, boolean>;
  /** Frozen by a privacy `suppress` request: kept in the store, sent nowhere until it is lifted. */
  frozen?: boolean;
}

/** What the audience says of a profile: it should be on the platform, or not (with why). */
export type Intent = { present: true } | { present: false; reason: string };

/** The ledger as planning sees it: what is stored, overlaid with what batches in flight will record. */
export type LedgerView = Pick<MemberRow, 'state' | 'item'>;

const HELD: MemberState[] = ['held', 'removing'];

/** The reasons a member is not sendable, worded for the runs' `notSendableReasons`. */
export const NOT_SENDABLE = {
  consent: (purpose: string) => `no consent for ${purpose}`,
  identifiers: 'no identifier the destination accepts',
  item: 'the destination could build nothing from the identifiers',
  suppressed: 'suppressed by a privacy request',
} as const;

export interface PlanContext {
  definition: Pick<DestinationDefinition<unknown, unknown>, 'toItem' | 'purpose'>;
  /** Identifier types handed over (the activation's choice within what the connector accepts). */
  types: ReadonlySet<IdentifierType>;
  fingerprints: IdentifierFingerprints;
}

/** The member handed to `toItem`, or the reason it cannot be sent. */
export function memberOf(
  profile: ProfileSnapshot,
  context: PlanContext,
): { member: ActivationMember; fingerprints: string[] } | { reason: string; fingerprints: string[] } {
  const identifiers = acceptedIdentifiers(profile.identifiers, context.types);
  const fingerprints = new Array<string>(identifiers.length);
  for (let i = 0; i < identifiers.length; i++)
    fingerprints[i] = context.fingerprints.of(identifiers[i].type, identifiers[i].value);
  if (profile.frozen === true) return { reason: NOT_SENDABLE.suppressed, fingerprints };
  const purpose: ConsentPurpose = context.definition.purpose;
  if (profile.consent[purpose] !== true) return { reason: NOT_SENDABLE.consent(purpose), fingerprints };
  if (identifiers.length === 0) return { reason: NOT_SENDABLE.identifiers, fingerprints };
  return {
    member: { profileId: profile.id, identifiers, traits: profile.traits, consent: profile.consent },
    fingerprints,
  };
}

/** The identifiers of the types handed over: the profile's own list when it has no other (the usual case). */
function acceptedIdentifiers(identifiers: Identifier[], types: ReadonlySet<IdentifierType>): Identifier[] {
  for (const identifier of identifiers)
    if (!types.has(identifier.type)) return identifiers.filter((i) => types.has(i.type));
  return identifiers;
}

const EMAIL_LIKE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** Phones as the hub stores them (E.164). Digits without `+` are left alone: they are ids (Meta's EXTERN_ID). */
const PHONE_LIKE = /^\+\d{7,15}$/;
const PLUS = 43;

/** An email address or an E.164 phone number (the `@` and the `+` are looked for first: hashes have neither). */
function isContactDetail(value: string): boolean {
  return (value.includes('@') && EMAIL_LIKE.test(value)) || (value.charCodeAt(0) === PLUS && PHONE_LIKE.test(value));
}

/**
 * The form of an item the ledger keeps: as the platform received it, except that clear contact details (email
 * addresses, E.164 phone numbers) become `sha256:<hex>` and free-form `traits` are dropped. Ad platforms' items are
 * hashed already and pass unchanged (the same object: nothing is copied); a generic webhook's items lose their
 * clear values (its removals name the profile id).
 *
 * @example ledgerItem({ profileId: 'p1', identifiers: [{ type: 'email', value: 'a@b.io' }], traits: { name: 'A' } })
 * // { profileId: 'p1', identifiers: [{ type: 'email', value: 'sha256:…' }] }
 */
export function ledgerItem(item: unknown): unknown {
  if (typeof item === 'string') return isContactDetail(item) ? `sha256:${sha256Hex(item)}` : item;
  if (item === null || typeof item !== 'object') return item;
  if (Array.isArray(item)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < item.length; i++) {
      const kept = ledgerItem(item[i]);
      if (kept !== item[i]) (out ??= item.slice())[i] = kept;
    }
    return out ?? item;
  }
  const prototype = Object.getPrototypeOf(item) as unknown;
  const plain = prototype === Object.prototype || prototype === null;
  const record = item as Record<string, unknown>;
  const keys = Object.keys(record);
  // Copied from the first key that changes (or at once for an object that is not plain data).
  let out: Record<string, unknown> | undefined = plain ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = record[key];
    const dropped = key === 'traits';
    const kept = dropped ? undefined : ledgerItem(value);
    if (out === undefined) {
      if (!dropped && kept === value) continue;
      out = {};
      for (let j = 0; j < i; j++) out[keys[j]] = record[keys[j]];
    }
    if (!dropped) out[key] = kept;
  }
  return out ?? item;
}

function sameItem(stored: unknown, item: unknown): boolean {
  return JSON.stringify(stored) === JSON.stringify(ledgerItem(item));
}

/**
 * Plans one batch from what the audience wants of each profile and what the ledger says the platform holds:
 * - wanted and sendable → added (unless the platform already holds exactly this item);
 * - wanted but not sendable (consent, identifiers) → removed when held, else recorded as not sendable;
 * - not wanted → removed with the item the platform received (so it works after an erasure or an unmerge).
 * Pure apart from hashing; the caller persists the payload before anything is sent.
 */
export function planBatch(
  intents: Map<string, Intent>,
  ledger: (profileId: string) => LedgerView | undefined,
  profiles: Map<string, ProfileSnapshot>,
  context: PlanContext,
): BatchPayload {
  const payload = emptyBatchPayload();
  for (const [profileId, intent] of intents) planMember(payload, profileId, intent, ledger, profiles, context);
  return payload;
}

/** Members planned in one go by `planBatchYielding` before it lets the event loop run. */
export const PLAN_SLICE = 1_000;

/**
 * `planBatch` in slices of `slice` members, letting the event loop run between them: planning 10,000 members
 * (identifier fingerprints, the connector's normalisation and hashing) takes 100-200 ms of CPU, and a worker that
 * plans the next batch while earlier ones are sent must not hold back the sends that the rate budget admits
 * meanwhile, nor the answers. The payload is the same as `planBatch`'s, in the same order.
 */
export async function planBatchYielding(
  intents: Map<string, Intent>,
  ledger: (profileId: string) => LedgerView | undefined,
  profiles: Map<string, ProfileSnapshot>,
  context: PlanContext,
  slice = PLAN_SLICE,
): Promise<BatchPayload> {
  const payload = emptyBatchPayload();
  let planned = 0;
  for (const [profileId, intent] of intents) {
    if (planned > 0 && planned % slice === 0) await yieldToEventLoop();
    planMember(payload, profileId, intent, ledger, profiles, context);
    planned++;
  }
  return payload;
}

/** Plans one member into `payload` (see `planBatch`). */
function planMember(
  payload: BatchPayload,
  profileId: string,
  intent: Intent,
  ledger: (profileId: string) => LedgerView | undefined,
  profiles: Map<string, ProfileSnapshot>,
  context: PlanContext,
): void {
  const row = ledger(profileId);
  const held = row && HELD.includes(row.state) ? row : undefined;
  const profile = profiles.get(profileId);
  let reason: string | undefined;
  if (!intent.present) reason = intent.reason;
  else if (!profile || !profile.live) reason = 'the profile was merged or deleted';
  if (reason === undefined && profile) {
    const built = memberOf(profile, context);
    if ('reason' in built) {
      if (held) payload.removes.push({ profileId, item: held.item, fingerprints: [], reason: built.reason });
      else payload.notSendable.push({ profileId, item: null, fingerprints: built.fingerprints, reason: built.reason });
      return;
    }
    const item = context.definition.toItem(built.member);
    if (item === null) {
      if (held) payload.removes.push({ profileId, item: held.item, fingerprints: [], reason: NOT_SENDABLE.item });
      else
        payload.notSendable.push({
          profileId,
          item: null,
          fingerprints: built.fingerprints,
          reason: NOT_SENDABLE.item,
        });
      return;
    }
    if (held?.state === 'held' && sameItem(held.item, item)) return;
    payload.adds.push({ profileId, item, fingerprints: built.fingerprints });
    return;
  }
  if (held) payload.removes.push({ profileId, item: held.item, fingerprints: [], reason });
  else if (row && row.state !== 'removed') payload.closed.push({ profileId, item: null, fingerprints: [], reason });
}

/** What a planned batch will make of each member once recorded (for planning the next batch before that). */
export function expectedLedger(payload: BatchPayload): Map<string, LedgerView> {
  const view = new Map<string, LedgerView>();
  for (const m of payload.adds) view.set(m.profileId, { state: 'held', item: ledgerItem(m.item) });
  for (const m of payload.removes) view.set(m.profileId, { state: 'removed', item: m.item });
  for (const m of payload.notSendable) view.set(m.profileId, { state: 'not_sendable', item: null });
  for (const m of payload.closed) view.set(m.profileId, { state: 'removed', item: null });
  return view;
}

export type { PlannedMember };
