-- Outgoing webhooks: endpoints staff register, and one delivery row per endpoint and event.
-- Portable subset (TEXT, BIGINT); flags are BIGINT 0/1; JSON is TEXT. Every time in these two
-- tables is unix MILLISECONDS: retries and leases need sub-second precision.

CREATE TABLE webhook_endpoints (
    id           TEXT PRIMARY KEY,                 -- UUIDv7
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    url          TEXT NOT NULL,                    -- http(s), checked on write
    secret       TEXT NOT NULL,                    -- whsec_...: needed to sign; shown once
    event_kinds  TEXT NOT NULL,                    -- JSON array of patterns (quiz.finished, quiz.*)
    enabled      BIGINT NOT NULL,                  -- 0/1; a disabled endpoint gets no new deliveries
    created_at   BIGINT NOT NULL,                  -- unix ms
    updated_at   BIGINT NOT NULL                   -- unix ms
);
-- The fan-out reads a tenant's enabled endpoints for every batch of events; lists page by id.
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id, enabled);

-- One row per (endpoint, event): created `pending` by the "webhooks" event consumer in the same
-- transaction that moves its cursor, claimed by a sender with a compare-and-set lease, then
-- `delivered` (a 2xx) or, after the last failed attempt, `failed` (replayable).
CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,            -- UUIDv7
    tenant_id         TEXT NOT NULL,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id          TEXT NOT NULL,               -- the outbox event's id = the webhook-id header
    event_kind        TEXT NOT NULL,
    body              TEXT NOT NULL,               -- the envelope JSON, exactly as posted and signed
    status            TEXT NOT NULL,               -- pending | delivered | failed
    attempts          BIGINT NOT NULL DEFAULT 0,   -- attempts made (since created or replayed)
    next_attempt_at   BIGINT,                      -- unix ms; set while pending
    lease_owner       TEXT,                        -- the sender making the attempt now
    lease_until       BIGINT,                      -- unix ms
    last_attempt_at   BIGINT,                      -- unix ms
    last_status_code  BIGINT,                      -- HTTP status of the last answer; NULL: none
    last_error        TEXT,                        -- why the last attempt failed (bounded)
    last_response     TEXT,                        -- start of the last answer's body (bounded)
    last_duration_ms  BIGINT,
    delivered_at      BIGINT,                      -- unix ms
    created_at        BIGINT NOT NULL,             -- unix ms
    updated_at        BIGINT NOT NULL,             -- unix ms
    UNIQUE (endpoint_id, event_id)                 -- at most one delivery per endpoint and event
);
-- The senders' due-query: pending rows by due time (a partial index: finished rows are most).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- An endpoint's deliveries, newest first (ids are UUIDv7, so id order is creation order).
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
-- The purge job: finished rows by when they finished.
CREATE INDEX webhook_deliveries_age ON webhook_deliveries (status, updated_at);
