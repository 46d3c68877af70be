-- API keys: how an integration (a CRM, a backend, a script) calls a tenant's API without a
-- person signing in. The key itself (`faro_` + 32 random bytes) is shown once and never stored:
-- only its SHA-256, which is enough for a key that random (no dictionary to try) and cheap
-- to check on every request. The storage layer owns the table because every request's
-- credentials are checked here, before any module runs; the platform module owns the API.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    key_hash      TEXT NOT NULL,          -- hex SHA-256 of the whole key
    prefix        TEXT NOT NULL,          -- `faro_` and the key's next 6 characters, to recognise it
    scopes        TEXT NOT NULL,          -- JSON list: `quiz:read`, `webhooks:write`, ...
    created_by    TEXT NOT NULL,          -- username of who made it
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,                 -- unix seconds; NULL: never
    revoked_at    BIGINT,                 -- set once; the row stays for the audit log's sake
    last_used_at  BIGINT                  -- at most a minute behind (written when it moved on)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);
