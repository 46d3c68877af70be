//! Responses that did not come from our handlers (unknown route, wrong method, body over the
//! limit, timeout, panic) get the contract's JSON error body under `/api/` too.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

pub async fn json_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    if !is_api || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not accept this method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => return crate::extract::too_large().into_response(),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send JSON with Content-Type: application/json",
        ),
        // The request timeout (TimeoutLayer answers 503 with no body) is retryable: keep its
        // status and say when to retry, rather than turning it into an opaque 500.
        StatusCode::SERVICE_UNAVAILABLE => {
            return ApiError::unavailable("the request took too long; retry in a few seconds")
                .with_code("request_timeout")
                .into_response();
        }
        s if s.is_server_error() => {
            return ApiError::internal(format!("{s} without a JSON body (panic or timeout)"))
                .into_response();
        }
        _ => ("bad_request", "the request was not understood"),
    };
    let mut rewritten = ApiError::new(status, code, message).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        rewritten.headers_mut().insert(header::ALLOW, allow.clone());
    }
    rewritten
}
