//! Staff accounts: storage, the bootstrap admin, and the login / logout / me endpoints.

use faro_store::TenantId;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse};
use faro_auth::Role;
use faro_http::auth::{CSRF_COOKIE, REFRESH_COOKIE, SESSION_COOKIE, Viewer};
use faro_http::{ApiError, ApiResult, ClientKey, Core, HostTenant, Json, Staff};
use faro_store::{DEFAULT_TENANT, Db, StoreError, new_id, unix_now};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

/// Usernames: 1..=64 of `[A-Za-z0-9._@-]`, so they are safe in logs and URLs.
pub fn check_username(u: &str) -> Result<(), String> {
    let ok = !u.is_empty()
        && u.len() <= 64
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if ok {
        Ok(())
    } else {
        Err("usernames are 1 to 64 letters, digits or . _ @ -".into())
    }
}

pub struct UserRow {
    pub id: String,
    pub username: String,
    pub pass_hash: String,
    pub role: Role,
    pub super_admin: bool,
    pub disabled: bool,
}

pub async fn find_user(
    db: &Db,
    tenant: &TenantId,
    username: &str,
) -> Result<Option<UserRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, username, pass_hash, role, super_admin, disabled FROM users \
         WHERE tenant_id = $1 AND username = $2",
    )
    .bind(tenant.as_str())
    .bind(username)
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let role: String = r.try_get("role")?;
    Ok(Some(UserRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        pass_hash: r.try_get("pass_hash")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::corrupt(format!("unknown role {role:?}")))?,
        // Only the default tenant's accounts can be the installation's super-admin.
        super_admin: r.try_get::<i64, _>("super_admin")? != 0 && tenant.as_str() == DEFAULT_TENANT,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    }))
}

pub async fn count_users(db: &Db) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM users")
        .fetch_one(db.reader())
        .await?
        .try_get(0)?)
}

/// Creates the user, or replaces its password hash, role and super-admin flag (and enables it).
pub async fn upsert_user(
    db: &Db,
    tenant: &TenantId,
    username: &str,
    pass_hash: &str,
    role: Role,
    super_admin: bool,
) -> Result<(), StoreError> {
    let now = unix_now();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, username, pass_hash, role, super_admin, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (tenant_id, username) \
         DO UPDATE SET pass_hash = excluded.pass_hash, role = excluded.role, \
         super_admin = excluded.super_admin, disabled = 0, updated_at = excluded.updated_at",
    )
    .bind(new_id())
    .bind(tenant.as_str())
    .bind(username)
    .bind(pass_hash)
    .bind(role.as_str())
    .bind(i64::from(super_admin))
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Creates the user only if absent; true when this call created it.
pub async fn create_user_if_absent(
    db: &Db,
    tenant: &TenantId,
    username: &str,
    pass_hash: &str,
    role: Role,
    super_admin: bool,
) -> Result<bool, StoreError> {
    let now = unix_now();
    let done = sqlx::query(
        "INSERT INTO users (id, tenant_id, username, pass_hash, role, super_admin, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (tenant_id, username) DO NOTHING",
    )
    .bind(new_id())
    .bind(tenant.as_str())
    .bind(username)
    .bind(pass_hash)
    .bind(role.as_str())
    .bind(i64::from(super_admin))
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(done.rows_affected() > 0)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub username: String,
    pub password: String,
    /// For accounts with two-factor sign-in on: six digits from the app, or a recovery code.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// For cookie-authenticated writes: echo it in `x-csrf-token`.
    pub csrf_token: String,
    /// Renews the sign-in at `POST /api/v1/admin/refresh` (once: each answer carries the
    /// next one); also set as the HttpOnly `faro_refresh` cookie. Lasts 7 days unused.
    pub refresh_token: String,
}

fn cookie(
    name: &str,
    value: &str,
    max_age: u64,
    http_only: bool,
    secure: bool,
) -> Option<HeaderValue> {
    let mut c = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).ok()
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("wrong username or password").with_code("invalid_credentials")
}

/// A signed-in staff session: the token (bearer or cookie) and its CSRF companion.
pub struct SignedIn {
    pub token: String,
    pub csrf: String,
    pub ttl: Duration,
    /// The sign-in's refresh token (none for an impersonation session, which ends with its
    /// token).
    pub refresh: Option<String>,
    /// A new known-device mark for this browser (a password sign-in only; see `lockout.rs`).
    pub device: Option<String>,
}

