-- Holds over HTTP. The expiry job looks for pending holds past their end across tenants:
-- a partial index keeps just those (a handful at any time, however long the ledger grows).
CREATE INDEX wallet_transfers_expiring ON wallet_transfers (expires_at)
    WHERE hold_state = 'pending';
-- A hold's post or void names it in `pending_id`: reading a hold shows what settled it.
CREATE INDEX wallet_transfers_pending ON wallet_transfers (tenant_id, pending_id);
