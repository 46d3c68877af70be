-- Files module: one row per stored object, so listing, lookups and quotas never ask the
-- storage backend. The object lives at `key` (`<tenant>/<id>`) on the local disk or in the
-- S3 bucket. Same portable subset as the platform migration.

CREATE TABLE files (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    key           TEXT NOT NULL UNIQUE,
    -- The display name: the client's file name, sanitised (no path, no control characters).
    name          TEXT NOT NULL,
    -- Sniffed from the bytes, never the client's claim.
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    -- The staff user who uploaded it (NULL for files a module made, e.g. exports).
    created_by    TEXT
);

-- Listing a tenant's files newest first (ids are UUIDv7: time-ordered) and summing its usage.
CREATE INDEX files_tenant_id ON files (tenant_id, id);
