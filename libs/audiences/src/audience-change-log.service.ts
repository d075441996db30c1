import { Injectable } from '@nestjs/common';
import { AudienceRepository, type AudienceChange, type AudienceMember, type AudienceStep } from '@plexus/storage';
import { AudienceNotFoundError } from './audience.errors.js';

/**
 * The contract activation consumes: each audience's ordered change log (`entered` / `exited`, with the
 * reason), read after a cursor, and the current members in pages (for destinations that mirror a list).
 */
@Injectable()
export class AudienceChangeLog {
  constructor(private readonly audiences: AudienceRepository) {}

  /** Changes with a cursor greater than `afterCursor`, oldest first; resume after the last one's `cursor`. */
  async read(audienceId: string, afterCursor = 0, limit = 1000): Promise<AudienceChange[]> {
    await this.mustExist(audienceId);
    return this.audiences.changes(audienceId, afterCursor, limit);
  }

  /** The same changes without their reasons and times (cheaper to read): cursor, profile and direction. */
  async steps(audienceId: string, afterCursor = 0, limit = 1000): Promise<AudienceStep[]> {
    await this.mustExist(audienceId);
    return this.audiences.steps(audienceId, afterCursor, limit);
  }

  /** The cursor of the latest change (0 when none): a mirror taken now continues from here. */
  async latestCursor(audienceId: string): Promise<number> {
    return this.audiences.lastCursor(audienceId);
  }

  /** Current members in profile id order after `afterProfileId`. */
  async members(audienceId: string, limit = 1000, afterProfileId?: string): Promise<AudienceMember[]> {
    await this.mustExist(audienceId);
    return this.audiences.members(audienceId, limit, afterProfileId);
  }

  private async mustExist(audienceId: string): Promise<void> {
    if (!(await this.audiences.get(audienceId))) throw new AudienceNotFoundError(audienceId);
  }
}
