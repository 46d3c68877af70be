-- Periodic and one-off background jobs shared by every instance. An instance runs a job only
-- after winning one compare-and-set UPDATE that moves `next_run_at` to the next slot and takes
-- the lease, so each slot runs once across all instances, and a run whose instance died is
-- taken over when its lease expires. All times are unix milliseconds: slots and leases need
-- sub-second precision. See `faro_store::scheduler`.
CREATE TABLE jobs (
    name              TEXT PRIMARY KEY,
    every_ms          BIGINT NOT NULL,          -- 0 = one-off (runs when scheduled)
    next_run_at       BIGINT,                   -- NULL = nothing scheduled
    lease_owner       TEXT,                     -- instance running it now
    lease_until       BIGINT,                   -- renewed while it runs
    runs              BIGINT NOT NULL DEFAULT 0,
    failures          BIGINT NOT NULL DEFAULT 0,
    last_started_at   BIGINT,
    last_finished_at  BIGINT,
    last_duration_ms  BIGINT,
    last_error        TEXT,                     -- of the last run; NULL when it succeeded
    updated_at        BIGINT NOT NULL
);
