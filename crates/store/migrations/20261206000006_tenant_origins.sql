-- The web origins a tenant's settings allow to call its API from a browser (CORS), as a JSON
-- list; NULL when none. The settings history (platform's `tenant_settings`) is the source:
-- every save writes the newest document's origins here in the same transaction, so the
-- tenant directory that every instance caches answers CORS checks without reading settings.
ALTER TABLE tenants ADD COLUMN origins TEXT;
