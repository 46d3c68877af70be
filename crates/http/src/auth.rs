//! Authentication and roles as extractors: a handler that takes `AdminUser` cannot run for a
//! viewer, and one that takes `Viewer` cannot run anonymously. Both also take an integration's
//! API key (see [`crate::apikey`]) on a module's routes, within the key's scopes.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use faro_auth::Role;
use faro_auth::token::Claims;
use faro_store::TenantId;

use crate::apikey::{Access, KEY_PREFIX, KeyRefusal, RouteModule, allows};
use crate::error::ApiError;
use crate::state::Core;
use crate::tenant::{Staff, TenantState};

/// Cookie holding the panel's session token (HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "faro_session";
/// The panel's staff refresh token (HttpOnly): renews the session when its hour is over.
pub const REFRESH_COOKIE: &str = "faro_refresh";
/// Double-submit CSRF cookie: readable by the panel's pages, echoed in `x-csrf-token` or a form field.
pub const CSRF_COOKIE: &str = "faro_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Any signed-in user (admin or viewer): reads and analytics.
pub struct Viewer(pub Staff);

/// A signed-in admin or owner: everything in their tenant.
pub struct AdminUser(pub Staff);

/// The installation's super-admin: the console (`/api/v1/platform/*`, `/platform`). A
/// tenant's credentials, including an impersonation token, never pass.
pub struct SuperAdmin(pub Staff);

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

/// The claims of a valid bearer token or session cookie, if the request has one; no CSRF
/// check and no error, for deciding things (which tenant?) before the handler authenticates.
pub fn authenticate_quietly(core: &Core, parts: &Parts) -> Option<Claims> {
    let (token, _) = token_of(&parts.headers)?;
    core.keys.verify(token, faro_store::unix_now()).ok()
}

pub fn authenticate(core: &Core, parts: &Parts) -> Result<(Claims, Via), ApiError> {
    let (token, via) = token_of(&parts.headers)
        .ok_or_else(|| ApiError::unauthorized("sign in first: send a bearer token"))?;
    let claims = core
        .keys
        .verify(token, faro_store::unix_now())
        .map_err(|_| ApiError::unauthorized("the token is invalid or expired"))?;
    if via == Via::Cookie {
        check_csrf(&parts.method, &parts.headers, CSRF_COOKIE)?;
    }
    Ok((claims, via))
}

/// The double-submit check of a cookie-authenticated request: a write (anything but `GET`,
/// `HEAD`, `OPTIONS`) must echo the value of the `csrf_cookie` cookie in `x-csrf-token`,
/// which a page of another site cannot read.
pub fn check_csrf(method: &Method, headers: &HeaderMap, csrf_cookie: &str) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let expected = cookie(headers, csrf_cookie);
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (expected, sent) {
        (Some(e), Some(s)) if !e.is_empty() && same_secret(e, s) => Ok(()),
        _ => Err(ApiError::forbidden(format!(
            "missing or wrong CSRF token: send the {csrf_cookie} cookie's value in x-csrf-token"
        ))
        .with_code("csrf_failed")),
    }
}

/// The staff member behind verified claims, refused while their tenant is paused (an
/// impersonating super-admin still gets in, to look at what is wrong) and when their account
/// changed after the token was issued.
async fn staff(core: &Core, claims: Claims, path: &str) -> Result<Staff, ApiError> {
    refuse_outdated(core, &claims).await?;
    let staff = Staff::from_claims(claims);
    // One look at the tenant directory for both checks.
    let state = core.tenants.state(&core.db, &staff.tenant).await;
    refuse_paused(&state, &staff)?;
    refuse_single_factor(&state, &staff.claims, path)?;
    Ok(staff)
}

/// Puts the staff access token a request carries (bearer or the panel's cookie) on the deny
/// list until it expires: signing out ends it at once on this instance and within
/// [`crate::enduser::REVOKED_CACHE_TTL`] on the others. Nothing for an invalid token or an
/// API key.
pub async fn revoke_presented(
    core: &Core,
    headers: &HeaderMap,
) -> Result<(), faro_store::StoreError> {
    let Some((token, _)) = token_of(headers) else {
        return Ok(());
    };
    let Ok(claims) = core.keys.verify(token, faro_store::unix_now()) else {
        return Ok(());
    };
    faro_store::revoked_tokens::revoke_token(
        core.db.writer(),
        &TenantId::new(claims.tid.as_str()),
        &claims.jti,
        claims.exp,
    )
    .await?;
    core.revoked_tokens.revoked(&claims.jti);
    Ok(())
}

