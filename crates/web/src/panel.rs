//! The panel's shell, shared by every module's admin pages and the platform's sign-in pages:
//! the page extractors (a redirect to the sign-in page instead of a JSON 401), the CSRF-checked
//! form extractor, HTML error pages, rendering, and the embedded stylesheet.
//!
//! Authentication goes through `faro_http::auth::authenticate`, exactly as the JSON API's
//! extractors do: a form post copies its `csrf` field into the `x-csrf-token` header before
//! calling it, so the one double-submit check (against the `faro_csrf` cookie, with
//! `same_secret`) guards the API and the panel alike.

use std::sync::{Arc, LazyLock};

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Multipart, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use faro_http::auth::{CSRF_COOKIE, CSRF_HEADER, authenticate, cookie};
use faro_http::error::InternalCause;
use faro_http::{ApiError, Core, NavLink, Staff, TenantId};
use faro_store::StoreError;
use rust_embed::RustEmbed;

/// The name of the hidden field every form post carries.
pub const CSRF_FIELD: &str = "csrf";

/// The signed-in staff member a page is rendered for.
#[derive(Clone, Debug)]
pub struct PanelUser {
    /// The account's id (the token's subject).
    pub id: String,
    pub name: String,
    pub tenant: TenantId,
    pub is_admin: bool,
    /// Shown in the shell's badge (owner, admin, agent or viewer).
    pub role: faro_auth::Role,
    /// The `faro_csrf` cookie's value, echoed in every form of the page.
    pub csrf: String,
    /// The main navigation of this installation's mounted modules.
    pub nav: Arc<[NavLink]>,
    /// The installation's super-admin (never through an impersonation token): the console
    /// at `/platform` is theirs.
    pub super_admin: bool,
    /// Set on an impersonation session: the super-admin's id, for the audit log.
    pub impersonator: Option<String>,
}

impl PanelUser {
    /// Who this is, as the audit log records them (pages do not see the client address).
    pub fn actor(&self) -> faro_http::audit::Actor {
        faro_http::audit::Actor {
            id: Some(self.id.clone()),
            name: self.name.clone(),
            impersonator: self.impersonator.clone(),
            ip: None,
        }
    }
}

/// What the layout needs on every page: who is signed in and the token forms echo.
pub struct Shell {
    pub user: String,
    pub role: &'static str,
    pub can_write: bool,
    pub csrf: String,
    pub css: &'static str,
    /// Which top-level section is current (for `aria-current`).
    pub section: &'static str,
    /// The navigation links this user may follow.
    pub nav: Vec<NavLink>,
    /// Shows the link to the installation's console.
    pub super_admin: bool,
}

impl PanelUser {
    pub fn shell(&self, section: &'static str) -> Shell {
        Shell {
            user: self.name.clone(),
            role: self.role.as_str(),
            can_write: self.is_admin,
            csrf: self.csrf.clone(),
            css: css_url(),
            section,
            nav: self
                .nav
                .iter()
                .filter(|l| self.is_admin || !l.admins_only)
                .copied()
                .collect(),
            super_admin: self.super_admin,
        }
    }

    /// Authenticates the request (bearer token or the session cookie) as the API does. A
    /// missing or invalid session is a 401 `PageError` (callers redirect to the sign-in page).
    async fn authenticate(core: &Core, parts: &Parts) -> Result<PanelUser, PageError> {
        let (claims, _) = authenticate(core, parts).map_err(PageError::from)?;
        faro_http::auth::refuse_outdated(core, &claims)
            .await
            .map_err(PageError::from)?;
        let Staff { claims, tenant, .. } = Staff::from_claims(claims);
        let super_admin = claims.sa
            && claims.imp.is_none()
            && tenant.as_str() == faro_store::DEFAULT_TENANT
            && faro_http::auth::super_admin_network(core, parts);
        let state = core.tenants.state(&core.db, &tenant).await;
        faro_http::auth::refuse_single_factor(&state, &claims, parts.uri.path())
            .map_err(PageError::from)?;
        Ok(PanelUser {
            id: claims.sub.clone(),
            is_admin: claims.role.can_write(),
            role: claims.role,
            name: claims.name,
            tenant,
            csrf: cookie(&parts.headers, CSRF_COOKIE)
                .unwrap_or_default()
                .to_string(),
            nav: core.panel_nav.clone(),
            super_admin,
            impersonator: claims.imp.clone(),
        })
    }
}

