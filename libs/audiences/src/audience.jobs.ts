import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { ProfileChanges } from '@plexus/identity';
import { JobHandler, QueueService } from '@plexus/queue';
import { AudienceEvaluator, type EvaluationResult } from './audience-evaluator.service.js';
import { ComputedTraitService } from './computed-trait.service.js';

/** Changes arriving within this slice of time are re-evaluated by one job. */
export const COALESCE_MS = 250;
/** Profiles one job evaluates per transaction. */
const DRAIN_BATCH = 500;
/** How often time-dependent audiences are re-checked in full. */
export const RECHECK_EVERY_SECONDS = 300;

/**
 * Real-time and scheduled evaluation. Changed profile ids go into one Redis set; one job per time slice of
 * {@link COALESCE_MS} drains it, so a burst of thousands of changes costs a few jobs, not thousands.
 */
@Injectable()
export class AudienceJobs implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Audiences');

  constructor(
    private readonly queue: QueueService,
    private readonly changes: ProfileChanges,
    private readonly evaluator: AudienceEvaluator,
    private readonly computed: ComputedTraitService,
  ) {}

  private get dirtyKey(): string {
    return `${this.queue.prefix}:audiences:dirty`;
  }

  onModuleInit(): void {
    this.changes.subscribe((batch) => this.profilesChanged(batch.profileIds));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.schedule('audiences-recheck', 'audiences.recheck', {}, { everySeconds: RECHECK_EVERY_SECONDS });
  }

  /** Marks profiles for re-evaluation and makes sure a job of the current time slice will drain them. */
  async profilesChanged(profileIds: string[]): Promise<void> {
    if (profileIds.length === 0) return;
    await this.queue.redis.sadd(this.dirtyKey, ...profileIds);
    const now = Date.now();
    const slice = Math.floor(now / COALESCE_MS);
    await this.queue.add(
      'audiences.profiles-changed',
      {},
      { jobId: `audiences-changed-${slice}`, delay: (slice + 1) * COALESCE_MS - now, removeOnComplete: true },
    );
  }

  @JobHandler('audiences.profiles-changed')
  async drain(): Promise<number> {
    let evaluated = 0;
    for (;;) {
      const ids = await this.queue.redis.spop(this.dirtyKey, DRAIN_BATCH);
      if (ids.length === 0) return evaluated;
      try {
        await this.computed.refresh(ids);
        await this.evaluator.evaluateProfiles(ids);
      } catch (error) {
        // Put them back for the retry: a change is never lost because an evaluation failed.
        await this.queue.redis.sadd(this.dirtyKey, ...ids);
        throw error;
      }
      evaluated += ids.length;
    }
  }

  @JobHandler('audiences.evaluate')
  async evaluate(payload: { audienceId: string }): Promise<EvaluationResult> {
    return this.evaluator.evaluate(payload.audienceId, 'full');
  }

  @JobHandler('audiences.recheck')
  async recheck(): Promise<number> {
    await this.computed.refresh();
    const results = await this.evaluator.recheckTimeDependent();
    const moved = results.filter((r) => r.entered + r.exited > 0);
    if (moved.length > 0) this.logger.log(`re-check: ${moved.length} of ${results.length} audiences changed`);
    return results.length;
  }
}
