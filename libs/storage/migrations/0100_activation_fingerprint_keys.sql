-- The ledger's fingerprints (HMAC-SHA256 in hex, two or so per member) were indexed whole by a GIN index: 65-byte
-- keys, 20,000 of them per 10,000-member batch, whose pending list PostgreSQL merged into the index every few
-- batches (about 200 ms each time at 200,000 members). Lookups need only a selective key: the index now holds the
-- first 32 bits of each fingerprint as an integer, and the query confirms the whole fingerprint on the rows found.
alter table activation_members add column fingerprint_keys integer[] not null default '{}';
update activation_members
  set fingerprint_keys = array(select ('x' || substr(f, 1, 8))::bit(32)::integer from unnest(fingerprints) as f)
  where cardinality(fingerprints) > 0;
drop index activation_members_fingerprints;
create index activation_members_fingerprint_keys on activation_members using gin (fingerprint_keys);
