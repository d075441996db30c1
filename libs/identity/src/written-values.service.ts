import { hash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { WrittenRecord, WrittenValues } from '@plexus/sdk';
import { WrittenValueRepository, type WrittenValueRow } from '@plexus/storage';

/** The hash kept of a written value: hex SHA-256, with null kept apart from every string. */
export function writtenValueHash(value: string | null): string {
  return hash('sha256', value === null ? '\u0000null' : `v:${value}`, 'hex');
}

/**
 * Loop prevention between destinations and sources of one system (a CRM Plexus both reads and writes): records
 * the values destinations wrote, and answers sources whether a value they read back is one of them. Only a hash
 * of each value is kept, per record and property, and only the last one written.
 */
@Injectable()
export class WrittenValuesService implements WrittenValues {
  private readonly logger = new Logger('WrittenValues');

  constructor(private readonly repository: WrittenValueRepository) {}

  /**
   * Records what a destination reported writing (`WriteResult.written`). The activation engine calls it after
   * every `write` that reported values, before the next sync of the system can read them back. Returns the
   * number of property values recorded; records without a system, object or id are skipped.
   *
   * @example await writtenValues.recordWrites(destination.id, result.written);
   */
  async recordWrites(destinationId: string, written: readonly WrittenRecord[] | undefined): Promise<number> {
    const rows: WrittenValueRow[] = [];
    let skipped = 0;
    for (const record of written ?? []) {
      if (!record?.system || !record.object || !record.id || typeof record.values !== 'object' || !record.values) {
        skipped++;
        continue;
      }
      for (const [property, value] of Object.entries(record.values)) {
        if (value !== null && typeof value !== 'string') continue;
        rows.push({
          system: record.system,
          object: record.object,
          recordId: String(record.id),
          property,
          valueHash: writtenValueHash(value),
          destinationId,
          profileId: record.profileId ?? null,
        });
      }
    }
    if (skipped > 0) this.logger.warn(`destination ${destinationId} reported ${skipped} written records without a key`);
    await this.repository.record(rows);
    return rows.length;
  }

  async matches(
    system: string,
    object: string,
    candidates: Array<{ id: string; property: string; value: string | null }>,
  ): Promise<boolean[]> {
    if (candidates.length === 0) return [];
    const rows = await this.repository.find(
      system,
      object,
      candidates.map((c) => c.id),
    );
    const last = new Map(rows.map((r) => [`${r.recordId}\u0000${r.property}`, r.valueHash]));
    return candidates.map((c) => last.get(`${c.id}\u0000${c.property}`) === writtenValueHash(c.value));
  }

  /** Forgets what was written for a profile (privacy erasure); returns the rows removed. */
  forgetProfile(profileId: string): Promise<number> {
    return this.repository.forgetProfile(profileId);
  }
}
