import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';

/** One property value written to one record of a system, its value hashed. */
export interface WrittenValueRow {
  system: string;
  object: string;
  recordId: string;
  property: string;
  valueHash: string;
  destinationId: string;
  profileId: string | null;
}

/** All SQL of the write-back ledger: the last value Plexus wrote to each property of each external record. */
@Injectable()
export class WrittenValueRepository {
  constructor(private readonly database: Database) {}

  /** Upserts rows (the latest write of a property wins), in one statement. */
  async record(rows: WrittenValueRow[], at = new Date()): Promise<void> {
    if (rows.length === 0) return;
    // One row per key: a batch naming a property twice keeps its last value (an upsert cannot touch a row twice).
    const unique = [
      ...new Map(rows.map((r) => [`${r.system}\u0000${r.object}\u0000${r.recordId}\u0000${r.property}`, r])).values(),
    ];
    await sql`insert into written_values (system, object, record_id, property, value_hash, destination_id, profile_id, written_at)
      select u.system, u.object, u.record_id, u.property, u.value_hash, u.destination_id, u.profile_id, ${at.toISOString()}::timestamptz
      from unnest(${unique.map((r) => r.system)}::text[], ${unique.map((r) => r.object)}::text[],
                  ${unique.map((r) => r.recordId)}::text[], ${unique.map((r) => r.property)}::text[],
                  ${unique.map((r) => r.valueHash)}::text[], ${unique.map((r) => r.destinationId)}::text[],
                  ${unique.map((r) => r.profileId)}::text[])
        as u(system, object, record_id, property, value_hash, destination_id, profile_id)
      on conflict (system, object, record_id, property) do update
        set value_hash = excluded.value_hash, destination_id = excluded.destination_id,
            profile_id = excluded.profile_id, written_at = excluded.written_at`.execute(this.database.db);
  }

  /** The hashes last written to the given records of one object type of one system. */
  async find(
    system: string,
    object: string,
    recordIds: string[],
  ): Promise<Array<{ recordId: string; property: string; valueHash: string }>> {
    if (recordIds.length === 0) return [];
    const rows = await this.database.db
      .selectFrom('written_values')
      .select(['record_id', 'property', 'value_hash'])
      .where('system', '=', system)
      .where('object', '=', object)
      .where('record_id', '=', sql<string>`any(${[...new Set(recordIds)]}::text[])`)
      .execute();
    return rows.map((r) => ({ recordId: r.record_id, property: r.property, valueHash: r.value_hash }));
  }

  /** Removes what was recorded for a profile (privacy erasure); returns how many rows. */
  async forgetProfile(profileId: string): Promise<number> {
    const result = await this.database.db
      .deleteFrom('written_values')
      .where('profile_id', '=', profileId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
