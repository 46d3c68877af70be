-- Staff sign-ins past their one-hour access token: refresh tokens, rotated on every use like
-- the end users' (a spent one presented again ends its family). `mfa`: the sign-in passed a
-- second factor, carried into every renewed token. Only the token's SHA-256 is stored.
CREATE TABLE staff_refresh_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family      TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    mfa         BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    revoked_at  BIGINT
);
CREATE UNIQUE INDEX staff_refresh_tokens_hash ON staff_refresh_tokens (token_hash);
CREATE INDEX staff_refresh_tokens_family ON staff_refresh_tokens (family);
CREATE INDEX staff_refresh_tokens_expiry ON staff_refresh_tokens (expires_at);
