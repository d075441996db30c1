import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CronExpressionParser } from 'cron-parser';
import { InvalidInputError } from '@plexus/errors';
import { QueueService, type Schedule } from '@plexus/queue';
import { ConnectionRepository } from '@plexus/storage';

const MAX_EVERY_SECONDS = 31 * 24 * 3600;

/** True when `tz` is an IANA time zone this runtime knows (`Europe/Paris`, `UTC`). */
function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates a `{ cron, tz? }` or `{ everySeconds }` schedule completely — the cron expression, its time zone —
 * so that nothing the scheduler would refuse is ever saved. Throws an `InvalidInputError` naming the field.
 *
 * @example validateSchedule({ cron: '0 3 * * *', tz: 'Europe/Paris' }) // { cron: '0 3 * * *', tz: 'Europe/Paris' }
 */
export function validateSchedule(schedule: unknown): Schedule | null {
  if (schedule === null || schedule === undefined) return null;
  if (typeof schedule !== 'object' || Array.isArray(schedule))
    throw InvalidInputError.field('schedule', 'must be { cron } or { everySeconds }');
  const s = schedule as Record<string, unknown>;
  const keys = Object.keys(s).filter((k) => k !== 'tz');
  if (keys.length !== 1 || !['cron', 'everySeconds'].includes(keys[0]))
    throw InvalidInputError.field('schedule', 'must have exactly one of cron or everySeconds');
  if (s.tz !== undefined && (typeof s.tz !== 'string' || !isTimeZone(s.tz)))
    throw InvalidInputError.field('schedule.tz', 'must be an IANA time zone such as Europe/Paris or UTC');
  if ('cron' in s) {
    if (typeof s.cron !== 'string' || s.cron.trim() === '')
      throw InvalidInputError.field('schedule.cron', 'must be a non-empty cron expression');
    const fields = s.cron.trim().split(/\s+/).length;
    if (fields < 5 || fields > 6)
      throw InvalidInputError.field('schedule.cron', 'must have 5 fields (or 6 with seconds)');
    try {
      CronExpressionParser.parse(s.cron, typeof s.tz === 'string' ? { tz: s.tz } : {}).next();
    } catch (error) {
      throw InvalidInputError.field('schedule.cron', `not a valid cron expression: ${(error as Error).message}`);
    }
    return typeof s.tz === 'string' ? { cron: s.cron, tz: s.tz } : { cron: s.cron };
  }
  const every = s.everySeconds;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1 || every > MAX_EVERY_SECONDS) {
    throw InvalidInputError.field(
      'schedule.everySeconds',
      `must be a whole number of seconds from 1 to ${MAX_EVERY_SECONDS}`,
    );
  }
  return { everySeconds: every };
}

/**
 * The BullMQ job scheduler of each scheduled source: one per source, named after it. PostgreSQL holds the truth:
 * every process re-applies the stored schedules when it starts, and the first to notice that Redis lost its data
 * re-applies them then.
 */
@Injectable()
export class ConnectionSchedules implements OnApplicationBootstrap {
  private readonly logger = new Logger('Schedules');

  constructor(
    private readonly queues: QueueService,
    private readonly connections: ConnectionRepository,
  ) {
    queues.onRedisReset(async () => {
      await this.reapplyAll();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reapplyAll();
  }

  /** Upserts the scheduler of every source that has a schedule (idempotent). */
  async reapplyAll(): Promise<number> {
    let applied = 0;
    for (const source of await this.connections.listAll('source')) {
      if (!source.schedule) continue;
      try {
        await this.apply(source.id, validateSchedule(source.schedule));
        applied++;
      } catch (error) {
        this.logger.warn(`source ${source.id}: schedule not applied: ${(error as Error).message}`);
      }
    }
    return applied;
  }

  /** Creates, replaces or (with `null`) removes the source's scheduler. */
  async apply(sourceId: string, schedule: Schedule | null): Promise<void> {
    const schedulerId = `source:${sourceId}`;
    if (schedule) await this.queues.schedule(schedulerId, 'source.scheduled', { sourceId }, schedule);
    else await this.queues.unschedule('source.scheduled', schedulerId);
  }
}
