-- An end user's email is personal: `email` now holds it sealed with DATA_KEYS, and the
-- account is found by `email_index`, a keyed hash of the trimmed lower-case address (see
-- faro_auth::seal::BlindIndex). Rows from before (none were released) keep the address in
-- clear with no index, and are still found by it.
ALTER TABLE end_users ADD COLUMN email_index TEXT;
DROP INDEX end_users_email;
CREATE UNIQUE INDEX end_users_email_index ON end_users (tenant_id, email_index);
CREATE INDEX end_users_email_clear ON end_users (tenant_id, email);
