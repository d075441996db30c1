import { Injectable, Optional } from '@nestjs/common';
import { IngestGate } from '@plexus/identity';
import { Metrics } from '@plexus/observability';
import type { NormalizedRecord } from '@plexus/profile';
import { SuppressionRepository } from '@plexus/storage';
import { IdentifierHasher } from './identifier-hasher.js';

/**
 * Ingestion's check against the suppression list: a record carrying any identifier of an erased or suppressed
 * person is skipped whole (its other identifiers would re-create or re-link the person). One index lookup per
 * batch, for the batch's distinct identifiers.
 */
@Injectable()
export class SuppressionGate extends IngestGate {
  private readonly counter;

  constructor(
    private readonly hasher: IdentifierHasher,
    private readonly suppressions: SuppressionRepository,
    @Optional() metrics?: Metrics,
  ) {
    super();
    this.counter = metrics?.counter(
      'plexus_privacy_suppressed_records_total',
      'Records not stored because their person is erased or suppressed (sync, webhooks, tracking)',
    );
  }

  async refused(records: NormalizedRecord[]): Promise<Set<number>> {
    const byKey = new Map<string, string>();
    const perRecord = records.map((record) =>
      record.identifiers.map((i) => {
        const key = `${i.type}\u0000${i.value}`;
        let hash = byKey.get(key);
        if (hash === undefined) {
          hash = this.hasher.hash(i.type, i.value);
          byKey.set(key, hash);
        }
        return hash;
      }),
    );
    const present = await this.suppressions.present([...new Set(byKey.values())]);
    const refused = new Set<number>();
    if (present.size === 0) return refused;
    perRecord.forEach((hashes, index) => {
      if (hashes.some((h) => present.has(h))) refused.add(index);
    });
    this.counter?.inc(refused.size);
    return refused;
  }
}
