import type { ColumnType, Generated } from 'kysely';
import type { Json, Timestamp } from '../schema.js';

type Defaulted<T> = ColumnType<T, T | undefined, T>;

export type PrivacyRequestType = 'delete' | 'suppress' | 'unsuppress' | 'export';
export type PrivacyRequestStatus = 'queued' | 'running' | 'waiting' | 'completed' | 'failed';

export interface PrivacyRequestsTable {
  id: string;
  type: PrivacyRequestType;
  identifier_type: string;
  identifier_value: string | null;
  identifier_hash: string;
  status: PrivacyRequestStatus;
  profile_id: string | null;
  working_identifiers: Json<Array<[string, string]>> | null;
  steps: Json<unknown[]>;
  result: Json<unknown> | null;
  note: string | null;
  attempts: Defaulted<number>;
  next_attempt_at: Timestamp | null;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
  completed_at: Timestamp | null;
}

export interface PrivacySuppressionsTable {
  hash: string;
  kind: 'delete' | 'suppress';
  request_id: string;
  created_at: Defaulted<Date>;
}

export interface PrivacyFrozenProfilesTable {
  profile_id: string;
  request_id: string;
  frozen_at: Defaulted<Date>;
}

export interface PrivacyPendingLedgerTable {
  profile_id: string;
  reason: string;
  created_at: Defaulted<Date>;
}

export interface PrivacyRetentionPolicyTable {
  id: number;
  policy: Json<unknown>;
  updated_at: Defaulted<Date>;
}

export interface PrivacyRetentionRunsTable {
  id: Generated<number>;
  trigger: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  started_at: Defaulted<Date>;
  finished_at: Timestamp | null;
  removed: Json<Record<string, number>>;
  error: string | null;
}

/** The privacy tables, spread into {@link Tables}. */
export interface PrivacyTables {
  privacy_requests: PrivacyRequestsTable;
  privacy_suppressions: PrivacySuppressionsTable;
  privacy_frozen_profiles: PrivacyFrozenProfilesTable;
  privacy_pending_ledger: PrivacyPendingLedgerTable;
  privacy_retention_policy: PrivacyRetentionPolicyTable;
  privacy_retention_runs: PrivacyRetentionRunsTable;
}
