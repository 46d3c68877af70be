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
    /// The tenant an extractor resolved for this request, for the kept error.
    static REQUEST_TENANT: std::cell::RefCell<Option<faro_store::TenantId>>;
}

/// Notes the request's tenant (called by the extractors that resolve it).
pub(crate) fn set_tenant(tenant: &faro_store::TenantId) {
    let _ = REQUEST_TENANT.try_with(|t| *t.borrow_mut() = Some(tenant.clone()));
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
#[derive(Clone, Debug)]
pub struct RequestLog {
    pub enabled: bool,
    /// Where 5xx causes are kept (`request_errors`), besides the log line.
    pub errors: Option<ErrorSink>,
    /// Where each tenant's requests are counted (`stats_daily`, scope `platform`, metric
    /// `requests`) for the super-admin's usage view. Only requests whose tenant was resolved
    /// count: a health check or a static asset belongs to no one.
    pub counters: Option<faro_store::Counters>,
}

/// The `stats_daily` scope and metric of a tenant's request count.
pub const REQUESTS_SCOPE: &str = "platform";
pub const REQUESTS_METRIC: &str = "requests";

impl RequestLog {
    fn count(&self, tenant: &faro_store::TenantId) {
        if let Some(counters) = &self.counters {
            counters.add(
                faro_store::CounterKey {
                    tenant_id: tenant.as_str().to_owned(),
                    scope: REQUESTS_SCOPE.to_owned(),
                    day: faro_store::day_of(faro_store::unix_now()),
                    metric: REQUESTS_METRIC,
                    key: String::new(),
                },
                1,
            );
        }
    }
}

/// Keeps 5xx causes in the database without slowing the failing response: the insert runs in
/// the background, at most a few at a time; past that (an outage failing every request) causes
/// are only logged, and counted in `faro_request_errors_dropped_total`.
#[derive(Clone, Debug)]
pub struct ErrorSink {
    db: faro_store::Db,
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl ErrorSink {
    pub fn new(db: faro_store::Db) -> Self {
        ErrorSink {
            db,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(4)),
        }
    }

    fn keep(&self, error: faro_store::request_errors::NewRequestError) {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            metrics::counter!("faro_request_errors_dropped_total").increment(1);
            return;
        };
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(e) = faro_store::request_errors::record(&db, &error).await {
                tracing::debug!(error = %e, "5xx cause not kept");
            }
            drop(permit);
        });
    }
}

pub async fn middleware(
    axum::extract::State(log): axum::extract::State<std::sync::Arc<RequestLog>>,
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
        method = crate::metrics::method_label(&method),
        route = %route,
        tenant = tracing::field::Empty
    );
    let started = Instant::now();

    let tenant = std::cell::RefCell::new(None);
    let (mut response, tenant) = REQUEST_ID
        .scope(
            id.clone(),
            REQUEST_TENANT.scope(tenant, async {
                let response = next.run(req).instrument(span.clone()).await;
                (response, REQUEST_TENANT.with(|t| t.take()))
            }),
        )
        .await;

    let status = response.status();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    // The body's size when known up front (compressed bodies are streamed: null then).
    let bytes = axum::body::HttpBody::size_hint(response.body()).exact();
    span.in_scope(|| {
        if let Some(cause) = response.extensions().get::<InternalCause>() {
            tracing::error!(status = status.as_u16(), elapsed_ms, bytes, cause = %cause.0, "request failed");
            if let Some(sink) = &log.errors {
                sink.keep(faro_store::request_errors::NewRequestError {
                    tenant: tenant.clone(),
                    request_id: id.clone(),
                    method: crate::metrics::method_label(&method).to_string(),
                    route: route.clone(),
                    status: status.as_u16(),
                    cause: cause.0.clone(),
                });
            }
        } else if log.enabled {
            tracing::info!(status = status.as_u16(), elapsed_ms, bytes, "request served");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_ms, bytes, "request served");
        }
    });
    crate::metrics::record(&route, &method, status.as_u16(), started.elapsed());
    if let Some(tenant) = &tenant {
        log.count(tenant);
    }
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
