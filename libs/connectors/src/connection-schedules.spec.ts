import { InvalidInputError } from '@plexus/errors';
import { validateSchedule } from './connection-schedules.js';

describe('validateSchedule', () => {
  it('accepts cron with a known time zone, intervals and no schedule', () => {
    expect(validateSchedule({ cron: '0 3 * * *', tz: 'Europe/Paris' })).toEqual({
      cron: '0 3 * * *',
      tz: 'Europe/Paris',
    });
    expect(validateSchedule({ cron: '*/5 * * * * *' })).toEqual({ cron: '*/5 * * * * *' });
    expect(validateSchedule({ everySeconds: 60 })).toEqual({ everySeconds: 60 });
    expect(validateSchedule(null)).toBeNull();
  });

  it.each([
    [{ cron: '0 3 * * *', tz: 'Not/AZone' }, 'schedule.tz'],
    [{ everySeconds: 60, tz: 'Mars/Olympus' }, 'schedule.tz'],
    [{ cron: '' }, 'schedule.cron'],
    [{ cron: '   ' }, 'schedule.cron'],
    [{ cron: '* *' }, 'schedule.cron'],
    [{ cron: '61 * * * *' }, 'schedule.cron'],
    [{ everySeconds: 0 }, 'schedule.everySeconds'],
    [{ cron: '* * * * *', everySeconds: 5 }, 'schedule'],
    ['daily', 'schedule'],
  ])('refuses %j, naming %s', (schedule, field) => {
    let error: unknown;
    try {
      validateSchedule(schedule);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toEqual([expect.objectContaining({ field })]);
  });
});
