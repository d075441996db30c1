import type { ColumnType } from 'kysely';

export interface WrittenValuesTable {
  system: string;
  object: string;
  record_id: string;
  property: string;
  /** Hex SHA-256 of the value written (see `WrittenValueRepository`). */
  value_hash: string;
  destination_id: string;
  profile_id: string | null;
  written_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The write-back tables, spread into `Tables`. */
export interface WritebackTables {
  written_values: WrittenValuesTable;
}
