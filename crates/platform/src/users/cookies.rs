//! The end user's sign-in as browser cookies, beside the tokens in the JSON answer: a page on
//! the site's own host signs in with `fetch(..., {credentials: "include"})` and never holds
//! a token in a script, where an injected one could read it.
//!
//! | cookie | holds | flags |
//! |---|---|---|
//! | `faro_user` | the access token | HttpOnly, `SameSite=Lax`, `Path=/`, 15 minutes |
//! | `faro_user_refresh` | the refresh token | HttpOnly, `SameSite=Strict`, `Path=/api/v1/auth`, 30 days |
//! | `faro_user_csrf` | the CSRF token to echo in `x-csrf-token` | readable, `SameSite=Strict`, `Path=/`, 30 days |
//! | `faro_user_device` | a known-device mark (`lockout.rs`) | HttpOnly, `SameSite=Strict`, `Path=/api/v1/auth`, 90 days |
//!
//! All `Secure` when the installation is served over https. Apps ignore them and use the
//! tokens of the answer.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::AppendHeaders;
use faro_http::Core;
use faro_http::auth::cookie;
use faro_http::enduser::{USER_COOKIE, USER_CSRF_COOKIE, USER_REFRESH_COOKIE};

use super::domain::{ACCESS_TTL_SECS, REFRESH_TTL_SECS};

/// This browser signed into the account before (`lockout.rs`): its sign-ins are never held
/// up while someone guesses the account's password. Sent to the sign-in endpoints only.
pub const USER_DEVICE_COOKIE: &str = "faro_user_device";

/// The `Set-Cookie` headers an answer carries.
pub type SetCookies = AppendHeaders<Vec<(header::HeaderName, HeaderValue)>>;

/// Where the refresh cookie is sent: the refresh and logout endpoints, nothing else.
const REFRESH_PATH: &str = "/api/v1/auth";

/// The browser's CSRF token if it has one (kept across sign-ins, so a second tab's page does
/// not lose it), else a new one.
pub fn csrf_token(headers: &HeaderMap) -> String {
    cookie(headers, USER_CSRF_COOKIE)
        .filter(|v| {
            v.len() >= 20
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(faro_auth::password::generate)
}

struct Cookie<'a> {
    name: &'a str,
    value: &'a str,
    path: &'a str,
    max_age: u64,
    http_only: bool,
    same_site: &'a str,
}

fn header_value(c: &Cookie<'_>, secure: bool) -> Option<HeaderValue> {
    let mut v = format!(
        "{}={}; Path={}; Max-Age={}; SameSite={}",
        c.name, c.value, c.path, c.max_age, c.same_site
    );
    if c.http_only {
        v.push_str("; HttpOnly");
    }
    if secure {
        v.push_str("; Secure");
    }
    HeaderValue::from_str(&v).ok()
}

fn set(core: &Core, cookies: [Cookie<'_>; 3]) -> SetCookies {
    let secure = core.web.secure_cookies;
    AppendHeaders(
        cookies
            .iter()
            .filter_map(|c| header_value(c, secure))
            .map(|v| (header::SET_COOKIE, v))
            .collect(),
    )
}

/// The cookies of a sign-in (register, login, refresh).
pub fn signed_in(core: &Core, access: &str, refresh: &str, csrf: &str) -> SetCookies {
    let refresh_age = u64::try_from(REFRESH_TTL_SECS).unwrap_or(0);
    set(
        core,
        [
            Cookie {
                name: USER_COOKIE,
                value: access,
                path: "/",
                max_age: ACCESS_TTL_SECS,
                http_only: true,
                same_site: "Lax",
            },
            Cookie {
                name: USER_REFRESH_COOKIE,
                value: refresh,
                path: REFRESH_PATH,
                max_age: refresh_age,
                http_only: true,
                same_site: "Strict",
            },
            Cookie {
                name: USER_CSRF_COOKIE,
                value: csrf,
                path: "/",
                max_age: refresh_age,
                http_only: false,
                same_site: "Strict",
            },
        ],
    )
}

/// The cookies that end a sign-in in the browser (logout, account erased).
pub fn cleared(core: &Core) -> SetCookies {
    let gone = |name, path| Cookie {
        name,
        value: "",
        path,
        max_age: 0,
        http_only: true,
        same_site: "Strict",
    };
    set(
        core,
        [
            gone(USER_COOKIE, "/"),
            gone(USER_REFRESH_COOKIE, REFRESH_PATH),
            gone(USER_CSRF_COOKIE, "/"),
        ],
    )
}

/// The known-device cookie of a sign-in, as a `Set-Cookie` header.
pub fn device(core: &Core, mark: &str) -> Option<(header::HeaderName, HeaderValue)> {
    header_value(
        &Cookie {
            name: USER_DEVICE_COOKIE,
            value: mark,
            path: REFRESH_PATH,
            max_age: crate::lockout::DEVICE_DAYS * 86_400,
            http_only: true,
            same_site: "Strict",
        },
        core.web.secure_cookies,
    )
    .map(|v| (header::SET_COOKIE, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_say_their_flags() {
        let c = Cookie {
            name: "faro_user",
            value: "abc",
            path: "/",
            max_age: 900,
            http_only: true,
            same_site: "Lax",
        };
        assert_eq!(
            header_value(&c, true).expect("valid"),
            "faro_user=abc; Path=/; Max-Age=900; SameSite=Lax; HttpOnly; Secure"
        );
        assert_eq!(
            header_value(&c, false).expect("valid"),
            "faro_user=abc; Path=/; Max-Age=900; SameSite=Lax; HttpOnly"
        );
    }

    #[test]
    fn a_csrf_cookie_is_kept_only_when_it_looks_like_ours() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("faro_user_csrf=abcdefghijklmnopqrstuvwxyz-_012345"),
        );
        assert_eq!(csrf_token(&h), "abcdefghijklmnopqrstuvwxyz-_012345");
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("faro_user_csrf=short"),
        );
        assert_ne!(csrf_token(&h), "short");
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("faro_user_csrf=aaaaaaaaaaaaaaaaaaaaaaaa\"x"),
        );
        assert!(!csrf_token(&h).contains('"'));
        assert!(csrf_token(&HeaderMap::new()).len() >= 20);
    }
}
