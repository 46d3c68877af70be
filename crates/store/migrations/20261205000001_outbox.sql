-- Transactional outbox: how modules tell each other what happened, without depending on each
-- other. Same portable subset as the other migrations (TEXT, BIGINT, no SERIAL/AUTOINCREMENT).
--
-- A producer inserts its events in the same transaction as the state change they describe, so an
-- event exists exactly when the change does. `seq` is the delivery order, and it must be commit
-- order so that a consumer reading `seq > last_seq` never skips an event that commits late:
-- - SQLite numbers events at insert, as MAX(seq) + n, under the one write lock that also orders
--   commits;
-- - PostgreSQL inserts them unnumbered (seq NULL), so producers never wait on each other, and a
--   sequencer numbers committed events later, one sequencer at a time (an advisory lock).
-- See `faro_store::outbox`.
CREATE TABLE events (
    id           TEXT PRIMARY KEY,         -- public id (UUIDv7)
    seq          BIGINT UNIQUE,            -- delivery order; internal, never shown; NULL = not yet
    tenant_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,            -- "module.action"
    subject      TEXT NOT NULL,            -- what the event is about (a session id, a user id)
    payload      TEXT NOT NULL,            -- JSON
    occurred_at  BIGINT NOT NULL,          -- unix seconds
    tx           BIGINT                    -- PostgreSQL: the producer's transaction id, which
                                           -- orders causally related producers; SQLite: NULL
);
-- What the sequencer has still to number: small, and empty most of the time.
CREATE INDEX events_unnumbered ON events (id) WHERE seq IS NULL;

-- One row per consumer ("webhooks", "gamification"): how far it has handled the events. The
-- handler's writes and the move of `last_seq` commit in one transaction, and the move is a
-- compare-and-set on `last_seq`, so every event is handled exactly once per consumer. The lease
-- only keeps instances from doing the same work twice; correctness does not depend on it.
CREATE TABLE event_cursors (
    consumer     TEXT PRIMARY KEY,
    last_seq     BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,                   -- unix milliseconds
    updated_at   BIGINT NOT NULL           -- unix milliseconds
);
