import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { validateSchedule } from '@plexus/connectors';
import { InvalidInputError, NotFoundError } from '@plexus/errors';
import { IdentityRulesService, inRetriedTransaction, lockBucket } from '@plexus/identity';
import { identifierKey } from '@plexus/profile';
import { JobHandler, QueueService, type JobPayloads } from '@plexus/queue';
import type { IdentifierType } from '@plexus/sdk';
import {
  Database,
  IdentityGraphRepository,
  PrivacyRequestRepository,
  RetentionRepository,
  type RetentionRunRow,
  type SweepBatch,
} from '@plexus/storage';
import { HoldingsLocator } from './holdings.locator.js';
import { PersonErasure } from './person-erasure.service.js';
import { requestJobId } from './privacy-request.service.js';
import { DEFAULT_RETENTION_POLICY, parseRetentionPolicy, type RetentionPolicy } from './retention-policy.js';

const DAY_MS = 86_400_000;
/** Empty profiles erased per transaction. */
const ERASE_CHUNK = 500;

/** Runs id-ordered sweep batches from the start of a table to its end; returns how many rows they removed. */
async function drain(batch: (after: number) => Promise<SweepBatch<number>>): Promise<number> {
  let removed = 0;
  for (let after = 0; ;) {
    const b = await batch(after);
    removed += b.removed;
    if (b.last === undefined) return removed;
    after = b.last;
  }
}
export const RETENTION_SCHEDULER_ID = 'maintenance:privacy.retention';

export interface RetentionView {
  policy: RetentionPolicy;
  /** Days an identifier may stay unseen before it is detached, per type (from the identity rules' `ttlDays`). */
  identifierTtlDays: Record<string, number>;
  updatedAt: Date | null;
}

/** What a sweep removed, per kind. */
export type RetentionRemoved = Record<
  | 'identifiersDetached'
  | 'profilesDeleted'
  | 'eventsDeleted'
  | 'quarantineDeleted'
  | 'exportsDeleted'
  | 'ledgerMembersErased'
  | 'ledgerMembersPruned'
  | 'requestsRequeued',
  number
>;