/// What a staff member signed in without a second factor may still reach in a tenant that
/// requires one: who they are, and turning it on.
pub const SECOND_FACTOR_ENROLLMENT: &[&str] = &[
    "/api/v1/admin/me",
    "/api/v1/admin/me/totp",
    "/api/v1/admin/me/totp/confirm",
    "/admin/security",
    "/admin/security/totp",
    "/admin/security/totp/confirm",
];

/// Refuses a staff token signed in without a second factor when the tenant's settings
/// require one (`security.require_totp`), except on [`SECOND_FACTOR_ENROLLMENT`]. The
/// super-admin's impersonation tokens pass: the super-admin signed in on their own tenant.
pub fn refuse_single_factor(
    state: &TenantState,
    claims: &Claims,
    path: &str,
) -> Result<(), ApiError> {
    if claims.mfa || claims.imp.is_some() || SECOND_FACTOR_ENROLLMENT.contains(&path) {
        return Ok(());
    }
    if state.require_totp {
        return Err(ApiError::forbidden(
            "this site requires two-factor sign-in: turn it on (the panel's Security page, or \
             POST /api/v1/admin/me/totp then /api/v1/admin/me/totp/confirm) and sign in again \
             with a code",
        )
        .with_code("totp_required"));
    }
    Ok(())
}

/// Refuses a staff token that was signed out, or that was issued before its account last
/// changed (role, password, disabled): the token's role may no longer be true. Every staff
/// check (API, panel, console) passes here.
pub async fn refuse_outdated(core: &Core, claims: &Claims) -> Result<(), ApiError> {
    // A staff token has no sign-in id of its own: its `jti` stands for both.
    if core
        .revoked_tokens
        .is_revoked(&core.db, &claims.jti, &claims.jti)
        .await?
    {
        return Err(ApiError::unauthorized(
            "this token was signed out: sign in again",
        ));
    }
    if claims.issued_ms()
        < core
            .staff_tokens
            .tokens_after(&core.db, &claims.sub)
            .await?
    {
        return Err(ApiError::unauthorized(
            "your account changed since you signed in (role, password or status): sign in again",
        ));
    }
    Ok(())
}

/// Per account, since when (unix milliseconds) its staff tokens count, as last read (for
/// [`STAFF_TOKENS_TTL`]).
pub struct StaffTokens {
    map: crate::ttl::TtlMap<String, i64>,
}

impl Default for StaffTokens {
    fn default() -> Self {
        StaffTokens {
            map: crate::ttl::TtlMap::new(10_000),
        }
    }
}

/// How long an account's "tokens issued after" time is believed on an instance: a change
/// made elsewhere refuses its old tokens here within this time (on the instance that made it,
/// at once).
pub const STAFF_TOKENS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl StaffTokens {
    pub async fn tokens_after(
        &self,
        db: &faro_store::Db,
        user_id: &str,
    ) -> Result<i64, faro_store::StoreError> {
        if let Some(after) = self.map.fresh(user_id, STAFF_TOKENS_TTL) {
            return Ok(after);
        }
        let after = faro_store::staff_tokens_after_any_tenant(db, user_id).await?;
        self.map.insert(user_id.to_string(), after);
        Ok(after)
    }

    /// Forgets what this instance knew of the account (after a change made here).
    pub fn forget(&self, user_id: &str) {
        self.map.remove(user_id);
    }
}

fn refuse_paused(state: &TenantState, staff: &Staff) -> Result<(), ApiError> {
    if staff.claims.imp.is_none() && state.paused {
        return Err(ApiError::forbidden(
            "this tenant is paused: ask the installation's administrator",
        )
        .with_code("tenant_paused"));
    }
    Ok(())
}

/// The `Authorization: Bearer` credential, if any (never the session cookie).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    match token_of(headers) {
        Some((token, Via::Bearer)) => Some(token),
        _ => None,
    }
}

/// The bearer credential when it is an API key.
fn api_key_of(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).filter(|t| t.starts_with(KEY_PREFIX))
}

/// The tenant of the request's credentials (token, session cookie or API key), if it has valid
/// ones; no error, for deciding things before the handler authenticates.
pub async fn tenant_quietly(core: &Core, parts: &Parts) -> Option<TenantId> {
    if let Some(key) = api_key_of(&parts.headers) {
        let now = faro_store::unix_now();
        return match core.api_keys.check(&core.db, key, now).await {
            Ok(Ok(row)) => Some(row.tenant.clone()),
            _ => None,
        };
    }
    authenticate_quietly(core, parts).map(|c| TenantId::new(c.tid.as_str()))
}

