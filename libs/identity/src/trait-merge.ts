import type { Consent, TraitValue } from '@plexus/sdk';
import { dictionary, ownValue } from '@plexus/profile';
import type { StoredConsent, StoredTrait } from '@plexus/storage';

// Trait names and consent purposes come from clients: every read is of an own key (`constructor` is a trait
// like any other, not Object's constructor), and `into` is a null-prototype dictionary (see `toDictionary`), so
// writing `__proto__` defines a key instead of changing a prototype.

/**
 * Folds one observation of traits into a profile's stored traits. The latest observation wins unless the
 * trait has a source priority list: then a source higher in the list wins over a later one from a lower
 * source (sources not listed rank last). Provenance (source, time, expiry) travels with each value.
 */
export function foldTraits(
  into: Record<string, StoredTrait>,
  traits: Record<string, TraitValue>,
  sourceId: string,
  observedAt: number,
  expiry: Record<string, number>,
  sourcePriority: Record<string, string[]>,
): void {
  for (const [name, value] of Object.entries(traits)) {
    const incoming: StoredTrait = { v: value, s: sourceId, t: observedAt };
    const x = ownValue(expiry, name);
    if (x !== undefined) incoming.x = x;
    const current = ownValue(into, name);
    if (!current || wins(name, incoming, current, sourcePriority)) into[name] = incoming;
  }
}

/** Merges a losing profile's traits into the winner's with the same rule. */
export function mergeTraits(
  into: Record<string, StoredTrait>,
  from: Record<string, StoredTrait>,
  sourcePriority: Record<string, string[]>,
): void {
  for (const [name, trait] of Object.entries(from)) {
    const current = ownValue(into, name);
    if (!current || wins(name, trait, current, sourcePriority)) into[name] = trait;
  }
}

function wins(
  name: string,
  incoming: StoredTrait,
  current: StoredTrait,
  sourcePriority: Record<string, string[]>,
): boolean {
  const order = ownValue(sourcePriority, name);
  if (Array.isArray(order) && order.length > 0) {
    const rank = (s: string): number => {
      const i = order.indexOf(s);
      return i < 0 ? order.length : i;
    };
    const a = rank(incoming.s);
    const b = rank(current.s);
    if (a !== b) return a < b;
  }
  return incoming.t >= current.t;
}

/** Latest observation per purpose wins. */
export function foldConsent(
  into: Record<string, StoredConsent>,
  consent: Consent,
  sourceId: string,
  observedAt: number,
): void {
  for (const [purpose, granted] of Object.entries(consent)) {
    if (typeof granted !== 'boolean') continue;
    const current = ownValue(into, purpose);
    if (!current || observedAt >= current.t) into[purpose] = { g: granted, s: sourceId, t: observedAt };
  }
}

export function mergeConsent(into: Record<string, StoredConsent>, from: Record<string, StoredConsent>): void {
  for (const [purpose, c] of Object.entries(from)) {
    const current = ownValue(into, purpose);
    if (!current || c.t >= current.t) into[purpose] = c;
  }
}

/** Traits as shown: expired and cleared (null) ones are left out. */
export function visibleTraits(
  traits: Record<string, StoredTrait>,
  now: number,
): Record<string, { value: TraitValue; sourceId: string; observedAt: Date; expiresAt?: Date }> {
  const out = dictionary<{ value: TraitValue; sourceId: string; observedAt: Date; expiresAt?: Date }>();
  for (const [name, t] of Object.entries(traits)) {
    if (t.v === null || (t.x !== undefined && t.x <= now)) continue;
    out[name] = { value: t.v, sourceId: t.s, observedAt: new Date(t.t), ...(t.x ? { expiresAt: new Date(t.x) } : {}) };
  }
  return out;
}
