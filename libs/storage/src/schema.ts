import type { ColumnType, Generated } from 'kysely';
import type { IdentityTables } from './identity/identity.tables.js';
import type { TrackingTables } from './tracking/tracking.tables.js';

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
}

export interface SchemaMigrationsTable {
  version: string;
  applied_at: Generated<Date>;
}

/** Every table Plexus owns. Each domain adds its tables here and its migration under ../migrations. */
export interface Tables extends IdentityTables, TrackingTables {
  schema_migrations: SchemaMigrationsTable;
  api_keys: ApiKeysTable;
}
