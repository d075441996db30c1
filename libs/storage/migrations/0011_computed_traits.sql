-- Computed traits: named aggregations of a profile's events, kept per profile and usable in audience rules.
create table computed_traits (
  id uuid primary key,
  name text not null unique,
  -- the definition as the admin sent it: { event, within?, where?, aggregation, property? }
  definition jsonb not null,
  time_dependent boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table profile_computed_traits (
  trait_id uuid not null references computed_traits (id) on delete cascade,
  profile_id uuid not null,
  value jsonb not null,
  computed_at timestamptz not null,
  primary key (trait_id, profile_id)
);
create index profile_computed_traits_profile on profile_computed_traits (profile_id);
