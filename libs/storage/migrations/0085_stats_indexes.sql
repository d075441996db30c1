-- The console's stats (GET /v1/stats/...) count rows by the time they arrived. These columns only grow with the
-- table's physical order (each defaults to now() on insert), which is what BRIN indexes suit: a few pages per
-- table instead of a B-tree entry per row, so the ingest paths that write these tables stay as fast as before.
create index identity_observations_ingested_brin on identity_observations using brin (ingested_at);
create index profile_events_received_brin on profile_events using brin (received_at);
create index profiles_created_brin on profiles using brin (created_at);
create index identity_merges_merged_brin on identity_merges using brin (merged_at);
