import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';

export interface RecordsPerDay {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  sourceId: string;
  records: number;
}

export interface EventsPerMinute {
  /** `YYYY-MM-DDTHH:MMZ`, UTC. */
  minute: string;
  events: number;
}

export interface ProfilesPerDay {
  day: string;
  /** Profiles created that day (merged away since or not). */
  created: number;
  /** Merges made that day and not undone. */
  merged: number;
}

const DAY = (column: string) =>
  sql<string>`to_char(date_trunc('day', ${sql.ref(column)} at time zone 'UTC'), 'YYYY-MM-DD')`;

/**
 * Counts over time for the console's overview. Each query reads one time range of one table through its BRIN
 * index on the arrival time (migration 0085) and groups in the database, so an answer is a few dozen rows.
 */
@Injectable()
export class StatsRepository {
  constructor(private readonly database: Database) {}

  /** Stored source records (identity observations: syncs, uploads, tracking, webhooks) per day and source. */
  async recordsPerDay(since: Date): Promise<RecordsPerDay[]> {
    const rows = await this.database.db
      .selectFrom('identity_observations')
      .select([DAY('ingested_at').as('day'), 'source_id', (eb) => eb.fn.countAll<string>().as('records')])
      .where('ingested_at', '>=', since)
      .groupBy([sql`1`, 'source_id'])
      .orderBy(sql`1`)
      .orderBy('source_id')
      .execute();
    return rows.map((r) => ({ day: r.day, sourceId: r.source_id, records: Number(r.records) }));
  }

  /** Events stored per minute (by arrival, not by when they happened). */
  async eventsPerMinute(since: Date): Promise<EventsPerMinute[]> {
    const rows = await this.database.db
      .selectFrom('profile_events')
      .select([
        sql<string>`to_char(date_trunc('minute', received_at at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:MI"Z"')`.as(
          'minute',
        ),
        (eb) => eb.fn.countAll<string>().as('events'),
      ])
      .where('received_at', '>=', since)
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute();
    return rows.map((r) => ({ minute: r.minute, events: Number(r.events) }));
  }

  /** Profiles created and merges made per day since `since`, and the profiles live now. */
  async profilesPerDay(since: Date): Promise<{ live: number; days: ProfilesPerDay[] }> {
    const [created, merged, live] = await Promise.all([
      this.database.db
        .selectFrom('profiles')
        .select([DAY('created_at').as('day'), (eb) => eb.fn.countAll<string>().as('n')])
        .where('created_at', '>=', since)
        .groupBy(sql`1`)
        .execute(),
      this.database.db
        .selectFrom('identity_merges')
        .select([DAY('merged_at').as('day'), (eb) => eb.fn.countAll<string>().as('n')])
        .where('merged_at', '>=', since)
        .where('undone_at', 'is', null)
        .groupBy(sql`1`)
        .execute(),
      this.database.db
        .selectFrom('profiles')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('merged_into', 'is', null)
        .executeTakeFirstOrThrow(),
    ]);
    const byDay = new Map<string, ProfilesPerDay>();
    const at = (day: string) => byDay.get(day) ?? byDay.set(day, { day, created: 0, merged: 0 }).get(day)!;
    for (const r of created) at(r.day).created = Number(r.n);
    for (const r of merged) at(r.day).merged = Number(r.n);
    return { live: Number(live.n), days: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day)) };
  }
}
