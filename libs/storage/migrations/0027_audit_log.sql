-- The audit log: who (API key) changed what, when, with the state before and after (secrets removed).
-- Append-only: updates, deletes and truncation are refused by triggers.
create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_key_id uuid,
  action text not null,
  target_type text not null,
  target_id text,
  request_id text,
  before jsonb,
  after jsonb
);
create index audit_log_actor_idx on audit_log (actor_key_id, id);
create index audit_log_target_idx on audit_log (target_type, target_id, id);
create index audit_log_action_idx on audit_log (action, id);
create index audit_log_at_idx on audit_log (at);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only';
end
$$;
create trigger audit_log_no_change before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();
