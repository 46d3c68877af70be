//! The visitor's API: catalog, sessions, answers, results. Handlers are thin: they read,
//! call the domain, write, count.

use faro_http::PublicTenant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use faro_http::enduser::MaybeEndUser;
use faro_http::ratelimit::RateLimitHeaders;
use faro_http::visitor::KnownVisitor;
use faro_http::{ApiError, ApiResult, ClientKey, Json, Query};
use faro_quiz_domain::AnswerInput;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::service::QuizError;
use crate::views::*;
use crate::{Quiz, visit};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CatalogQuery {
    /// Only tests in this language (`es`, `en-GB`, ...).
    pub lang: Option<String>,
    /// Only tests with this tag.
    pub tag: Option<String>,
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Active tests with a published version.
#[utoipa::path(get, path = "/api/v1/tests", tag = "quiz",
    params(CatalogQuery),
    responses(
        (status = 200, description = "The catalog", body = TestList, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified (If-None-Match matched)"),
        (status = 400, description = "Bad query", body = faro_http::ErrorBody),
    ))]
pub async fn list_tests(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    headers: HeaderMap,
    Query(q): Query<CatalogQuery>,
) -> ApiResult<Response> {
    let limit = faro_http::respond::page_limit(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .map(faro_http::respond::decode_cursor)
        .transpose()?;
    let catalog = quiz.cache.catalog(&quiz.core.db, tenant).await?;
    let mut matching = catalog
        .entries
        .iter()
        .filter(|e| {
            q.lang
                .as_deref()
                .is_none_or(|l| e.lang.eq_ignore_ascii_case(l))
        })
        .filter(|e| {
            q.tag
                .as_deref()
                .is_none_or(|t| e.tags.iter().any(|x| x == t))
        })
        .filter(|e| after.as_deref().is_none_or(|a| e.slug.as_str() > a));
    let items: Vec<TestSummary> = matching
        .by_ref()
        .take(limit)
        .map(crate::visit::summary)
        .collect();
    let next_cursor = match (matching.next(), items.last()) {
        (Some(_), Some(last)) => Some(faro_http::respond::encode_cursor(&last.slug)),
        _ => None,
    };
    Ok(faro_http::respond::cached_json(
        &headers,
        &TestList { items, next_cursor },
        10,
    ))
}

/// One test with what a UI needs before starting it.
#[utoipa::path(get, path = "/api/v1/tests/{slug}", tag = "quiz",
    params(("slug" = String, Path, description = "The test's slug")),
    responses(
        (status = 200, body = TestDetail, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn get_test(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let catalog = quiz.cache.catalog(&quiz.core.db, tenant).await?;
    let entry = catalog.get(&slug).ok_or_else(test_not_found)?;
    let version = quiz
        .cache
        .version(&quiz.core.db, tenant, &entry.version_id)
        .await?
        .ok_or_else(test_not_found)?;
    let detail = TestDetail::new(crate::visit::summary(entry), &version.def);
    Ok(faro_http::respond::cached_json(&headers, &detail, 10))
}

pub(crate) fn test_not_found() -> ApiError {
    QuizError::TestNotFound.into()
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// Where the visitor came from (`newsletter`, `instagram`...). `utm_source` also works.
    pub source: Option<String>,
    pub campaign: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct StartQuery {
    pub utm_source: Option<String>,
    pub utm_campaign: Option<String>,
}

/// Starts a session on the served version of a test.
#[utoipa::path(post, path = "/api/v1/tests/{slug}/sessions", tag = "quiz",
    params(("slug" = String, Path), StartQuery),
    request_body(content = Option<StartBody>, description = "Optional attribution", content_type = "application/json"),
    responses(
        (status = 201, body = SessionStarted, headers(("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
        (status = 400, body = faro_http::ErrorBody), (status = 404, body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody), (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn start_session(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path(slug): Path<String>,
    ClientKey(client): ClientKey,
    axum::extract::Query(q): axum::extract::Query<StartQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, RateLimitHeaders, Json<SessionStarted>)> {
    let body: StartBody = faro_http::respond::optional_json(&body)?;
    let limits = quiz
        .core
        .limit("session_starts", &client, quiz.cfg.session_starts)
        .await?;
    let started = visit::start(
        &quiz,
        tenant,
        &slug,
        body.source.or(q.utm_source),
        body.campaign.or(q.utm_campaign),
    )
    .await?;
    let def = &started.version.def;
    let first = def
        .questions
        .get(started.first)
        .ok_or_else(|| ApiError::internal("published version without questions"))?;
    Ok((
        StatusCode::CREATED,
        limits,
        Json(SessionStarted {
            test_version: started.version.version,
            first_question: QuestionView::new(first, started.state.progress(def)),
            session_id: started.session_id,
        }),
    ))
}

/// The current question of a session.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/question", tag = "quiz",
    params(("session_id" = String, Path)),
    responses(
        (status = 200, body = QuestionView),
        (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "No question left: finish the session", body = faro_http::ErrorBody),
        (status = 410, description = "Session expired", body = faro_http::ErrorBody),
    ))]
pub async fn current_question(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let live = visit::load(&quiz, tenant, &session_id).await?;
    let question = live
        .state
        .current()
        .and_then(|i| live.version.def.questions.get(i))
        .ok_or(QuizError::Finished)?;
    let view = QuestionView::new(question, live.state.progress(&live.version.def));
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(view)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The current question's id.
    pub question_id: String,
    /// Chosen option ids (`single`: one; `multi`: min_select..=max_select). Omit for `scale`.
    #[serde(default)]
    pub selected_option_ids: Option<Vec<String>>,
    /// The chosen point for `scale`; omit or null otherwise.
    #[serde(default)]
    pub value: Option<i64>,
}

/// Answers the current question.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/answer", tag = "quiz",
    params(("session_id" = String, Path)),
    request_body = AnswerBody,
    responses(
        (status = 200, body = AnswerAccepted),
        (status = 400, body = faro_http::ErrorBody), (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "Not the current question, or already answered concurrently", body = faro_http::ErrorBody),
        (status = 410, body = faro_http::ErrorBody), (status = 422, body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn answer(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path(session_id): Path<String>,
    ClientKey(client): ClientKey,
    Json(body): Json<AnswerBody>,
) -> ApiResult<(RateLimitHeaders, Json<AnswerAccepted>)> {
    let selected = body.selected_option_ids.unwrap_or_default();
    let limits = quiz
        .core
        .limit("answers", &client, quiz.cfg.answers)
        .await?;
    let answered = visit::submit_answer(
        &quiz,
        tenant,
        &session_id,
        None,
        &AnswerInput {
            question_id: &body.question_id,
            selected_option_ids: &selected,
            value: body.value,
        },
    )
    .await?;
    let live = &answered.live;
    let def = &live.version.def;
    let next = answered.next.and_then(|i| def.questions.get(i));
    Ok((
        limits,
        Json(AnswerAccepted {
            result_ready: next.is_none(),
            next_question: next.map(|q| QuestionView::new(q, live.state.progress(def))),
        }),
    ))
}

/// Computes the result. Idempotent: finishing again returns the same result, counted once.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/finish", tag = "quiz",
    params(("session_id" = String, Path)),
    responses(
        (status = 200, body = FinishResult),
        (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "Questions remain", body = faro_http::ErrorBody),
        (status = 410, body = faro_http::ErrorBody),
    ))]
pub async fn finish(
    State(quiz): State<Quiz>,
    PublicTenant(ref tenant): PublicTenant,
    Path(session_id): Path<String>,
    KnownVisitor(visitor_id): KnownVisitor,
    MaybeEndUser(user): MaybeEndUser,
) -> ApiResult<Json<FinishResult>> {
    let owner = crate::store::Owner {
        visitor_id,
        user_id: user.map(|u| u.id),
    };
    Ok(Json(
        visit::complete(&quiz, tenant, &session_id, None, &owner)
            .await?
            .result,
    ))
}
