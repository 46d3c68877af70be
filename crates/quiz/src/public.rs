//! The visitor's API: catalog, sessions, answers, results. Handlers are thin: they read,
//! call the domain, write, count.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use faro_http::ratelimit::RateLimitHeaders;
use faro_http::{ApiError, ApiResult, ClientKey, FieldProblem, Json, Query};
use faro_quiz_domain::{AnswerError, AnswerInput, SessionState, Step};
use faro_store::unix_now;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::cache::Version;
use crate::live::Cached;
use crate::views::*;
use crate::{Quiz, counters, store};

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
    headers: HeaderMap,
    Query(q): Query<CatalogQuery>,
) -> ApiResult<Response> {
    let limit = crate::page_limit(q.limit)?;
    let after = q.cursor.as_deref().map(crate::decode_cursor).transpose()?;
    let tenant = quiz.core.public_tenant();
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
    let items: Vec<TestSummary> = matching.by_ref().take(limit).map(crate::summary).collect();
    let next_cursor = match (matching.next(), items.last()) {
        (Some(_), Some(last)) => Some(crate::encode_cursor(&last.slug)),
        _ => None,
    };
    Ok(crate::cached_json(
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
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let tenant = quiz.core.public_tenant();
    let catalog = quiz.cache.catalog(&quiz.core.db, tenant).await?;
    let entry = catalog.get(&slug).ok_or_else(test_not_found)?;
    let version = quiz
        .cache
        .version(&quiz.core.db, tenant, &entry.version_id)
        .await?
        .ok_or_else(test_not_found)?;
    let detail = TestDetail::new(crate::summary(entry), &version.def);
    Ok(crate::cached_json(&headers, &detail, 10))
}

pub(crate) fn test_not_found() -> ApiError {
    ApiError::not_found("no active test with this slug").with_code("test_not_found")
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
    Path(slug): Path<String>,
    ClientKey(client): ClientKey,
    axum::extract::Query(q): axum::extract::Query<StartQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, RateLimitHeaders, Json<SessionStarted>)> {
    let body: StartBody = crate::optional_json(&body)?;
    let started = start(
        &quiz,
        &slug,
        &client,
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
        started.limits,
        Json(SessionStarted {
            test_version: started.version.version,
            first_question: QuestionView::new(first, started.state.progress(def)),
            session_id: started.session_id,
        }),
    ))
}

/// A session just started, for the JSON API and the pages alike.
pub(crate) struct Started {
    pub(crate) limits: RateLimitHeaders,
    pub(crate) session_id: String,
    pub(crate) version: Arc<Version>,
    pub(crate) state: SessionState,
    /// Index of the first question.
    pub(crate) first: usize,
}

/// Starts a session on the served version of `slug`: rate limit, insert, count. `source` and
/// `campaign` are the raw attribution labels (sanitised here).
pub(crate) async fn start(
    quiz: &Quiz,
    slug: &str,
    client: &str,
    source: Option<String>,
    campaign: Option<String>,
) -> ApiResult<Started> {
    let limits = quiz
        .core
        .limit("session_starts", client, quiz.cfg.session_starts)
        .await?;
    let tenant = quiz.core.public_tenant();
    let catalog = quiz.cache.catalog(&quiz.core.db, tenant).await?;
    let entry = catalog.get(slug).ok_or_else(test_not_found)?;
    let version = quiz
        .cache
        .version(&quiz.core.db, tenant, &entry.version_id)
        .await?
        .ok_or_else(test_not_found)?;
    let source = crate::attribution(source);
    let campaign = crate::attribution(campaign);
    let state = SessionState::start(&version.def);
    let (first_index, first) = state
        .current()
        .and_then(|i| version.def.questions.get(i).map(|q| (i, q)))
        .ok_or_else(|| ApiError::internal("published version without questions"))?;
    let now = unix_now();
    let session_id = uuid::Uuid::new_v4().to_string();
    let row = store::SessionRow {
        id: session_id.clone(),
        version_id: version.id.clone(),
        state: String::new(),
        rev: 0,
        status: store::SESSION_STARTED.to_string(),
        started_at: now,
        finished_at: None,
        expires_at: now + i64::from(quiz.cfg.session_ttl_days) * 86_400,
        source: source.clone(),
        campaign: campaign.clone(),
        share_token: None,
    };
    let inserted = quiz
        .writes
        .submit(store::SessionWrite::Insert(store::NewSession {
            id: session_id.clone(),
            tenant: tenant.to_string(),
            version_id: version.id.clone(),
            state: crate::state_to_text(&state)?,
            started_at: now,
            expires_at: row.expires_at,
            source: source.clone(),
            campaign: campaign.clone(),
        }))
        .await?;
    if !inserted {
        // Deleted elsewhere while our catalog still listed it: forget the stale catalog.
        quiz.cache.invalidate_catalog(tenant);
        return Err(test_not_found());
    }
    // The first answer will not need to read the row back.
    *quiz.live.slot(tenant, &session_id).lock().await = Some(Cached {
        row,
        state: state.clone(),
    });
    counters::started(
        quiz,
        tenant,
        &version.id,
        now,
        &first.key,
        source.as_deref(),
        campaign.as_deref(),
    );
    Ok(Started {
        limits,
        session_id,
        version,
        state,
        first: first_index,
    })
}

/// A loaded, live session with its definition.
pub(crate) struct LiveSession {
    pub(crate) row: store::SessionRow,
    pub(crate) state: SessionState,
    pub(crate) version: Arc<Version>,
}

/// Loads a live session (404 unknown, 410 expired) with its cached definition, from the
/// database: what a read shows is never older than what any instance committed.
pub(crate) async fn load(quiz: &Quiz, tenant: &str, session_id: &str) -> ApiResult<LiveSession> {
    check_session_id(session_id)?;
    let session = read_session(quiz, tenant, session_id).await?;
    live_session(quiz, tenant, session).await
}

/// Reads a session row and parses its state.
async fn read_session(quiz: &Quiz, tenant: &str, session_id: &str) -> ApiResult<Cached> {
    let mut row = store::get_session(&quiz.core.db, tenant, session_id)
        .await?
        .ok_or_else(session_not_found)?;
    let state: SessionState = serde_json::from_str(&row.state)
        .map_err(|e| ApiError::internal(format!("session state unreadable: {e}")))?;
    row.state = String::new();
    Ok(Cached { row, state })
}

/// A session (read or cached) with its definition; 410 once expired.
async fn live_session(quiz: &Quiz, tenant: &str, session: Cached) -> ApiResult<LiveSession> {
    if session.row.expires_at < unix_now() {
        return Err(ApiError::gone(
            "session_expired",
            "this session has expired; start the test again",
        ));
    }
    let version = quiz
        .cache
        .version(&quiz.core.db, tenant, &session.row.version_id)
        .await?
        .ok_or_else(session_not_found)?;
    Ok(LiveSession {
        row: session.row,
        state: session.state,
        version,
    })
}

/// Session ids are UUIDs: anything else is unknown without asking the database (or making a
/// live-cache slot for it).
fn check_session_id(session_id: &str) -> ApiResult<()> {
    match uuid::Uuid::parse_str(session_id) {
        Ok(_) => Ok(()),
        Err(_) => Err(session_not_found()),
    }
}

fn session_not_found() -> ApiError {
    ApiError::not_found("no such session").with_code("session_not_found")
}

fn finished_conflict() -> ApiError {
    ApiError::conflict(
        "session_finished",
        "every question is answered; POST /finish for the result",
    )
    .with_details(serde_json::json!({ "result_ready": true }))
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
    Path(session_id): Path<String>,
) -> ApiResult<Response> {
    let tenant = quiz.core.public_tenant();
    let live = load(&quiz, tenant, &session_id).await?;
    let question = live
        .state
        .current()
        .and_then(|i| live.version.def.questions.get(i))
        .ok_or_else(finished_conflict)?;
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
    Path(session_id): Path<String>,
    ClientKey(client): ClientKey,
    Json(body): Json<AnswerBody>,
) -> ApiResult<(RateLimitHeaders, Json<AnswerAccepted>)> {
    let selected = body.selected_option_ids.unwrap_or_default();
    let answered = submit_answer(
        &quiz,
        &session_id,
        &client,
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
        answered.limits,
        Json(AnswerAccepted {
            result_ready: next.is_none(),
            next_question: next.map(|q| QuestionView::new(q, live.state.progress(def))),
        }),
    ))
}

