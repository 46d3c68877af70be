-- Anonymous visitors of a tenant's sites: an id the visitor's browser keeps in a signed cookie
-- (or a widget in a signed header). Kept: when first and last seen, the day-keyed hash of the
-- address last seen from (never the address), and the end user the visitor became, once they
-- register or log in (modules then move the visitor's history to the account).
CREATE TABLE visitors (
    tenant_id      TEXT NOT NULL,
    id             TEXT NOT NULL,
    first_seen_at  BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    ip_hash        TEXT,
    user_id        TEXT,
    merged_at      BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX visitors_last_seen ON visitors (tenant_id, last_seen_at);
