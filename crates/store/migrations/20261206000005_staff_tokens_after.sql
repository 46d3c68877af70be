-- Staff tokens carry their role and are checked by signature alone, so a change to the
-- account (role, password, disabled) must make the tokens issued before it worthless: tokens
-- whose `iat` is earlier than this (unix seconds) are refused. 0: none refused.
ALTER TABLE users ADD COLUMN tokens_after BIGINT NOT NULL DEFAULT 0;
