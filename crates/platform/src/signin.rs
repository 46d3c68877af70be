//! The panel's sign-in pages: sign in, sign out, and the panel's embedded stylesheet.
//! They use the same `accounts::sign_in` and `session_cookies` as the JSON login, so the panel
//! and the API share one session (the HttpOnly `faro_session` cookie plus its `faro_csrf`
//! double-submit companion). The page shell itself lives in `faro_web::panel`.
//!
//! The sign-in form carries a CSRF token too (login CSRF): `GET /admin/login` sets a
//! `faro_csrf` cookie when the browser has none, and the form echoes it.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_http::auth::{CSRF_COOKIE, REFRESH_COOKIE, SESSION_COOKIE, cookie, same_secret};
use faro_http::{ClientKey, Core, HostTenant};
use faro_web::panel::{self as ui, LoginView};
use serde::Deserialize;

use crate::accounts::{self, session_cookies};

/// How long a sign-in form's token lives before the session replaces it.
const LOGIN_CSRF_SECONDS: u64 = 2 * 3600;

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/admin/login", get(login_form).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/session/renew", get(renew))
        .merge(ui::assets_router())
        .with_state(core)
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// True when the request carries a session that is still valid.
fn signed_in(core: &Core, headers: &HeaderMap) -> bool {
    cookie(headers, SESSION_COOKIE)
        .filter(|t| !t.is_empty())
        .is_some_and(|t| core.keys.verify(t, faro_store::unix_now()).is_ok())
}

fn csrf_cookie(core: &Core, value: &str) -> Option<HeaderValue> {
    let mut c =
        format!("{CSRF_COOKIE}={value}; Path=/; Max-Age={LOGIN_CSRF_SECONDS}; SameSite=Strict");
    if core.web.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).ok()
}

/// The browser's CSRF token, or a fresh one with the header that sets it.
fn login_token(core: &Core, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE).filter(|v| !v.is_empty()) {
        Some(v) => (v.to_string(), None),
        None => {
            let token = faro_auth::password::generate();
            let set = csrf_cookie(core, &token);
            (token, set)
        }
    }
}

