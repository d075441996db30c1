import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface WriteKeysTable {
  id: string;
  source_id: string;
  key_hash: string;
  prefix: string;
  created_at: Defaulted<Date>;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface WebhookDeliveriesTable {
  source_id: string;
  delivery_key: string;
  received_at: Defaulted<Date>;
  stored_at: Timestamp | null;
}

/** The tracking tables, spread into {@link Tables}. */
export interface TrackingTables {
  write_keys: WriteKeysTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
