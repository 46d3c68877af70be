//! The limits every request passes before any handler, beside the per-endpoint ones the
//! handlers spend themselves (logins, quiz starts and answers):
//!
//! - **penalty box**, per client address: over `RATE_LIMIT_PENALTY` (400 in 10 minutes) the
//!   address is refused everything for `PENALTY_BOX_MINUTES` (10), however it behaves
//!   meanwhile; 429 `penalty_box`;
//! - **API keys**, per tenant: every key of a tenant shares `RATE_LIMIT_TENANT` (120/minute);
//! - **signed-in callers**, per account (an end user's or staff member's token):
//!   `RATE_LIMIT_USER` (300/minute);
//! - **public writes**, per client address: anonymous `POST`, `PUT`, `PATCH` and `DELETE`
//!   outside the staff API and panel, `RATE_LIMIT_PUBLIC_WRITES` (60/minute).
//!
//! All are shared through Redis when the installation has one (so three instances grant one
//! budget, not three) and fail open when it is away. `RATE_LIMITS=off` switches every limit
//! off, these and the handlers' ones, for load tests.
//!
//! Health, readiness, metrics and static assets never count: a load balancer probing every
//! second must not box itself.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use faro_limits::{Decision, Quota};
use faro_store::unix_now;

use crate::ApiError;
use crate::state::Core;

/// The limits of [`guard`], from the configuration.
#[derive(Clone, Debug, Default)]
pub struct TrafficLimits {
    /// The penalty box: the quota and how long an address that exceeds it is refused.
    pub penalty: Option<(Quota, Duration)>,
    pub tenant: Option<Quota>,
    pub user: Option<Quota>,
    pub public_writes: Option<Quota>,
}

/// Paths that never count (probes, metrics, static files).
fn exempt(path: &str) -> bool {
    path.starts_with("/assets/")
        || matches!(
            path,
            "/api/v1/health" | "/api/v1/ready" | "/metrics" | "/favicon.ico" | "/robots.txt"
        )
}

/// Writes that staff make: their own API, the super-admin's and the panel's forms.
fn staff_path(path: &str) -> bool {
    path.starts_with("/api/v1/admin/")
        || path.starts_with("/api/v1/platform/")
        || path == "/admin"
        || path.starts_with("/admin/")
        || path == "/platform"
        || path.starts_with("/platform/")
}

/// Who the request says it is, as far as the limits care (credentials are checked, so a
/// forged token cannot spend another account's budget; the extractors check them again
/// and answer 401 for the refused ones).
enum Caller {
    Anonymous,
    /// An API key of this tenant.
    Key(String),
    /// An end user or staff account.
    Account(String),
}

async fn caller(core: &Core, token: &str) -> Caller {
    if token.starts_with("faro_") {
        return match core.api_keys.check(&core.db, token, unix_now()).await {
            Ok(Ok(key)) => Caller::Key(key.tenant.as_str().to_owned()),
            _ => Caller::Anonymous,
        };
    }
    let now = unix_now();
    if let Ok(claims) = core.keys.verify(token, now) {
        return Caller::Account(format!("staff:{}", claims.sub));
    }
    if let Ok(claims) = core.keys.verify_user(token, now) {
        return Caller::Account(format!("user:{}", claims.sub));
    }
    Caller::Anonymous
}

fn refused(bucket: &'static str, code: &'static str, message: String, d: Decision) -> Response {
    crate::metrics::rate_limited(bucket);
    let retry = d
        .retry_after
        .map(|r| r.as_secs() + u64::from(r.subsec_nanos() > 0))
        .unwrap_or(1)
        .max(1);
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        .with_details(serde_json::json!({ "retry_after": retry, "bucket": bucket }))
        .with_header(header::RETRY_AFTER, HeaderValue::from(retry))
        .into_response()
}

/// The middleware: spends the request against the limits that apply, or answers 429.
pub async fn guard(State(core): State<Core>, mut req: Request, next: Next) -> Response {
    let limits = &core.web.traffic;
    if !core.web.limits_enabled || exempt(req.uri().path()) {
        return next.run(req).await;
    }
    let client = crate::client_key_of(&core, req.headers(), req.extensions());
    // The handlers' own limits (quiz starts, logins) key on the same value.
    req.extensions_mut()
        .insert(crate::ClientKeyOf(client.clone()));
    if let Some((quota, penalty)) = limits.penalty {
        let d = core
            .limiter
            .check_boxed("penalty", &client, quota, penalty)
            .await;
        if !d.allowed {
            let minutes = d.retry_after.map_or(1, |r| r.as_secs().div_ceil(60).max(1));
            return refused(
                "penalty",
                "penalty_box",
                format!(
                    "too many requests from your address: blocked for {minutes} more minute(s)"
                ),
                d,
            );
        }
    }
    let write = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let staff = staff_path(req.uri().path());
    // Owned: the request (its body) must not be borrowed across an await.
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let checks_caller = limits.tenant.is_some() || limits.user.is_some();
    let who = match token {
        Some(token) if checks_caller => caller(&core, &token).await,
        _ => Caller::Anonymous,
    };
    let (bucket, key, quota, what) = match who {
        Caller::Key(tenant) => ("tenant", tenant, limits.tenant, "this site's API keys"),
        Caller::Account(id) => ("user", id, limits.user, "your account"),
        Caller::Anonymous if write && !staff => (
            "public_writes",
            client,
            limits.public_writes,
            "your address",
        ),
        Caller::Anonymous => return next.run(req).await,
    };
    if let Some(quota) = quota {
        let key = if bucket == "public_writes" {
            key
        } else {
            core.clients.limit_key(&key)
        };
        let d = core.limiter.check(bucket, &key, quota).await;
        if !d.allowed {
            return refused(
                bucket,
                "rate_limited",
                format!("too many requests from {what} ({quota}); retry later"),
                d,
            );
        }
    }
    next.run(req).await
}
