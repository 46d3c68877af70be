//! `/api/v1/auth/*` and `/api/v1/me`: end users register, log in, refresh and log out on the
//! tenant whose host they call. Thin: rate-limit, parse, call the use case, shape the answer.
//! Register, login and refresh are sensitive endpoints: limited per client (and login per
//! email too) with the login quota (`RATE_LIMIT_LOGIN`, 10/minute by default).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use faro_http::auth::{AdminUser, Viewer};
use faro_http::enduser::{EndUser, USER_CSRF_COOKIE, USER_REFRESH_COOKIE};
use faro_http::respond::{PageQuery, next_page, rfc3339};
use faro_http::tenant::PublicTenant;
use faro_http::visitor::KnownVisitor;
use faro_http::{ApiResult, ClientAddr, ClientKey, Core, Json, Query};
use faro_mail::Postbox;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Tokens;
use super::store::UserRow;
use crate::audit::Actor;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schema(example = "ana@example.com")]
    pub email: String,
    /// At least 8 characters from three of lowercase, uppercase, digits and symbols, or a
    /// passphrase of 15 or more; not a commonly used password (register only).
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    #[schema(example = "ana@example.com")]
    pub email: String,
    /// At least 8 characters from three of lowercase, uppercase, digits and symbols, or a
    /// passphrase of 15 or more; not a commonly used password.
    pub password: String,
    /// Values of the site's custom user fields (`user_fields` in its settings); required
    /// ones must be here.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct UserRef {
    pub id: String,
    pub email: String,
}

/// A sign-in: a short access token (bearer) and the refresh token that renews it. The same
/// sign-in is also set as cookies for a browser on the site (`faro_user`, `faro_user_refresh`,
/// `faro_user_csrf`).
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Single use: each refresh answers the next one. Keep it secret (it lasts 30 days).
    pub refresh_token: String,
    /// Seconds the access token lasts (900).
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// For a browser signed in by the cookies: echo it in `x-csrf-token` on writes (it is
    /// also the readable `faro_user_csrf` cookie). Bearer callers need nothing of it.
    pub csrf_token: String,
    pub user: UserRef,
}

