//! Rate-limit checks for handlers, with the contract's headers on both outcomes.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponseParts, ResponseParts};
use faro_limits::{Decision, Quota};

use crate::error::ApiError;
use crate::state::Core;

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` for a limited endpoint's
/// successful responses. Empty when the limit is switched off.
#[derive(Default)]
pub struct RateLimitHeaders(Option<Decision>);

fn secs_up(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn pairs(d: &Decision) -> [(HeaderName, HeaderValue); 3] {
    [
        (
            HeaderName::from_static("ratelimit-limit"),
            HeaderValue::from(d.limit),
        ),
        (
            HeaderName::from_static("ratelimit-remaining"),
            HeaderValue::from(d.remaining),
        ),
        (
            HeaderName::from_static("ratelimit-reset"),
            HeaderValue::from(secs_up(d.reset_after)),
        ),
    ]
}

impl IntoResponseParts for RateLimitHeaders {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(d) = self.0 {
            for (k, v) in pairs(&d) {
                res.headers_mut().insert(k, v);
            }
        }
        Ok(res)
    }
}

impl Core {
    /// Spends one unit of `quota` for `client` in `bucket`; a refusal is the contract's 429.
    pub async fn limit(
        &self,
        bucket: &'static str,
        client: &str,
        quota: Option<Quota>,
    ) -> Result<RateLimitHeaders, ApiError> {
        let Some(quota) = quota.filter(|_| self.web.limits_enabled) else {
            return Ok(RateLimitHeaders(None));
        };
        let decision = self.limiter.check(bucket, client, quota).await;
        if decision.allowed {
            return Ok(RateLimitHeaders(Some(decision)));
        }
        crate::metrics::rate_limited(bucket);
        let retry = decision.retry_after.map(secs_up).unwrap_or(1).max(1);
        let mut err = ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry in {retry} s"),
        )
        .with_details(serde_json::json!({ "retry_after": retry, "bucket": bucket }))
        .with_header(header::RETRY_AFTER, HeaderValue::from(retry));
        for (k, v) in pairs(&decision) {
            err = err.with_header(k, v);
        }
        Err(err)
    }
}
