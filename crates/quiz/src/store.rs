//! Quiz storage: every query of the module, each scoped by tenant. Plain functions over `Db`;
//! the same SQL runs on SQLite and PostgreSQL.

use faro_http::audit::Actor;
use faro_quiz_domain::{Definition, Mode};
use faro_store::TenantId;
use faro_store::quota::{self, Exceeded, Quota};
use faro_store::{Db, StoreError, multi_row, new_id, placeholders, unix_now};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A test as the admin sees it.
#[derive(Clone, Debug)]
pub struct TestRow {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub lang: String,
    pub tags: Vec<String>,
    pub estimated_minutes: i64,
    pub is_active: bool,
    pub published_version: Option<i64>,
    pub published_version_id: Option<String>,
    pub latest_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct VersionRow {
    pub id: String,
    pub test_id: String,
    pub version: i64,
    pub status: String,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct SessionRow {
    pub id: String,
    pub version_id: String,
    pub state: String,
    pub rev: i64,
    pub status: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub expires_at: i64,
    pub source: Option<String>,
    pub campaign: Option<String>,
    pub share_token: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ResultRow {
    pub share_token: String,
    pub test_id: String,
    pub version_id: String,
    pub profile_code: String,
    pub score: i64,
    pub dimensions: String,
    pub created_at: i64,
}

pub const STATUS_DRAFT: &str = "draft";
pub const STATUS_PUBLISHED: &str = "published";
pub const SESSION_STARTED: &str = "started";
pub const SESSION_FINISHED: &str = "finished";

const TEST_COLUMNS: &str = "t.id, t.slug, t.title, t.description, t.lang, t.tags, \
    t.estimated_minutes, t.is_active, t.published_version, t.published_version_id, \
    (SELECT MAX(v.version) FROM quiz_versions v WHERE v.test_id = t.id) AS latest_version, \
    t.created_at, t.updated_at";

fn test_row(r: &AnyRow) -> Result<TestRow, StoreError> {
    let tags: String = r.try_get("tags")?;
    Ok(TestRow {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        lang: r.try_get("lang")?,
        tags: serde_json::from_str(&tags).map_err(StoreError::corrupt)?,
        estimated_minutes: r.try_get("estimated_minutes")?,
        is_active: r.try_get::<i64, _>("is_active")? != 0,
        published_version: r.try_get("published_version")?,
        published_version_id: r.try_get("published_version_id")?,
        latest_version: r.try_get::<Option<i64>, _>("latest_version")?.unwrap_or(0),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn version_row(r: &AnyRow) -> Result<VersionRow, StoreError> {
    Ok(VersionRow {
        id: r.try_get("id")?,
        test_id: r.try_get("test_id")?,
        version: r.try_get("version")?,
        status: r.try_get("status")?,
        definition: r.try_get("definition")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        published_at: r.try_get("published_at")?,
    })
}

fn session_row(r: &AnyRow) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        id: r.try_get("id")?,
        version_id: r.try_get("version_id")?,
        state: r.try_get("state")?,
        rev: r.try_get("rev")?,
        status: r.try_get("status")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        expires_at: r.try_get("expires_at")?,
        source: r.try_get("source")?,
        campaign: r.try_get("campaign")?,
        share_token: r.try_get("share_token")?,
    })
}

fn result_row(r: &AnyRow) -> Result<ResultRow, StoreError> {
    Ok(ResultRow {
        share_token: r.try_get("share_token")?,
        test_id: r.try_get("test_id")?,
        version_id: r.try_get("version_id")?,
        profile_code: r.try_get("profile_code")?,
        score: r.try_get("score")?,
        dimensions: r.try_get("dimensions")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The metadata a test row mirrors from a definition (the served one, or the first draft).
pub struct TestMeta<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub lang: &'a str,
    pub tags: &'a [String],
    pub estimated_minutes: i64,
}

fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

/// Creates a test with its first draft version in one transaction, unless the tenant's plan
/// allows no more tests (the inner `Err`). A taken slug is `Conflict`.
pub async fn create_test(
    db: &Db,
    tenant: &TenantId,
    meta: &TestMeta<'_>,
    definition: &str,
    by: Option<&Actor>,
) -> Result<Result<(String, String), Exceeded>, StoreError> {
    let now = unix_now();
    let test_id = new_id();
    let version_id = new_id();
    let mut tx = db.begin_write().await?;
    let tests = "SELECT COUNT(*) FROM quiz_tests WHERE tenant_id = $1";
    if let Err(e) = quota::guard(&mut tx, tenant, Quota::Tests, tests, 1).await? {
        return Ok(Err(e));
    }
    sqlx::query(
        "INSERT INTO quiz_tests (id, tenant_id, slug, title, description, lang, tags, \
         estimated_minutes, is_active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
    )
    .bind(&test_id)
    .bind(tenant.as_str())
    .bind(meta.slug)
    .bind(meta.title)
    .bind(meta.description)
    .bind(meta.lang)
    .bind(tags_json(meta.tags))
    .bind(meta.estimated_minutes)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO quiz_versions (id, tenant_id, test_id, version, status, definition, \
         created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $5, $6, $6)",
    )
    .bind(&version_id)
    .bind(tenant.as_str())
    .bind(&test_id)
    .bind(STATUS_DRAFT)
    .bind(definition)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        tenant,
        by,
        "quiz.test_create",
        &test_id,
        None,
        Some(json!({ "slug": meta.slug, "title": meta.title, "version": 1 })),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok((test_id, version_id)))
}

/// Records a staff change in the audit log, in the change's own transaction; `None` (the demo
/// seeding) records nothing. Definitions are not copied into the log: the version history
/// keeps every one.
async fn audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    by: Option<&Actor>,
    action: &str,
    target: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), StoreError> {
    match by {
        Some(actor) => {
            faro_http::audit::record_change(tx, tenant, actor, action, target, before, after).await
        }
        None => Ok(()),
    }
}

pub async fn list_tests(
    db: &Db,
    tenant: &TenantId,
    after_slug: Option<&str>,
    limit: i64,
) -> Result<Vec<TestRow>, StoreError> {
    let sql = format!(
        "SELECT {TEST_COLUMNS} FROM quiz_tests t WHERE t.tenant_id = $1 AND t.slug > $2 \
         ORDER BY t.slug LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(after_slug.unwrap_or(""))
        .bind(limit)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(test_row).collect()
}

pub async fn get_test(db: &Db, tenant: &TenantId, id: &str) -> Result<Option<TestRow>, StoreError> {
    let sql =
        format!("SELECT {TEST_COLUMNS} FROM quiz_tests t WHERE t.tenant_id = $1 AND t.id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(test_row).transpose()
}

pub async fn get_test_by_slug(
    db: &Db,
    tenant: &TenantId,
    slug: &str,
) -> Result<Option<TestRow>, StoreError> {
    let sql =
        format!("SELECT {TEST_COLUMNS} FROM quiz_tests t WHERE t.tenant_id = $1 AND t.slug = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(slug)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(test_row).transpose()
}

/// Tests a visitor can take: active, with a served version. The catalog cache reloads this.
pub async fn served_tests(db: &Db, tenant: &TenantId) -> Result<Vec<TestRow>, StoreError> {
    let sql = format!(
        "SELECT {TEST_COLUMNS} FROM quiz_tests t WHERE t.tenant_id = $1 AND t.is_active = 1 \
         AND t.published_version_id IS NOT NULL ORDER BY t.slug"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(test_row).collect()
}

pub async fn set_active(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    active: bool,
    by: Option<&Actor>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE quiz_tests SET is_active = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(i64::from(active))
    .bind(unix_now())
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        audit(
            &mut tx,
            tenant,
            by,
            "quiz.test_active",
            id,
            None,
            Some(json!({ "active": active })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes a test with its versions, sessions, results and counters.
pub async fn delete_test(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    by: Option<&Actor>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let before = sqlx::query("SELECT slug, title FROM quiz_tests WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| -> Result<Value, StoreError> {
            Ok(json!({
                "slug": r.try_get::<String, _>("slug")?,
                "title": r.try_get::<String, _>("title")?,
            }))
        })
        .transpose()?;
    // Counters are keyed by version id (their scope) and have no foreign key: remove them first.
    sqlx::query(
        "DELETE FROM stats_daily WHERE tenant_id = $1 AND scope IN \
         (SELECT id FROM quiz_versions WHERE tenant_id = $1 AND test_id = $2)",
    )
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    // Results go with the test (foreign key); their owners' rows have none.
    sqlx::query(
        "DELETE FROM quiz_result_owners WHERE tenant_id = $1 AND share_token IN \
         (SELECT share_token FROM quiz_results WHERE tenant_id = $1 AND test_id = $2)",
    )
    .bind(tenant.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query("DELETE FROM quiz_tests WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() > 0 {
        audit(&mut tx, tenant, by, "quiz.test_delete", id, before, None).await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

const VERSION_COLUMNS: &str =
    "id, test_id, version, status, definition, created_at, updated_at, published_at";

pub async fn list_versions(
    db: &Db,
    tenant: &TenantId,
    test_id: &str,
) -> Result<Vec<VersionRow>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM quiz_versions WHERE tenant_id = $1 AND test_id = $2 \
         ORDER BY version DESC LIMIT 500"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(test_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(version_row).collect()
}

pub async fn get_version(
    db: &Db,
    tenant: &TenantId,
    test_id: &str,
    version: i64,
) -> Result<Option<VersionRow>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM quiz_versions WHERE tenant_id = $1 AND test_id = $2 \
         AND version = $3"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(test_id)
        .bind(version)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(version_row).transpose()
}

pub async fn get_version_by_id(
    db: &Db,
    tenant: &TenantId,
    version_id: &str,
) -> Result<Option<VersionRow>, StoreError> {
    let sql =
        format!("SELECT {VERSION_COLUMNS} FROM quiz_versions WHERE tenant_id = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(version_id)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(version_row).transpose()
}

/// Adds the next version number as a draft. Two admins racing get distinct numbers or one
/// `Conflict` (unique test_id, version), never a duplicate.
pub async fn create_version(
    db: &Db,
    tenant: &TenantId,
    test_id: &str,
    definition: &str,
    by: Option<&Actor>,
) -> Result<VersionRow, StoreError> {
    let now = unix_now();
    let id = new_id();
    let mut tx = db.begin_write().await?;
    let next: i64 = sqlx::query(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM quiz_versions WHERE tenant_id = $1 AND test_id = $2",
    )
    .bind(tenant.as_str())
    .bind(test_id)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    sqlx::query(
        "INSERT INTO quiz_versions (id, tenant_id, test_id, version, status, definition, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(tenant.as_str())
    .bind(test_id)
    .bind(next)
    .bind(STATUS_DRAFT)
    .bind(definition)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        tenant,
        by,
        "quiz.version_create",
        test_id,
        None,
        Some(json!({ "version": next })),
    )
    .await?;
    tx.commit().await?;
    Ok(VersionRow {
        id,
        test_id: test_id.to_string(),
        version: next,
        status: STATUS_DRAFT.into(),
        definition: definition.to_string(),
        created_at: now,
        updated_at: now,
        published_at: None,
    })
}

/// Replaces a draft's definition. Returns false when the version is not a draft (anymore):
/// the status check is in the UPDATE itself, so a concurrent publish cannot be overwritten.
pub async fn update_draft(
    db: &Db,
    tenant: &TenantId,
    version: &VersionRow,
    definition: &str,
    by: Option<&Actor>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE quiz_versions SET definition = $1, updated_at = $2 \
         WHERE tenant_id = $3 AND id = $4 AND status = $5",
    )
    .bind(definition)
    .bind(unix_now())
    .bind(tenant.as_str())
    .bind(&version.id)
    .bind(STATUS_DRAFT)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() > 0 {
        audit(
            &mut tx,
            tenant,
            by,
            "quiz.draft_update",
            &version.test_id,
            None,
            Some(json!({ "version": version.version, "bytes": definition.len() })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete_draft(
    db: &Db,
    tenant: &TenantId,
    version: &VersionRow,
    by: Option<&Actor>,
) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let done =
        sqlx::query("DELETE FROM quiz_versions WHERE tenant_id = $1 AND id = $2 AND status = $3")
            .bind(tenant.as_str())
            .bind(&version.id)
            .bind(STATUS_DRAFT)
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() > 0 {
        audit(
            &mut tx,
            tenant,
            by,
            "quiz.draft_delete",
            &version.test_id,
            Some(json!({ "version": version.version })),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

/// Freezes a version (if it was a draft) and makes it the served one, mirroring its metadata
/// onto the test row, in one transaction.
pub async fn publish(
    db: &Db,
    tenant: &TenantId,
    test_id: &str,
    version: &VersionRow,
    meta: &TestMeta<'_>,
    by: Option<&Actor>,
) -> Result<(), StoreError> {
    let now = unix_now();
    let mut tx = db.begin_write().await?;
    let served: Option<i64> = sqlx::query_scalar(
        "SELECT published_version FROM quiz_tests WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(test_id)
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    sqlx::query(
        "UPDATE quiz_versions SET status = $1, published_at = COALESCE(published_at, $2), \
         updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(STATUS_PUBLISHED)
    .bind(now)
    .bind(tenant.as_str())
    .bind(&version.id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE quiz_tests SET published_version = $1, published_version_id = $2, slug = $3, \
         title = $4, description = $5, lang = $6, tags = $7, estimated_minutes = $8, \
         updated_at = $9 WHERE tenant_id = $10 AND id = $11",
    )
    .bind(version.version)
    .bind(&version.id)
    .bind(meta.slug)
    .bind(meta.title)
    .bind(meta.description)
    .bind(meta.lang)
    .bind(tags_json(meta.tags))
    .bind(meta.estimated_minutes)
    .bind(now)
    .bind(tenant.as_str())
    .bind(test_id)
    .execute(&mut *tx)
    .await?;
    // Serving an older version again is the rollback: the entry says which way it went.
    let action = if version.status == STATUS_DRAFT {
        "quiz.version_publish"
    } else {
        "quiz.version_serve"
    };
    audit(
        &mut tx,
        tenant,
        by,
        action,
        test_id,
        Some(json!({ "served": served })),
        Some(json!({ "served": version.version })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The hottest read of the module (every question page and API read): one static statement,
/// prepared once per connection.
const GET_SESSION: &str = "SELECT id, version_id, state, rev, status, started_at, finished_at, \
    expires_at, source, campaign, share_token FROM quiz_sessions WHERE tenant_id = $1 AND id = $2";

pub async fn get_session(
    db: &Db,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<SessionRow>, StoreError> {
    let row = sqlx::query(GET_SESSION)
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(db.reader())
        .await?;
    row.as_ref().map(session_row).transpose()
}

/// A write to the sessions table. Visitors' writes go through the group-commit writer
/// ([`SessionWrites`]): many sessions' answers share one statement and one commit.
#[derive(Debug)]
pub enum SessionWrite {
    /// A new session; loses when its version no longer exists (the test was deleted, maybe by
    /// another instance whose change this instance's catalog cache has not seen yet).
    Insert(NewSession),
    /// Compare-and-set of a session's state: wins only if nobody changed the row since `rev`
    /// was read, so two concurrent answers (two tabs, two instances) cannot both apply.
    Save {
        tenant: String,
        id: String,
        rev: i64,
        state: String,
    },
    /// Marks the session finished and stores its result; loses when another request finished
    /// it first (the caller then reads that result back) or changed it since `rev`.
    Finish(Finish),
}

#[derive(Debug)]
pub struct NewSession {
    pub id: String,
    pub tenant: String,
    pub version_id: String,
    pub state: String,
    pub started_at: i64,
    pub expires_at: i64,
    pub source: Option<String>,
    pub campaign: Option<String>,
}

#[derive(Debug)]
pub struct Finish {
    pub tenant: String,
    pub session_id: String,
    pub test_id: String,
    pub version_id: String,
    pub share_token: String,
    pub profile_code: String,
    pub score: i64,
    pub dimensions: String,
    pub finished_at: i64,
    /// The `rev` the result was computed from: a finish on a stale copy loses.
    pub rev: i64,
    /// Raw answers to keep (anonymised: no session id), when the test or the instance opts in.
    pub answers: Option<String>,
    /// For the `quiz.finished` event: the test's slug and the result's public link.
    pub test_slug: String,
    pub share_url: String,
    /// Who finished, when the site knows them (kept in `quiz_result_owners`).
    pub owner: Owner,
}

/// Whose result it is: the platform's visitor id and the signed-in end user, when the request
/// carried them. Empty for anonymous visitors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owner {
    pub visitor_id: Option<String>,
    pub user_id: Option<String>,
}

impl Owner {
    pub fn is_empty(&self) -> bool {
        self.visitor_id.is_none() && self.user_id.is_none()
    }
}

/// The `quiz.finished` event's payload: what a consumer (gamification, webhooks, a CRM) needs
/// about a result, and nothing a visitor did not choose to share.
#[derive(serde::Serialize)]
struct FinishedEvent<'a> {
    session_id: &'a str,
    test_id: &'a str,
    test_slug: &'a str,
    version_id: &'a str,
    profile_code: &'a str,
    score: i64,
    dimensions: serde_json::Value,
    share_url: &'a str,
    /// The visitor's id (the platform's signed visitor cookie or header), when known.
    visitor_id: Option<&'a str>,
    /// The signed-in end user who finished, when there was one.
    user_id: Option<&'a str>,
}

fn finished_event(f: &Finish) -> Result<faro_store::NewEvent, StoreError> {
    let payload = FinishedEvent {
        session_id: &f.session_id,
        test_id: &f.test_id,
        test_slug: &f.test_slug,
        version_id: &f.version_id,
        profile_code: &f.profile_code,
        score: f.score,
        dimensions: serde_json::from_str(&f.dimensions).unwrap_or(serde_json::Value::Null),
        share_url: &f.share_url,
        visitor_id: f.owner.visitor_id.as_deref(),
        user_id: f.owner.user_id.as_deref(),
    };
    Ok(
        faro_store::NewEvent::new(&f.tenant, "quiz.finished", &f.session_id, &payload)?
            .at(f.finished_at),
    )
}

/// The group-commit writer of session rows. Each kind of write in a batch is one multi-row
/// statement (`INSERT … SELECT … FROM (VALUES …)`, `UPDATE … FROM (VALUES …)`), and
/// `RETURNING id` tells each job whether it won. The kinds are independent of each other, so
/// each commits on its own (and, on PostgreSQL, on its own connection at the same time): new
/// sessions and answers are one autocommit statement each; finishes, which also store the
/// result, are one transaction. The same SQL runs on SQLite (3.35+) and PostgreSQL.
#[derive(Clone, Default)]
pub struct SessionWrites {
    /// Woken after a batch of finishes commits their `quiz.finished` events.
    pub wake: Option<faro_store::Wake>,
}

type Written = Result<std::collections::HashSet<String>, StoreError>;

impl faro_store::BatchWrite for SessionWrites {
    type Job = SessionWrite;
    /// Whether the write applied (inserted, compare-and-set won, finish won).
    type Outcome = bool;

    async fn run(&self, db: &Db, jobs: &[SessionWrite]) -> Vec<Result<bool, StoreError>> {
        let mut inserts = Vec::new();
        let mut saves = Vec::new();
        let mut finishes = Vec::new();
        // The same session twice in one batch (two requests racing past the in-process lock):
        // only its first write runs here; the others lose, as they would on the row's rev, and
        // their callers re-read the row and retry.
        let mut seen = std::collections::HashSet::new();
        // Per job: whether it runs (false for a duplicate), for mapping the outcomes back.
        let mut runs = Vec::with_capacity(jobs.len());
        for job in jobs {
            let run = match job {
                SessionWrite::Insert(n) => {
                    inserts.push(n);
                    true
                }
                SessionWrite::Save {
                    tenant,
                    id,
                    rev,
                    state,
                } if seen.insert((tenant, id)) => {
                    saves.push((tenant, id, *rev, state));
                    true
                }
                SessionWrite::Finish(f) if seen.insert((&f.tenant, &f.session_id)) => {
                    finishes.push(f);
                    true
                }
                _ => false,
            };
            runs.push(run);
        }
        let (inserted, saved, finished) = tokio::join!(
            insert_sessions(db, &inserts),
            save_states(db, &saves),
            finish_sessions(db, &finishes),
        );
        if let (Ok(ids), Some(wake)) = (&finished, &self.wake)
            && !ids.is_empty()
        {
            wake.notify();
        }
        let outcome = |written: &Written, id: &String| match written {
            Ok(ids) => Ok(ids.contains(id)),
            Err(e) => Err(e.clone()),
        };
        jobs.iter()
            .zip(runs)
            .map(|(job, run)| match job {
                _ if !run => Ok(false),
                SessionWrite::Insert(n) => outcome(&inserted, &n.id),
                SessionWrite::Save { id, .. } => outcome(&saved, id),
                SessionWrite::Finish(f) => outcome(&finished, &f.session_id),
            })
            .collect()
    }
}

async fn insert_sessions(db: &Db, rows: &[&NewSession]) -> Written {
    if rows.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "INSERT INTO quiz_sessions (id, tenant_id, version_id, state, rev, status, \
         started_at, expires_at, source, campaign) \
         SELECT v.column1, v.column2, v.column3, v.column4, 0, '{SESSION_STARTED}', \
         v.column5, v.column6, v.column7, v.column8 FROM (VALUES {}) AS v \
         WHERE EXISTS (SELECT 1 FROM quiz_versions q \
         WHERE q.tenant_id = v.column2 AND q.id = v.column3) RETURNING id",
        placeholders(rows.len(), 8)
    );
    let mut q = multi_row(sql, rows.len());
    for n in rows {
        q = q
            .bind(&n.id)
            .bind(&n.tenant)
            .bind(&n.version_id)
            .bind(&n.state)
            .bind(n.started_at)
            .bind(n.expires_at)
            .bind(&n.source)
            .bind(&n.campaign);
    }
    returned_ids(q.fetch_all(db.writer()).await?)
}

async fn save_states(db: &Db, rows: &[(&String, &String, i64, &String)]) -> Written {
    if rows.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "UPDATE quiz_sessions SET state = v.column4, rev = rev + 1 FROM (VALUES {}) AS v \
         WHERE tenant_id = v.column1 AND id = v.column2 AND rev = v.column3 \
         AND status = '{SESSION_STARTED}' RETURNING id",
        placeholders(rows.len(), 4)
    );
    let mut q = multi_row(sql, rows.len());
    for (tenant, id, rev, state) in rows {
        q = q.bind(*tenant).bind(*id).bind(*rev).bind(*state);
    }
    returned_ids(q.fetch_all(db.writer()).await?)
}

/// Marks sessions finished and stores the winners' results (and kept answers), in one
/// transaction: a result exists exactly when its session says finished.
async fn finish_sessions(db: &Db, rows: &[&Finish]) -> Written {
    if rows.is_empty() {
        return Ok(Default::default());
    }
    // Built before the transaction, so it holds its locks (SQLite: the one writer) no longer
    // than the statements take.
    let mut events: Vec<(&str, faro_store::NewEvent)> = rows
        .iter()
        .map(|f| Ok((f.session_id.as_str(), finished_event(f)?)))
        .collect::<Result<_, StoreError>>()?;
    let mut tx = db.begin_write().await?;
    let sql = format!(
        "UPDATE quiz_sessions SET status = '{SESSION_FINISHED}', finished_at = v.column3, \
         share_token = v.column4, rev = rev + 1 FROM (VALUES {}) AS v \
         WHERE tenant_id = v.column1 AND id = v.column2 AND rev = v.column5 \
         AND status = '{SESSION_STARTED}' RETURNING id",
        placeholders(rows.len(), 5)
    );
    let mut q = multi_row(sql, rows.len());
    for f in rows {
        q = q
            .bind(&f.tenant)
            .bind(&f.session_id)
            .bind(f.finished_at)
            .bind(&f.share_token)
            .bind(f.rev);
    }
    let ids = returned_ids(q.fetch_all(&mut *tx).await?)?;
    let winners: Vec<&Finish> = rows
        .iter()
        .filter(|f| ids.contains(&f.session_id))
        .copied()
        .collect();
    if !winners.is_empty() {
        let sql = format!(
            "INSERT INTO quiz_results (share_token, tenant_id, test_id, version_id, \
             profile_code, score, dimensions, created_at) VALUES {}",
            placeholders(winners.len(), 8)
        );
        let mut q = multi_row(sql, winners.len());
        for f in &winners {
            q = q
                .bind(&f.share_token)
                .bind(&f.tenant)
                .bind(&f.test_id)
                .bind(&f.version_id)
                .bind(&f.profile_code)
                .bind(f.score)
                .bind(&f.dimensions)
                .bind(f.finished_at);
        }
        q.execute(&mut *tx).await?;
    }
    let kept: Vec<(&Finish, &String)> = winners
        .iter()
        .filter_map(|f| f.answers.as_ref().map(|a| (*f, a)))
        .collect();
    if !kept.is_empty() {
        let sql = format!(
            "INSERT INTO quiz_answers (id, tenant_id, version_id, day, answers) VALUES {}",
            placeholders(kept.len(), 5)
        );
        let mut q = multi_row(sql, kept.len());
        for (f, answers) in kept {
            q = q
                .bind(new_id())
                .bind(&f.tenant)
                .bind(&f.version_id)
                .bind(faro_store::day_of(f.finished_at))
                .bind(answers);
        }
        q.execute(&mut *tx).await?;
    }
    let owned: Vec<&Finish> = winners
        .iter()
        .filter(|f| !f.owner.is_empty())
        .copied()
        .collect();
    if !owned.is_empty() {
        let sql = format!(
            "INSERT INTO quiz_result_owners (share_token, tenant_id, visitor_id, user_id, \
             created_at) VALUES {}",
            placeholders(owned.len(), 5)
        );
        let mut q = multi_row(sql, owned.len());
        for f in owned {
            q = q
                .bind(&f.share_token)
                .bind(&f.tenant)
                .bind(&f.owner.visitor_id)
                .bind(&f.owner.user_id)
                .bind(f.finished_at);
        }
        q.execute(&mut *tx).await?;
    }
    // A result exists exactly when its event does: the event is written in the same
    // transaction.
    events.retain(|(session, _)| ids.contains(*session));
    if !events.is_empty() {
        let events: Vec<faro_store::NewEvent> = events.into_iter().map(|(_, e)| e).collect();
        faro_store::outbox::append(&mut tx, db.backend(), &events).await?;
    }
    tx.commit().await?;
    Ok(ids)
}

fn returned_ids(rows: Vec<AnyRow>) -> Result<std::collections::HashSet<String>, StoreError> {
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
        .collect()
}

pub async fn get_result(
    db: &Db,
    tenant: &TenantId,
    token: &str,
) -> Result<Option<ResultRow>, StoreError> {
    let row = sqlx::query(
        "SELECT share_token, test_id, version_id, profile_code, score, dimensions, created_at \
         FROM quiz_results WHERE tenant_id = $1 AND share_token = $2",
    )
    .bind(tenant.as_str())
    .bind(token)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(result_row).transpose()
}

/// Deletes session rows past their expiry (and, if given, started before `started_before`).
/// Results (share links) and counters stay.
pub async fn purge_sessions(
    db: &Db,
    now: i64,
    started_before: Option<i64>,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM quiz_sessions WHERE expires_at < $1 OR started_at < $2")
        .bind(now)
        .bind(started_before.unwrap_or(i64::MIN))
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}

/// Counter cells of some versions over a day range, for analytics.
pub async fn stats(
    db: &Db,
    tenant: &TenantId,
    version_ids: &[String],
    from: &str,
    to: &str,
) -> Result<Vec<(String, String, String, String, i64)>, StoreError> {
    if version_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from(
        "SELECT scope, day, metric, key, value FROM stats_daily \
         WHERE tenant_id = $1 AND day >= $2 AND day <= $3 AND scope IN (",
    );
    for i in 0..version_ids.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&format!("${}", i + 4));
    }
    sql.push(')');
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(from)
        .bind(to);
    for v in version_ids {
        q = q.bind(v.clone());
    }
    let rows = q.fetch_all(db.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("scope")?,
                r.try_get("day")?,
                r.try_get("metric")?,
                r.try_get("key")?,
                r.try_get("value")?,
            ))
        })
        .collect()
}

pub async fn count_tests(db: &Db, tenant: &TenantId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM quiz_tests WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(db.reader())
            .await?
            .try_get(0)?,
    )
}

/// Stored definitions were validated when saved; a failure here means a corrupt row.
pub fn definition_from_storage(text: &str) -> Result<Definition, StoreError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(StoreError::corrupt)?;
    faro_quiz_domain::parse_value(&value, Mode::Draft).map_err(|problems| {
        StoreError::corrupt(format!(
            "stored definition no longer validates: {}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}