/**
 * Retention: the policy, and the scheduled sweep (a BullMQ job scheduler on the maintenance queue). Every
 * deletion runs in bounded batches — each reads at most `batchSize` rows along a primary key and commits — so
 * the profile store is never locked for long, however much has expired.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly database: Database,
    private readonly retention: RetentionRepository,
    private readonly graphs: IdentityGraphRepository,
    private readonly rules: IdentityRulesService,
    private readonly erasure: PersonErasure,
    private readonly holdings: HoldingsLocator,
    private readonly requests: PrivacyRequestRepository,
    private readonly queues: QueueService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.queues.onRedisReset(() => this.scheduleSweeps());
    await this.scheduleSweeps();
  }

  /** Upserts the sweep's scheduler from the stored policy (at start, and when Redis lost its data). */
  private async scheduleSweeps(): Promise<void> {
    const { policy } = await this.view();
    await this.queues.schedule(RETENTION_SCHEDULER_ID, 'privacy.retention', { trigger: 'schedule' }, policy.schedule);
  }

  async view(): Promise<RetentionView> {
    const stored = await this.retention.policy();
    const { rules } = await this.rules.get();
    const identifierTtlDays: Record<string, number> = {};
    for (const r of rules.identifiers) if (r.ttlDays !== null) identifierTtlDays[r.type] = r.ttlDays;
    return {
      policy: { ...DEFAULT_RETENTION_POLICY, ...((stored?.policy as Partial<RetentionPolicy> | undefined) ?? {}) },
      identifierTtlDays,
      updatedAt: stored?.updatedAt ?? null,
    };
  }

  /** Sets the policy (fields not sent keep their value) and reschedules the sweep. */
  async update(body: unknown): Promise<RetentionView> {
    const current = (await this.view()).policy;
    const parsed = parseRetentionPolicy(body, current);
    if ('problems' in parsed) throw InvalidInputError.fields(parsed.problems);
    const schedule = validateSchedule(parsed.policy.schedule);
    if (!schedule) throw InvalidInputError.field('schedule', 'is required');
    const policy = { ...parsed.policy, schedule };
    await this.queues.schedule(RETENTION_SCHEDULER_ID, 'privacy.retention', { trigger: 'schedule' }, schedule);
    await this.retention.savePolicy(policy);
    return this.view();
  }

  /** Queues a sweep now (`POST /v1/retention/runs`). */
  async request(): Promise<RetentionRunRow> {
    const run = await this.retention.createRun('api', 'queued');
    await this.queues.add('privacy.retention', { runId: run.id, trigger: 'api' });
    return run;
  }

  runs(limit: number, beforeId?: number): Promise<RetentionRunRow[]> {
    return this.retention.runs(limit, beforeId);
  }

  async run(id: number): Promise<RetentionRunRow> {
    const run = await this.retention.run(id);
    if (!run) throw new NotFoundError(`No retention run ${id}`);
    return run;
  }

  @JobHandler('privacy.retention')
  async job(payload: JobPayloads['privacy.retention']): Promise<RetentionRemoved | undefined> {
    const run =
      payload.runId !== undefined
        ? await this.retention.startRun(payload.runId)
        : await this.retention.createRun(payload.trigger, 'running');
    if (!run) return undefined; // taken by another attempt, or finished
    return (await this.sweep(run)).removed as RetentionRemoved;
  }

  /** One sweep at `now` (a test moves the clock by passing it). */
  async sweep(run?: RetentionRunRow, now: Date = new Date()): Promise<RetentionRunRow> {
    const current = run ?? (await this.retention.createRun('api', 'running'));
    const removed: RetentionRemoved = {
      identifiersDetached: 0,
      profilesDeleted: 0,
      eventsDeleted: 0,
      quarantineDeleted: 0,
      exportsDeleted: 0,
      ledgerMembersErased: 0,
      ledgerMembersPruned: 0,
      requestsRequeued: 0,
    };
    try {
      const { policy, identifierTtlDays } = await this.view();
      const emptied = new Set<string>();
      for (const [type, ttl] of Object.entries(identifierTtlDays)) {
        const cutoff = new Date(now.getTime() - ttl * DAY_MS);
        for (const id of await this.detachExpired(type, cutoff, policy.batchSize, removed)) emptied.add(id);
      }
      if (policy.deleteEmptyProfiles && emptied.size > 0) await this.deleteEmpty([...emptied], removed);
      await this.erasePendingLedger(policy.batchSize, removed);
      if (policy.eventsDays !== null) {
        const cutoff = new Date(now.getTime() - policy.eventsDays * DAY_MS);
        removed.eventsDeleted = await drain((after) =>
          this.retention.deleteEventsBatch(cutoff, policy.batchSize, after),
        );
      }
      if (policy.quarantineDays !== null) {
        const cutoff = new Date(now.getTime() - policy.quarantineDays * DAY_MS);
        removed.quarantineDeleted = await drain((after) =>
          this.retention.deleteQuarantineBatch(cutoff, policy.batchSize, after),
        );
      }
      const holdings = this.holdings.get();
      if (policy.ledgerDays !== null && holdings)
        removed.ledgerMembersPruned = await holdings.pruneLedger(
          new Date(now.getTime() - policy.ledgerDays * DAY_MS),
          policy.batchSize,
        );
      removed.exportsDeleted = await this.requests.clearExportsBefore(
        new Date(now.getTime() - policy.exportsDays * DAY_MS),
      );
      // Requests whose job was lost (Redis failover) get one again.
      for (const request of await this.requests.active(500))
        if (await this.queues.ensureJob('privacy.request', { requestId: request.id }, requestJobId(request.id)))
          removed.requestsRequeued++;
      const done = await this.retention.finishRun(current.id, 'succeeded', removed);
      this.logger.log(`retention run ${current.id}: ${JSON.stringify(removed)}`);
      return done;
    } catch (error) {
      await this.retention.finishRun(current.id, 'failed', removed, (error as Error).message);
      throw error;
    }
  }

  /** Detaches identifiers of `type` unseen since `cutoff`; returns the profiles left without any identifier. */
  private async detachExpired(
    type: string,
    cutoff: Date,
    batchSize: number,
    removed: RetentionRemoved,
  ): Promise<string[]> {
    const emptied: string[] = [];
    let after: string | undefined;
    for (;;) {
      const { last, detached, empty } = await inRetriedTransaction(this.database, async (trx) => {
        const batch = await this.retention.identifierBatch(trx, type, cutoff, batchSize, after);
        if (batch.expired.length === 0) return { last: batch.last, detached: 0, empty: [] as string[] };
        // The buckets ingestion takes: a batch re-seeing one of these identifiers runs before or after, not across.
        await this.graphs.lockBuckets(
          trx,
          batch.expired.map((e) => lockBucket(identifierKey({ type: type as IdentifierType, value: e.value }))),
        );
        const touched = await this.retention.detach(
          trx,
          type,
          batch.expired.map((e) => e.value),
          cutoff,
        );
        return {
          last: batch.last,
          detached: touched.length,
          empty: await this.retention.withoutIdentifiers(trx, touched),
        };
      });
      removed.identifiersDetached += detached;
      emptied.push(...empty);
      if (last === undefined) return emptied;
      after = last;
    }
  }

  /** Deletes profiles left without identifiers, and takes them out of every destination. */
  private async deleteEmpty(profileIds: string[], removed: RetentionRemoved): Promise<void> {
    // Identifiers may have been attached again since their batch committed: those profiles stay.
    const still = await this.retention.withoutIdentifiers(this.database.db, profileIds);
    for (let i = 0; i < still.length; i += ERASE_CHUNK) {
      const chunk = still.slice(i, i + ERASE_CHUNK);
      // By profile only: the expired values themselves may belong to someone else by now.
      const counts = await this.erasure.erase({ profileId: null, profileIds: chunk, identifiers: [] });
      removed.profilesDeleted += counts.profiles ?? 0;
    }
    const holdings = this.holdings.get();
    if (holdings && still.length > 0) {
      await holdings.removeEverywhere(still, 'retention');
      await this.retention.addPendingLedger(still, 'retention');
    }
  }

  /** Ledger rows of deleted profiles, once no destination holds them any more. */
  private async erasePendingLedger(limit: number, removed: RetentionRemoved): Promise<void> {
    const holdings = this.holdings.get();
    if (!holdings) return;
    for (const profileId of await this.retention.pendingLedger(limit)) {
      if ((await holdings.heldBy(profileId)).length > 0) continue;
      removed.ledgerMembersErased += await holdings.eraseMember(profileId);
      await this.retention.clearPendingLedger(profileId);
    }
  }
}
