-- Causes of 5xx answers, kept besides the log line so staff can see them in the panel with the
-- request id a user quotes. Bounded: the newest rows per tenant are kept (a job trims the rest).
-- tenant_id is '' when the request failed before its tenant was known.
CREATE TABLE request_errors (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    method      TEXT NOT NULL,
    route       TEXT NOT NULL,
    status      BIGINT NOT NULL,
    cause       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX request_errors_tenant_time ON request_errors (tenant_id, created_at);