// ---- where to go after signing in -----------------------------------------------------------

/// True for a local panel path (`/admin`, `/admin/...`, `/admin?...`): the only places the
/// sign-in page may send a browser back to, so `next` cannot become an open redirect.
pub fn is_local_admin_path(next: &str) -> bool {
    let panel = next == "/admin" || next.starts_with("/admin/") || next.starts_with("/admin?");
    panel
        && next.len() <= 2048
        && !next.contains("//")
        && !next.contains('\\')
        && !next.contains("/..")
        && !next.starts_with("/admin/login")
        && !next.starts_with("/admin/logout")
        && next.chars().all(|c| !c.is_control() && c != ' ')
}

/// `next` when it is a local panel path, else the panel's home.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_admin_path(n) => n.to_string(),
        _ => "/admin".to_string(),
    }
}

/// Percent-encodes a query parameter value (everything but unreserved characters and `/`).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The sign-in page's address, coming back to `next` afterwards.
pub fn login_url(next: &str) -> String {
    if next == "/admin" || !is_local_admin_path(next) {
        "/admin/login".to_string()
    } else {
        format!("/admin/login?next={}", encode_component(next))
    }
}

/// Where a signed-out browser goes: to renew its session when it holds a refresh cookie (the
/// session's hour is over), else to the sign-in page; either way back to `next` after.
fn signed_out_url(headers: &axum::http::HeaderMap, next: &str) -> String {
    let has_refresh = faro_http::auth::cookie(headers, faro_http::auth::REFRESH_COOKIE)
        .is_some_and(|t| !t.is_empty());
    if has_refresh && is_local_admin_path(next) {
        format!("/admin/session/renew?next={}", encode_component(next))
    } else if has_refresh {
        "/admin/session/renew".to_string()
    } else {
        login_url(next)
    }
}

// ---- page extractors --------------------------------------------------------------------

/// Any signed-in staff member (admin or viewer), for pages that read. Signed out, the browser
/// is sent (303) to the sign-in page with `next` pointing back here.
pub struct PageUser(pub PanelUser);

/// A signed-in admin, for pages that only exist to write (the create form). A viewer gets a
/// 403 page.
pub struct PageAdmin(pub PanelUser);

fn here(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/admin".into())
}

impl<S> FromRequestParts<S> for PageUser
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        match PanelUser::authenticate(&core, parts).await {
            Ok(user) => Ok(PageUser(user)),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                Err(Redirect::to(&signed_out_url(&parts.headers, &here(parts))).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

impl<S> FromRequestParts<S> for PageAdmin
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let PageUser(user) = PageUser::from_request_parts(parts, state).await?;
        if !user.is_admin {
            return Err(PageError::viewer().into_response());
        }
        Ok(PageAdmin(user))
    }
}

// ---- form posts ----------------------------------------------------------------------------

/// A file sent with a multipart form.
pub struct Upload {
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A decoded form body: `application/x-www-form-urlencoded` or `multipart/form-data`.
#[derive(Default)]
pub struct FormData {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl FormData {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value, trimmed, or "" when absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).map(str::trim).unwrap_or_default()
    }

    /// Every value of a field, in order.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let name = name.to_string();
        self.fields
            .iter()
            .filter(move |(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The uploaded file of a field, when one with content was chosen.
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files
            .iter()
            .find(|f| f.field == name && !f.bytes.is_empty())
    }

    async fn read(req: Request) -> Result<FormData, PageError> {
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("multipart/form-data"));
        if is_multipart {
            let mut multipart = Multipart::from_request(req, &())
                .await
                .map_err(|e| PageError::new(e.status(), "Unreadable form", e.body_text()))?;
            let mut form = FormData::default();
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| PageError::new(e.status(), "Unreadable form", e.body_text()))?
            {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().map(str::to_string);
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| PageError::new(e.status(), "Unreadable form", e.body_text()))?;
                match file_name {
                    Some(file_name) => form.files.push(Upload {
                        field: name,
                        file_name,
                        bytes: bytes.to_vec(),
                    }),
                    None => form
                        .fields
                        .push((name, String::from_utf8_lossy(&bytes).into_owned())),
                }
            }
            Ok(form)
        } else {
            let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(req, &())
                .await
                .map_err(|e| PageError::new(e.status(), "Unreadable form", e.body_text()))?;
            Ok(FormData {
                fields,
                files: Vec::new(),
            })
        }
    }
}