impl From<crate::staff_sessions::Renewed> for SignedIn {
    /// A renewed sign-in as the API answers it and the panel's cookies carry it.
    fn from(renewed: crate::staff_sessions::Renewed) -> Self {
        SignedIn {
            token: renewed.access_token,
            csrf: faro_auth::password::generate(),
            ttl: crate::staff_sessions::ACCESS_TTL,
            refresh: Some(renewed.refresh_token),
            device: None,
        }
    }
}

/// What a sign-in presents: the form's or body's fields and the browser's known-device mark.
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub code: Option<&'a str>,
    /// The `faro_device` cookie, if the browser sent one.
    pub device: Option<&'a str>,
}

/// Checks credentials for the JSON login and the panel's form alike: rate-limited per client;
/// per account, failures past the free ones slow down browsers that never signed into it
/// (`lockout.rs`), so a botnet cannot spread guesses over many addresses and cannot lock the
/// owner out either. The same message and the same argon2 work for unknown users and wrong
/// passwords, so neither the answer nor its timing tells which.
pub async fn sign_in(
    core: &Core,
    tenant: &TenantId,
    client: &str,
    credentials: Credentials<'_>,
) -> ApiResult<SignedIn> {
    let Credentials {
        username,
        password,
        code,
        device,
    } = credentials;
    let quota = core.web.login_quota.filter(|_| core.web.limits_enabled);
    core.limit("login", client, quota).await?;
    let account = crate::lockout::account_key(core, tenant, username);
    let known = device.is_some_and(|d| crate::lockout::is_known_device(core, tenant, username, d));
    let now_ms = faro_store::unix_now_ms();
    if let Some(q) = quota
        && !known
    {
        crate::lockout::admit(core, &account, q.count, now_ms).await?;
    }
    let user = if check_username(username).is_ok() {
        find_user(&core.db, tenant, username).await?
    } else {
        None
    };
    let ok = faro_auth::password::verify_blocking(
        password.to_string(),
        user.as_ref().map(|u| u.pass_hash.clone()),
    )
    .await;
    let user = match (ok, user) {
        (true, Some(u)) if !u.disabled => u,
        _ => {
            if quota.is_some() {
                crate::lockout::failed(core, tenant, &account, now_ms).await?;
            }
            return Err(invalid_credentials());
        }
    };
    // After the password check, so a paused tenant's answer tells nothing to a guesser.
    if core.tenants.state(&core.db, tenant).await.paused {
        return Err(ApiError::forbidden(
            "this tenant is paused: ask the installation's administrator",
        )
        .with_code("tenant_paused"));
    }
    // Last, so a guesser without the password learns nothing about the second factor.
    let mfa = crate::totp::enabled(core, tenant, &user.id).await?;
    if mfa {
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            None => {
                return Err(ApiError::unauthorized(
                    "enter the code from your authenticator app (or a recovery code)",
                )
                .with_code("totp_required"));
            }
            Some(code) => crate::totp::check_code(core, tenant, &user.id, code).await?,
        }
    }
    let ttl = core.web.token_ttl;
    let grant = faro_auth::token::Grant {
        user_id: &user.id,
        username: &user.username,
        tenant_id: tenant.as_str(),
        role: user.role,
        super_admin: user.super_admin,
        impersonator: None,
        mfa,
    };
    let token = core
        .keys
        .issue_grant(&grant, ttl, unix_now())
        .map_err(ApiError::internal)?;
    let refresh = crate::staff_sessions::start(core, tenant, &user.id, mfa).await?;
    let device = match device {
        Some(d) if known => d.to_owned(),
        _ => crate::lockout::device_mark(core, tenant, username, &faro_store::new_id()),
    };
    Ok(SignedIn {
        token,
        csrf: faro_auth::password::generate(),
        ttl,
        refresh: Some(refresh),
        device: Some(device),
    })
}

