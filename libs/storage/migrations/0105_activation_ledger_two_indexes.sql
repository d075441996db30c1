-- The ledger keeps two indexes instead of four. Each 10,000-member batch inserts a row per member at random places
-- of every index (profile ids are random), and on a table larger than PostgreSQL's buffers each index costs its
-- own page reads and writes: on a scratch copy, a million rows written 10,000 at a time took 24.9 s with the four
-- indexes and 17.9 s with the primary key and the fingerprint keys alone.
-- * `activation_members_profile` served lookups of one person across activations (privacy, holdings, re-checks).
--   Activations are few, so those now probe the primary key once per activation.
-- * `activation_members_held` was the primary key again, for the rows a platform holds: its readers (a page of
--   held members in profile order, the end of a mirror replace) walk the primary key and skip the other states.
drop index if exists activation_members_profile;
drop index if exists activation_members_held;
