/**
 * The canonical record types every source maps its data to. Identifiers are normalised by the core
 * (`@plexus/profile`) before identity resolution sees them, so a connector may pass raw values.
 */

/** Every identifier type Plexus knows. `ip` is deliberately absent: an IP is data, never a merge key. */
export const IDENTIFIER_TYPES = [
  'email',
  'email_sha256',
  'phone',
  'user_id',
  'anonymous_id',
  'cookie_id',
  'device_id',
  'external_id',
] as const;

export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

export function isIdentifierType(value: unknown): value is IdentifierType {
  return typeof value === 'string' && (IDENTIFIER_TYPES as readonly string[]).includes(value);
}

/**
 * One identifier of a person.
 *
 * @example { type: 'email', value: 'Alice@Example.com ' }   // normalised to alice@example.com by the core
 * @example { type: 'external_id', value: 'hubspot:contact:1201' }
 */
export interface Identifier {
  type: IdentifierType;
  value: string;
}

/** A scalar trait value; objects and arrays are stored as JSON. `null` clears a trait. */
export type TraitValue = string | number | boolean | null | TraitValue[] | { [key: string]: TraitValue };

/** Something a person did, e.g. `Order Completed` with `{ total: 42.5, currency: 'EUR' }`. */
export interface ProfileEvent {
  /** The event name, e.g. `Order Completed`, `Page Viewed`. */
  name: string;
  /** When it happened (ISO-8601 string or Date). */
  occurredAt: string | Date;
  properties?: Record<string, TraitValue>;
  /** Idempotency key within the source: the same id twice is one event. */
  id?: string;
}

/** Consent purposes Plexus tracks; destinations declare the purpose they need. */
export const CONSENT_PURPOSES = ['ads', 'email', 'analytics', 'personalization', 'sale'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/** Consent per purpose: `true` granted, `false` denied; absent means unknown. */
export type Consent = Partial<Record<ConsentPurpose, boolean>>;

/**
 * What a source emits for one observation of a person, after mapping.
 *
 * @example
 * ```ts
 * const record: ProfileRecord = {
 *   identifiers: [{ type: 'email', value: 'alice@example.com' }, { type: 'external_id', value: 'hubspot:contact:42' }],
 *   traits: { firstName: 'Alice', lifecycleStage: 'customer' },
 *   consent: { email: true },
 *   observedAt: '2026-05-01T10:00:00Z',
 * };
 * ```
 */
export interface ProfileRecord {
  identifiers: Identifier[];
  traits?: Record<string, TraitValue>;
  events?: ProfileEvent[];
  consent?: Consent;
  /** When the source saw this state; later observations win trait conflicts. Defaults to now. */
  observedAt?: string | Date;
  /** Default country (ISO alpha-2) for phone numbers without a country code. */
  country?: string;
  /** Trait expiry, e.g. DMP segment memberships: trait name → ISO time after which it no longer applies. */
  traitExpiry?: Record<string, string>;
}
