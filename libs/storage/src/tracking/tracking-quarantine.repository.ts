import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';

/** The quarantine's stream name for messages the tracking API refused. */
export const TRACKING_QUARANTINE_STREAM = 'tracking';

/**
 * Messages the tracking API refused, kept with their reason in the sources' quarantine (the table sync runs use,
 * without a run), so an admin sees them under `GET /v1/sources/:id/quarantine`.
 */
@Injectable()
export class TrackingQuarantineRepository {
  constructor(private readonly database: Database) {}

  /** `record` must be storable as jsonb (see `storableCopy`). */
  async keep(sourceId: string, refused: Array<{ record: unknown; reason: string }>): Promise<void> {
    if (refused.length === 0) return;
    // Two array parameters whatever the count: a batch of 20,000 refused messages would break PostgreSQL's limit
    // of 65,535 parameters as a multi-row VALUES.
    const records = refused.map((q) => JSON.stringify(q.record ?? null));
    const reasons = refused.map((q) => q.reason.slice(0, 2000));
    await sql`insert into quarantine (source_id, run_id, stream, record, reason)
      select ${sourceId}, null, ${TRACKING_QUARANTINE_STREAM}, r.record::jsonb, r.reason
      from unnest(${records}::text[], ${reasons}::text[]) as r(record, reason)`.execute(this.database.db);
  }
}