/// `Set-Cookie` headers for a session (or, with `None`, the headers that clear it).
pub fn session_cookies(
    core: &Core,
    session: Option<&SignedIn>,
) -> AppendHeaders<Vec<(header::HeaderName, HeaderValue)>> {
    let secure = core.web.secure_cookies;
    let (token, csrf, secs) = match session {
        Some(s) => (s.token.as_str(), s.csrf.as_str(), s.ttl.as_secs()),
        None => ("", "", 0),
    };
    // Signing out clears the refresh cookie; a session without one (an impersonation)
    // leaves the browser's own in place.
    let refresh = match session {
        Some(s) => s.refresh.as_deref().map(|r| {
            (
                r,
                u64::try_from(crate::staff_sessions::REFRESH_TTL_SECS).unwrap_or(0),
            )
        }),
        None => Some(("", 0)),
    };
    AppendHeaders(
        [
            cookie(SESSION_COOKIE, token, secs, true, secure),
            cookie(CSRF_COOKIE, csrf, secs, false, secure),
            refresh.and_then(|(r, age)| cookie(REFRESH_COOKIE, r, age, true, secure)),
            // Kept on sign-out: the browser stays one that signed in before.
            session.and_then(|s| s.device.as_deref()).and_then(|d| {
                cookie(
                    crate::lockout::DEVICE_COOKIE,
                    d,
                    crate::lockout::DEVICE_DAYS * 86_400,
                    true,
                    secure,
                )
            }),
        ]
        .into_iter()
        .flatten()
        .map(|v| (header::SET_COOKIE, v))
        .collect(),
    )
}

/// Signs in: a bearer token for API clients, plus the panel's HttpOnly session cookie and CSRF
/// cookie.
#[utoipa::path(post, path = "/api/v1/admin/login", tag = "accounts", request_body = LoginBody,
    responses(
        (status = 200, body = LoginResponse, headers(("Set-Cookie" = String))),
        (status = 400, body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn login(
    State(core): State<Core>,
    HostTenant(tenant): HostTenant,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> ApiResult<impl IntoResponse> {
    let session = sign_in(
        &core,
        &tenant,
        &client,
        Credentials {
            username: &body.username,
            password: &body.password,
            code: body.totp.as_deref(),
            device: faro_http::auth::cookie(&headers, crate::lockout::DEVICE_COOKIE),
        },
    )
    .await?;
    Ok((
        session_cookies(&core, Some(&session)),
        [(header::CACHE_CONTROL, "no-store")],
        Json(LoginResponse {
            expires_in: session.ttl.as_secs(),
            access_token: session.token,
            token_type: "Bearer",
            csrf_token: session.csrf,
            refresh_token: session.refresh.unwrap_or_default(),
        }),
    ))
}

/// Ends the sign-in of the `faro_refresh` cookie (or of `refresh_token` in the body), puts
/// the access token sent with it (bearer or cookie) on the deny list, and clears the panel's
/// cookies.
#[utoipa::path(post, path = "/api/v1/admin/logout", tag = "accounts",
    request_body(content = Option<StaffRefreshBody>, description = "for API clients: the sign-in to end"),
    responses((status = 204, description = "Cookies cleared"),
        (status = 400, body = faro_http::ErrorBody)))]
pub async fn logout(
    State(core): State<Core>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    if let Some(token) = refresh_token_of(&headers, &body)? {
        crate::staff_sessions::end(&core, &token).await?;
    }
    faro_http::auth::revoke_presented(&core, &headers).await?;
    Ok((StatusCode::NO_CONTENT, session_cookies(&core, None)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StaffRefreshBody {
    /// The last `refresh_token` received; without it, the `faro_refresh` cookie is used.
    pub refresh_token: Option<String>,
}

/// The refresh token of a request: the JSON body's, else the `faro_refresh` cookie's.
fn refresh_token_of(headers: &HeaderMap, body: &[u8]) -> ApiResult<Option<String>> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        let parsed: StaffRefreshBody = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request("invalid_json", format!("the body is not valid: {e}"))
        })?;
        if let Some(t) = parsed.refresh_token.filter(|t| !t.trim().is_empty()) {
            return Ok(Some(t));
        }
    }
    Ok(faro_http::auth::cookie(headers, REFRESH_COOKIE)
        .filter(|t| !t.is_empty())
        .map(str::to_owned))
}

