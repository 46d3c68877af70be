-- A tenant's profile and switches, beside the foundation's `tenants (id, name, created_at)`.
-- The storage layer owns the columns every request reads through the tenant directory (status,
-- maintenance, modules), so resolving a request's tenant needs no module; the platform module
-- owns the rest of the tenant's life (its API, console, settings history and audit log).
ALTER TABLE tenants ADD COLUMN slug TEXT;
UPDATE tenants SET slug = id;
-- Slugs are how people and URLs name a tenant; ids are opaque and never change.
CREATE UNIQUE INDEX tenants_slug ON tenants (slug);
-- `active` or `paused` (public pages answer 503, staff cannot sign in, jobs skip it).
ALTER TABLE tenants ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
-- 1: public pages answer 503 "back soon"; staff keep working.
ALTER TABLE tenants ADD COLUMN maintenance BIGINT NOT NULL DEFAULT 0;
-- JSON list of the optional modules switched on for this tenant; NULL = every installed one.
ALTER TABLE tenants ADD COLUMN modules TEXT;
ALTER TABLE tenants ADD COLUMN plan TEXT NOT NULL DEFAULT 'free';
ALTER TABLE tenants ADD COLUMN language TEXT NOT NULL DEFAULT 'es';
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE tenants ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

-- The super-admin is a flag on an account of the `default` tenant, not a role: that account
-- is also an ordinary owner there. Disabled accounts cannot sign in; their rows stay for the
-- audit log's sake.
ALTER TABLE users ADD COLUMN super_admin BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
