-- A run parked on a vendor limit waits (status `waiting`) until `resume_at`; it stays the source's active run.
alter table sync_runs drop constraint if exists sync_runs_status_check;
alter table sync_runs add constraint sync_runs_status_check
  check (status in ('queued', 'running', 'waiting', 'succeeded', 'partial', 'failed', 'cancelled'));
alter table sync_runs add column resume_at timestamptz;
-- How many times the reaper requeued the run after its job was lost.
alter table sync_runs add column recoveries int not null default 0;

drop index sync_runs_one_active_idx;
create unique index sync_runs_one_active_idx on sync_runs (source_id) where status in ('queued', 'running', 'waiting');
-- The reaper's scan: active runs by last sign of life.
create index sync_runs_active_heartbeat_idx on sync_runs (coalesce(heartbeat_at, created_at))
  where status in ('queued', 'running', 'waiting');
