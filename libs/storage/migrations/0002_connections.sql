-- Configured sources and destinations. Secret config fields are sealed (AES-256-GCM) inside `config`.
create table connections (
  id text primary key,
  kind text not null check (kind in ('source', 'destination')),
  name text not null,
  connector text not null,
  config jsonb not null,
  schedule jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index connections_kind_idx on connections (kind, id);

-- One row per sync run. At most one queued or running run per source.
create table sync_runs (
  id text primary key,
  source_id text not null references connections (id) on delete cascade,
  status text not null check (status in ('queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled')),
  trigger text not null,
  options jsonb not null default '{}',
  read_count bigint not null default 0,
  written_count bigint not null default 0,
  quarantined_count bigint not null default 0,
  deleted_count bigint not null default 0,
  checkpoint jsonb,
  error jsonb,
  cancel_requested boolean not null default false,
  attempts int not null default 0,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  heartbeat_at timestamptz
);
create unique index sync_runs_one_active_idx on sync_runs (source_id) where status in ('queued', 'running');
create index sync_runs_source_idx on sync_runs (source_id, id);

-- Per-stream progress of a run.
create table sync_run_streams (
  run_id text not null references sync_runs (id) on delete cascade,
  stream text not null,
  read_count bigint not null default 0,
  written_count bigint not null default 0,
  quarantined_count bigint not null default 0,
  deleted_count bigint not null default 0,
  checkpoint jsonb,
  finished boolean not null default false,
  primary key (run_id, stream)
);

-- The committed checkpoint of each stream of a source, written in the same transaction as the batch it covers.
create table stream_states (
  source_id text not null references connections (id) on delete cascade,
  stream text not null,
  checkpoint jsonb,
  updated_at timestamptz not null default now(),
  primary key (source_id, stream)
);

-- Records that could not be mapped or ingested, with the reason; the run goes on without them.
create table quarantine (
  id bigserial primary key,
  source_id text not null references connections (id) on delete cascade,
  run_id text,
  stream text not null,
  record jsonb not null,
  reason text not null,
  created_at timestamptz not null default now()
);
create index quarantine_source_idx on quarantine (source_id, id);
