//! Authentication and roles as extractors: a handler that takes `AdminUser` cannot run for a
//! viewer, and one that takes `Viewer` cannot run anonymously.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use faro_auth::Role;
use faro_auth::token::Claims;

use crate::error::ApiError;
use crate::state::Core;
use crate::tenant::Staff;

/// Cookie holding the panel's session token (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "faro_session";
/// Double-submit CSRF cookie: readable by the panel's pages, echoed in `x-csrf-token` or a form field.
pub const CSRF_COOKIE: &str = "faro_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Any signed-in user (admin or viewer): reads and analytics.
pub struct Viewer(pub Staff);

/// A signed-in admin: everything.
pub struct AdminUser(pub Staff);

/// How the request proved who it is; cookie-authenticated writes must also pass CSRF.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Via {
    Bearer,
    Cookie,
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn token_of(headers: &HeaderMap) -> Option<(&str, Via)> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, token) = v.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| (token.trim(), Via::Bearer));
    }
    cookie(headers, SESSION_COOKIE).map(|t| (t, Via::Cookie))
}

/// Constant-time comparison so the CSRF token cannot be guessed byte by byte.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub fn authenticate(core: &Core, parts: &Parts) -> Result<(Claims, Via), ApiError> {
    let (token, via) = token_of(&parts.headers)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send a bearer token"))?;
    let claims = core
        .keys
        .verify(token, faro_store::unix_now())
        .map_err(|_| ApiError::unauthorized("the token is invalid or expired"))?;
    if via == Via::Cookie && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let expected = cookie(&parts.headers, CSRF_COOKIE);
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        match (expected, sent) {
            (Some(e), Some(s)) if !e.is_empty() && same_secret(e, s) => {}
            _ => {
                return Err(ApiError::forbidden(
                    "missing or wrong CSRF token: send the faro_csrf cookie's value in x-csrf-token",
                )
                .with_code("csrf_failed"));
            }
        }
    }
    Ok((claims, via))
}

impl<S> FromRequestParts<S> for Viewer
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let (claims, _) = authenticate(&core, parts)?;
        Ok(Viewer(Staff::from_claims(claims)))
    }
}

impl<S> FromRequestParts<S> for AdminUser
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let (claims, _) = authenticate(&core, parts)?;
        if claims.role != Role::Admin {
            return Err(ApiError::forbidden(
                "this needs the admin role; viewers can only read",
            ));
        }
        Ok(AdminUser(Staff::from_claims(claims)))
    }
}

impl ApiError {
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; faro_session=tok; b=2"),
        );
        assert_eq!(cookie(&h, "faro_session"), Some("tok"));
        assert_eq!(cookie(&h, "faro"), None);
    }

    #[test]
    fn bearer_wins_over_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        h.insert(header::COOKIE, HeaderValue::from_static("faro_session=tok"));
        assert_eq!(token_of(&h), Some(("abc", Via::Bearer)));
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(token_of(&h), None);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
