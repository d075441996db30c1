-- Profiles whose data changed and that later stages (audience evaluation) have not processed yet. Written in the
-- same transaction as the change, so a process killed after committing, or a Redis that lost its data, loses
-- no change; a profile marked again while it is processed gets a new seq and stays pending.
create sequence profile_changes_pending_seq;
create table profile_changes_pending (
  profile_id uuid primary key,
  seq bigint not null
);
create index profile_changes_pending_seq_idx on profile_changes_pending (seq);
