-- Who wrote a ledger entry by hand (a staff reversal: `staff:<name>`, a redemption: the
-- caller), beside its reason. NULL for entries rules wrote.
ALTER TABLE gamification_ledger ADD COLUMN actor TEXT;
