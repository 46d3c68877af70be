//! The quiz module ("smart test / profile evaluator"): a vertical slice with its pure domain
//! in `faro-quiz-domain` (definitions, validation, flow, scoring) and here its storage, caches,
//! visitor API, admin API, analytics, share page and jobs.
//!
//! Where does a finished quiz get scored? `public::complete` (behind the API's `finish` and the
//! page flow alike) calls `faro_quiz_domain::score`.

pub mod admin;
pub mod analytics;
pub mod cache;
mod counters;
pub mod jobs;
pub mod live;
pub mod pages;
pub mod panel;
pub mod public;
pub mod seed;
pub mod service;
pub mod share;
pub mod store;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use faro_http::{ApiError, ApiResult, Core};
use faro_limits::Quota;
use faro_quiz_domain::{Definition, Mode, SessionState};
use faro_store::StoreError;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The quiz module's settings (from the configuration).
#[derive(Clone, Debug)]
pub struct QuizConfig {
    pub session_starts: Option<Quota>,
    pub answers: Option<Quota>,
    /// A finish faster than this is suspicious: counted apart, out of the funnel.
    pub antibot_min_seconds: i64,
    pub session_ttl_days: u32,
    /// Keep raw answers (anonymised) for every test, not only those that opt in.
    pub store_answers: bool,
    pub catalog_ttl: Duration,
}

/// The module's state: the platform's `Core` plus the quiz caches and the session writer.
/// Every request clones it (axum's `State`), so it is one `Arc`: a clone is one atomic
/// increment instead of one per shared handle inside (about a dozen; 2.5% of the server's CPU
/// on question reads).
#[derive(Clone)]
pub struct Quiz(Arc<QuizState>);

pub struct QuizState {
    pub core: Core,
    pub cfg: Arc<QuizConfig>,
    pub cache: Arc<cache::Cache>,
    pub live: Arc<live::LiveSessions>,
    /// Visitors' session writes, group-committed.
    pub writes: faro_store::Batcher<store::SessionWrite, bool>,
}

impl FromRef<Quiz> for Core {
    fn from_ref(q: &Quiz) -> Core {
        q.core.clone()
    }
}

impl Quiz {
    /// Must run inside the tokio runtime: it starts the session writer's task.
    pub fn new(core: Core, cfg: QuizConfig) -> Self {
        let cache = Arc::new(cache::Cache::new(cfg.catalog_ttl));
        let writes = faro_store::Batcher::spawn(
            core.db.clone(),
            store::SessionWrites,
            faro_store::BatchOptions::for_db(&core.db),
        );
        Quiz(Arc::new(QuizState {
            core,
            cfg: Arc::new(cfg),
            cache,
            live: Arc::default(),
            writes,
        }))
    }
}

impl std::ops::Deref for Quiz {
    type Target = QuizState;

    fn deref(&self) -> &QuizState {
        &self.0
    }
}

/// Every route of the module, with its OpenAPI description.
pub fn router(quiz: Quiz) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(public::list_tests))
        .routes(routes!(public::get_test))
        .routes(routes!(public::start_session))
        .routes(routes!(public::current_question))
        .routes(routes!(public::answer))
        .routes(routes!(public::finish))
        .routes(routes!(share::shared_result))
        .routes(routes!(admin::list_tests, admin::create_test))
        .routes(routes!(
            admin::get_test,
            admin::update_test,
            admin::delete_test
        ))
        .routes(routes!(admin::list_versions, admin::create_version))
        .routes(routes!(
            admin::get_version,
            admin::update_version,
            admin::delete_version
        ))
        .routes(routes!(admin::publish_version))
        .routes(routes!(admin::list_questions, admin::add_question))
        .routes(routes!(
            admin::get_question,
            admin::update_question,
            admin::delete_question
        ))
        .routes(routes!(analytics::analytics))
        .with_state(quiz)
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

pub(crate) fn state_to_text(state: &SessionState) -> ApiResult<String> {
    serde_json::to_string(state).map_err(ApiError::internal)
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

pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub(crate) fn page_limit(limit: Option<u32>) -> ApiResult<usize> {
    match limit.unwrap_or(50) {
        n @ 1..=200 => Ok(n as usize),
        _ => Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be between 1 and 200",
        )),
    }
}

/// Cursors are opaque to clients; inside, the last slug of the page.
pub(crate) fn encode_cursor(slug: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(slug)
}

pub(crate) fn decode_cursor(cursor: &str) -> ApiResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not one we issued"))
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

/// JSON with a strong ETag over its bytes and a public Cache-Control; 304 when the client's
/// `If-None-Match` already names it.
pub(crate) fn cached_json<T: Serialize>(headers: &HeaderMap, body: &T, max_age: u32) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let etag = format!("\"{:016x}\"", fnv1a(&bytes));
    let cache = format!("public, max-age={max_age}");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        // Weak comparison (RFC 9110 13.1.2): proxies that compress turn our tag into W/"...".
        .is_some_and(|v| {
            v.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
            })
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response()
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache) {
        h.insert(header::CACHE_CONTROL, v);
    }
    response
}

/// FNV-1a: a fast, stable 64-bit hash; ETags need change detection, not security.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A JSON body that may be absent: empty means `T::default()`.
pub(crate) fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> ApiResult<T> {
    // No body and a JSON `null` both mean "nothing to say" (the schema declares the body
    // optional and nullable).
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("the body does not have the expected shape: {e}"),
            )
        } else {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
    })
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
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            decode_cursor(&encode_cursor("my-test")).expect("ok"),
            "my-test"
        );
        assert!(decode_cursor("%%%").is_err());
    }

    #[test]
    fn page_limits_are_bounded() {
        assert_eq!(page_limit(None).expect("default"), 50);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(201)).is_err());
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
    fn rfc3339_is_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
