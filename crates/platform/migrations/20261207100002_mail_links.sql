-- One-use links mailed to end users: confirm the email, reset the password. Only the
-- token's SHA-256 is kept; a link is spent by its first use and dies at its expiry.
CREATE TABLE user_links (
    token_hash  TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,              -- verify_email | reset_password
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX user_links_user ON user_links (tenant_id, user_id);
CREATE INDEX user_links_expiry ON user_links (expires_at);

-- Mail to send to an end user, durable before the request answers: the sender claims a row
-- by moving next_at forward, so one instance sends it, and a crash mid-send is retried. The
-- row names the user, never the address or the link: the link is made when the mail is sent.
CREATE TABLE mail_queue (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES end_users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,              -- verify_email | reset_password
    lang        TEXT NOT NULL,              -- es | ca | pt | en
    status      TEXT NOT NULL,              -- queued | sent | failed
    attempts    INTEGER NOT NULL,
    next_at     BIGINT NOT NULL,            -- not before (backoff; a claim's lease)
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    last_error  TEXT
);
CREATE INDEX mail_queue_due ON mail_queue (status, next_at);
CREATE INDEX mail_queue_user ON mail_queue (tenant_id, user_id, kind, status);
