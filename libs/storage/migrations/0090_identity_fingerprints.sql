-- Re-ingest fast path. One row per record of a source, keyed by the record's normalised identifiers (a source
-- record is the set of identifiers it carries): a hash of what its last stored delivery held (identifiers,
-- traits, trait expiry, consent, events, observed-at, the identity rules in force) and the profile it resolved
-- to. A batch reads these rows once before taking any lock; a record whose hash is unchanged, whose row is less
-- than a day old, whose profile is live, and whose traits and consent folded into that profile again would change
-- nothing, is counted as `unchanged` and not stored again. The row is written in the transaction that stores the
-- record.
create table identity_fingerprints (
  source_id text not null,
  -- 16 bytes of SHA-256 over the record's sorted identifier keys
  record_key bytea not null,
  -- 16 bytes of SHA-256 over the record's normalised content (canonical JSON, keys sorted)
  fingerprint bytea not null,
  profile_id uuid not null,
  -- when the record was last stored: older than a day, the record is stored again (identifiers' last_seen moves)
  seen_at timestamptz not null,
  primary key (source_id, record_key)
);
-- Erasure, unmerge, upstream deletes and retention drop the rows of a profile.
create index identity_fingerprints_profile on identity_fingerprints (profile_id);

-- Run statistics: records skipped as unchanged.
alter table sync_runs add column unchanged_count bigint not null default 0;
alter table sync_run_streams add column unchanged_count bigint not null default 0;
