-- Transactional outbox: how modules tell each other what happened, without depending on each
-- other. Same portable subset as the other migrations (TEXT, BIGINT, no SERIAL/AUTOINCREMENT).
--
-- A producer inserts its events in the same transaction as the state change they describe, so an
-- event exists exactly when the change does. `seq` is allocated inside that transaction as
-- MAX(seq) + n while event-writing transactions are serialised (SQLite: the one write lock;
-- PostgreSQL: an advisory transaction lock), so seq order is commit order and a consumer reading
-- `seq > last_seq` never skips an event that commits late. See `faro_store::outbox`.
CREATE TABLE events (
    seq          BIGINT PRIMARY KEY,       -- delivery order; internal, never shown
    id           TEXT NOT NULL UNIQUE,     -- public id (UUIDv7)
    tenant_id    TEXT NOT NULL,
    kind         TEXT NOT NULL,            -- "module.action"
    subject      TEXT NOT NULL,            -- what the event is about (a session id, a user id)
    payload      TEXT NOT NULL,            -- JSON
    occurred_at  BIGINT NOT NULL           -- unix seconds
);
-- Per-tenant browsing and replays of one kind, in delivery order.
CREATE INDEX events_tenant_kind ON events (tenant_id, kind, seq);

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
