//! The admin API for tests, versions and questions. Reads need `Viewer`, writes `AdminUser`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use faro_http::audit::Actor;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::{ApiError, ApiResult, ClientAddr, FieldProblem, Json, Query, Staff};
use faro_quiz_domain::{Format, Mode, validate};
use faro_store::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::service::{self, to_field};
use faro_http::respond::{PageQuery, next_page, rfc3339};

use crate::{Quiz, store};

#[derive(Serialize, ToSchema)]
pub struct AdminTest {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub lang: String,
    pub tags: Vec<String>,
    pub estimated_minutes: i64,
    pub is_active: bool,
    /// The version visitors get; null until one is published.
    pub published_version: Option<i64>,
    pub latest_version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<store::TestRow> for AdminTest {
    fn from(t: store::TestRow) -> Self {
        AdminTest {
            id: t.id,
            slug: t.slug,
            title: t.title,
            description: t.description,
            lang: t.lang,
            tags: t.tags,
            estimated_minutes: t.estimated_minutes,
            is_active: t.is_active,
            published_version: t.published_version,
            latest_version: t.latest_version,
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminTestList {
    pub items: Vec<AdminTest>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/admin/tests", tag = "quiz-admin", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = AdminTestList), (status = 401, body = faro_http::ErrorBody)))]
pub async fn list_tests(
    State(quiz): State<Quiz>,
    Viewer(user): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<AdminTestList>> {
    let (limit, after) = q.page()?;
    let mut rows = store::list_tests(
        &quiz.core.db,
        &user.tenant,
        after.as_deref(),
        limit as i64 + 1,
    )
    .await?;
    let next_cursor = next_page(&mut rows, limit, |t| &t.slug);
    Ok(Json(AdminTestList {
        items: rows.into_iter().map(AdminTest::from).collect(),
        next_cursor,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CreatedTest {
    pub id: String,
    pub slug: String,
    pub version: i64,
    /// Always `draft`.
    pub status: String,
    /// What must be fixed before this draft can be published (empty when ready).
    pub publish_problems: Vec<FieldProblem>,
}

/// Reads a definition document body: JSON, or YAML when the Content-Type says so. A body that
/// is not JSON (or YAML) at all is malformed (400); a document with problems is 422.
fn document(headers: &HeaderMap, body: &Bytes) -> ApiResult<faro_quiz_domain::Definition> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = service::format_of(ct);
    let (code, syntax) = match format {
        Format::Json => ("malformed_json", "JSON"),
        Format::Yaml => ("malformed_yaml", "YAML"),
    };
    let malformed = |message: String| {
        ApiError::bad_request(code, format!("the body is not valid {syntax}")).with_details(
            serde_json::json!({ "problems": [FieldProblem { path: String::new(), message }] }),
        )
    };
    let text = std::str::from_utf8(body)
        .map_err(|_| malformed("the document is not UTF-8 text".into()))?;
    let parsed = match format {
        Format::Json => {
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| e.to_string())
        }
        Format::Yaml => {
            yaml_serde::from_str::<serde::de::IgnoredAny>(text).map_err(|e| e.to_string())
        }
    };
    parsed.map_err(malformed)?;
    Ok(service::parse_draft(text, format)?)
}

/// Creates a test from a definition document (JSON, or YAML with `Content-Type: application/yaml`).
#[utoipa::path(post, path = "/api/v1/admin/tests", tag = "quiz-admin",
    security(("bearer" = [])),
    request_body(content = Object, description = "A definition document (spec/quiz.md §1)"),
    responses(
        (status = 201, body = CreatedTest),
        (status = 400, body = faro_http::ErrorBody), (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody), (status = 409, description = "Slug taken", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem of the document", body = faro_http::ErrorBody),
        (status = 429, description = "quota_exceeded: the tenant's plan allows no more", body = faro_http::ErrorBody),
    ))]
pub async fn create_test(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CreatedTest>)> {
    let def = document(&headers, &body)?;
    let created = service::create_test(
        &quiz.core.db,
        &user.tenant,
        &def,
        Some(&Actor::staff(&user, client.as_deref())),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTest {
            id: created.test_id,
            slug: created.slug,
            version: 1,
            status: store::STATUS_DRAFT.into(),
            publish_problems: created.publish_problems.into_iter().map(to_field).collect(),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct VersionSummary {
    pub id: String,
    pub version: i64,
    /// `draft` or `published` (published versions are frozen).
    pub status: String,
    /// True for the version visitors get now.
    pub served: bool,
    pub title: String,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
}

fn version_summary(v: &store::VersionRow, test: &store::TestRow) -> VersionSummary {
    let title = serde_json::from_str::<Value>(&v.definition)
        .ok()
        .and_then(|d| d.get("title").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    VersionSummary {
        id: v.id.clone(),
        version: v.version,
        status: v.status.clone(),
        served: test.published_version_id.as_deref() == Some(v.id.as_str()),
        title,
        created_at: rfc3339(v.created_at),
        updated_at: rfc3339(v.updated_at),
        published_at: v.published_at.map(rfc3339),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminTestDetail {
    #[serde(flatten)]
    pub test: AdminTest,
    pub versions: Vec<VersionSummary>,
}

#[utoipa::path(get, path = "/api/v1/admin/tests/{id}", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AdminTestDetail), (status = 404, body = faro_http::ErrorBody)))]
pub async fn get_test(
    State(quiz): State<Quiz>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminTestDetail>> {
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    let versions = store::list_versions(&quiz.core.db, &user.tenant, &id).await?;
    let versions = versions.iter().map(|v| version_summary(v, &test)).collect();
    Ok(Json(AdminTestDetail {
        test: test.into(),
        versions,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestUpdate {
    /// Switch the test on or off for visitors. Title, description and the rest are part of
    /// the versioned definition: change them in a new version.
    pub is_active: Option<bool>,
}

#[utoipa::path(put, path = "/api/v1/admin/tests/{id}", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = TestUpdate,
    responses((status = 200, body = AdminTest), (status = 404, body = faro_http::ErrorBody), (status = 422, body = faro_http::ErrorBody)))]
pub async fn update_test(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    Json(body): Json<TestUpdate>,
) -> ApiResult<Json<AdminTest>> {
    service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    if let Some(active) = body.is_active {
        store::set_active(
            &quiz.core.db,
            &user.tenant,
            &id,
            active,
            Some(&Actor::staff(&user, client.as_deref())),
        )
        .await?;
        quiz.cache.invalidate_catalog(&user.tenant);
    }
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    Ok(Json(test.into()))
}

#[utoipa::path(delete, path = "/api/v1/admin/tests/{id}", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "Deleted with its versions, sessions, results and analytics"), (status = 404, body = faro_http::ErrorBody)))]
pub async fn delete_test(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if !store::delete_test(
        &quiz.core.db,
        &user.tenant,
        &id,
        Some(&Actor::staff(&user, client.as_deref())),
    )
    .await?
    {
        return Err(ApiError::not_found("no such test"));
    }
    quiz.cache.invalidate_catalog(&user.tenant);
    quiz.cache.forget_results();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct VersionList {
    pub items: Vec<VersionSummary>,
}

#[utoipa::path(get, path = "/api/v1/admin/tests/{id}/versions", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = VersionList), (status = 404, body = faro_http::ErrorBody)))]
pub async fn list_versions(
    State(quiz): State<Quiz>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<VersionList>> {
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    let versions = store::list_versions(&quiz.core.db, &user.tenant, &id).await?;
    Ok(Json(VersionList {
        items: versions.iter().map(|v| version_summary(v, &test)).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct VersionDetail {
    #[serde(flatten)]
    pub summary: VersionSummary,
    /// The definition document.
    #[schema(value_type = Object)]
    pub definition: Value,
    pub publish_problems: Vec<FieldProblem>,
}

fn version_detail(v: &store::VersionRow, test: &store::TestRow) -> ApiResult<VersionDetail> {
    let definition: Value = serde_json::from_str(&v.definition).map_err(ApiError::internal)?;
    let def = crate::store::definition_from_storage(&v.definition)?;
    Ok(VersionDetail {
        summary: version_summary(v, test),
        definition,
        publish_problems: validate(&def, Mode::Publish)
            .into_iter()
            .map(to_field)
            .collect(),
    })
}

/// A new draft: a copy of the latest version (empty body) or the given document.
#[utoipa::path(post, path = "/api/v1/admin/tests/{id}/versions", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = Option<Object>, description = "Optional definition document; empty copies the latest version"),
    responses((status = 201, body = VersionDetail), (status = 404, body = faro_http::ErrorBody), (status = 422, body = faro_http::ErrorBody)))]
pub async fn create_version(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<VersionDetail>)> {
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    let def = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(document(&headers, &body)?)
    };
    let v = service::new_version(
        &quiz.core.db,
        &user.tenant,
        &test,
        def,
        Some(&Actor::staff(&user, client.as_deref())),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(version_detail(&v, &test)?)))
}

#[utoipa::path(get, path = "/api/v1/admin/tests/{id}/versions/{version}", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = VersionDetail), (status = 404, body = faro_http::ErrorBody)))]
pub async fn get_version(
    State(quiz): State<Quiz>,
    Viewer(user): Viewer,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<Json<VersionDetail>> {
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    let v =
        service::version_or_404(&quiz.core.db, &user.tenant, &id, parse_version(&version)?).await?;
    Ok(Json(version_detail(&v, &test)?))
}

fn parse_version(s: &str) -> ApiResult<i64> {
    s.parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::not_found("no such version"))
}

/// Replaces a draft's document. Published versions are frozen (409).
#[utoipa::path(put, path = "/api/v1/admin/tests/{id}/versions/{version}", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path), ("version" = i64, Path)),
    request_body(content = Object, description = "The whole definition document"),
    responses((status = 200, body = VersionDetail), (status = 404, body = faro_http::ErrorBody),
        (status = 409, body = faro_http::ErrorBody), (status = 422, body = faro_http::ErrorBody)))]
pub async fn update_version(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path((id, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<VersionDetail>> {
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    let v =
        service::version_or_404(&quiz.core.db, &user.tenant, &id, parse_version(&version)?).await?;
    if v.status != store::STATUS_DRAFT {
        return Err(service::frozen().into());
    }
    let def = document(&headers, &body)?;
    service::update_draft(
        &quiz.core.db,
        &user.tenant,
        &test,
        &v,
        &def,
        Some(&Actor::staff(&user, client.as_deref())),
    )
    .await?;
    let v = service::version_or_404(&quiz.core.db, &user.tenant, &id, v.version).await?;
    Ok(Json(version_detail(&v, &test)?))
}

#[utoipa::path(delete, path = "/api/v1/admin/tests/{id}/versions/{version}", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 204, description = "Draft deleted"), (status = 404, body = faro_http::ErrorBody), (status = 409, body = faro_http::ErrorBody)))]
pub async fn delete_version(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let v =
        service::version_or_404(&quiz.core.db, &user.tenant, &id, parse_version(&version)?).await?;
    if v.status != store::STATUS_DRAFT
        || !store::delete_draft(
            &quiz.core.db,
            &user.tenant,
            &v,
            Some(&Actor::staff(&user, client.as_deref())),
        )
        .await?
    {
        return Err(ApiError::conflict(
            "version_published",
            "published versions are kept: their results and analytics refer to them",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Validates and serves this version; on an already published version, serves it again
/// (rollback).
#[utoipa::path(post, path = "/api/v1/admin/tests/{id}/versions/{version}/publish", tag = "quiz-admin",
    security(("bearer" = [])), params(("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = VersionDetail), (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "Slug taken by another test", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem blocking publication", body = faro_http::ErrorBody)))]
pub async fn publish_version(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path((id, version)): Path<(String, String)>,
) -> ApiResult<Json<VersionDetail>> {
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    let v =
        service::version_or_404(&quiz.core.db, &user.tenant, &id, parse_version(&version)?).await?;
    service::publish(
        &quiz.core.db,
        &user.tenant,
        &test,
        &v,
        Some(&Actor::staff(&user, client.as_deref())),
    )
    .await?;
    quiz.cache.invalidate_catalog(&user.tenant);
    let test = service::test_or_404(&quiz.core.db, &user.tenant, &id).await?;
    let v = service::version_or_404(&quiz.core.db, &user.tenant, &id, v.version).await?;
    Ok(Json(version_detail(&v, &test)?))
}

// ---- question-by-question editing of a draft -------------------------------------------

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// The draft version's id (from the versions list).
    pub test_version_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionEdit {
    /// The question, in the definition document's shape.
    #[schema(value_type = Object)]
    pub question: Value,
    /// If given, replaces every rule whose condition names this question.
    #[schema(value_type = Option<Vec<Object>>)]
    pub rules: Option<Vec<Value>>,
    /// 0-based position in the question order; default: where it is, or last for a new one.
    pub position: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionEntry {
    pub position: usize,
    #[schema(value_type = Object)]
    pub question: Value,
    /// The rules whose condition names this question.
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
pub struct QuestionList {
    pub items: Vec<QuestionEntry>,
}

/// A version's document, for reading its questions.
async fn load_document(quiz: &Quiz, tenant: &TenantId, version_id: &str) -> ApiResult<Value> {
    let version = store::get_version_by_id(&quiz.core.db, tenant, version_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such version"))?;
    serde_json::from_str(&version.definition).map_err(ApiError::internal)
}

use service::{doc_questions as questions, key_of, rule_names};

fn entry(doc: &Value, position: usize, q: &Value) -> QuestionEntry {
    let key = key_of(q).unwrap_or_default();
    let rules = doc
        .get("rules")
        .and_then(Value::as_array)
        .map(|rs| rs.iter().filter(|r| rule_names(r, key)).cloned().collect())
        .unwrap_or_default();
    QuestionEntry {
        position,
        question: q.clone(),
        rules,
    }
}

#[utoipa::path(get, path = "/api/v1/admin/questions", tag = "quiz-admin",
    security(("bearer" = [])), params(VersionQuery),
    responses((status = 200, body = QuestionList), (status = 404, body = faro_http::ErrorBody)))]
pub async fn list_questions(
    State(quiz): State<Quiz>,
    Viewer(user): Viewer,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<QuestionList>> {
    let doc = load_document(&quiz, &user.tenant, &q.test_version_id).await?;
    let items = questions(&doc)
        .iter()
        .enumerate()
        .map(|(i, qv)| entry(&doc, i, qv))
        .collect();
    Ok(Json(QuestionList { items }))
}

#[utoipa::path(get, path = "/api/v1/admin/questions/{key}", tag = "quiz-admin",
    security(("bearer" = [])), params(("key" = String, Path), VersionQuery),
    responses((status = 200, body = QuestionEntry), (status = 404, body = faro_http::ErrorBody)))]
pub async fn get_question(
    State(quiz): State<Quiz>,
    Viewer(user): Viewer,
    Path(key): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<QuestionEntry>> {
    let doc = load_document(&quiz, &user.tenant, &q.test_version_id).await?;
    let (i, qv) = questions(&doc)
        .iter()
        .enumerate()
        .find(|(_, qv)| key_of(qv) == Some(key.as_str()))
        .ok_or_else(|| ApiError::not_found("no question with this key"))?;
    Ok(Json(entry(&doc, i, qv)))
}

/// Applies one question edit through the service (shared with the panel's question editor).
async fn apply(
    quiz: &Quiz,
    (user, client): (&Staff, Option<&str>),
    version_id: &str,
    op: service::QuestionOp,
) -> ApiResult<(Value, Option<String>)> {
    let actor = Actor::staff(user, client);
    Ok(service::edit_question(&quiz.core.db, &user.tenant, version_id, op, Some(&actor)).await?)
}

fn add_op(e: QuestionEdit) -> service::QuestionOp {
    service::QuestionOp::Add {
        question: e.question,
        rules: e.rules,
        position: e.position,
    }
}

fn replace_op(key: String, e: QuestionEdit) -> service::QuestionOp {
    service::QuestionOp::Replace {
        key,
        question: e.question,
        rules: e.rules,
        position: e.position,
    }
}

fn entry_for(doc: &Value, key: &str) -> ApiResult<QuestionEntry> {
    questions(doc)
        .iter()
        .enumerate()
        .find(|(_, q)| key_of(q) == Some(key))
        .map(|(i, q)| entry(doc, i, q))
        .ok_or_else(|| ApiError::internal("edited question vanished"))
}

#[utoipa::path(post, path = "/api/v1/admin/questions", tag = "quiz-admin",
    security(("bearer" = [])), params(VersionQuery), request_body = QuestionEdit,
    responses((status = 201, body = QuestionEntry), (status = 404, body = faro_http::ErrorBody),
        (status = 409, body = faro_http::ErrorBody), (status = 422, body = faro_http::ErrorBody)))]
pub async fn add_question(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Query(q): Query<VersionQuery>,
    Json(body): Json<QuestionEdit>,
) -> ApiResult<(StatusCode, Json<QuestionEntry>)> {
    let by = (&user, client.as_deref());
    let (doc, key) = apply(&quiz, by, &q.test_version_id, add_op(body)).await?;
    Ok((
        StatusCode::CREATED,
        Json(entry_for(&doc, key.as_deref().unwrap_or_default())?),
    ))
}

#[utoipa::path(put, path = "/api/v1/admin/questions/{key}", tag = "quiz-admin",
    security(("bearer" = [])), params(("key" = String, Path), VersionQuery), request_body = QuestionEdit,
    responses((status = 200, body = QuestionEntry), (status = 404, body = faro_http::ErrorBody),
        (status = 409, body = faro_http::ErrorBody), (status = 422, body = faro_http::ErrorBody)))]
pub async fn update_question(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    Query(q): Query<VersionQuery>,
    Json(body): Json<QuestionEdit>,
) -> ApiResult<Json<QuestionEntry>> {
    let (doc, new_key) = apply(
        &quiz,
        (&user, client.as_deref()),
        &q.test_version_id,
        replace_op(key, body),
    )
    .await?;
    Ok(Json(entry_for(
        &doc,
        new_key.as_deref().unwrap_or_default(),
    )?))
}

#[utoipa::path(delete, path = "/api/v1/admin/questions/{key}", tag = "quiz-admin",
    security(("bearer" = [])), params(("key" = String, Path), VersionQuery),
    responses((status = 204, description = "Removed with the rules naming it"), (status = 404, body = faro_http::ErrorBody),
        (status = 409, body = faro_http::ErrorBody), (status = 422, description = "Something still jumps to it", body = faro_http::ErrorBody)))]
pub async fn delete_question(
    State(quiz): State<Quiz>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(key): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<StatusCode> {
    apply(
        &quiz,
        (&user, client.as_deref()),
        &q.test_version_id,
        service::QuestionOp::Remove { key },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
