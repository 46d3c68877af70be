//! Request ids and the per-request span: every response carries `x-request-id`, every log line
//! of a request carries `request_id` (and `tenant` once it is known), and 5xx causes are
//! logged here, once.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::error::InternalCause;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, for error bodies.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// An incoming id is kept only when it is short and made of safe characters, so it cannot
/// inject into logs or headers.
fn valid_incoming(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_string())
}

/// Whether every request gets its `request served` line at `info` (REQUEST_LOG); off, the
/// line is logged at `debug`. Failures (5xx) are always logged, at `error`, with their cause.
#[derive(Clone, Copy, Debug)]
pub struct RequestLog {
    pub enabled: bool,
}

pub async fn middleware(
    axum::extract::State(log): axum::extract::State<RequestLog>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(valid_incoming)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().clone();
    // `tenant` is filled in by whichever extractor resolves it (host or credentials).
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        tenant = tracing::field::Empty
    );
    let started = Instant::now();

    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;

    let status = response.status();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The body's size when known up front (compressed bodies are streamed: null then).
    let bytes = axum::body::HttpBody::size_hint(response.body()).exact();
    span.in_scope(|| {
        if let Some(cause) = response.extensions().get::<InternalCause>() {
            tracing::error!(status = status.as_u16(), elapsed_ms, bytes, cause = %cause.0, "request failed");
        } else if log.enabled {
            tracing::info!(status = status.as_u16(), elapsed_ms, bytes, "request served");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_ms, bytes, "request served");
        }
    });
    crate::metrics::record(&route, method.as_str(), status.as_u16(), started.elapsed());
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incoming_ids_are_checked() {
        let ok = HeaderValue::from_static("abc-123_x.y");
        assert_eq!(valid_incoming(&ok).as_deref(), Some("abc-123_x.y"));
        assert_eq!(valid_incoming(&HeaderValue::from_static("")), None);
        assert_eq!(valid_incoming(&HeaderValue::from_static("a b")), None);
        assert_eq!(valid_incoming(&HeaderValue::from_static("a\"b")), None);
        let long = "a".repeat(65);
        assert_eq!(
            valid_incoming(&HeaderValue::from_str(&long).expect("hv")),
            None
        );
    }
}
