import { Injectable, Logger } from '@nestjs/common';

/** Profiles whose data changed in one committed transaction (merged-away and deleted ones included). */
export interface ProfileChangeBatch {
  profileIds: string[];
  cause: 'ingest' | 'forget' | 'unmerge' | 'delete' | 'consent' | 'retention';
}

export type ProfileChangeListener = (batch: ProfileChangeBatch) => Promise<void>;

/**
 * The port through which the profile store tells later stages (audiences) which profiles changed, once per
 * committed batch. Listeners must be quick (enqueue, not evaluate); a listener that fails is logged and
 * does not undo the committed batch — the audiences' scheduled re-check catches up.
 */
@Injectable()
export class ProfileChanges {
  private readonly logger = new Logger('ProfileChanges');
  private readonly listeners: ProfileChangeListener[] = [];

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
