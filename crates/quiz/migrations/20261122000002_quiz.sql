-- Quiz module. Same portable subset as the platform migration. Flags are BIGINT 0/1: sqlx's
-- Any driver cannot decode a SQLite column declared BOOLEAN.

CREATE TABLE quiz_tests (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants(id),
    slug                  TEXT NOT NULL,
    title                 TEXT NOT NULL,
    description           TEXT NOT NULL,
    lang                  TEXT NOT NULL,
    tags                  TEXT NOT NULL,
    estimated_minutes     BIGINT NOT NULL,
    is_active             BIGINT NOT NULL DEFAULT 1,
    published_version     BIGINT,
    published_version_id  TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    UNIQUE (tenant_id, slug)
);

CREATE TABLE quiz_versions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    test_id       TEXT NOT NULL REFERENCES quiz_tests(id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    status        TEXT NOT NULL,
    definition    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    published_at  BIGINT,
    UNIQUE (test_id, version)
);

-- One row per visitor session, kept until expires_at (SESSION_TTL_DAYS) and then purged.
-- `state` is the compact JSON of the domain's SessionState; `rev` is the optimistic-lock counter
-- that makes concurrent answers to one session safe without read-then-write transactions.
CREATE TABLE quiz_sessions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    version_id    TEXT NOT NULL REFERENCES quiz_versions(id) ON DELETE CASCADE,
    state         TEXT NOT NULL,
    rev           BIGINT NOT NULL,
    status        TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    expires_at    BIGINT NOT NULL,
    source        TEXT,
    campaign      TEXT,
    share_token   TEXT
);
CREATE INDEX quiz_sessions_expires ON quiz_sessions (expires_at);

-- What a share link shows. Small, free of anything personal, and kept after the session row is purged.
CREATE TABLE quiz_results (
    share_token   TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    test_id       TEXT NOT NULL REFERENCES quiz_tests(id) ON DELETE CASCADE,
    version_id    TEXT NOT NULL,
    profile_code  TEXT NOT NULL,
    score         BIGINT NOT NULL,
    dimensions    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Raw answers, only when STORE_ANSWERS or the test opts in. No session id, no client hash:
-- the row cannot be joined back to a visitor.
CREATE TABLE quiz_answers (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    version_id    TEXT NOT NULL REFERENCES quiz_versions(id) ON DELETE CASCADE,
    day           TEXT NOT NULL,
    answers       TEXT NOT NULL
);
