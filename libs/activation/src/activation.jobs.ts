import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { ProfileChanges } from '@plexus/identity';
import { DeferJobError, JobHandler, QueueService, type JobPayloads } from '@plexus/queue';
import { ActivationRepository } from '@plexus/storage';
import { ActivationEngine, type DeliverResult } from './activation-engine.service.js';
import { ActivationScheduler, TICK_EVERY_SECONDS } from './activation-scheduler.service.js';

/** How long one delivery job works before it lets other activations of the destination have a turn. */
export const DELIVER_BUDGET_MS = 25_000;

/**
 * The activation jobs: a tick that finds activations with work, scheduled runs, and deliveries on each
 * destination's own queue. Profile changes (consent, identifiers, merges, deletions) queue re-checks of the
 * members the platforms hold.
 */
@Injectable()
export class ActivationJobs implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('ActivationJobs');

  constructor(
    private readonly queue: QueueService,
    private readonly repository: ActivationRepository,
    private readonly engine: ActivationEngine,
    private readonly scheduler: ActivationScheduler,
    private readonly changes: ProfileChanges,
  ) {}

  onModuleInit(): void {
    this.changes.subscribe(async (batch) => {
      await this.repository.recheckProfiles(batch.profileIds);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // PostgreSQL holds the truth: a Redis that lost its data gets the tick, the schedulers of scheduled
    // activations and a delivery of every activation with work back from it.
    this.queue.onRedisReset(async () => {
      await this.restoreSchedulers();
      await this.tick();
    });
    await this.restoreSchedulers();
  }

  /** Upserts the activation tick and the job scheduler of every scheduled activation (idempotent). */
  async restoreSchedulers(): Promise<void> {
    await this.queue.schedule('activation-tick', 'activation.tick', {}, { everySeconds: TICK_EVERY_SECONDS });
    for (const row of await this.repository.scheduled()) await this.scheduler.applySchedule(row);
  }

  @JobHandler('activation.tick')
  async tick(): Promise<number> {
    const due = await this.repository.withWork(new Date());
    for (const activation of due) await this.scheduler.kick(activation);
    await this.forgetDeletedDestinations();
    return due.length;
  }

  /**
   * Closes this process's delivery queues (and workers) of destinations deleted since they were opened, and removes
   * their keys from Redis (jobs of a deleted destination can never run). The queues are listed before the
   * destinations are read, so one opened for a destination created meanwhile stays. A worker finishes its running
   * job before it closes; the tick does not wait for that.
   */
  private async forgetDeletedDestinations(): Promise<void> {
    const open = this.queue.partitionKeys('activation.deliver');
    if (open.length === 0) return;
    const live = new Set(await this.repository.destinationIds());
    for (const key of open)
      if (!live.has(key))
        void this.queue
          .removePartition('activation.deliver', key)
          .catch((error: unknown) =>
            this.logger.warn(
              `removing the queue of destination ${key}: ${error instanceof Error ? error.message : String(error)}`,
            ),
          );
  }

  @JobHandler('activation.scheduled')
  async scheduled(payload: JobPayloads['activation.scheduled']): Promise<void> {
    const row = await this.repository.get(payload.activationId);
    if (!row || row.status !== 'active') return;
    // A scheduled mirror replaces the platform's list again each time.
    if (row.mode === 'mirror' && !row.mirror) {
      const cursor = row.cursor;
      await this.repository.update(row.id, {
        mirror: { sessionId: ActivationEngine.newSessionId(), batchSeq: 0, cursor },
      });
    }
    await this.scheduler.kick(row);
  }

  @JobHandler('activation.deliver')
  async deliver(payload: JobPayloads['activation.deliver']): Promise<DeliverResult> {
    const result = await this.engine.deliver(payload.activationId, { budgetMs: DELIVER_BUDGET_MS });
    // More to do, or a batch due later: the same job comes back then, without spending an attempt.
    if (result.state === 'more') throw new DeferJobError(Date.now(), 'more changes to deliver');
    if (result.state === 'waiting' && result.until)
      throw new DeferJobError(result.until.getTime(), 'a retry is due later');
    return result;
  }
}