/// A sign-in's answer: its tokens in the body, and the same as the browser's cookies.
fn signed_in(
    core: &Core,
    headers: &HeaderMap,
    t: Tokens,
) -> (super::cookies::SetCookies, Json<TokenResponse>) {
    let csrf = super::cookies::csrf_token(headers);
    let cookies = super::cookies::signed_in(core, &t.access_token, &t.refresh_token, &csrf);
    let body = TokenResponse {
        access_token: t.access_token,
        refresh_token: t.refresh_token,
        expires_in: t.expires_in,
        token_type: "Bearer",
        csrf_token: csrf,
        user: UserRef {
            id: t.user.id,
            email: t.user.email,
        },
    };
    (cookies, Json(body))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The refresh token; a browser signed in by cookies sends `{}` and its
    /// `faro_user_refresh` cookie instead (with `x-csrf-token`).
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// The signed-in end user.
#[derive(Serialize, ToSchema)]
pub struct UserProfile {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
    /// The site's custom user fields, as given (normalised).
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl From<UserRow> for UserProfile {
    fn from(u: UserRow) -> Self {
        UserProfile {
            id: u.id,
            email: u.email,
            email_verified: u.email_verified_at.is_some(),
            created_at: rfc3339(u.created_at),
            last_login_at: u.last_login_at.map(rfc3339),
            fields: u.fields,
        }
    }
}

/// Creates an account on this site (the `Host`'s tenant) and signs it in. The visitor the
/// request comes from (its `faro_vid` cookie or `x-faro-visitor` header) becomes the account's.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "end users", request_body = Registration,
    responses(
        (status = 201, body = TokenResponse, headers(("Set-Cookie" = String))),
        (status = 409, description = "email_taken", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
        (status = 503, description = "the site is paused or in maintenance", body = faro_http::ErrorBody),
    ))]
pub async fn register(
    State(core): State<Core>,
    Extension(postbox): Extension<Postbox>,
    headers: HeaderMap,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    KnownVisitor(visitor): KnownVisitor,
    Json(body): Json<Registration>,
) -> ApiResult<(StatusCode, super::cookies::SetCookies, Json<TokenResponse>)> {
    core.limit("register", &client, core.web.login_quota)
        .await?;
    let lang = super::links_api::mail_lang(&core, &tenant, &headers).await;
    let tokens = super::register(
        &core,
        &tenant,
        &body.email,
        &body.password,
        &body.fields,
        lang,
    )
    .await?;
    super::links::send_soon(&core, &postbox, tokens.mail.clone());
    became(&core, &tenant, visitor.as_deref(), &tokens.user.id).await?;
    let (cookies, body) = signed_in(&core, &headers, tokens);
    Ok((StatusCode::CREATED, cookies, body))
}

/// Signs in with an email and a password; the request's visitor, if it belongs to nobody yet,
/// becomes the account's.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "end users", request_body = Credentials,
    responses(
        (status = 200, body = TokenResponse, headers(("Set-Cookie" = String))),
        (status = 401, description = "invalid_credentials", body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn login(
    State(core): State<Core>,
    headers: HeaderMap,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    KnownVisitor(visitor): KnownVisitor,
    Json(body): Json<Credentials>,
) -> ApiResult<(super::cookies::SetCookies, Json<TokenResponse>)> {
    let quota = core.web.login_quota.filter(|_| core.web.limits_enabled);
    core.limit("user_login", &client, quota).await?;
    // Per account too, so guesses for one account cannot be spread over many clients, and
    // progressive, so they cannot lock its owner out either (see `lockout.rs`; the account
    // is a keyed hash there, never the address in clear).
    let email = super::domain::normalize_email(&body.email);
    let name = format!("user:{email}");
    let account = crate::lockout::account_key(&core, &tenant, &name);
    let device = faro_http::auth::cookie(&headers, super::cookies::USER_DEVICE_COOKIE)
        .filter(|d| crate::lockout::is_known_device(&core, &tenant, &name, d));
    let now_ms = faro_store::unix_now_ms();
    if let Some(q) = quota
        && device.is_none()
    {
        crate::lockout::admit(&core, &account, q.count, now_ms).await?;
    }
    let tokens = match super::login(&core, &tenant, &body.email, &body.password).await {
        Ok(t) => t,
        Err(super::UserError::InvalidCredentials) if quota.is_some() => {
            crate::lockout::failed(&core, &tenant, &account, now_ms).await?;
            return Err(super::UserError::InvalidCredentials.into());
        }
        Err(e) => return Err(e.into()),
    };
    became(&core, &tenant, visitor.as_deref(), &tokens.user.id).await?;
    let (mut cookies, body) = signed_in(&core, &headers, tokens);
    let mark = match device {
        Some(d) => d.to_owned(),
        None => crate::lockout::device_mark(&core, &tenant, &name, &faro_store::new_id()),
    };
    cookies.0.extend(super::cookies::device(&core, &mark));
    Ok((cookies, body))
}

/// The visitor the request came from (its signed cookie or header) becomes the account's.
async fn became(
    core: &Core,
    tenant: &faro_store::TenantId,
    visitor: Option<&str>,
    user_id: &str,
) -> ApiResult<()> {
    if let Some(v) = visitor {
        crate::visitors::merge(core, tenant, v, user_id).await?;
    }
    Ok(())
}

/// Spends a refresh token (the body's, or a browser's `faro_user_refresh` cookie with
/// `x-csrf-token`) for a new access token and the next refresh token. Presenting a spent one
/// again ends the whole sign-in (it was copied).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "end users", request_body = RefreshBody,
    responses(
        (status = 200, body = TokenResponse, headers(("Set-Cookie" = String))),
        (status = 401, description = "invalid_refresh_token", body = faro_http::ErrorBody),
        (status = 403, description = "csrf_failed: the cookie without its x-csrf-token", body = faro_http::ErrorBody),
        (status = 422, description = "no refresh token, in the body or the cookie", body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn refresh(
    State(core): State<Core>,
    PublicTenant(tenant): PublicTenant,
    ClientKey(client): ClientKey,
    headers: HeaderMap,
    Json(body): Json<RefreshBody>,
) -> ApiResult<(super::cookies::SetCookies, Json<TokenResponse>)> {
    core.limit("user_refresh", &client, core.web.login_quota)
        .await?;
    let token = match body.refresh_token {
        Some(token) => token,
        None => {
            let token = faro_http::auth::cookie(&headers, USER_REFRESH_COOKIE)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    super::UserError::Invalid(vec![crate::tenants::domain::Problem::new(
                        "refresh_token",
                        "send the refresh token, or sign in again: this browser has no \
                         faro_user_refresh cookie",
                    )])
                })?;
            faro_http::auth::check_csrf(&Method::POST, &headers, USER_CSRF_COOKIE)?;
            token.to_string()
        }
    };
    let tokens = super::refresh(&core, &tenant, &token).await?;
    Ok(signed_in(&core, &headers, tokens))
}

/// Ends this sign-in: its refresh tokens stop working, the access token is refused from now
/// on (on every instance within 5 seconds), and a browser's sign-in cookies are cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "end users",
    security(("bearer" = [])),
    responses(
        (status = 204, headers(("Set-Cookie" = String))),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "csrf_failed: the cookie without its x-csrf-token", body = faro_http::ErrorBody),
    ))]
pub async fn logout(
    State(core): State<Core>,
    user: EndUser,
) -> ApiResult<(StatusCode, super::cookies::SetCookies)> {
    super::logout(&core, &user).await?;
    Ok((StatusCode::NO_CONTENT, super::cookies::cleared(&core)))
}

