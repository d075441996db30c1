-- Files uploaded to POST /v1/sources/:id/upload, kept where every worker can read them: the bytes in chunks.
-- An upload is deleted when the run over it ends (and, if no run ever took it, by the reaper after a grace time).
create table uploads (
  id text primary key,
  source_id text not null references connections (id) on delete cascade,
  bytes bigint not null default 0,
  complete boolean not null default false,
  created_at timestamptz not null default now()
);
create index uploads_created_idx on uploads (created_at);

create table upload_chunks (
  upload_id text not null references uploads (id) on delete cascade,
  seq int not null,
  data bytea not null,
  primary key (upload_id, seq)
);
