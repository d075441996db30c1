-- Values destinations wrote into systems that sources also read (CRM contact properties): one row per record and
-- property, holding a hash of the last value written, so a source reading the value back does not count it as a
-- fresh observation. `profile_id` lets a privacy erasure remove a person's rows.
create table written_values (
  system text not null,
  object text not null,
  record_id text not null,
  property text not null,
  value_hash text not null,
  destination_id text not null,
  profile_id text,
  written_at timestamptz not null default now(),
  primary key (system, object, record_id, property)
);
create index written_values_profile on written_values (profile_id) where profile_id is not null;
