import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { StatsRepository, type EventsPerMinute, type ProfilesPerDay, type RecordsPerDay } from '@plexus/storage';
import { RequireScopes } from '../auth/scopes.js';
import { integer, list, object, array, Returns, string } from '../openapi/response-schema.js';

const DAY_MS = 86_400_000;

export class DaysQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 366,
    default: 30,
    description: 'days back from today (UTC), today included',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(366)
  days: number = 30;
}

export class MinutesQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 1440, default: 60, description: 'minutes back from now' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1440)
  minutes: number = 60;
}

/** Midnight UTC `days - 1` days ago: the window holds today and the days before it. */
function startOfWindow(days: number): Date {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  return new Date(today - (days - 1) * DAY_MS);
}

const RECORDS = object({ day: string('YYYY-MM-DD (UTC)'), sourceId: string(), records: integer() });
const EVENTS = object({ minute: string('YYYY-MM-DDTHH:MMZ (UTC)'), events: integer() });
const PROFILES = object({
  live: integer('profiles that exist now (not merged away)'),
  data: array(
    object({
      day: string('YYYY-MM-DD (UTC)'),
      created: integer('profiles created that day'),
      merged: integer('merges made that day and not undone'),
    }),
  ),
});

@ApiTags('operations')
@ApiBearerAuth()
@Controller('v1/stats')
@RequireScopes('read')
export class StatsController {
  constructor(private readonly stats: StatsRepository) {}

  @Get('records')
  @ApiOperation({ summary: 'Source records stored per day and source (syncs, uploads, tracking, webhooks)' })
  @Returns(list(RECORDS))
  async records(@Query() query: DaysQuery): Promise<{ data: RecordsPerDay[] }> {
    return { data: await this.stats.recordsPerDay(startOfWindow(query.days)) };
  }

  @Get('events')
  @ApiOperation({ summary: 'Events stored per minute, by arrival' })
  @Returns(list(EVENTS))
  async events(@Query() query: MinutesQuery): Promise<{ data: EventsPerMinute[] }> {
    const since = new Date(Math.floor(Date.now() / 60_000) * 60_000 - (query.minutes - 1) * 60_000);
    return { data: await this.stats.eventsPerMinute(since) };
  }

  @Get('profiles')
  @ApiOperation({ summary: 'Profiles created and merges made per day, and the profiles live now' })
  @Returns(PROFILES)
  async profiles(@Query() query: DaysQuery): Promise<{ live: number; data: ProfilesPerDay[] }> {
    const { live, days } = await this.stats.profilesPerDay(startOfWindow(query.days));
    return { live, data: days };
  }
}
