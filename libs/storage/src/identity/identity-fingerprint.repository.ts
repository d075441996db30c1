import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { jsonRows } from '../json-rows.js';
import type { Tables } from '../schema.js';

/** A record's key and content hashes (hex, 16 bytes each), as the ingest path computes them. */
export interface RecordFingerprint {
  key: string;
  fingerprint: string;
}

/** How long a stored fingerprint may skip a record: the resolution of identifiers' `last_seen`. */
export const FINGERPRINT_MAX_AGE_MS = 86_400_000;

/**
 * The re-ingest fast path's table (migration 0090): per source record, the hash of its last stored delivery and
 * the profile it resolved to. Every method takes the connection or transaction it runs in.
 */
@Injectable()
export class IdentityFingerprintRepository {
  /**
   * One read for a batch of one source, before any lock: the positions of `records` whose stored fingerprint is
   * the same, whose profile is live and unchanged since the fingerprint was written, and whose fingerprint is
   * younger than {@link FINGERPRINT_MAX_AGE_MS}; with the profile each resolved to.
   */
  async unchanged(db: Kysely<Tables>, sourceId: string, records: RecordFingerprint[]): Promise<Map<number, string>> {
    const found = new Map<number, string>();
    if (records.length === 0) return found;
    const { rows } = await sql<{ i: string | number; profile_id: string }>`
      select k.i - 1 as i, f.profile_id::text as profile_id
      from unnest(${records.map((r) => r.key)}::text[], ${records.map((r) => r.fingerprint)}::text[])
        with ordinality as k(key, fp, i)
      join identity_fingerprints f on f.source_id = ${sourceId} and f.record_key = decode(k.key, 'hex')
      join profiles p on p.id = f.profile_id
      where f.fingerprint = decode(k.fp, 'hex') and p.merged_into is null and p.updated_at <= f.seen_at
        and f.seen_at > now() - make_interval(secs => ${FINGERPRINT_MAX_AGE_MS / 1000}::float8)`.execute(db);
    for (const r of rows) found.set(Number(r.i), r.profile_id);
    return found;
  }

  /**
   * Stores the fingerprints of a batch's stored records, in the batch's transaction after its write (so the
   * profiles' `updated_at` it reads are the batch's). A key given twice keeps its last row.
   */
  async write(
    db: Kysely<Tables>,
    sourceId: string,
    rows: Array<RecordFingerprint & { profileId: string }>,
  ): Promise<void> {
    const last = new Map<string, RecordFingerprint & { profileId: string }>();
    for (const r of rows) last.set(r.key, r);
    if (last.size === 0) return;
    const doc = jsonRows([...last.values()].map((r) => [r.key, r.fingerprint, r.profileId]));
    await sql`insert into identity_fingerprints (source_id, record_key, fingerprint, profile_id, seen_at)
      select ${sourceId}, decode(r ->> 0, 'hex'), decode(r ->> 1, 'hex'), (r ->> 2)::uuid,
        greatest(now(), (select p.updated_at from profiles p where p.id = (r ->> 2)::uuid))
      from ${doc}
      on conflict (source_id, record_key) do update set fingerprint = excluded.fingerprint,
        profile_id = excluded.profile_id, seen_at = excluded.seen_at`.execute(db);
  }

  /** Drops the fingerprints of these profiles: their records go through the whole path again. */
  async forgetProfiles(db: Kysely<Tables>, profileIds: string[]): Promise<number> {
    if (profileIds.length === 0) return 0;
    const result = await sql`delete from identity_fingerprints
      where profile_id = any(${[...new Set(profileIds)]}::uuid[])`.execute(db);
    return Number(result.numAffectedRows ?? 0);
  }
}
