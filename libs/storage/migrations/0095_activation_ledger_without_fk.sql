-- The ledger is the largest activation table (a row per activation and member, written 10,000 at a time), and its
-- foreign key to `activations` ran a check per row — a lookup and a row lock of the same activation, about a
-- quarter of the PostgreSQL time of recording a batch. It guarded nothing: ledger rows are written only by the
-- worker holding the activation's lease, and activations are never deleted (their status ends as 'deleted', and
-- their ledger must outlive the audience and the destination to prove every removal).
alter table activation_members drop constraint activation_members_activation_id_fkey;
