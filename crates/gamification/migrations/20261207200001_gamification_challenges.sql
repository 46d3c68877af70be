-- Weekly challenges: the templates picked for a tenant's Monday–Sunday (in its time zone),
-- once per (tenant, week, template) however many instances or requests create them, and each
-- player's progress on each, completed (and paid) once.

CREATE TABLE gamification_challenges (
    id            TEXT PRIMARY KEY,              -- UUIDv7
    tenant_id     TEXT NOT NULL,
    week_start    TEXT NOT NULL,                 -- the Monday, YYYY-MM-DD local
    template_key  TEXT NOT NULL,
    template      TEXT NOT NULL,                 -- JSON: the template as it was that week
    starts_at     BIGINT NOT NULL,               -- unix seconds: Monday 00:00 local
    ends_at       BIGINT NOT NULL,               -- the next Monday 00:00 local (exclusive)
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX gamification_challenges_week ON gamification_challenges (tenant_id, week_start, template_key);

CREATE TABLE gamification_progress (
    tenant_id     TEXT NOT NULL,
    challenge_id  TEXT NOT NULL REFERENCES gamification_challenges(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    count         BIGINT NOT NULL,
    value_set     TEXT NOT NULL,                 -- JSON array: distinct values, or local days
    completed_at  BIGINT,
    PRIMARY KEY (challenge_id, user_id)
);
CREATE INDEX gamification_progress_user ON gamification_progress (tenant_id, user_id);
