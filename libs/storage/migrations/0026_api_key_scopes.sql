-- Scoped API keys with an optional expiry. Keys created before scopes existed keep full access (admin).
alter table api_keys add column scopes text[] not null default '{admin}';
alter table api_keys add column expires_at timestamptz;
alter table api_keys add column created_by uuid references api_keys (id);
alter table api_keys alter column scopes drop default;
-- Prefixes shown for identification are at least 12 characters; the 8 kept so far are replaced by a
-- fingerprint of the key's hash, as for configured keys too short to show a prefix of.
update api_keys set prefix = '#' || left(key_hash, 12) where length(prefix) < 12;
