-- What an unmerge keeps apart. The identifiers that caused a merge, on each side of it: no profile may hold
-- identifiers of both sides of one separation again, so a record bridging them attaches to one side without its
-- lowest-priority conflicting identifier. The identifiers themselves keep finding and merging everything else.
create table identity_separations (
  type text not null,
  value text not null,
  -- the merge that was undone
  merge_id bigint not null,
  side smallint not null check (side in (0, 1)),
  created_at timestamptz not null default now(),
  primary key (type, value, merge_id)
);
