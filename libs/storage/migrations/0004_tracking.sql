-- Write keys of push sources (tracking API). Only the SHA-256 of a key is stored; the key is shown once.
-- A rotated key stays valid until `expires_at` (a grace period), a revoked one not at all.
create table write_keys (
  id text primary key,
  source_id text not null references connections (id) on delete cascade,
  key_hash text not null unique,
  prefix text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
create index write_keys_source on write_keys (source_id);
