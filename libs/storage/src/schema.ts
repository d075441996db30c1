import type { ColumnType, Generated } from 'kysely';
import type { ActivationTables } from './activation/activation.tables.js';
import type { AuditTables } from './audit/audit.repository.js';
import type { AudienceTables } from './audiences/audience.tables.js';
import type { IdentityTables } from './identity/identity.tables.js';
import type { PrivacyTables } from './privacy/privacy.tables.js';
import type { TrackingTables } from './tracking/tracking.tables.js';
import type { WritebackTables } from './writeback/written-value.tables.js';

/** A timestamp column the database fills in by default. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A jsonb column: written as a JSON string or value, read back parsed. */
export type Json<T> = ColumnType<T, T | string, T | string>;

export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
  scopes: string[];
  expires_at: Timestamp | null;
  created_by: string | null;
}

export interface SchemaMigrationsTable {
  version: string;
  applied_at: Generated<Date>;
}

export type ConnectionKind = 'source' | 'destination';
export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'partial' | 'failed' | 'cancelled';

export interface ConnectionsTable {
  id: string;
  kind: ConnectionKind;
  name: string;
  connector: string;
  config: Json<Record<string, unknown>>;
  schedule: Json<Record<string, unknown>> | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SyncRunsTable {
  id: string;
  source_id: string;
  status: RunStatus;
  trigger: string;
  options: Json<Record<string, unknown>>;
  read_count: Generated<number>;
  written_count: Generated<number>;
  quarantined_count: Generated<number>;
  deleted_count: Generated<number>;
  suppressed_count: Generated<number>;
  unchanged_count: Generated<number>;
  checkpoint: Json<unknown> | null;
  error: Json<{ type: string; message: string }> | null;
  cancel_requested: Generated<boolean>;
  attempts: Generated<number>;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  heartbeat_at: Timestamp | null;
  resume_at: Timestamp | null;
  recoveries: Generated<number>;
}

export interface SyncRunStreamsTable {
  run_id: string;
  stream: string;
  read_count: Generated<number>;
  written_count: Generated<number>;
  quarantined_count: Generated<number>;
  deleted_count: Generated<number>;
  suppressed_count: Generated<number>;
  unchanged_count: Generated<number>;
  checkpoint: Json<unknown> | null;
  finished: Generated<boolean>;
}

export interface StreamStatesTable {
  source_id: string;
  stream: string;
  checkpoint: Json<unknown> | null;
  updated_at: Timestamp;
}

export interface QuarantineTable {
  id: Generated<number>;
  source_id: string;
  run_id: string | null;
  stream: string;
  record: Json<unknown>;
  reason: string;
  created_at: CreatedAt;
}

export interface UploadsTable {
  id: string;
  source_id: string;
  bytes: Generated<number>;
  complete: Generated<boolean>;
  created_at: CreatedAt;
}

export interface UploadChunksTable {
  upload_id: string;
  seq: number;
  data: Uint8Array;
}

/** Every table Plexus owns. Each domain adds its tables here and its migration under ../migrations. */
export interface Tables
  extends
    IdentityTables,
    TrackingTables,
    AuditTables,
    AudienceTables,
    WritebackTables,
    ActivationTables,
    PrivacyTables {
  schema_migrations: SchemaMigrationsTable;
  api_keys: ApiKeysTable;
  connections: ConnectionsTable;
  sync_runs: SyncRunsTable;
  sync_run_streams: SyncRunStreamsTable;
  stream_states: StreamStatesTable;
  quarantine: QuarantineTable;
  uploads: UploadsTable;
  upload_chunks: UploadChunksTable;
}
