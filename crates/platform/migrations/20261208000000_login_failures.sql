-- Failed staff sign-ins per account (see lockout.rs): past the free ones, attempts from a
-- browser that never signed into the account wait a delay that doubles per failure.
-- `account` is a keyed hash of tenant and username, never the typed name itself.
CREATE TABLE login_failures (
    account     TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    failures    BIGINT NOT NULL,
    last_at_ms  BIGINT NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_at_ms);
