import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { jsonRows } from '../json-rows.js';
import type { Tables } from '../schema.js';
import { parseJson } from './identity-graph.repository.js';
import type { StoredConsent, StoredTrait } from './identity.tables.js';

/** A record's key and content hashes (hex, 16 bytes each), as the ingest path computes them. */
export interface RecordFingerprint {
  key: string;
  fingerprint: string;
}

/** A record whose stored fingerprint is the same, with its live profile's traits and consent as they are now. */
export interface FingerprintMatch {
  profileId: string;
  traits: Record<string, StoredTrait>;
  consent: Record<string, StoredConsent>;
}

/** How long a stored fingerprint may skip a record: the resolution of identifiers' `last_seen`. */
export const FINGERPRINT_MAX_AGE_MS = 86_400_000;

/**
 * The re-ingest fast path's table (migration 0090): per source record, the hash of its last stored delivery and
 * the profile it resolved to. Every method takes the connection or transaction it runs in. The statements that
 * detach identifiers (upstream deletes, retention, unmerge) and erasure delete the rows of the profiles they change.
 */
@Injectable()
export class IdentityFingerprintRepository {
  /**
   * One read for a batch of one source, before any lock: the positions of `records` whose stored fingerprint is
   * the same and younger than {@link FINGERPRINT_MAX_AGE_MS}, and whose profile is live; with that profile's
   * traits and consent as they are now (the caller checks that storing the record again would not change them).
   */
  async matches(
    db: Kysely<Tables>,
    sourceId: string,
    records: RecordFingerprint[],
  ): Promise<Map<number, FingerprintMatch>> {
    const found = new Map<number, FingerprintMatch>();
    if (records.length === 0) return found;
    const { rows } = await sql<{ i: string | number; profile_id: string; traits: unknown; consent: unknown }>`
      select k.i - 1 as i, f.profile_id::text as profile_id, p.traits, p.consent
      from unnest(${records.map((r) => r.key)}::text[], ${records.map((r) => r.fingerprint)}::text[])
        with ordinality as k(key, fp, i)
      join identity_fingerprints f on f.source_id = ${sourceId} and f.record_key = decode(k.key, 'hex')
      join profiles p on p.id = f.profile_id
      where f.fingerprint = decode(k.fp, 'hex') and p.merged_into is null
        and f.seen_at > now() - make_interval(secs => ${FINGERPRINT_MAX_AGE_MS / 1000}::float8)`.execute(db);
    for (const r of rows)
      found.set(Number(r.i), { profileId: r.profile_id, traits: parseJson(r.traits), consent: parseJson(r.consent) });
    return found;
  }

  /** Stores the fingerprints of a batch's stored records, in the batch's transaction. A key given twice keeps its last row. */
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
      select ${sourceId}, decode(r ->> 0, 'hex'), decode(r ->> 1, 'hex'), (r ->> 2)::uuid, now()
      from ${doc}
      on conflict (source_id, record_key) do update set fingerprint = excluded.fingerprint,
        profile_id = excluded.profile_id, seen_at = excluded.seen_at`.execute(db);
  }
}
