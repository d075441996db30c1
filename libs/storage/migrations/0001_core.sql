-- Admin API keys. Only the SHA-256 of a key is stored; the key itself is shown once when it is created.
create table api_keys (
  id uuid primary key,
  name text not null,
  prefix text not null,
  key_hash text not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
