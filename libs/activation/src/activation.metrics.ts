import { Injectable } from '@nestjs/common';
import { Metrics } from '@plexus/observability';
import type { Counter } from 'prom-client';

/** Activation counters in `/metrics`, per destination and connector. */
@Injectable()
export class ActivationMetrics {
  readonly runs: Counter<'destination' | 'connector' | 'status'>;
  readonly items: Counter<'destination' | 'connector' | 'operation' | 'outcome'>;
  readonly batches: Counter<'destination' | 'connector' | 'outcome'>;

  constructor(metrics: Metrics) {
    this.runs = metrics.counter(
      'plexus_activation_runs_total',
      'Activation runs by destination, connector and final status',
      ['destination', 'connector', 'status'],
    );
    this.items = metrics.counter(
      'plexus_activation_items_total',
      'Members sent to destinations (outcome sent, accepted, invalid, failed, not_sendable) by operation',
      ['destination', 'connector', 'operation', 'outcome'],
    );
    this.batches = metrics.counter(
      'plexus_activation_batches_total',
      'Batches recorded by outcome (confirmed, retrying, blocked, dead)',
      ['destination', 'connector', 'outcome'],
    );
  }
}
