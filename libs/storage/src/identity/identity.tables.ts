import type { ColumnType, Generated } from 'kysely';
import type { TraitValue } from '@plexus/sdk';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json<T> = ColumnType<T, T | string, T | string>;

/** A trait with provenance as stored: value, source, observed-at (ms), optional expiry (ms). */
export interface StoredTrait {
  v: TraitValue;
  s: string;
  t: number;
  x?: number;
}

/** Consent for one purpose as stored: granted, source, observed-at (ms). */
export interface StoredConsent {
  g: boolean;
  s: string;
  t: number;
}

export interface ProfilesTable {
  id: string;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
  merged_into: string | null;
  traits: Json<Record<string, StoredTrait>>;
  consent: Json<Record<string, StoredConsent>>;
}

export interface ProfileIdentifiersTable {
  type: string;
  value: string;
  profile_id: string;
  source_id: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
}

export interface IdentityObservationsTable {
  id: Generated<number>;
  profile_id: string;
  source_id: string;
  run_id: string | null;
  observed_at: Timestamp;
  ingested_at: Defaulted<Date>;
  /** `[type, value]` pairs, normalised. */
  identifiers: Json<Array<[string, string]>>;
  traits: Json<Record<string, TraitValue>> | null;
  trait_expiry: Json<Record<string, number>> | null;
  consent: Json<Record<string, boolean>> | null;
}

export interface ProfileEventsTable {
  id: Generated<number>;
  profile_id: string;
  observation_id: number | null;
  source_id: string;
  event_id: string | null;
  name: string;
  occurred_at: Timestamp;
  properties: Json<Record<string, TraitValue>>;
  received_at: Defaulted<Date>;
}

export interface IdentityMergesTable {
  id: Generated<number>;
  winner: string;
  loser: string;
  caused_by: Json<Array<{ type: string; value: string }>>;
  observation_id: number | null;
  source_id: string | null;
  run_id: string | null;
  merged_at: Defaulted<Date>;
  undone_at: Timestamp | null;
  undo_note: string | null;
}

export interface IdentityFlagsTable {
  type: string;
  value: string;
  people: Defaulted<string[]>;
  flagged: Defaulted<boolean>;
  reason: string | null;
  first_seen_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface IdentitySeparationsTable {
  type: string;
  value: string;
  merge_id: number;
  side: number;
  created_at: Defaulted<Date>;
}

export interface IdentityRulesTable {
  id: number;
  rules: Json<unknown>;
  version: number;
  updated_at: Defaulted<Date>;
}

/** A changed profile later stages have not processed yet (see migration 0047). */
export interface ProfileChangesPendingTable {
  profile_id: string;
  seq: string;
}

/** The last stored delivery of a source record, for the re-ingest fast path (see migration 0090). */
export interface IdentityFingerprintsTable {
  source_id: string;
  record_key: Buffer;
  fingerprint: Buffer;
  profile_id: string;
  seen_at: Timestamp;
}

/** The identity tables, spread into {@link Tables}. */
export interface IdentityTables {
  profiles: ProfilesTable;
  profile_identifiers: ProfileIdentifiersTable;
  identity_observations: IdentityObservationsTable;
  profile_events: ProfileEventsTable;
  identity_merges: IdentityMergesTable;
  identity_flags: IdentityFlagsTable;
  identity_separations: IdentitySeparationsTable;
  identity_rules: IdentityRulesTable;
  profile_changes_pending: ProfileChangesPendingTable;
  identity_fingerprints: IdentityFingerprintsTable;
}
