import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { Database } from '../database.js';
import type { Tables } from '../schema.js';

/** One pending change: the profile and the mark it was read with (a newer mark keeps it pending). */
export interface PendingProfileChange {
  profileId: string;
  seq: string;
}

/**
 * The durable list of changed profiles that later stages have not processed yet. `mark` runs inside the
 * transaction that changed the profiles; `take` reads the oldest marks without removing them, and `done` removes
 * exactly the marks that were read, so a change made while they were being processed stays pending and a process
 * that dies mid-way leaves everything for the next one.
 */
@Injectable()
export class ProfileChangeRepository {
  constructor(private readonly database: Database) {}

  async mark(trx: Kysely<Tables>, profileIds: string[]): Promise<void> {
    if (profileIds.length === 0) return;
    const ids = [...new Set(profileIds)].sort();
    await sql`insert into profile_changes_pending (profile_id, seq)
      select p, nextval('profile_changes_pending_seq') from unnest(${ids}::uuid[]) as p
      on conflict (profile_id) do update set seq = excluded.seq`.execute(trx);
  }

  async take(limit: number): Promise<PendingProfileChange[]> {
    const { rows } = await sql<{ profile_id: string; seq: string }>`select profile_id, seq::text as seq
      from profile_changes_pending order by seq limit ${limit}`.execute(this.database.db);
    return rows.map((r) => ({ profileId: r.profile_id, seq: r.seq }));
  }

  async done(changes: PendingProfileChange[]): Promise<void> {
    if (changes.length === 0) return;
    await sql`delete from profile_changes_pending d
      using unnest(${changes.map((c) => c.profileId)}::uuid[], ${changes.map((c) => c.seq)}::bigint[]) as x(p, s)
      where d.profile_id = x.p and d.seq = x.s`.execute(this.database.db);
  }

  async count(): Promise<number> {
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from profile_changes_pending`.execute(
      this.database.db,
    );
    return Number(rows[0].n);
  }
}
