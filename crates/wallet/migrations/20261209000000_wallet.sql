-- The wallet: a double-entry credits ledger (faro-wallet-domain plans every transfer), an
-- item catalogue, orders, and the responses stored for Idempotency-Key replays.

-- An account's four running sums (TigerBeetle's), never set by hand: each changes only with
-- a transfer, under the row's lock. `entries` numbers its history lines.
CREATE TABLE wallet_accounts (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    debits_pending BIGINT NOT NULL DEFAULT 0,
    debits_posted BIGINT NOT NULL DEFAULT 0,
    credits_pending BIGINT NOT NULL DEFAULT 0,
    credits_posted BIGINT NOT NULL DEFAULT 0,
    entries BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Append-only: one row per transfer, under the client's id (a retry finds it). `request` is
-- the transfer as sent (JSON), what a retry is compared with; `hold_state` is a hold's one
-- mutable field (pending, posted, voided, expired).
CREATE TABLE wallet_transfers (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    code TEXT NOT NULL,
    action TEXT NOT NULL,
    debit_account TEXT NOT NULL,
    credit_account TEXT NOT NULL,
    amount BIGINT NOT NULL,
    pending_id TEXT,
    timeout BIGINT,
    expires_at BIGINT,
    hold_state TEXT,
    posted_amount BIGINT,
    request TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX wallet_transfers_holds ON wallet_transfers (tenant_id, hold_state, expires_at);

-- Each posted transfer's line in both accounts' histories, numbered per account (`n`, from
-- the account's `entries` under its lock) with the posted balance just after it.
CREATE TABLE wallet_entries (
    tenant_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    transfer_id TEXT NOT NULL,
    code TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, account_id, n)
);

CREATE TABLE wallet_items (
    tenant_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    price_credits BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, sku)
);

-- Orders for digital items: pending, paid, fulfilled, refunded, cancelled.
CREATE TABLE wallet_orders (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    status TEXT NOT NULL,
    amount BIGINT NOT NULL,
    transfer_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX wallet_orders_user ON wallet_orders (tenant_id, user_id, created_at);

-- The first completed response to an Idempotency-Key, per caller (`actor`) and endpoint
-- (`scope`), with the hash of the request it answered.
CREATE TABLE wallet_idempotency (
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
