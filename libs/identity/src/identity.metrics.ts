import { Injectable, Optional } from '@nestjs/common';
import { Metrics } from '@plexus/observability';
import type { Counter } from 'prom-client';

/**
 * What a source's records became when their batch committed: `read` from the source (or received), `written` to the
 * profile store, `unchanged` (delivered before and skipped: storing it again would change nothing), `quarantined` (kept with the reason), `suppressed` (an erased or suppressed person), `deleted`
 * upstream, or `refused` (a webhook record without a usable identifier; logged, not kept).
 */
export type RecordOutcome = 'read' | 'written' | 'unchanged' | 'quarantined' | 'suppressed' | 'deleted' | 'refused';

/**
 * Ingestion and identity counters in `/metrics`. Each is incremented once the transaction that did the work has
 * committed, by the exact number it committed; without a registry (unit tests, benchmarks) they count nothing.
 */
@Injectable()
export class IdentityMetrics {
  readonly records?: Counter<'source' | 'connector' | 'outcome'>;
  readonly profilesCreated?: Counter;
  readonly merges?: Counter;
  readonly unmerges?: Counter;

  constructor(@Optional() metrics?: Metrics) {
    if (!metrics) return;
    this.records = metrics.counter(
      'plexus_source_records_total',
      'Source records by source, connector and outcome (read, written, unchanged, quarantined, suppressed, deleted, refused), ' +
        'counted when their batch commits (sync runs, tracking API, webhooks)',
      ['source', 'connector', 'outcome'],
    );
    this.profilesCreated = metrics.counter('plexus_identity_profiles_created_total', 'Profiles created by ingestion');
    this.merges = metrics.counter('plexus_identity_merges_total', 'Profiles merged into another by ingestion');
    this.unmerges = metrics.counter('plexus_identity_unmerges_total', 'Merges undone (POST /v1/profiles/:id/unmerge)');
  }

  /** Counts a committed batch of a source: `{ read: 100, written: 98, quarantined: 2 }`. */
  countRecords(source: { sourceId: string; connector: string }, counts: Partial<Record<RecordOutcome, number>>): void {
    for (const [outcome, n] of Object.entries(counts))
      if (n) this.records?.inc({ source: source.sourceId, connector: source.connector, outcome }, n);
  }
}
