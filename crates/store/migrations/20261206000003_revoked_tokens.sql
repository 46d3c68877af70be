-- Access tokens revoked before their expiry (an end user's logout, a deleted account): checked
-- on every end user's request, kept until the token would have expired anyway, then purged by
-- the platform's hourly job. The storage layer owns it because the check runs before any module.
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL             -- unix seconds: the token's own expiry
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);
