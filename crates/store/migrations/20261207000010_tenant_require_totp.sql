-- 1 when the tenant's settings require two-factor sign-in of all its staff (security.require_totp),
-- copied here on every settings save like the origins, so each instance's cached tenant
-- directory can refuse staff tokens without a second factor.
ALTER TABLE tenants ADD COLUMN require_totp BIGINT NOT NULL DEFAULT 0;