/// Renews a staff sign-in: spends the refresh token for a new one-hour access token and the
/// next refresh token (and the panel's cookies). A spent token presented again ends the
/// sign-in everywhere; a disabled account or a paused tenant is refused.
#[utoipa::path(post, path = "/api/v1/admin/refresh", tag = "accounts",
    request_body(content = Option<StaffRefreshBody>, description = "or the faro_refresh cookie"),
    responses(
        (status = 200, body = LoginResponse, headers(("Set-Cookie" = String))),
        (status = 400, body = faro_http::ErrorBody),
        (status = 401, description = "invalid_refresh_token", body = faro_http::ErrorBody),
        (status = 403, description = "tenant_paused", body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn refresh(
    State(core): State<Core>,
    HostTenant(tenant): HostTenant,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    core.limit("staff_refresh", &client, core.web.login_quota)
        .await?;
    let token = refresh_token_of(&headers, &body)?.ok_or_else(|| {
        ApiError::unauthorized("send refresh_token, or the faro_refresh cookie")
            .with_code("invalid_refresh_token")
    })?;
    let renewed = crate::staff_sessions::refresh(&core, &tenant, &token).await?;
    let session = SignedIn::from(renewed);
    Ok((
        session_cookies(&core, Some(&session)),
        [(header::CACHE_CONTROL, "no-store")],
        Json(LoginResponse {
            expires_in: session.ttl.as_secs(),
            access_token: session.token,
            token_type: "Bearer",
            csrf_token: session.csrf,
            refresh_token: session.refresh.unwrap_or_default(),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct StaffMe {
    pub username: String,
    /// `owner`, `admin`, `agent` or `viewer`.
    pub role: String,
    pub tenant: String,
    /// The installation's super-admin (may use `/api/v1/platform/*`).
    pub super_admin: bool,
    /// Set on an impersonation token: the super-admin's user id.
    pub impersonated_by: Option<String>,
    /// Token expiry (RFC 3339).
    pub expires_at: String,
}

#[utoipa::path(get, path = "/api/v1/admin/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = StaffMe), (status = 401, body = faro_http::ErrorBody)))]
pub async fn me(
    Viewer(Staff { claims, tenant, .. }): Viewer,
    _headers: HeaderMap,
) -> Json<StaffMe> {
    let expires_at = time::OffsetDateTime::from_unix_timestamp(claims.exp)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    Json(StaffMe {
        username: claims.name,
        role: claims.role.as_str().to_string(),
        tenant: tenant.to_string(),
        super_admin: claims.sa,
        impersonated_by: claims.imp.clone(),
        expires_at,
    })
}

/// What bootstrapping did, so `serve` can print generated credentials exactly once.
pub enum Bootstrap {
    Configured(String),
    Generated { username: String, password: String },
    Existing,
}

/// The bootstrap admin as configured (ADMIN_USER with ADMIN_PASSWORD or ADMIN_PASS_HASH).
#[derive(Clone, Debug, Default)]
pub struct AdminBootstrap {
    pub user: Option<String>,
    pub password: Option<String>,
    pub pass_hash: Option<String>,
}

/// Applies the configured admin (created or updated at every start). Without one, the first
/// start creates `admin` with a generated password, never a default one. Either way the
/// bootstrap admin is an owner of the `default` tenant and the installation's super-admin.
pub async fn bootstrap_admin(db: &Db, admin: &AdminBootstrap) -> anyhow::Result<Bootstrap> {
    let tenant = &TenantId::default_tenant();
    if let Some(user) = &admin.user {
        let hash = match (&admin.pass_hash, &admin.password) {
            (Some(h), _) => h.clone(),
            (None, Some(p)) => faro_auth::password::hash_blocking(p.clone()).await?,
            (None, None) => anyhow::bail!("ADMIN_USER needs ADMIN_PASSWORD or ADMIN_PASS_HASH"),
        };
        upsert_user(db, tenant, user, &hash, Role::Owner, true).await?;
        return Ok(Bootstrap::Configured(user.clone()));
    }
    if count_users(db).await? > 0 {
        return Ok(Bootstrap::Existing);
    }
    let password = faro_auth::password::generate();
    let hash = faro_auth::password::hash_blocking(password.clone()).await?;
    // Several instances starting together: only the one whose insert lands prints.
    if create_user_if_absent(db, tenant, "admin", &hash, Role::Owner, true).await? {
        Ok(Bootstrap::Generated {
            username: "admin".into(),
            password,
        })
    } else {
        Ok(Bootstrap::Existing)
    }
}

/// Lifetime of staff access tokens and of the panel's session cookie (an hour; the refresh
/// token renews them).
pub const TOKEN_TTL: Duration = crate::staff_sessions::ACCESS_TTL;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_plain() {
        assert!(check_username("admin").is_ok());
        assert!(check_username("ana.perez@example.com").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username(&"a".repeat(65)).is_err());
        assert!(check_username("<script>").is_err());
    }

    #[test]
    fn cookies_are_strict_and_secure_on_https() {
        let c = cookie("faro_session", "t", 60, true, true).expect("cookie");
        let s = c.to_str().expect("ascii");
        assert!(s.contains("HttpOnly") && s.contains("Secure") && s.contains("SameSite=Strict"));
        let c = cookie("faro_csrf", "t", 60, false, false).expect("cookie");
        assert!(!c.to_str().expect("ascii").contains("HttpOnly"));
    }
}