/// A form post from a signed-in admin whose `csrf` field matches the `faro_csrf` cookie.
/// Without the field (or with a wrong one) the answer is a 403 page; a viewer gets a 403 page
/// too, whatever the form; signed out, the browser goes to the sign-in page.
pub struct AdminForm {
    pub user: PanelUser,
    pub form: FormData,
}

/// A form post from any signed-in staff member (viewers too: a form about their own account)
/// whose `csrf` field matches the `faro_csrf` cookie.
pub struct UserForm {
    pub user: PanelUser,
    pub form: FormData,
}

impl<S> FromRequest<S> for UserForm
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (user, form) = form_user(req, &Core::from_ref(state)).await?;
        Ok(UserForm { user, form })
    }
}

impl<S> FromRequest<S> for AdminForm
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (user, form) = form_user(req, &Core::from_ref(state)).await?;
        if !user.is_admin {
            return Err(PageError::viewer().into_response());
        }
        Ok(AdminForm { user, form })
    }
}

/// Reads a form post and authenticates it with its `csrf` field as the double-submit token.
async fn form_user(req: Request, core: &Core) -> Result<(PanelUser, FormData), Response> {
    let headers = req.headers().clone();
    let uri = req.uri().clone();
    let form = FormData::read(req)
        .await
        .map_err(IntoResponse::into_response)?;
    // Rebuild the request head the way `authenticate` reads it, with the form's token as
    // the double-submit header (and only the form's: a stray header does not count).
    let mut parts = Request::new(()).into_parts().0;
    parts.method = Method::POST;
    parts.uri = uri;
    parts.headers = headers;
    parts.headers.remove(CSRF_HEADER);
    if let Some(token) = form.get(CSRF_FIELD)
        && let Ok(v) = HeaderValue::from_str(token)
    {
        parts
            .headers
            .insert(HeaderName::from_static(CSRF_HEADER), v);
    }
    let user = match PanelUser::authenticate(core, &parts).await {
        Ok(user) => user,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            // The form's data is lost either way; the browser lands on the panel's home.
            return Err(Redirect::to(&signed_out_url(&parts.headers, "/admin")).into_response());
        }
        Err(e) => return Err(e.into_response()),
    };
    Ok((user, form))
}

// ---- rendering and errors -------------------------------------------------------------------

/// Renders a page with this status. A template failure is a 500 page (and logged once).
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                // Panel pages hold private data and per-session tokens.
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => PageError::internal(e).into_response(),
    }
}

pub fn ok<T: Template>(page: &T) -> Response {
    render(StatusCode::OK, page)
}

/// An error shown as a page of the panel, not as JSON.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: String,
    pub message: String,
    cause: Option<InternalCause>,
}

#[derive(Template)]
#[template(path = "panel/error.html")]
struct ErrorPage<'a> {
    css: &'static str,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl PageError {
    pub fn new(status: StatusCode, title: &str, message: impl Into<String>) -> Self {
        PageError {
            status,
            title: title.to_string(),
            message: message.into(),
            cause: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", message)
    }

    pub fn viewer() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Admins only",
            "This needs the admin role: viewers can see everything but change nothing.",
        )
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Something went wrong".into(),
            message: "An internal error happened; quote the request id (x-request-id) when \
                      reporting it."
                .into(),
            cause: Some(InternalCause(cause.to_string())),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let status = e.status;
        let title = match status {
            StatusCode::FORBIDDEN if e.code == "csrf_failed" => "Form expired",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "Conflict",
            StatusCode::TOO_MANY_REQUESTS => "Too many requests",
            StatusCode::UNPROCESSABLE_ENTITY => "Not valid",
            s if s.is_server_error() => "Something went wrong",
            _ => "Request refused",
        };
        let message = if e.code == "csrf_failed" {
            "The form's security token is missing or does not match this browser's session \
             (CSRF check). Reload the page and submit the form again."
                .to_string()
        } else {
            e.message.clone()
        };
        // Keep the cause of a 5xx for the request middleware, which logs it once.
        let cause = status
            .is_server_error()
            .then(|| {
                e.into_response()
                    .extensions()
                    .get::<InternalCause>()
                    .cloned()
            })
            .flatten();
        PageError {
            status,
            title: title.to_string(),
            message,
            cause,
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.status, &self.title, &self.message, self.cause)
    }
}