/// An accepted answer: the session as saved, and the index of the next question (None when
/// the result is ready).
pub(crate) struct Answered {
    pub(crate) limits: RateLimitHeaders,
    pub(crate) live: LiveSession,
    pub(crate) next: Option<usize>,
}

/// Answers the current question of a session: rate limit, domain step, optimistic save, count.
///
/// The session comes from this instance's live cache when it has it; any failure on that copy
/// (stale after another instance's answer, a lost compare-and-set, an expired or deleted
/// session) is retried once on the row read from the database, which decides.
pub(crate) async fn submit_answer(
    quiz: &Quiz,
    session_id: &str,
    client: &str,
    input: &AnswerInput<'_>,
) -> ApiResult<Answered> {
    let limits = quiz.core.limit("answers", client, quiz.cfg.answers).await?;
    let tenant = quiz.core.public_tenant();
    check_session_id(session_id)?;
    let slot = quiz.live.slot(tenant, session_id);
    let mut held = slot.lock().await;
    let mut outcome = None;
    if let Some(cached) = held.take() {
        match try_answer(quiz, tenant, session_id, cached, input).await {
            Ok(done) => outcome = Some(done),
            // The database is down or full: re-reading would only double the wait.
            Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => return Err(e),
            Err(_) => {}
        }
    }
    let (live, next) = match outcome {
        Some(done) => done,
        None => {
            let session = read_session(quiz, tenant, session_id).await?;
            try_answer(quiz, tenant, session_id, session, input).await?
        }
    };
    *held = Some(Cached {
        row: live.row.clone(),
        state: live.state.clone(),
    });
    drop(held);
    let def = &live.version.def;
    counters::answered(
        quiz,
        tenant,
        &live.version.id,
        live.row.started_at,
        input.question_id,
        next.and_then(|i| def.questions.get(i))
            .map(|q| q.key.as_str()),
    );
    Ok(Answered { limits, live, next })
}

