-- Scoped API keys with an optional expiry. Keys created before scopes existed keep full access (admin).
alter table api_keys add column scopes text[] not null default '{admin}';
alter table api_keys add column expires_at timestamptz;
alter table api_keys add column created_by uuid references api_keys (id);
alter table api_keys alter column scopes drop default;