/// The signed-in end user's account.
#[utoipa::path(get, path = "/api/v1/me", tag = "end users",
    security(("bearer" = [])),
    responses((status = 200, body = UserProfile), (status = 401, body = faro_http::ErrorBody)))]
pub async fn me(State(core): State<Core>, user: EndUser) -> ApiResult<Json<UserProfile>> {
    Ok(Json(super::me(&core, &user).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// Needed with `password`.
    pub current_password: Option<String>,
    /// The password policy's: 8+ characters from three classes, or a passphrase of 15+.
    pub password: Option<String>,
    /// Custom fields to set (`null` removes one); the others stay.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Changes the custom fields, or the password (the current one first: every other sign-in
/// of the account then ends; this one goes on), or both.
#[utoipa::path(patch, path = "/api/v1/me", tag = "end users", request_body = PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserProfile),
        (status = 401, body = faro_http::ErrorBody),
        (status = 422, description = "a weak password or a wrong current one", body = faro_http::ErrorBody),
        (status = 429, body = faro_http::ErrorBody),
    ))]
pub async fn update_me(
    State(core): State<Core>,
    user: EndUser,
    Json(body): Json<PasswordChange>,
) -> ApiResult<Json<UserProfile>> {
    // Guessing the current password through this endpoint is limited like a login.
    core.limit("user_login_email", &user.id, core.web.login_quota)
        .await?;
    // Every check before any write: a bad field does not leave a changed password behind.
    let fields = match &body.fields {
        Some(given) => Some(super::merged_fields(&core, &user, given).await?),
        None => None,
    };
    match (&body.current_password, &body.password) {
        (Some(current), Some(new)) => {
            super::change_password(&core, &user, current, new).await?;
        }
        (None, Some(_)) => {
            return Err(
                super::UserError::Invalid(vec![crate::tenants::domain::Problem::new(
                    "current_password",
                    "needed to change the password",
                )])
                .into(),
            );
        }
        _ => {}
    }
    if let Some(fields) = &fields {
        super::save_fields(&core, &user, fields).await?;
    }
    Ok(Json(super::me(&core, &user).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMe {
    /// The account's password, to confirm.
    pub password: String,
}

/// Erases the account: it cannot sign in again, this access token is refused from now on,
/// and every module erases what it holds about the user (`user.deleted`).
#[utoipa::path(delete, path = "/api/v1/me", tag = "end users", request_body = DeleteMe,
    security(("bearer" = [])),
    responses(
        (status = 204),
        (status = 401, body = faro_http::ErrorBody),
        (status = 422, description = "wrong password", body = faro_http::ErrorBody),
    ))]
pub async fn delete_me(
    State(core): State<Core>,
    user: EndUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<DeleteMe>,
) -> ApiResult<(StatusCode, super::cookies::SetCookies)> {
    core.limit("user_login_email", &user.id, core.web.login_quota)
        .await?;
    let row = super::me(&core, &user).await?;
    if !faro_auth::password::verify_blocking(body.password, Some(row.pass_hash)).await {
        return Err(
            super::UserError::Invalid(vec![crate::tenants::domain::Problem::new(
                "password",
                "this is not your password",
            )])
            .into(),
        );
    }
    let actor = Actor {
        id: Some(user.id.clone()),
        name: format!("user:{}", row.email),
        impersonator: None,
        ip: client,
    };
    super::logout(&core, &user).await?;
    super::delete(&core, &user.tenant, &user.id, &actor).await?;
    Ok((StatusCode::NO_CONTENT, super::cookies::cleared(&core)))
}

#[derive(Serialize, ToSchema)]
pub struct EndUserList {
    pub items: Vec<UserProfile>,
    pub next_cursor: Option<String>,
}

/// The tenant's end users, newest first (staff).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "end users", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = EndUserList), (status = 401, body = faro_http::ErrorBody)))]
pub async fn list_users(
    State(core): State<Core>,
    Viewer(staff): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<EndUserList>> {
    let (limit, after) = q.page()?;
    let mut rows = super::store::list_users(
        &core.db,
        super::store::Emails::of(&core),
        &staff.tenant,
        after.as_deref(),
        limit as i64 + 1,
    )
    .await
    .map_err(super::UserError::from)?;
    let next_cursor = next_page(&mut rows, limit, |u| &u.id);
    Ok(Json(EndUserList {
        items: rows.into_iter().map(UserProfile::from).collect(),
        next_cursor,
    }))
}

/// Erases an end user (owners and admins): as `DELETE /api/v1/me`, audited with the staff
/// member who asked. Access tokens already issued expire within 15 minutes.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}", tag = "end users",
    security(("bearer" = [])),
    responses((status = 204), (status = 404, body = faro_http::ErrorBody)))]
pub async fn delete_user(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = Actor::staff(&staff, client.as_deref());
    super::delete(&core, &staff.tenant, &id, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