/// One attempt at an answer on a given copy of the session: domain step, then the
/// compare-and-set write. Returns the session as saved and the next question's index.
async fn try_answer(
    quiz: &Quiz,
    tenant: &str,
    session_id: &str,
    session: Cached,
    input: &AnswerInput<'_>,
) -> ApiResult<(LiveSession, Option<usize>)> {
    let mut live = live_session(quiz, tenant, session).await?;
    if live.row.status == store::SESSION_FINISHED {
        return Err(finished_conflict());
    }
    let def = &live.version.def;
    let step = live.state.answer(def, input).map_err(answer_error)?;
    let saved = quiz
        .writes
        .submit(store::SessionWrite::Save {
            tenant: tenant.to_string(),
            id: session_id.to_string(),
            rev: live.row.rev,
            state: crate::state_to_text(&live.state)?,
        })
        .await?;
    if !saved {
        return Err(ApiError::conflict(
            "concurrent_answer",
            "this session changed while answering (another tab?); fetch the current question",
        ));
    }
    live.row.rev += 1;
    let next = match step {
        Step::Next(i) => def.questions.get(i).map(|_| i),
        Step::End => None,
    };
    Ok((live, next))
}

fn answer_error(e: AnswerError) -> ApiError {
    match e {
        AnswerError::NotCurrent { current } => {
            ApiError::conflict("not_current_question", "answer the current question only")
                .with_details(serde_json::json!({ "current_question": current }))
        }
        AnswerError::Finished => finished_conflict(),
        AnswerError::Invalid(problems) => ApiError::invalid(
            "the answer does not fit the question",
            problems
                .into_iter()
                .map(|p| FieldProblem {
                    path: p.path,
                    message: p.message,
                })
                .collect(),
        )
        .with_code("invalid_answer"),
    }
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
    Path(session_id): Path<String>,
) -> ApiResult<Json<FinishResult>> {
    Ok(Json(complete(&quiz, &session_id).await?.result))
}

/// A finished session's result and its share token.
pub(crate) struct Finished {
    pub(crate) token: String,
    pub(crate) result: FinishResult,
}

