-- Idempotency replies moved to the platform's `idempotency_replies` (every module's writes
-- take keys now); the wallet's scopes gain the module's prefix there.
INSERT INTO idempotency_replies (tenant_id, scope, actor, idem_key, request_hash, status, body, created_at)
SELECT tenant_id, 'wallet.' || scope, actor, idem_key, request_hash, status, body, created_at
FROM wallet_idempotency;
DROP TABLE wallet_idempotency;
