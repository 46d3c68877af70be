-- Every staff action that changes something: who (the account, or `cli` / `system`), in which
-- tenant, what, on what, and the record before and after (JSON, secrets left out). Append-only:
-- nothing updates a row; the tenant purge is the only delete. UUIDv7 ids order rows in time,
-- which is what the list's cursor walks.
CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,           -- no foreign key: the purge's own entry outlives it
    actor_id      TEXT,                    -- NULL for the command line and the system
    actor         TEXT NOT NULL,           -- username, `cli` or `system`
    impersonator  TEXT,                    -- the super-admin behind an impersonation token
    action        TEXT NOT NULL,           -- `tenant.create`, `staff.update`, `settings.rollback`
    target        TEXT NOT NULL,           -- the id of what changed
    before_json   TEXT,
    after_json    TEXT,
    ip            TEXT,                    -- the client address as the server saw it
    at            BIGINT NOT NULL          -- unix seconds
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

-- A tenant's settings document (branding, allowed origins, quotas, texts), versioned: every
-- change is a new row, the tenant's current version is the highest, and a rollback writes an
-- old document again as a new version, so history is never rewritten.
CREATE TABLE tenant_settings (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    doc         TEXT NOT NULL,             -- JSON
    actor       TEXT NOT NULL,
    note        TEXT,                      -- "rollback to 3"
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
