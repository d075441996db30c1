import { Injectable, Logger } from '@nestjs/common';
import { ProfileChangeRepository, type PendingProfileChange, type Tables } from '@plexus/storage';
import type { Kysely } from 'kysely';

/** Profiles whose data changed in one committed transaction (merged-away and deleted ones included). */
export interface ProfileChangeBatch {
  profileIds: string[];
  cause: 'ingest' | 'forget' | 'unmerge' | 'delete' | 'consent' | 'retention';
}

export type ProfileChangeListener = (batch: ProfileChangeBatch) => Promise<void>;

/**
 * The port through which the profile store tells later stages (audiences) which profiles changed. Two halves:
 * `record` marks the profiles durably inside the transaction that changes them (so no change is lost to a crash
 * after the commit or to a Redis that lost its data), and `committed` wakes the listeners after the commit (they
 * must be quick: enqueue, not evaluate; a failing listener is logged and does not undo the batch). Consumers
 * process the durable marks with `pending` and `processed`.
 */
@Injectable()
export class ProfileChanges {
  private readonly logger = new Logger('ProfileChanges');
  private readonly listeners: ProfileChangeListener[] = [];

  constructor(private readonly pendingChanges: ProfileChangeRepository) {}

  /** Marks the profiles as changed, in the caller's transaction. */
  record(trx: Kysely<Tables>, profileIds: string[]): Promise<void> {
    return this.pendingChanges.mark(trx, profileIds);
  }

  /** The oldest changes not processed yet (they stay pending until `processed`). */
  pending(limit: number): Promise<PendingProfileChange[]> {
    return this.pendingChanges.take(limit);
  }

  /** Clears the marks that were read, unless the profile changed again since. */
  processed(changes: PendingProfileChange[]): Promise<void> {
    return this.pendingChanges.done(changes);
  }

  subscribe(listener: ProfileChangeListener): void {
    this.listeners.push(listener);
  }

  async committed(batch: ProfileChangeBatch): Promise<void> {
    if (batch.profileIds.length === 0) return;
    for (const listener of this.listeners) {
      try {
        await listener(batch);
      } catch (error) {
        this.logger.error(`profile change listener failed (${batch.cause}): ${(error as Error).message}`);
      }
    }
  }
}
