-- Canonical profiles and the identity graph.
-- A profile that was merged away keeps its row with merged_into set, so old ids still lead to the live one.
create table profiles (
  id uuid primary key,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  merged_into uuid,
  -- trait name -> { v: value, s: source id, t: observed at (ms), x?: expires at (ms) }
  traits jsonb not null default '{}',
  -- purpose -> { g: granted, s: source id, t: observed at (ms) }
  consent jsonb not null default '{}'
);

-- The graph: every identifier value belongs to at most one profile.
create table profile_identifiers (
  type text not null,
  value text not null,
  profile_id uuid not null,
  source_id text not null,
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  primary key (type, value)
);
create index profile_identifiers_profile on profile_identifiers (profile_id);

-- Every accepted source record, normalised: what unmerge and rule dry runs re-resolve.
create table identity_observations (
  id bigserial primary key,
  profile_id uuid not null,
  source_id text not null,
  run_id text,
  observed_at timestamptz not null,
  ingested_at timestamptz not null default now(),
  identifiers jsonb not null,
  traits jsonb,
  trait_expiry jsonb,
  consent jsonb
);
create index identity_observations_profile on identity_observations (profile_id);

create table profile_events (
  id bigserial primary key,
  profile_id uuid not null,
  observation_id bigint,
  source_id text not null,
  event_id text,
  name text not null,
  occurred_at timestamptz not null,
  properties jsonb not null default '{}',
  received_at timestamptz not null default now()
);
create unique index profile_events_idempotency on profile_events (source_id, event_id) where event_id is not null;
create index profile_events_profile on profile_events (profile_id, occurred_at desc, id desc);

-- Merge history: which profiles, which identifiers caused it, which source record, when; and whether undone.
create table identity_merges (
  id bigserial primary key,
  winner uuid not null,
  loser uuid not null,
  caused_by jsonb not null,
  observation_id bigint,
  source_id text,
  run_id text,
  merged_at timestamptz not null default now(),
  undone_at timestamptz,
  undo_note text
);
create index identity_merges_winner on identity_merges (winner);
create index identity_merges_loser on identity_merges (loser);

-- Super-node guard: identifiers seen with several people; flagged ones no longer merge profiles.
create table identity_flags (
  type text not null,
  value text not null,
  people text[] not null default '{}',
  flagged boolean not null default false,
  reason text,
  first_seen_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (type, value)
);
create index identity_flags_flagged on identity_flags (updated_at desc) where flagged;

-- The identity rules in force (one row); absent means the defaults.
create table identity_rules (
  id smallint primary key check (id = 1),
  rules jsonb not null,
  version integer not null,
  updated_at timestamptz not null default now()
);
