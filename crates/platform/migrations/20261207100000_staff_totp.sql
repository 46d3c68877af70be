-- Two-factor sign-in for staff (TOTP). The secret is sealed with DATA_KEYS; it is set when an
-- enrollment starts and only counts once a first code confirms it (totp_enabled_at). The step
-- of the last accepted code makes every code good once, across instances.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at BIGINT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- One-use codes for when the app is lost: SHA-256 of 80 random bits each, never the code.
CREATE TABLE staff_recovery_codes (
    user_id    TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
