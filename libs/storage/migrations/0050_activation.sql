-- Activation: each (audience, destination) link, its runs, the batches it sent, a per-member ledger of what each
-- platform received (hashed items as sent, never clear personal data), pending re-checks and dead letters.

-- No foreign key to audiences or connections: when either is deleted, the activation must outlive it long enough
-- to remove from the platform every member the ledger says it holds.
create table activations (
  id uuid primary key,
  audience_id uuid not null,
  destination_id text not null,
  mode text not null check (mode in ('upsert', 'mirror')),
  -- Identifier types handed to the destination; empty = every type its connector accepts.
  identifiers text[] not null default '{}',
  schedule jsonb,
  -- The platform's id of the audience (Meta custom audience, Google user list, TTD segment).
  external_id text,
  -- The last change of the audience's change log this activation has fully recorded.
  cursor bigint not null default 0,
  status text not null default 'active' check (status in ('active', 'paused', 'stopped', 'deleting', 'deleted')),
  error jsonb,
  -- A full replace (mirror mode) in progress or due: { sessionId, batchSeq, afterProfileId, cursor }.
  mirror jsonb,
  -- One worker delivers an activation at a time: it holds this lease while it works.
  lease_owner text,
  lease_until timestamptz,
  next_attempt_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index activations_audience on activations (audience_id);
create index activations_destination on activations (destination_id);

create table activation_runs (
  id bigserial primary key,
  activation_id uuid not null references activations (id) on delete cascade,
  trigger text not null,
  status text not null check (status in ('running', 'succeeded', 'partial', 'failed')),
  changes integer not null default 0,
  adds integer not null default 0,
  removes integer not null default 0,
  accepted integer not null default 0,
  invalid integer not null default 0,
  failed integer not null default 0,
  not_sendable integer not null default 0,
  -- Reason → count of members that could not be sent.
  not_sendable_reasons jsonb not null default '{}',
  error text,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create index activation_runs_activation on activation_runs (activation_id, id);

-- One request unit: its id is planned before anything is sent, so a resumed worker sends the same batch again
-- instead of a new one. `payload` holds the hashed items until the platform confirmed them.
create table activation_batches (
  id uuid primary key,
  activation_id uuid not null references activations (id) on delete cascade,
  run_id bigint,
  seq bigint not null,
  kind text not null check (kind in ('write', 'replace')),
  state text not null check (state in ('planned', 'confirmed', 'retrying', 'blocked', 'dead')),
  -- The change log cursor recorded with this batch (null for re-checks, retries and removals).
  cursor_to bigint,
  -- Replace batches: the session they belong to.
  session bigint,
  -- JSON text, not jsonb: written once and read back whole (a 10,000-item batch is megabytes), never queried.
  payload text,
  adds integer not null default 0,
  removes integer not null default 0,
  accepted integer not null default 0,
  invalid integer not null default 0,
  failed integer not null default 0,
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  -- The platform's answers: one report per request (received, invalid, samples, request id).
  answer jsonb,
  error text,
  created_at timestamptz not null default now(),
  confirmed_at timestamptz
);
-- Stored as is: the payload is hashes, which do not compress, and compressing megabytes costs a worker's time.
alter table activation_batches alter column payload set storage external;
create index activation_batches_open on activation_batches (activation_id, seq) where state in ('planned', 'retrying', 'blocked');
create index activation_batches_activation on activation_batches (activation_id, seq);

-- The ledger, one row per activation and profile: what the platform holds of the person and what happened last.
create table activation_members (
  activation_id uuid not null references activations (id) on delete cascade,
  profile_id uuid not null,
  state text not null check (state in ('held', 'removing', 'removed', 'not_sendable', 'invalid', 'failed')),
  -- The item as the platform received it (hashed by the connector), from which removals are built: JSON text,
  -- read back whole and never queried.
  item text,
  -- Keyed hashes (HMAC-SHA256) of `type:value` of each identifier handed over, to answer ?identifier= queries.
  fingerprints text[] not null default '{}',
  reason text,
  added_at timestamptz,
  add_batch uuid,
  removed_at timestamptz,
  remove_batch uuid,
  updated_at timestamptz not null default now(),
  primary key (activation_id, profile_id)
);
create index activation_members_profile on activation_members (profile_id);
create index activation_members_fingerprints on activation_members using gin (fingerprints);
create index activation_members_held on activation_members (activation_id, profile_id) where state in ('held', 'removing');

-- Profiles to reconcile again (a consent or identifier change, a forced removal, a replayed dead letter).
create table activation_rechecks (
  activation_id uuid not null references activations (id) on delete cascade,
  profile_id uuid not null,
  -- Set by a forced removal (privacy): remove whatever the audience says.
  remove_reason text,
  created_at timestamptz not null default now(),
  primary key (activation_id, profile_id)
);

create table activation_dead_letters (
  id bigserial primary key,
  activation_id uuid not null references activations (id) on delete cascade,
  batch_id uuid not null,
  profile_ids uuid[] not null,
  operation text not null,
  error text not null,
  attempts integer not null,
  created_at timestamptz not null default now(),
  replayed_at timestamptz
);
create index activation_dead_letters_activation on activation_dead_letters (activation_id, id);
