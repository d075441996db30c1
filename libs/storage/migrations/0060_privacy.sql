-- Privacy requests (delete, suppress, unsuppress, export), run step by step by a job until every step is done.
-- The identifier's clear value is kept only while the request runs; `identifier_hash` (HMAC) stays.
create table privacy_requests (
  id uuid primary key,
  type text not null check (type in ('delete', 'suppress', 'unsuppress', 'export')),
  identifier_type text not null,
  identifier_value text,
  identifier_hash text not null,
  status text not null check (status in ('queued', 'running', 'waiting', 'completed', 'failed')),
  profile_id uuid,
  -- the person's normalised identifiers while the request runs (what later steps and the check need); cleared
  -- when it ends
  working_identifiers jsonb,
  -- [{ name, status, detail?, waitingOn?, attempts, updatedAt }]
  steps jsonb not null default '[]',
  -- the export document (export), or a summary of what was done
  result jsonb,
  note text,
  attempts int not null default 0,
  next_attempt_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz
);
-- One active request per (type, person): a duplicate answers the request already under way.
create unique index privacy_requests_active_idx on privacy_requests (identifier_hash, type)
  where status in ('queued', 'running', 'waiting');
create index privacy_requests_created_idx on privacy_requests (created_at desc, id desc);
create index privacy_requests_profile_idx on privacy_requests (profile_id) where profile_id is not null;

-- Keyed hashes (HMAC-SHA256 with a server key) of identifiers that must not be collected again: `delete`
-- (erased people, for good) and `suppress` (frozen people, until unsuppressed). Never the clear value.
create table privacy_suppressions (
  hash text not null,
  kind text not null check (kind in ('delete', 'suppress')),
  request_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (hash, kind)
);

-- Profiles frozen by a suppress request: kept in the store, not collected, removed from destinations.
create table privacy_frozen_profiles (
  profile_id uuid primary key,
  request_id uuid not null,
  frozen_at timestamptz not null default now()
);

-- Profiles the retention sweep deleted whose ledger rows wait until every destination confirmed the removal.
create table privacy_pending_ledger (
  profile_id uuid primary key,
  reason text not null,
  created_at timestamptz not null default now()
);

-- The retention policy in force (one row); absent means the defaults.
create table privacy_retention_policy (
  id smallint primary key check (id = 1),
  policy jsonb not null,
  updated_at timestamptz not null default now()
);

-- What each retention sweep removed.
create table privacy_retention_runs (
  id bigserial primary key,
  trigger text not null,
  status text not null check (status in ('queued', 'running', 'succeeded', 'failed')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  removed jsonb not null default '{}',
  error text
);

-- Records the sync skipped because their person is suppressed or erased.
alter table sync_runs add column suppressed_count bigint not null default 0;
alter table sync_run_streams add column suppressed_count bigint not null default 0;

-- Erasure finds a person's audience changes by profile (the change log is otherwise read by audience and cursor).
create index audience_changes_profile_idx on audience_changes (profile_id);
