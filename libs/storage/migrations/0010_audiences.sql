-- Audiences: a rule over profiles, its stored members, the ordered change log activation consumes, sizes.
create table audiences (
  id uuid primary key,
  name text not null,
  description text,
  rule jsonb not null,
  -- true when the rule looks at the clock (event windows, relative dates): re-checked on a schedule.
  time_dependent boolean not null default false,
  size integer not null default 0,
  last_evaluated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Current members, with the reason they entered (the conditions that decided it and their data).
create table audience_members (
  audience_id uuid not null references audiences (id) on delete cascade,
  profile_id uuid not null,
  entered_at timestamptz not null,
  reason jsonb not null default '{}',
  primary key (audience_id, profile_id)
);
create index audience_members_profile on audience_members (profile_id);

-- The change log: id is the cursor. Evaluations of one audience are serialised (they lock its row first), so
-- within one audience the ids commit in increasing order and `id > cursor` never skips a change.
create table audience_changes (
  id bigserial primary key,
  audience_id uuid not null references audiences (id) on delete cascade,
  profile_id uuid not null,
  change text not null check (change in ('entered', 'exited')),
  reason jsonb not null,
  created_at timestamptz not null default now()
);
create index audience_changes_audience on audience_changes (audience_id, id);

-- One point per evaluation, for plotting sizes over time.
create table audience_sizes (
  id bigserial primary key,
  audience_id uuid not null references audiences (id) on delete cascade,
  at timestamptz not null,
  size integer not null,
  entered integer not null,
  exited integer not null,
  kind text not null
);
create index audience_sizes_audience on audience_sizes (audience_id, at);

-- Event conditions aggregate one event name over a time window for every profile: this index answers them
-- without touching the other events.
create index profile_events_name_time on profile_events (name, occurred_at) include (profile_id);

-- A date trait compared with a date: values that are not dates never match instead of failing the query.
create function plexus_try_timestamptz(value text) returns timestamptz
language plpgsql stable as $$
begin
  if value is null or value !~ '^\d{4}-\d{2}-\d{2}' then
    return null;
  end if;
  return value::timestamptz;
exception when others then
  return null;
end
$$;
