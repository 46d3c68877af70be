-- Payments: a tenant's pricing and top-up settings, quotes, payment intents and the
-- provider events already taken (webhooks are delivered more than once).

-- One row per tenant that configured payments. `settings` is the JSON document the admin API
-- reads and writes (pricing tables, top-up price); the queue depth is reported by the
-- tenant's workers and drives the load factor of new quotes.
CREATE TABLE payments_settings (
    tenant_id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    queue_depth BIGINT NOT NULL DEFAULT 0,
    queue_reported_at BIGINT,
    updated_at BIGINT NOT NULL
);

-- A priced request, frozen until `expires_at`: an intent charges it, never a new price.
CREATE TABLE payments_quotes (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    quote TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX payments_quotes_expiry ON payments_quotes (expires_at);

-- A payment: what it is for (`purpose`: a quote, or credits for the wallet), who pays, the
-- amount, and the domain's intent state (JSON, with its refunds). `provider_ref` is the
-- provider's id of the same payment, unique per provider.
CREATE TABLE payments_intents (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT,
    user_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX payments_intents_provider_ref ON payments_intents (provider, provider_ref);
CREATE INDEX payments_intents_user ON payments_intents (tenant_id, user_id, id);
-- A quote is charged by one intent: a second is refused, so a double click cannot pay twice.
CREATE UNIQUE INDEX payments_intents_quote ON payments_intents (tenant_id, reference)
    WHERE purpose = 'quote';

-- Provider events taken, by the provider's event id: a delivery seen before is acknowledged
-- and changes nothing.
CREATE TABLE payments_provider_events (
    tenant_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    intent_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider, event_id)
);

-- A tenant's keys at a provider, sealed with DATA_KEYS: the API secret key and the webhook
-- signing secrets (a JSON list, several during a rotation). `id` is `<tenant>:<provider>`.
CREATE TABLE payments_credentials (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    webhook_secrets TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX payments_credentials_tenant ON payments_credentials (tenant_id, provider);
