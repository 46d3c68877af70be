-- The first reply to each `Idempotency-Key` (api conventions), for every module's writes that
-- move value (wallet grants and purchases, payment intents, top-ups, checkouts). Stored in the
-- same transaction as the write's effects, so a key's reply exists exactly when they do.
-- `scope` is the endpoint ("wallet.purchase"); `actor` the caller (end user, staff, API key).
CREATE TABLE idempotency_replies (
    tenant_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    actor TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, scope, actor, idem_key)
);
CREATE INDEX idempotency_replies_created ON idempotency_replies (created_at);
