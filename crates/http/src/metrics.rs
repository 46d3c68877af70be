//! Metric names in one place, so dashboards and code agree.

use std::time::Duration;

pub const HTTP_REQUESTS: &str = "faro_http_requests_total";
pub const HTTP_DURATION: &str = "faro_http_request_duration_seconds";
pub const RATE_LIMITED: &str = "faro_rate_limited_total";

/// The method as a label from a closed set: any client may send a made-up method, and each
/// distinct label value is a new series kept for the life of the process.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

pub fn record(route: &str, method: &axum::http::Method, status: u16, elapsed: Duration) {
    let labels = [
        ("route", route.to_owned()),
        ("method", method_label(method).to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

pub fn rate_limited(bucket: &'static str) {
    metrics::counter!(RATE_LIMITED, "bucket" => bucket).increment(1);
}

#[cfg(test)]
mod tests {
    use super::method_label;
    use axum::http::Method;

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"AAAAAAAAAAAAAAAAAAAA").expect("a valid token");
        assert_eq!(method_label(&odd), "other");
    }
}
