-- Webhook deliveries seen per source, by the vendor's delivery id (hashed), so a replayed or retried delivery is
-- stored once. `stored_at` is null while the delivery is being processed; rows are kept for two days.
create table webhook_deliveries (
  source_id text not null references connections (id) on delete cascade,
  delivery_key text not null,
  received_at timestamptz not null default now(),
  stored_at timestamptz,
  primary key (source_id, delivery_key)
);
create index webhook_deliveries_received on webhook_deliveries (received_at);
