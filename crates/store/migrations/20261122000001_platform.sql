-- Platform tables. This one file runs unchanged on SQLite and PostgreSQL: portable types only
-- (TEXT, BIGINT), timestamps as unix seconds, JSON kept as TEXT.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Instance-wide secrets and switches shared by every instance (JWT secret, hashing keys).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    username    TEXT NOT NULL,
    pass_hash   TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, username)
);

-- Additive daily counters of every module. Instances batch increments in memory and flush them
-- as `value = value + excluded.value` upserts, so any number of instances can flush safely.
CREATE TABLE stats_daily (
    tenant_id   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    day         TEXT NOT NULL,
    metric      TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, scope, day, metric, key)
);

INSERT INTO tenants (id, name, created_at) VALUES ('default', 'Default', 0);
