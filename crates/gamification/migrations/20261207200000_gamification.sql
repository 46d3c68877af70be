-- Gamification: a tenant's design (rules, levels, badges, challenge templates), the events it
-- was sent, the points ledger and what is derived from it (players, badges, challenge
-- progress). Portable subset (TEXT, BIGINT); JSON is TEXT. Times are unix seconds except
-- `reached_at_ms` (leaderboard ties need sub-second order).

-- One design document per tenant, versioned for optimistic concurrency. No row: an empty
-- design with the default levels.
CREATE TABLE gamification_designs (
    tenant_id   TEXT PRIMARY KEY REFERENCES tenants(id),
    doc         TEXT NOT NULL,                   -- {rules, multipliers, levels, badges, templates, ...}
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT
);

-- Every event accepted, once per (tenant, key): a retried or concurrent delivery of the same
-- key finds the row and changes nothing. `user_id` is the tenant's end-user id or its own
-- external id.
CREATE TABLE gamification_events (
    id           TEXT PRIMARY KEY,               -- UUIDv7
    tenant_id    TEXT NOT NULL,
    key          TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    props        TEXT NOT NULL,                  -- JSON object
    occurred_at  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX gamification_events_key ON gamification_events (tenant_id, key);
-- Bursts ("5 in an hour") count a user's recent events of a kind.
CREATE INDEX gamification_events_user ON gamification_events (tenant_id, user_id, kind, occurred_at);

-- The points ledger: append-only. An award is unique per (tenant, user, rule, source): the
-- same event, badge, challenge or streak day never pays twice, however often it arrives.
-- `rule` names what paid: a rule key, `badge:<key>`, `challenge:<id>`, `streak`, `redeem`,
-- `reversal`. Points are signed (awards positive; redemptions, reversals, expiries negative).
CREATE TABLE gamification_ledger (
    id          TEXT PRIMARY KEY,                -- UUIDv7: time-ordered
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,                   -- award | redemption | reversal | expiry
    rule        TEXT NOT NULL,
    source      TEXT NOT NULL,                   -- the event key, badge key, challenge id, day, ...
    points      BIGINT NOT NULL,
    reason      TEXT,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX gamification_ledger_once ON gamification_ledger (tenant_id, user_id, rule, source);
-- Caps sum a user's points from one rule since the period's start; weekly and monthly
-- leaderboards sum points since theirs.
CREATE INDEX gamification_ledger_time ON gamification_ledger (tenant_id, created_at);

-- One row per (tenant, user) who ever earned or sent anything: the ledger's sums kept beside
-- it (same transaction), the level reached, the streak, and counts per event kind.
CREATE TABLE gamification_players (
    tenant_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    balance         BIGINT NOT NULL DEFAULT 0,
    lifetime        BIGINT NOT NULL DEFAULT 0,
    level           BIGINT NOT NULL DEFAULT 1,
    streak_current  BIGINT NOT NULL DEFAULT 0,
    streak_longest  BIGINT NOT NULL DEFAULT 0,
    streak_last_day TEXT,                        -- YYYY-MM-DD in the tenant's time zone
    credits         BIGINT NOT NULL DEFAULT 0,   -- redeemed credits until the wallet takes over
    ordinal         BIGINT NOT NULL,             -- 1 for the tenant's first player, 2, ...
    display_name    TEXT,                        -- masked ("María G.") before it is stored
    first_seen_at   BIGINT NOT NULL,
    reached_at_ms   BIGINT NOT NULL,             -- when `lifetime` last changed (ties)
    PRIMARY KEY (tenant_id, user_id)
);
-- The all-time leaderboard and "my rank" read this index in order.
CREATE INDEX gamification_players_rank ON gamification_players (tenant_id, lifetime, reached_at_ms);

CREATE TABLE gamification_kind_counts (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, kind)
);

-- Badges unlocked, once per (tenant, user, badge).
CREATE TABLE gamification_badges (
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    badge        TEXT NOT NULL,
    unlocked_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, badge)
);
