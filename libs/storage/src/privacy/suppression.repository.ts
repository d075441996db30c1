import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { Database } from '../database.js';

export type SuppressionKind = 'delete' | 'suppress';

/** The suppression list (keyed hashes of identifiers, never values) and the profiles frozen by suppress requests. */
@Injectable()
export class SuppressionRepository {
  constructor(private readonly database: Database) {}

  async add(hashes: string[], kind: SuppressionKind, requestId: string): Promise<number> {
    if (hashes.length === 0) return 0;
    const { rows } = await sql<{ hash: string }>`insert into privacy_suppressions (hash, kind, request_id)
      select h, ${kind}, ${requestId}::uuid from unnest(${[...new Set(hashes)]}::text[]) as h
      on conflict (hash, kind) do nothing returning hash`.execute(this.database.db);
    return rows.length;
  }

  /**
   * Lifts every `suppress` request that listed one of these hashes: all their hashes leave the list and the
   * profiles they froze are unfrozen. `delete` entries stay.
   */
  async lift(hashes: string[]): Promise<{ requests: number; hashes: number; profiles: number; profileIds: string[] }> {
    if (hashes.length === 0) return { requests: 0, hashes: 0, profiles: 0, profileIds: [] };
    return this.database.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ request_id: string }>`select distinct request_id::text as request_id
        from privacy_suppressions where kind = 'suppress' and hash = any(${hashes}::text[])`.execute(trx);
      const requests = rows.map((r) => r.request_id);
      if (requests.length === 0) return { requests: 0, hashes: 0, profiles: 0, profileIds: [] };
      const gone = await trx
        .deleteFrom('privacy_suppressions')
        .where('kind', '=', 'suppress')
        .where('request_id', 'in', requests)
        .executeTakeFirst();
      const unfrozen = await trx
        .deleteFrom('privacy_frozen_profiles')
        .where('request_id', 'in', requests)
        .returning('profile_id')
        .execute();
      return {
        requests: requests.length,
        hashes: Number(gone.numDeletedRows),
        profiles: unfrozen.length,
        profileIds: unfrozen.map((r) => r.profile_id),
      };
    });
  }

  /** Which of these hashes are on the list (of any kind): one index probe per hash. */
  async present(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const { rows } = await sql<{ hash: string }>`select distinct s.hash from privacy_suppressions s
      where s.hash = any(${hashes}::text[])`.execute(this.database.db);
    return new Set(rows.map((r) => r.hash));
  }

  async count(): Promise<Record<SuppressionKind, number>> {
    const rows = await this.database.db
      .selectFrom('privacy_suppressions')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('kind')
      .execute();
    const out: Record<SuppressionKind, number> = { delete: 0, suppress: 0 };
    for (const r of rows) out[r.kind] = Number(r.n);
    return out;
  }

  async freeze(profileId: string, requestId: string): Promise<void> {
    await this.database.db
      .insertInto('privacy_frozen_profiles')
      .values({ profile_id: profileId, request_id: requestId })
      .onConflict((oc) => oc.column('profile_id').doNothing())
      .execute();
  }

  async unfreeze(profileId: string): Promise<boolean> {
    const result = await this.database.db
      .deleteFrom('privacy_frozen_profiles')
      .where('profile_id', '=', profileId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async isFrozen(profileId: string): Promise<boolean> {
    const row = await this.database.db
      .selectFrom('privacy_frozen_profiles')
      .select('profile_id')
      .where('profile_id', '=', profileId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
