import { Injectable } from '@nestjs/common';
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
    await this.database.db
      .insertInto('quarantine')
      .values(
        refused.map((q) => ({
          source_id: sourceId,
          run_id: null,
          stream: TRACKING_QUARANTINE_STREAM,
          record: JSON.stringify(q.record ?? null),
          reason: q.reason.slice(0, 2000),
        })),
      )
      .execute();
  }
}
