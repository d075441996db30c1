import { Injectable, Optional } from '@nestjs/common';
import { Metrics } from '@plexus/observability';
import { AudienceRepository } from '@plexus/storage';
import type { Counter } from 'prom-client';
import type { EvaluationKind, EvaluationResult } from './audience-evaluator.service.js';

/**
 * Audience figures in `/metrics`: each audience's size, read from the database at scrape time (so every process
 * shows the same, whichever evaluated it), and the evaluations and membership changes this process committed.
 */
@Injectable()
export class AudienceMetrics {
  private readonly evaluations?: Counter<'kind'>;
  private readonly changes?: Counter<'audience' | 'change'>;

  constructor(audiences: AudienceRepository, @Optional() metrics?: Metrics) {
    if (!metrics) return;
    metrics.gauge('plexus_audience_size', 'Members of each audience now', ['audience', 'name'], async (gauge) => {
      gauge.reset();
      for (const a of await audiences.currentSizes()) gauge.set({ audience: a.id, name: a.name }, a.size);
    });
    this.evaluations = metrics.counter(
      'plexus_audience_evaluations_total',
      'Audience evaluations committed, by kind (full, rule, profiles, schedule)',
      ['kind'],
    );
    this.changes = metrics.counter(
      'plexus_audience_changes_total',
      'Membership changes appended to the change log, by audience and change (entered, exited)',
      ['audience', 'change'],
    );
  }

  /** Counts evaluations once their transaction has committed. */
  committed(kind: EvaluationKind, results: EvaluationResult[]): void {
    for (const r of results) {
      this.evaluations?.inc({ kind });
      if (r.entered) this.changes?.inc({ audience: r.audienceId, change: 'entered' }, r.entered);
      if (r.exited) this.changes?.inc({ audience: r.audienceId, change: 'exited' }, r.exited);
    }
  }
}
