-- The change feed (renraku_core::feed; the design is in renraku-postgres/src/feed.rs).
--
-- Every audit event records the id of the transaction that wrote it (`tx`, 64 bits, never
-- wraps), and the feed is ordered by `(tx, id)`. It is read only below the reading
-- statement's snapshot `xmin`, the oldest transaction still running: every transaction
-- below it has ended, so no event can later appear behind a position that was handed out.
-- Events stored before this migration have `tx = 0` and come first, in id order. The
-- constant default makes adding the column a change of the catalog only (no rewrite).
ALTER TABLE audit_events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE audit_events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX audit_events_feed ON audit_events (tx, id);

-- On Citus, events live in shards on the workers, whose transactions are not the
-- coordinator's: after `distribute()`, every write also stores its events here, in this
-- bookkeeping table that stays on the coordinator, in the same transaction, stamped with the
-- coordinator's transaction id; the feed then reads this table. Unused on one server.
CREATE TABLE _renraku_feed (
    tx             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    case_id        text COLLATE "C" NOT NULL,
    id             uuid NOT NULL,
    contact_id     uuid,
    action         text NOT NULL,
    actor          text NOT NULL,
    changed_fields text[] NOT NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (tx, id)
);
