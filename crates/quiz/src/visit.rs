//! The visitor's use cases: start a session, answer, finish, and read a session or a result.
//! The JSON API (`public`) and the pages (`pages::take`) call the same functions and get
//! `QuizError`, which each turns into its own answer: a JSON error body, a redirect or an
//! error page. Rate limits are the callers' (they are about the request, not the session).

use std::sync::Arc;

use base64::Engine;
use faro_quiz_domain::{AnswerError, AnswerInput, Definition, SessionState, Step};
use faro_store::{TenantId, unix_now};

use crate::cache::Version;
use crate::live::Cached;
use crate::service::QuizError;
use crate::views::{DimensionResult, FinishResult, SharedResult, SharedTest};
use crate::{Quiz, cache, counters, store, views};

/// A session just started, for the JSON API and the pages alike.
pub(crate) struct Started {
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
    tenant: &TenantId,
    slug: &str,
    source: Option<String>,
    campaign: Option<String>,
) -> Result<Started, QuizError> {
    let catalog = quiz.cache.catalog(&quiz.core.db, tenant).await?;
    let entry = catalog.get(slug).ok_or(QuizError::TestNotFound)?;
    let version = quiz
        .cache
        .version(&quiz.core.db, tenant, &entry.version_id)
        .await?
        .ok_or(QuizError::TestNotFound)?;
    let source = attribution(source);
    let campaign = attribution(campaign);
    let state = SessionState::start(&version.def);
    let (first_index, first) = state
        .current()
        .and_then(|i| version.def.questions.get(i).map(|q| (i, q)))
        .ok_or_else(|| QuizError::Internal("published version without questions".into()))?;
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
            state: state_to_text(&state)?,
            started_at: now,
            expires_at: row.expires_at,
            source: source.clone(),
            campaign: campaign.clone(),
        }))
        .await?;
    if !inserted {
        // Deleted elsewhere while our catalog still listed it: forget the stale catalog.
        quiz.cache.invalidate_catalog(tenant);
        return Err(QuizError::TestNotFound);
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
pub(crate) async fn load(
    quiz: &Quiz,
    tenant: &TenantId,
    session_id: &str,
) -> Result<LiveSession, QuizError> {
    check_session_id(session_id)?;
    let session = read_session(quiz, tenant, session_id).await?;
    live_session(quiz, tenant, session).await
}

/// Reads a session row and parses its state.
async fn read_session(
    quiz: &Quiz,
    tenant: &TenantId,
    session_id: &str,
) -> Result<Cached, QuizError> {
    let mut row = store::get_session(&quiz.core.db, tenant, session_id)
        .await?
        .ok_or(QuizError::SessionNotFound)?;
    let state: SessionState = serde_json::from_str(&row.state)
        .map_err(|e| QuizError::Internal(format!("session state unreadable: {e}")))?;
    row.state = String::new();
    Ok(Cached { row, state })
}

/// A session (read or cached) with its definition; 410 once expired.
async fn live_session(
    quiz: &Quiz,
    tenant: &TenantId,
    session: Cached,
) -> Result<LiveSession, QuizError> {
    if session.row.expires_at < unix_now() {
        return Err(QuizError::Expired);
    }
    let version = quiz
        .cache
        .version(&quiz.core.db, tenant, &session.row.version_id)
        .await?
        .ok_or(QuizError::SessionNotFound)?;
    Ok(LiveSession {
        row: session.row,
        state: session.state,
        version,
    })
}

/// A session is unknown under another test's address.
fn same_test(live: &LiveSession, slug: Option<&str>) -> Result<(), QuizError> {
    match slug {
        Some(s) if s != live.version.def.slug => Err(QuizError::SessionNotFound),
        _ => Ok(()),
    }
}

/// Session ids are UUIDs: anything else is unknown without asking the database (or making a
/// live-cache slot for it).
fn check_session_id(session_id: &str) -> Result<(), QuizError> {
    match uuid::Uuid::parse_str(session_id) {
        Ok(_) => Ok(()),
        Err(_) => Err(QuizError::SessionNotFound),
    }
}

/// An accepted answer: the session as saved, and the index of the next question (None when
/// the result is ready).
pub(crate) struct Answered {
    pub(crate) live: LiveSession,
    pub(crate) next: Option<usize>,
}

/// Answers the current question of a session: rate limit, domain step, optimistic save, count.
///
/// The session comes from this instance's live cache when it has it; any failure on that copy
/// (stale after another instance's answer, a lost compare-and-set, an expired or deleted
/// session) is retried once on the row read from the database, which decides.
///
/// `slug` is the test the request's address names (the public pages' forms): a session of
/// another test is unknown there, and nothing is stored.
pub(crate) async fn submit_answer(
    quiz: &Quiz,
    tenant: &TenantId,
    session_id: &str,
    slug: Option<&str>,
    input: &AnswerInput<'_>,
) -> Result<Answered, QuizError> {
    check_session_id(session_id)?;
    let slot = quiz.live.slot(tenant, session_id);
    let mut held = slot.lock().await;
    let mut outcome = None;
    if let Some(cached) = held.take() {
        match try_answer(quiz, tenant, session_id, slug, cached, input).await {
            Ok(done) => outcome = Some(done),
            // The database is down or full: re-reading would only double the wait.
            Err(e) if e.is_unavailable() => return Err(e),
            Err(_) => {}
        }
    }
    let (live, next) = match outcome {
        Some(done) => done,
        None => {
            let session = read_session(quiz, tenant, session_id).await?;
            try_answer(quiz, tenant, session_id, slug, session, input).await?
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
    Ok(Answered { live, next })
}

/// One attempt at an answer on a given copy of the session: domain step, then the
/// compare-and-set write. Returns the session as saved and the next question's index.
async fn try_answer(
    quiz: &Quiz,
    tenant: &TenantId,
    session_id: &str,
    slug: Option<&str>,
    session: Cached,
    input: &AnswerInput<'_>,
) -> Result<(LiveSession, Option<usize>), QuizError> {
    let mut live = live_session(quiz, tenant, session).await?;
    same_test(&live, slug)?;
    if live.row.status == store::SESSION_FINISHED {
        return Err(QuizError::Finished);
    }
    let def = &live.version.def;
    let step = live.state.answer(def, input).map_err(answer_error)?;
    let saved = quiz
        .writes
        .submit(store::SessionWrite::Save {
            tenant: tenant.to_string(),
            id: session_id.to_string(),
            rev: live.row.rev,
            state: state_to_text(&live.state)?,
        })
        .await?;
    if !saved {
        return Err(QuizError::ConcurrentAnswer);
    }
    live.row.rev += 1;
    let next = match step {
        Step::Next(i) => def.questions.get(i).map(|_| i),
        Step::End => None,
    };
    Ok((live, next))
}

fn answer_error(e: AnswerError) -> QuizError {
    match e {
        AnswerError::NotCurrent { current } => QuizError::NotCurrent { current },
        AnswerError::Finished => QuizError::Finished,
        AnswerError::Invalid(problems) => QuizError::InvalidAnswer(problems),
    }
}

/// A finished session's result and its share token.
pub(crate) struct Finished {
    pub(crate) token: String,
    pub(crate) result: FinishResult,
}

/// Scores a complete session and stores its result, once: finishing again returns the same
/// result and counts nothing. 409 while questions remain. Like answers, it tries the live
/// cache's copy first and lets the database decide when that copy fails. `owner` is who
/// finished, when the site knows them (the result is then theirs, see `quiz_result_owners`).
pub(crate) async fn complete(
    quiz: &Quiz,
    tenant: &TenantId,
    session_id: &str,
    slug: Option<&str>,
    owner: &store::Owner,
) -> Result<Finished, QuizError> {
    check_session_id(session_id)?;
    let slot = quiz.live.slot(tenant, session_id);
    let mut held = slot.lock().await;
    if let Some(cached) = held.take() {
        match try_finish(quiz, tenant, session_id, slug, cached, owner).await {
            Ok(Some(done)) => {
                quiz.live.forget(tenant, session_id);
                return Ok(done);
            }
            // The database is down or full: re-reading would only double the wait.
            Err(e) if e.is_unavailable() => return Err(e),
            _ => {}
        }
    }
    // Twice: a finish that loses to a concurrent one reads the row again, which then names
    // the winner's result.
    for _ in 0..2 {
        let session = read_session(quiz, tenant, session_id).await?;
        if let Some(done) = try_finish(quiz, tenant, session_id, slug, session, owner).await? {
            quiz.live.forget(tenant, session_id);
            return Ok(done);
        }
    }
    Err(QuizError::Internal(
        "finish lost twice to a concurrent finish that left no result".into(),
    ))
}

/// One attempt at finishing a given copy of the session. `None` when the row changed since that
/// copy (another request finished it first, and its result is then on the row).
async fn try_finish(
    quiz: &Quiz,
    tenant: &TenantId,
    session_id: &str,
    slug: Option<&str>,
    session: Cached,
    owner: &store::Owner,
) -> Result<Option<Finished>, QuizError> {
    let live = live_session(quiz, tenant, session).await?;
    same_test(&live, slug)?;
    if let Some(token) = &live.row.share_token {
        return finished_result(quiz, tenant, token).await.map(Some);
    }
    let def = &live.version.def;
    let outcome = faro_quiz_domain::score(def, &live.state).map_err(|e| match e {
        faro_quiz_domain::ScoreError::Incomplete => QuizError::QuestionsRemain,
        other => QuizError::Internal(format!("scoring a published version failed: {other}")),
    })?;
    let profile = def
        .profiles
        .get(outcome.profile)
        .ok_or_else(|| QuizError::Internal("profile index out of range".into()))?;
    let dimensions: Vec<DimensionResult> = outcome
        .dimensions
        .iter()
        .map(|d| DimensionResult {
            key: d.key.clone(),
            label: d.label.clone(),
            score: d.score,
        })
        .collect();
    let dims_text =
        serde_json::to_string(&dimensions).map_err(|e| QuizError::Internal(e.to_string()))?;
    let token = share_token();
    let now = unix_now();
    let answers =
        (quiz.cfg.store_answers || def.store_answers).then(|| anonymous_answers(def, &live.state));
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
            test_slug: def.slug.clone(),
            share_url: share_url(quiz, &token),
            owner: owner.clone(),
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
        share_url: share_url(quiz, &token),
    };
    Ok(Some(Finished { token, result }))
}

async fn finished_result(
    quiz: &Quiz,
    tenant: &TenantId,
    token: &str,
) -> Result<Finished, QuizError> {
    let (shared, _) = load_shared(quiz, tenant, token)
        .await?
        .ok_or_else(|| QuizError::Internal("result row missing for a finished session".into()))?;
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

pub(crate) fn state_to_text(state: &SessionState) -> Result<String, QuizError> {
    serde_json::to_string(state).map_err(|e| QuizError::Internal(e.to_string()))
}

/// 128 random bits, URL-safe: unguessable share links.
pub(crate) fn share_token() -> String {
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn share_url(quiz: &Quiz, token: &str) -> String {
    format!("{}/r/{}", quiz.core.web.public_base_url, token)
}

/// The raw answers of a finished session as keys only (question → option keys or value),
/// with no session id: what STORE_ANSWERS keeps.
pub(crate) fn anonymous_answers(def: &Definition, state: &SessionState) -> String {
    let mut map = serde_json::Map::new();
    for (i, answer) in state.answered() {
        let Some(q) = def.questions.get(i) else {
            continue;
        };
        let v = match answer.value() {
            Some(v) => serde_json::json!(v),
            None => serde_json::json!(answer.option_keys(q).collect::<Vec<_>>()),
        };
        map.insert(q.key.clone(), v);
    }
    serde_json::Value::Object(map).to_string()
}

/// Source and campaign labels are free text from the URL: keep them short and plain so a
/// hostile link cannot bloat the counters table or inject markup into the dashboard.
pub(crate) fn attribution(raw: Option<String>) -> Option<String> {
    let s: String = raw?
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    (!s.is_empty()).then_some(s)
}

pub(crate) fn summary(e: &cache::Entry) -> views::TestSummary {
    views::TestSummary {
        slug: e.slug.clone(),
        title: e.title.clone(),
        description: e.description.clone(),
        lang: e.lang.clone(),
        tags: e.tags.clone(),
        estimated_minutes: e.estimated_minutes,
        version: e.version,
    }
}

fn valid_token(token: &str) -> bool {
    token.len() == 22
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The shareable view of a result (behind `/r/{token}`, its card and a repeated finish) and
/// the version it belongs to, or None for an unknown token.
pub async fn load_shared(
    quiz: &Quiz,
    tenant: &TenantId,
    token: &str,
) -> Result<Option<(SharedResult, String)>, QuizError> {
    if !valid_token(token) {
        return Ok(None);
    }
    let key = format!("{tenant}/{token}");
    if let Some(cached) = quiz.cache.result(&key) {
        return Ok(Some((*cached).clone()));
    }
    let Some(row) = store::get_result(&quiz.core.db, tenant, token).await? else {
        return Ok(None);
    };
    let Some(version) = quiz
        .cache
        .version(&quiz.core.db, tenant, &row.version_id)
        .await?
    else {
        return Ok(None);
    };
    let def = &version.def;
    let profile = def
        .profiles
        .iter()
        .find(|p| p.code == row.profile_code)
        .ok_or_else(|| QuizError::Internal("result names a profile its version lacks".into()))?;
    let dimensions: Vec<DimensionResult> =
        serde_json::from_str(&row.dimensions).map_err(|e| QuizError::Internal(e.to_string()))?;
    let view = SharedResult {
        test: SharedTest {
            slug: def.slug.clone(),
            title: def.title.clone(),
            lang: def.lang.clone(),
        },
        profile_code: profile.code.clone(),
        title: profile.title.clone(),
        summary: profile.summary.clone(),
        recommendations: profile.recommendations.clone(),
        score: u8::try_from(row.score.clamp(0, 100)).unwrap_or(0),
        dimensions,
        share_url: share_url(quiz, token),
        take_url: format!("{}/t/{}", quiz.core.web.public_base_url, def.slug),
    };
    let loaded = (view, row.version_id);
    quiz.cache
        .put_result(key, std::sync::Arc::new(loaded.clone()));
    Ok(Some(loaded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribution_is_sanitised() {
        assert_eq!(
            attribution(Some(" Newsletter ".into())).as_deref(),
            Some("newsletter")
        );
        assert_eq!(
            attribution(Some("<script>".into())).as_deref(),
            Some("_script_")
        );
        assert_eq!(attribution(Some("".into())), None);
        assert_eq!(
            attribution(Some("x".repeat(100))).map(|s| s.len()),
            Some(64)
        );
    }

    #[test]
    fn share_tokens_are_22_url_safe_chars() {
        let t = share_token();
        assert_eq!(t.len(), 22);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(t, share_token());
    }

    #[test]
    fn tokens_are_checked_before_any_lookup() {
        assert!(valid_token("abcdefghijklmnopqrstuv"));
        assert!(!valid_token("abc"));
        assert!(!valid_token("abcdefghijklmnopqrstu/"));
        assert!(!valid_token("abcdefghijklmnopqrstu'"));
    }
}
