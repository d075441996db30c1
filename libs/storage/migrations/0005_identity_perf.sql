-- Identity ingestion rewrites profile rows (traits, consent) and identifier rows (last_seen) often. Leaving
-- room on each page lets PostgreSQL keep the new version on the same page (a HOT update), so the indexes are
-- not touched at all; with full pages every update also inserts into every index of the table.
alter table profiles set (fillfactor = 70);
alter table profile_identifiers set (fillfactor = 85);
