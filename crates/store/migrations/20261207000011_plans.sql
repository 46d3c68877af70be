-- Plans: what the installation sells or grants, each with its quotas (a JSON object of
-- whole numbers, e.g. {"tests": 20, "staff": 5, "storage_mb": 500}; a missing key is
-- unlimited). A tenant's `plan` names one; a tenant whose plan has no row has no quotas, so an
-- installation that never defines a plan limits nothing. Only the super-admin edits them.
CREATE TABLE plans (
    name        TEXT PRIMARY KEY,
    quotas      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
