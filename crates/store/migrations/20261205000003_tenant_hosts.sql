-- Which host names a tenant answers on. A host no row claims belongs to the `default` tenant,
-- so a single installation works on localhost, an IP or any domain with no row at all.
-- Hosts are stored lower-case, without port or trailing dot.
CREATE TABLE tenant_hosts (
    host        TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);
