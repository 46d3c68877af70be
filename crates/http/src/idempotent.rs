//! The HTTP side of `Idempotency-Key` (api conventions), for every module's value-moving
//! writes: the key as sent, and a stored reply turned back into its response, marked
//! `Idempotency-Replayed: true` when it is the first answer replayed. The storage side is
//! `faro_store::idempotency`.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use faro_store::idempotency::Reply;

/// The request's `Idempotency-Key`, if it sent a readable one (checked by the use case).
pub fn key(headers: &HeaderMap) -> Option<&str> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok())
}

/// The reply with its stored status and body.
pub fn respond(reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut r = (status, axum::Json(reply.body)).into_response();
    if reply.replayed {
        r.headers_mut()
            .insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    r
}
