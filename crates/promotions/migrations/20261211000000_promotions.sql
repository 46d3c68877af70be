-- Promotions: a tenant's promotions (the domain's document, checked whole before it is
-- written), its coupon codes, the paid orders that decide "first purchase", per-customer use
-- counts, and where the window job last looked.

-- One promotion: `doc` is faro-promotions-domain's `Promotion` as JSON; the window is copied
-- out so "active now" is a query, and `uses`/`spent` are its budget counters (checkout will
-- move them in the order's transaction; nothing spends them yet).
CREATE TABLE promotions_promotions (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    spent BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX promotions_promotions_window ON promotions_promotions (tenant_id, starts_at);

-- A coupon code, unique in its tenant (normalised: upper case, no spaces or dashes). `doc` is
-- the domain's `Coupon`; `kind` (single_use, multi_use, per_user), the promotion it brings
-- and the expiry are copied out for lists. `batch_id` groups generated codes.
CREATE TABLE promotions_coupons (
    tenant_id TEXT NOT NULL,
    code TEXT NOT NULL,
    promotion_id TEXT,
    kind TEXT NOT NULL,
    doc TEXT NOT NULL,
    expires_at BIGINT,
    batch_id TEXT,
    uses BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);
CREATE INDEX promotions_coupons_promotion ON promotions_coupons (tenant_id, promotion_id, code);

-- Uses of an offer by one customer: `offer` is `promotion:<id>` or `coupon:<code>`.
CREATE TABLE promotions_user_uses (
    tenant_id TEXT NOT NULL,
    offer TEXT NOT NULL,
    user_id TEXT NOT NULL,
    uses BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, offer, user_id)
);
CREATE INDEX promotions_user_uses_user ON promotions_user_uses (tenant_id, user_id);

-- Paid orders as the outbox told them (`wallet:<order id>`, `payment:<intent id>`): the
-- module cannot read the wallet's or payments' tables, and "first purchase" needs the count.
-- Keyed by the order, so an event delivered twice counts once.
CREATE TABLE promotions_orders (
    tenant_id TEXT NOT NULL,
    order_ref TEXT NOT NULL,
    user_id TEXT NOT NULL,
    paid_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, order_ref)
);
CREATE INDEX promotions_orders_user ON promotions_orders (tenant_id, user_id);

-- Where the window job last looked, per tenant: boundaries in (checked_at, now] are
-- published, and checked_at moves to now in the same transaction as the events.
CREATE TABLE promotions_windows (
    tenant_id TEXT PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
