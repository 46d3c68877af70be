-- Whose result is whose, for results finished by someone the site knows: a visitor with the
-- platform's signed visitor id, or a signed-in end user. Results of anonymous visitors have
-- no row here (most of them): `quiz_results` itself stays free of anything personal. When the
-- visitor becomes an account (`visitor.merged`) the rows get its user id; `user.deleted` and
-- `visitor.deleted` erase the results with their rows; the GDPR export lists them.
CREATE TABLE quiz_result_owners (
    share_token   TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    visitor_id    TEXT,
    user_id       TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX quiz_result_owners_visitor ON quiz_result_owners (tenant_id, visitor_id);
CREATE INDEX quiz_result_owners_user ON quiz_result_owners (tenant_id, user_id);
