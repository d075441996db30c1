import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from '../schema.js';

type Defaulted<T> = ColumnType<T, T | undefined, T>;

export type ActivationMode = 'upsert' | 'mirror';
export type ActivationStatus = 'active' | 'paused' | 'stopped' | 'deleting' | 'deleted';
export type BatchState = 'planned' | 'confirmed' | 'retrying' | 'blocked' | 'dead';
export type MemberState = 'held' | 'removing' | 'removed' | 'not_sendable' | 'invalid' | 'failed';

export interface ActivationsTable {
  id: string;
  audience_id: string;
  destination_id: string;
  mode: ActivationMode;
  identifiers: Defaulted<string[]>;
  schedule: Json<Record<string, unknown>> | null;
  external_id: string | null;
  cursor: Defaulted<number>;
  status: Defaulted<ActivationStatus>;
  error: Json<unknown> | null;
  mirror: Json<unknown> | null;
  lease_owner: string | null;
  lease_until: Timestamp | null;
  next_attempt_at: Timestamp | null;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface ActivationRunsTable {
  id: Generated<number>;
  activation_id: string;
  trigger: string;
  status: 'running' | 'succeeded' | 'partial' | 'failed';
  changes: Defaulted<number>;
  adds: Defaulted<number>;
  removes: Defaulted<number>;
  accepted: Defaulted<number>;
  invalid: Defaulted<number>;
  failed: Defaulted<number>;
  not_sendable: Defaulted<number>;
  not_sendable_reasons: Defaulted<Json<Record<string, number>>>;
  error: string | null;
  started_at: Defaulted<Date>;
  finished_at: Timestamp | null;
}

export interface ActivationBatchesTable {
  id: string;
  activation_id: string;
  run_id: number | null;
  seq: number;
  kind: 'write' | 'replace';
  state: BatchState;
  cursor_to: number | null;
  session: number | null;
  /** JSON text. */
  payload: string | null;
  adds: Defaulted<number>;
  removes: Defaulted<number>;
  accepted: Defaulted<number>;
  invalid: Defaulted<number>;
  failed: Defaulted<number>;
  attempts: Defaulted<number>;
  next_attempt_at: Timestamp | null;
  answer: Json<unknown> | null;
  error: string | null;
  created_at: Defaulted<Date>;
  confirmed_at: Timestamp | null;
}

export interface ActivationMembersTable {
  activation_id: string;
  profile_id: string;
  state: MemberState;
  /** JSON text. */
  item: string | null;
  fingerprints: Defaulted<string[]>;
  /** The first 32 bits of each fingerprint as a signed integer: what the GIN index holds (see `fingerprintKey`). */
  fingerprint_keys: Defaulted<number[]>;
  reason: string | null;
  added_at: Timestamp | null;
  add_batch: string | null;
  removed_at: Timestamp | null;
  remove_batch: string | null;
  updated_at: Defaulted<Date>;
}

export interface ActivationRechecksTable {
  activation_id: string;
  profile_id: string;
  remove_reason: string | null;
  created_at: Defaulted<Date>;
}

export interface ActivationDeadLettersTable {
  id: Generated<number>;
  activation_id: string;
  batch_id: string;
  profile_ids: string[];
  operation: string;
  error: string;
  attempts: number;
  created_at: Defaulted<Date>;
  replayed_at: Timestamp | null;
}

/** The activation tables, spread into {@link Tables}. */
export interface ActivationTables {
  activations: ActivationsTable;
  activation_runs: ActivationRunsTable;
  activation_batches: ActivationBatchesTable;
  activation_members: ActivationMembersTable;
  activation_rechecks: ActivationRechecksTable;
  activation_dead_letters: ActivationDeadLettersTable;
}
