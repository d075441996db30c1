import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { ProfileChanges } from '@plexus/identity';
import { JobHandler, QueueService } from '@plexus/queue';
import { AudienceEvaluator } from './audience-evaluator.service.js';
import { ComputedTraitService } from './computed-trait.service.js';

/** Changes arriving within this slice of time are re-evaluated by one job. */
export const COALESCE_MS = 250;
/** Profiles one job evaluates per transaction. */
const DRAIN_BATCH = 500;
/** How often time-dependent audiences are re-checked in full. */
export const RECHECK_EVERY_SECONDS = 300;

/**
 * Real-time and scheduled evaluation. Changed profiles are marked durably by the profile store (in the
 * transaction that changed them); one job per time slice of {@link COALESCE_MS} drains the marks, so a burst of
 * thousands of changes costs a few jobs, not thousands.
 */
@Injectable()
export class AudienceJobs implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Audiences');
  private draining = false;
  private drainAgain = false;

  constructor(
    private readonly queue: QueueService,
    private readonly changes: ProfileChanges,
    private readonly evaluator: AudienceEvaluator,
    private readonly computed: ComputedTraitService,
  ) {}

  onModuleInit(): void {
    this.changes.subscribe(() => this.profilesChanged());
  }

  async onApplicationBootstrap(): Promise<void> {
    this.queue.onRedisReset(async () => {
      await this.queue.schedule('audiences-recheck', 'audiences.recheck', {}, { everySeconds: RECHECK_EVERY_SECONDS });
      await this.profilesChanged();
    });
    await this.queue.schedule('audiences-recheck', 'audiences.recheck', {}, { everySeconds: RECHECK_EVERY_SECONDS });
    // Changes left pending by a process that stopped (or whose wake-up job Redis lost) are drained now.
    await this.profilesChanged();
  }

  /** Makes sure a job of the current time slice will drain the pending changes (marked durably by the store). */
  async profilesChanged(): Promise<void> {
    const now = Date.now();
    const slice = Math.floor(now / COALESCE_MS);
    await this.queue.add(
      'audiences.profiles-changed',
      {},
      { jobId: `audiences-changed-${slice}`, delay: (slice + 1) * COALESCE_MS - now, removeOnComplete: true },
    );
  }

  /**
   * Re-evaluates the pending changed profiles, oldest first. A mark is cleared only after its evaluation
   * committed, and only if the profile did not change again meanwhile: a worker killed mid-way loses nothing.
   *
   * One drain at a time per process: the marks are read oldest first, so concurrent drains would all take the
   * same ones and then wait on the same audience locks (a real-time evaluation locks every audience) to evaluate
   * them again. A job that arrives while a drain runs leaves its changes to that drain, which reads again before
   * it stops.
   */
  @JobHandler('audiences.profiles-changed')
  async drain(): Promise<number> {
    if (this.draining) {
      this.drainAgain = true;
      return 0;
    }
    this.draining = true;
    try {
      return await this.drainPending();
    } catch (error) {
      this.draining = false;
      throw error;
    }
  }

  private async drainPending(): Promise<number> {
    let evaluated = 0;
    for (;;) {
      // Set by a job arriving from here on: its marks were committed before it, so the read below sees them.
      this.drainAgain = false;
      const pending = await this.changes.pending(DRAIN_BATCH);
      if (pending.length === 0) {
        if (this.drainAgain) continue;
        // Cleared in the same synchronous step as the last check: a job arriving now starts its own drain.
        this.draining = false;
        return evaluated;
      }
      const ids = pending.map((p) => p.profileId);
      await this.computed.refresh(ids);
      await this.evaluator.evaluateProfiles(ids);
      await this.changes.processed(pending);
      evaluated += ids.length;
    }
  }

  @JobHandler('audiences.recheck')
  async recheck(): Promise<number> {
    // The safety net for changes whose wake-up job was lost (a Redis that lost its data).
    await this.drain();
    await this.computed.refresh();
    const results = await this.evaluator.recheckTimeDependent();
    const moved = results.filter((r) => r.entered + r.exited > 0);
    if (moved.length > 0) this.logger.log(`re-check: ${moved.length} of ${results.length} audiences changed`);
    return results.length;
  }
}