/// An integration's API key standing in for a staff member on a module's route: the route's
/// module must be in its scopes (`module:read` to read, `module:write` to write).
async fn key_staff(
    core: &Core,
    parts: &Parts,
    key: &str,
    access: Access,
) -> Result<Staff, ApiError> {
    let now = faro_store::unix_now();
    let row = match core.api_keys.check(&core.db, key, now).await? {
        Ok(row) => row,
        Err(refusal) => {
            return Err(ApiError::unauthorized(match refusal {
                KeyRefusal::Unknown => "this API key is not known",
                KeyRefusal::Revoked => "this API key was revoked",
                KeyRefusal::Expired => "this API key has expired",
            }));
        }
    };
    let Some(RouteModule(module)) = parts.extensions.get::<RouteModule>().copied() else {
        return Err(ApiError::forbidden(
            "API keys reach the modules' APIs only: this needs a staff member's sign-in",
        )
        .with_code("api_key_not_allowed"));
    };
    if !allows(&row.scopes, module, access) {
        let scope = match access {
            Access::Read => format!("{module}:read"),
            Access::Write => format!("{module}:write"),
        };
        return Err(
            ApiError::forbidden(format!("this API key lacks the {scope} scope"))
                .with_code("insufficient_scope"),
        );
    }
    let role = if allows(&row.scopes, module, Access::Write) {
        Role::Admin
    } else {
        Role::Viewer
    };
    let claims = Claims {
        sub: row.id.clone(),
        name: format!("key:{}", row.name),
        tid: row.tenant.as_str().to_string(),
        role,
        iat: row.created_at,
        exp: row.expires_at.unwrap_or(i64::MAX),
        iss: String::new(),
        aud: String::new(),
        jti: row.id.clone(),
        sa: false,
        imp: None,
        iat_ms: row.created_at.saturating_mul(1000),
        mfa: false,
    };
    let mut staff = Staff::from_claims(claims);
    staff.api_key = Some(row.id.clone());
    refuse_paused(&core.tenants.state(&core.db, &staff.tenant).await, &staff)?;
    Ok(staff)
}

impl<S> FromRequestParts<S> for Viewer
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        if let Some(key) = api_key_of(&parts.headers) {
            return Ok(Viewer(key_staff(&core, parts, key, Access::Read).await?));
        }
        let (claims, _) = authenticate(&core, parts)?;
        Ok(Viewer(staff(&core, claims, parts.uri.path()).await?))
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
        if let Some(key) = api_key_of(&parts.headers) {
            return Ok(AdminUser(
                key_staff(&core, parts, key, Access::Write).await?,
            ));
        }
        let (claims, _) = authenticate(&core, parts)?;
        if !claims.role.can_write() {
            return Err(ApiError::forbidden(
                "this needs the admin or owner role; agents and viewers can only read",
            ));
        }
        Ok(AdminUser(staff(&core, claims, parts.uri.path()).await?))
    }
}

impl<S> FromRequestParts<S> for SuperAdmin
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        if api_key_of(&parts.headers).is_some() {
            return Err(ApiError::forbidden(
                "this is the installation's console: API keys never reach it",
            )
            .with_code("super_admin_only"));
        }
        let (claims, _) = authenticate(&core, parts)?;
        refuse_outdated(&core, &claims).await?;
        if !claims.sa || claims.tid != faro_store::DEFAULT_TENANT {
            return Err(ApiError::forbidden(
                "this is the installation's console: it needs a super-admin's credentials",
            )
            .with_code("super_admin_only"));
        }
        if !super_admin_network(&core, parts) {
            return Err(ApiError::forbidden(
                "the installation's console answers only from its allowed networks \
                 (SUPER_ADMIN_NETWORKS); this address is not one of them",
            )
            .with_code("super_admin_network"));
        }
        Ok(SuperAdmin(Staff::from_claims(claims)))
    }
}

/// Whether the request comes from where the super-admin's powers work (`SUPER_ADMIN_NETWORKS`;
/// empty: anywhere). Checked on every use, not only at sign-in, so a token carried elsewhere
/// is as powerless there as a sign-in from there. An address that cannot be told is outside.
pub fn super_admin_network(core: &Core, parts: &Parts) -> bool {
    let allowed = &core.web.super_admin_networks;
    if allowed.is_empty() {
        return true;
    }
    crate::client_ip_of(core, parts).is_some_and(|ip| allowed.iter().any(|n| n.contains(ip)))
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
