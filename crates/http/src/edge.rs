//! The edge of every request: a path no handler could want is refused before routing, and
//! every response leaves with the security headers, whichever layer made it (a handler, the
//! JSON fallback of an unknown route or a wrong method, a timeout, a refusal of the limits).
//! It sits outermost (inside only the request log), so no response is built after it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The headers, worked out once at start.
pub struct Edge {
    fixed: Vec<(HeaderName, HeaderValue)>,
}

/// A year: what the HSTS preload list asks for, and the default of `HSTS_MAX_AGE`.
pub const HSTS_DEFAULT_SECS: u64 = 31_536_000;

impl Edge {
    /// `hsts_max_age`: `Some(seconds)` sends `Strict-Transport-Security` (only ever when the
    /// public address is https: a browser ignores it over http, and a development server on
    /// http must not teach a browser to refuse http for `localhost`).
    pub fn new(hsts_max_age: Option<u64>) -> Edge {
        let mut fixed = vec![
            (header::X_CONTENT_TYPE_OPTIONS, hv("nosniff")),
            (
                header::REFERRER_POLICY,
                hv("strict-origin-when-cross-origin"),
            ),
            (header::X_FRAME_OPTIONS, hv("DENY")),
            (
                header::CONTENT_SECURITY_POLICY,
                hv(
                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                    script-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
                    form-action 'self'",
                ),
            ),
        ];
        if let Some(secs) = hsts_max_age.filter(|s| *s > 0)
            && let Ok(v) = HeaderValue::from_str(&format!("max-age={secs}"))
        {
            fixed.push((header::STRICT_TRANSPORT_SECURITY, v));
        }
        Edge { fixed }
    }
}

fn hv(s: &'static str) -> HeaderValue {
    HeaderValue::from_static(s)
}

pub async fn middleware(State(edge): State<Arc<Edge>>, req: Request, next: Next) -> Response {
    if let Err(e) = check_path(req.uri().path()) {
        return with_headers(&edge, e.into_response(), false);
    }
    let private = req.uri().path().starts_with("/api/") && carries_credentials(req.headers());
    let response = next.run(req).await;
    with_headers(&edge, response, private)
}

/// Sets what the handler did not: each fixed header, and `Cache-Control: no-store` on an API
/// response to a request that proved who it is (what it shows is that person's, and a shared
/// cache or the browser's back button must not keep it).
fn with_headers(edge: &Edge, mut response: Response, private: bool) -> Response {
    let headers = response.headers_mut();
    for (name, value) in &edge.fixed {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    if private && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, hv("no-store"));
    }
    response
}

/// A bearer token (an API key is one too) or one of the sign-in cookies.
fn carries_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || [
            crate::auth::SESSION_COOKIE,
            crate::auth::REFRESH_COOKIE,
            crate::enduser::USER_COOKIE,
            crate::enduser::USER_REFRESH_COOKIE,
        ]
        .iter()
        .any(|name| crate::auth::cookie(headers, name).is_some())
}

/// Refuses a path that decodes to invalid UTF-8 or holds a control character (C0, DEL, C1):
/// no route of Faro names one, and a handler copying a segment into a header (a redirect)
/// would otherwise fail after the fact.
pub fn check_path(path: &str) -> Result<(), ApiError> {
    let bytes = path.as_bytes();
    if !bytes.contains(&b'%') {
        // hyper refuses raw control bytes in a request line; nothing to decode.
        return Ok(());
    }
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|c| hex(*c)),
                bytes.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            decoded.push(h << 4 | l);
            i += 3;
        } else {
            decoded.push(b);
            i += 1;
        }
    }
    let text = std::str::from_utf8(&decoded).map_err(|_| bad_path("is not valid UTF-8"))?;
    if text.chars().any(char::is_control) {
        return Err(bad_path("holds a control character"));
    }
    Ok(())
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn bad_path(what: &str) -> ApiError {
    ApiError::bad_request(
        "bad_path",
        format!("the request path, once decoded, {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_invalid_utf8_are_refused() {
        for bad in [
            "/admin/tests/%0d%0a/versions",
            "/t/%00",
            "/t/x%7F",
            "/t/%C2%85",
            "/api/v1/tests/%ff",
            "/api/v1/tests/%C3",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        for good in [
            "/",
            "/t/demo",
            "/t/caf%C3%A9",
            "/t/a%20b",
            "/t/100%",
            "/t/%zz",
            "/r/abc%2Fdef",
        ] {
            assert!(check_path(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn hsts_only_when_asked() {
        let has = |e: &Edge| {
            e.fixed
                .iter()
                .any(|(n, _)| n == header::STRICT_TRANSPORT_SECURITY)
        };
        assert!(has(&Edge::new(Some(HSTS_DEFAULT_SECS))));
        assert!(!has(&Edge::new(None)));
        assert!(!has(&Edge::new(Some(0))));
    }
}