/// A full error page (also used by the platform's sign-in pages).
pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    cause: Option<InternalCause>,
) -> Response {
    let page = ErrorPage {
        css: css_url(),
        status: status.as_u16(),
        title,
        message,
    };
    let mut response = match page.render() {
        Ok(html) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(_) => (status, format!("{status}: {message}")).into_response(),
    };
    if let Some(cause) = cause {
        response.extensions_mut().insert(cause);
    }
    response
}

pub type PageResult<T = Response> = Result<T, PageError>;

// ---- sign-in page (rendered for the platform's `/admin/login`) ------------------------------

#[derive(Template)]
#[template(path = "panel/login.html")]
struct LoginPage<'a> {
    css: &'static str,
    csrf: &'a str,
    next: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

/// What the sign-in form shows.
pub struct LoginView<'a> {
    pub csrf: &'a str,
    pub next: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn login_page(status: StatusCode, view: &LoginView<'_>) -> Response {
    render(
        status,
        &LoginPage {
            css: css_url(),
            csrf: view.csrf,
            next: view.next,
            username: view.username,
            error: view.error,
            notice: view.notice,
        },
    )
}

// ---- embedded assets ------------------------------------------------------------------------

#[derive(RustEmbed)]
#[folder = "assets/panel/"]
struct Assets;

/// The stylesheet's address with a content hash, so it can be cached for good.
/// An RFC 3339 time as the panel shows it: `2026-12-07 01:04:07 UTC`.
pub fn readable_time(rfc3339: &str) -> String {
    rfc3339.replace('T', " ").replace('Z', " UTC")
}

/// A unix time as the panel shows it (see [`readable_time`]).
pub fn datetime(unix: i64) -> String {
    readable_time(&faro_http::respond::rfc3339(unix))
}

/// The day of a unix time: `2026-12-07`.
pub fn day(unix: i64) -> String {
    faro_http::respond::rfc3339(unix).chars().take(10).collect()
}

pub fn css_url() -> &'static str {
    static URL: LazyLock<String> = LazyLock::new(|| {
        let hash = Assets::get("admin.css")
            .map(|f| hex8(&f.metadata.sha256_hash()))
            .unwrap_or_default();
        format!("/admin/assets/admin.css?v={hash}")
    });
    URL.as_str()
}

fn hex8(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// `GET /admin/assets/{file}`: the panel's embedded files (no CDN, nothing fetched at run time).
pub fn assets_router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/admin/assets/{file}", get(asset))
}

async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(f) = Assets::get(&file) else {
        return PageError::not_found("No such file.").into_response();
    };
    let etag = format!("\"{}\"", hex8(&f.metadata.sha256_hash()));
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mime = f.metadata.mimetype().to_string();
    let mut response = Response::new(Body::from(f.data.into_owned()));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    // Pages link the stylesheet with its hash in the query: safe to keep for a day.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_panel_path() {
        assert!(is_local_admin_path("/admin"));
        assert!(is_local_admin_path(
            "/admin/tests/x/dashboard?from=2026-01-01&to=2026-01-31"
        ));
        assert!(is_local_admin_path("/admin?x=1"));
        for bad in [
            "https://evil.example/admin",
            "//evil.example/admin",
            "/admin//evil.example",
            "/administrator",
            "/admin/../api",
            "/admin\\evil",
            "/admin/login",
            "/api/v1/tests",
            "",
            "/admin/\nx",
        ] {
            assert!(!is_local_admin_path(bad), "{bad:?}");
        }
        assert_eq!(safe_next(Some("https://evil.example")), "/admin");
        assert_eq!(safe_next(None), "/admin");
    }

    #[test]
    fn login_urls_encode_next() {
        assert_eq!(login_url("/admin"), "/admin/login");
        assert_eq!(
            login_url("/admin/tests?a=1&b=2"),
            "/admin/login?next=/admin/tests%3Fa%3D1%26b%3D2"
        );
        assert_eq!(login_url("https://evil.example"), "/admin/login");
    }

    #[test]
    fn the_stylesheet_is_embedded() {
        assert!(Assets::get("admin.css").is_some());
        assert!(css_url().starts_with("/admin/assets/admin.css?v="));
    }
}
