-- End users: the people who register on a tenant's sites and apps (not staff). One account per
-- email per tenant; the same email in another tenant is another account.
CREATE TABLE end_users (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email              TEXT NOT NULL,         -- trimmed, lower case
    pass_hash          TEXT NOT NULL,         -- argon2id PHC string
    email_verified_at  BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    last_login_at      BIGINT
);
CREATE UNIQUE INDEX end_users_email ON end_users (tenant_id, email);

-- Refresh tokens, rotated on every use: a refresh spends the token and issues the next one of
-- the same family. A spent token presented again means it was copied, so its whole family is
-- revoked (the thief and the owner both sign in again). Only the token's SHA-256 is stored.
CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    family      TEXT NOT NULL,                -- the sign-in it descends from
    token_hash  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,                       -- spent by a refresh
    revoked_at  BIGINT                        -- logout, reuse detected, account deleted
);
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
