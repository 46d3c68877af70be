//! Metric names in one place, so dashboards and code agree.

use std::time::Duration;

pub const HTTP_REQUESTS: &str = "faro_http_requests_total";
pub const HTTP_DURATION: &str = "faro_http_request_duration_seconds";
pub const RATE_LIMITED: &str = "faro_rate_limited_total";

pub fn record(route: &str, method: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

pub fn rate_limited(bucket: &'static str) {
    metrics::counter!(RATE_LIMITED, "bucket" => bucket).increment(1);
}
