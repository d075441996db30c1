import { Injectable } from '@nestjs/common';
import { QueueService, type Schedule } from '@plexus/queue';
import type { ActivationRow } from '@plexus/storage';

/** How often the hub looks for activations with new changes (real-time delivery: seconds after a change). */
export const TICK_EVERY_SECONDS = 2;

/** Queues deliveries on each destination's own queue, and keeps the job schedulers of scheduled activations. */
@Injectable()
export class ActivationScheduler {
  constructor(private readonly queue: QueueService) {}

  /** Queues a delivery of the activation unless one is already waiting or running. */
  async kick(row: Pick<ActivationRow, 'id' | 'destinationId'>): Promise<void> {
    await this.queue.ensurePartitionedJob(
      'activation.deliver',
      row.destinationId,
      { activationId: row.id, destinationId: row.destinationId },
      `deliver-${row.id}`,
    );
  }

  /** One job scheduler per scheduled activation, removed when the schedule is, or the activation deleted. */
  async applySchedule(row: Pick<ActivationRow, 'id' | 'schedule' | 'status'>): Promise<void> {
    const schedulerId = `activation-${row.id}`;
    if (row.schedule && (row.status === 'active' || row.status === 'paused' || row.status === 'stopped'))
      await this.queue.schedule(
        schedulerId,
        'activation.scheduled',
        { activationId: row.id },
        row.schedule as Schedule,
      );
    else await this.queue.unschedule('activation.scheduled', schedulerId);
  }
}