fn with_cookie(mut response: Response, set: Option<HeaderValue>) -> Response {
    if let Some(v) = set {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /admin/login?next=`: the sign-in form, or straight on when already signed in.
async fn login_form(
    State(core): State<Core>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = ui::safe_next(q.next.as_deref());
    if signed_in(&core, &headers) {
        return Redirect::to(&next).into_response();
    }
    let (csrf, set) = login_token(&core, &headers);
    let notice = q.signed_out.is_some().then_some("You are signed out.");
    let page = ui::login_page(
        StatusCode::OK,
        &LoginView {
            csrf: &csrf,
            next: &next,
            username: "",
            error: None,
            notice,
        },
    );
    with_cookie(page, set)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    /// The two-factor code, for accounts that turned it on.
    #[serde(default)]
    totp: String,
    csrf: Option<String>,
    next: Option<String>,
}

/// True when the form's token matches the browser's `faro_csrf` cookie.
fn csrf_ok(headers: &HeaderMap, sent: Option<&str>) -> bool {
    match (cookie(headers, CSRF_COOKIE), sent) {
        (Some(expected), Some(sent)) => !expected.is_empty() && same_secret(expected, sent),
        _ => false,
    }
}

fn csrf_refused() -> Response {
    ui::error_page(
        StatusCode::FORBIDDEN,
        "Form expired",
        "The form's security token is missing or does not match this browser (CSRF check). \
         Open the sign-in page again and retry.",
        None,
    )
}

/// `POST /admin/login`: checks the credentials (rate-limited per client and per account,
/// like the JSON login), sets the session cookies and goes to `next`.
async fn login(
    State(core): State<Core>,
    HostTenant(tenant): HostTenant,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    if !csrf_ok(&headers, form.csrf.as_deref()) {
        return csrf_refused();
    }
    let next = ui::safe_next(form.next.as_deref());
    let credentials = accounts::Credentials {
        username: form.username.trim(),
        password: &form.password,
        code: Some(form.totp.as_str()),
        device: cookie(&headers, crate::lockout::DEVICE_COOKIE),
    };
    match accounts::sign_in(&core, &tenant, &client, credentials).await {
        Ok(session) => (
            session_cookies(&core, Some(&session)),
            [(header::CACHE_CONTROL, "no-store")],
            Redirect::to(&next),
        )
            .into_response(),
        Err(e) => {
            let (status, message) = match e.status {
                StatusCode::TOO_MANY_REQUESTS => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many sign-in attempts. Wait a little and try again, or sign in from a \
                     browser that signed in here before.",
                ),
                StatusCode::UNAUTHORIZED if e.code == "totp_required" => (
                    StatusCode::UNAUTHORIZED,
                    "Enter the code from your authenticator app (or a recovery code).",
                ),
                StatusCode::UNAUTHORIZED if e.code == "invalid_totp" => (
                    StatusCode::UNAUTHORIZED,
                    "That two-factor code is wrong or was already used.",
                ),
                StatusCode::UNAUTHORIZED => {
                    (StatusCode::UNAUTHORIZED, "Wrong username or password.")
                }
                s if s.is_server_error() => {
                    return ui::PageError::from(e).into_response();
                }
                _ => (StatusCode::BAD_REQUEST, "Sign-in failed; try again."),
            };
            let csrf = cookie(&headers, CSRF_COOKIE)
                .unwrap_or_default()
                .to_string();
            let mut page = ui::login_page(
                status,
                &LoginView {
                    csrf: &csrf,
                    next: &next,
                    username: form.username.trim(),
                    error: Some(message),
                    notice: None,
                },
            );
            if status == StatusCode::UNAUTHORIZED {
                // A form, not HTTP authentication: name the scheme so 401 stays well-formed.
                page.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("FormBased realm=\"Faro admin\""),
                );
            }
            if let Some(retry) = e.into_response().headers().get(header::RETRY_AFTER) {
                page.headers_mut()
                    .insert(header::RETRY_AFTER, retry.clone());
            }
            page
        }
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: Option<String>,
}

/// `POST /admin/logout`: ends the sign-in (its refresh token and the session's access token)
/// and clears the session cookies (with the CSRF field, so another site cannot sign a user
/// out).
async fn logout(
    State(core): State<Core>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LogoutForm>,
) -> Response {
    if !csrf_ok(&headers, form.csrf.as_deref()) {
        return csrf_refused();
    }
    if let Some(token) = cookie(&headers, REFRESH_COOKIE).filter(|t| !t.is_empty())
        && let Err(e) = crate::staff_sessions::end(&core, token).await
    {
        return ui::PageError::from(faro_http::ApiError::from(e)).into_response();
    }
    if let Err(e) = faro_http::auth::revoke_presented(&core, &headers).await {
        return ui::PageError::from(faro_http::ApiError::from(e)).into_response();
    }
    (
        session_cookies(&core, None),
        [(header::CACHE_CONTROL, "no-store")],
        Redirect::to("/admin/login?signed_out=1"),
    )
        .into_response()
}

/// `GET /admin/session/renew?next=`: where a panel page sends a browser whose hour-long
/// session is over but whose `faro_refresh` cookie is not: the sign-in is renewed (new
/// cookies) and the browser goes back to `next`. Without a valid refresh cookie, to the
/// sign-in page. The cookies are SameSite=Strict, so another site's link renews nothing.
async fn renew(
    State(core): State<Core>,
    HostTenant(tenant): HostTenant,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = ui::safe_next(q.next.as_deref());
    let Some(token) = cookie(&headers, REFRESH_COOKIE).filter(|t| !t.is_empty()) else {
        return Redirect::to(&ui::login_url(&next)).into_response();
    };
    match crate::staff_sessions::refresh(&core, &tenant, token).await {
        Ok(renewed) => {
            let session = accounts::SignedIn::from(renewed);
            (
                session_cookies(&core, Some(&session)),
                [(header::CACHE_CONTROL, "no-store")],
                Redirect::to(&next),
            )
                .into_response()
        }
        Err(_) => (
            session_cookies(&core, None),
            [(header::CACHE_CONTROL, "no-store")],
            Redirect::to(&ui::login_url(&next)),
        )
            .into_response(),
    }
}