/// Scores a complete session and stores its result, once: finishing again returns the same
/// result and counts nothing. 409 while questions remain. Like answers, it tries the live
/// cache's copy first and lets the database decide when that copy fails.
pub(crate) async fn complete(quiz: &Quiz, session_id: &str) -> ApiResult<Finished> {
    let tenant = quiz.core.public_tenant();
    check_session_id(session_id)?;
    let slot = quiz.live.slot(tenant, session_id);
    let mut held = slot.lock().await;
    if let Some(cached) = held.take() {
        match try_finish(quiz, tenant, session_id, cached).await {
            Ok(Some(done)) => {
                quiz.live.forget(tenant, session_id);
                return Ok(done);
            }
            // The database is down or full: re-reading would only double the wait.
            Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => return Err(e),
            _ => {}
        }
    }
    // Twice: a finish that loses to a concurrent one reads the row again, which then names
    // the winner's result.
    for _ in 0..2 {
        let session = read_session(quiz, tenant, session_id).await?;
        if let Some(done) = try_finish(quiz, tenant, session_id, session).await? {
            quiz.live.forget(tenant, session_id);
            return Ok(done);
        }
    }
    Err(ApiError::internal(
        "finish lost twice to a concurrent finish that left no result",
    ))
}

/// One attempt at finishing a given copy of the session. `None` when the row changed since that
/// copy (another request finished it first, and its result is then on the row).
async fn try_finish(
    quiz: &Quiz,
    tenant: &str,
    session_id: &str,
    session: Cached,
) -> ApiResult<Option<Finished>> {
    let live = live_session(quiz, tenant, session).await?;
    if let Some(token) = &live.row.share_token {
        return finished_result(quiz, tenant, token).await.map(Some);
    }
    let def = &live.version.def;
    let outcome = faro_quiz_domain::score(def, &live.state).map_err(|e| match e {
        faro_quiz_domain::ScoreError::Incomplete => {
            ApiError::conflict("questions_remain", "answer every question before finishing")
        }
        other => ApiError::internal(format!("scoring a published version failed: {other}")),
    })?;
    let profile = def
        .profiles
        .get(outcome.profile)
        .ok_or_else(|| ApiError::internal("profile index out of range"))?;
    let dimensions: Vec<DimensionResult> = outcome
        .dimensions
        .iter()
        .map(|d| DimensionResult {
            key: d.key.clone(),
            label: d.label.clone(),
            score: d.score,
        })
        .collect();
    let dims_text = serde_json::to_string(&dimensions).map_err(ApiError::internal)?;
    let token = crate::share_token();
    let now = unix_now();
    let answers = (quiz.cfg.store_answers || def.store_answers)
        .then(|| crate::anonymous_answers(def, &live.state));
    let won = quiz
        .writes
        .submit(store::SessionWrite::Finish(store::Finish {
            tenant: tenant.to_string(),
            session_id: session_id.to_string(),
            test_id: live.version.test_id.clone(),
            version_id: live.version.id.clone(),
            share_token: token.clone(),
            profile_code: profile.code.clone(),
            score: i64::from(outcome.score),
            dimensions: dims_text,
            finished_at: now,
            rev: live.row.rev,
            answers,
        }))
        .await?;
    if !won {
        return Ok(None);
    }
    let suspicious = now - live.row.started_at < quiz.cfg.antibot_min_seconds;
    counters::finished(quiz, tenant, &live, now, &profile.code, suspicious);
    let result = FinishResult {
        profile_code: profile.code.clone(),
        title: profile.title.clone(),
        summary: profile.summary.clone(),
        recommendations: profile.recommendations.clone(),
        score: outcome.score,
        dimensions,
        share_url: crate::share_url(quiz, &token),
    };
    Ok(Some(Finished { token, result }))
}

async fn finished_result(quiz: &Quiz, tenant: &str, token: &str) -> ApiResult<Finished> {
    let (shared, _) = crate::share::load(quiz, tenant, token)
        .await?
        .ok_or_else(|| ApiError::internal("result row missing for a finished session"))?;
    Ok(Finished {
        token: token.to_string(),
        result: FinishResult {
            profile_code: shared.profile_code,
            title: shared.title,
            summary: shared.summary,
            recommendations: shared.recommendations,
            score: shared.score,
            dimensions: shared.dimensions,
            share_url: shared.share_url,
        },
    })
}

impl LiveSession {
    /// Keys of the questions this session answered, for taking its counts back.
    pub(crate) fn answered_keys(&self) -> Vec<&str> {
        self.state
            .answered()
            .filter_map(|(i, _)| self.version.def.questions.get(i).map(|q| q.key.as_str()))
            .collect()
    }
}
