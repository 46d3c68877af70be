//! Public pages: the catalog, taking a test, the result page and its share card, the sitemap.
//!
//! Server-rendered HTML (askama) that works with JavaScript off: plain forms, POST then
//! redirect then GET, the session's stored state always deciding what a GET shows. A small
//! script (`/assets/public/quiz.js`) makes answering instant by talking to the JSON API and
//! swapping the question in place, and falls back to the form on any surprise.
//!
//! | method and path | does |
//! |---|---|
//! | `GET /` | catalog of active tests, the visitor's language first |
//! | `GET /t/{slug}` | the test's intro and a "Start" form (carries `utm_source`/`utm_campaign`) |
//! | `POST /t/{slug}/start` | starts a session (rate-limited like the API) → 303 to the session |
//! | `GET /t/{slug}/s/{session}` | the current question; "result ready" when all are answered; 303 to the result once finished |
//! | `POST /t/{slug}/s/{session}/answer` | answers (fields `question_id`, `option`…, `value`, `skip`) → 303 back, or to `/r/{token}` after the last answer |
//! | `POST /t/{slug}/s/{session}/finish` | computes the result → 303 to `/r/{token}` |
//! | `GET /r/{token}` | the result page (in `share.rs`: one route for HTML and the JSON API) |
//! | `GET /r/{token}/card.png` | the 1200×630 share card |
//! | `GET /sitemap.xml`, `GET /robots.txt`, `GET /assets/public/…` | crawlers and static files |
//!
//! The session id in the URL is the same capability the JSON API hands out: no cookie, so no
//! CSRF surface, and a reload, the back button or a second tab all just show the current
//! question. Session pages are `no-store` and `noindex`; the referrer policy keeps the URL
//! from leaking to other sites.

pub(crate) mod assets;
pub mod card;
mod catalog;
pub mod i18n;
pub(crate) mod result;
mod seo;
mod take;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use faro_http::ApiError;

use crate::Quiz;
use i18n::{Lang, Texts};

pub fn router(quiz: Quiz) -> Router {
    Router::new()
        .route("/", get(catalog::catalog))
        .route("/t/{slug}", get(take::intro))
        .route("/t/{slug}/start", post(take::start))
        .route("/t/{slug}/s/{session}", get(take::current))
        .route("/t/{slug}/s/{session}/answer", post(take::answer))
        .route("/t/{slug}/s/{session}/finish", post(take::finish))
        .route("/r/{token}/card.png", get(card::card_png))
        .route("/sitemap.xml", get(seo::sitemap))
        .route("/robots.txt", get(seo::robots))
        .route("/assets/public/{*path}", get(assets::serve))
        .with_state(quiz)
}

/// What every page's frame needs: language, interface text, asset URLs.
pub(crate) struct Chrome {
    /// The `lang` attribute: the test's own tag on test pages, else the interface language.
    pub html_lang: String,
    pub t: &'static Texts,
    pub css: &'static str,
    pub js: &'static str,
    pub icon: &'static str,
    pub font: &'static str,
}

impl Chrome {
    pub fn new(lang: Lang, html_lang: &str) -> Chrome {
        Chrome {
            html_lang: if html_lang.is_empty() {
                lang.code().to_string()
            } else {
                html_lang.to_string()
            },
            t: i18n::texts(lang),
            css: assets::url("quiz.css"),
            js: assets::url("quiz.js"),
            icon: assets::url("favicon.svg"),
            // Unversioned: it must match the URL in the stylesheet, which preloading shares.
            font: "/assets/public/fonts/inter-400.woff2",
        }
    }
}

/// A plain message page: not found, expired, rate limited, failure.
#[derive(Template, WebTemplate)]
#[template(path = "public/error.html")]
pub(crate) struct ErrorPage {
    pub chrome: Chrome,
    pub title: String,
    pub message: String,
    /// (href, label) of the way out.
    pub action: Option<(String, String)>,
}

/// Where an error page sends the visitor.
#[derive(Default)]
pub(crate) struct ErrorContext {
    /// The test the visitor was taking, for "start again".
    pub slug: Option<String>,
    /// The page to retry after a rate limit.
    pub retry: Option<String>,
}

/// Renders an API error as a page in `lang`, keeping its status and headers (`Retry-After`,
/// rate-limit headers) and its internal cause, which the request middleware logs.
pub(crate) fn error_page(lang: Lang, err: impl Into<ApiError>, ctx: ErrorContext) -> Response {
    let err: ApiError = err.into();
    let t = i18n::texts(lang);
    let status = err.status;
    let code = err.code;
    let retry_after = err
        .details
        .get("retry_after")
        .and_then(|v| v.as_u64())
        .unwrap_or(60);
    let intro = ctx.slug.as_ref().map(|s| format!("/t/{s}"));
    let (title, message, action) = match (status, code) {
        (StatusCode::TOO_MANY_REQUESTS, _) => (
            t.error_title.to_string(),
            i18n::fill(t.rate_limited, &[("n", &retry_after)]),
            ctx.retry.or(intro).map(|href| (href, t.retry.to_string())),
        ),
        (StatusCode::GONE, _) => (
            t.expired_title.to_string(),
            t.expired_body.to_string(),
            intro.map(|href| (href, t.start_again.to_string())),
        ),
        (StatusCode::NOT_FOUND, "test_not_found") => (
            t.not_found_title.to_string(),
            t.test_not_found.to_string(),
            Some(("/".to_string(), t.all_tests.to_string())),
        ),
        (StatusCode::NOT_FOUND, _) => (
            t.not_found_title.to_string(),
            t.not_found_body.to_string(),
            Some(
                intro
                    .map(|href| (href, t.start_again.to_string()))
                    .unwrap_or_else(|| ("/".to_string(), t.all_tests.to_string())),
            ),
        ),
        _ => (
            t.error_title.to_string(),
            t.error_body.to_string(),
            Some(
                ctx.retry
                    .map(|href| (href, t.retry.to_string()))
                    .unwrap_or_else(|| ("/".to_string(), t.home.to_string())),
            ),
        ),
    };
    let page = ErrorPage {
        chrome: Chrome::new(lang, ""),
        title,
        message,
        action,
    };
    let html = match page.render() {
        Ok(html) => html,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let mut response = err.into_response();
    *response.body_mut() = Body::from(html);
    let h = response.headers_mut();
    h.remove(header::CONTENT_LENGTH);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A 404 page for an unknown result link.
pub(crate) fn result_not_found(lang: Lang) -> Response {
    let t = i18n::texts(lang);
    let page = ErrorPage {
        chrome: Chrome::new(lang, ""),
        title: t.not_found_title.to_string(),
        message: t.result_not_found.to_string(),
        action: Some(("/".to_string(), t.all_tests.to_string())),
    };
    (StatusCode::NOT_FOUND, page).into_response()
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass).
pub(crate) fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(pct("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(pct("safe-_.~"), "safe-_.~");
    }

    #[test]
    fn error_pages_keep_status_and_retry_after() {
        let err = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "slow down")
            .with_details(serde_json::json!({ "retry_after": 42 }))
            .with_header(header::RETRY_AFTER, HeaderValue::from(42));
        let r = error_page(
            Lang::Es,
            err,
            ErrorContext {
                slug: Some("x".into()),
                retry: None,
            },
        );
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "42");
        assert!(
            r.headers()[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|v| v.starts_with("text/html"))
        );
    }
}
