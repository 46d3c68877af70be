//! End users (people registered on a tenant's sites, not staff) as an extractor: `EndUser`
//! takes an access token of the end-user audience, issued for the tenant whose host the
//! request is for, not on the deny list (logged out). Modules use it for "my points", "my
//! credits", "my notifications".
//!
//! Apps send the token as a bearer token. A browser on the site's own pages gets it as the
//! HttpOnly [`USER_COOKIE`] instead, so no script ever holds it; a write carried by that
//! cookie must echo [`USER_CSRF_COOKIE`] in `x-csrf-token` (double submit), like the panel's.
//! A bearer token wins over the cookie.
//!
//! The deny list holds tokens and whole sign-ins (a logout, a password reset or an erasure
//! ends every access token of the sign-ins concerned, not only the one presented). It is read
//! at most once per token every [`REVOKED_CACHE_TTL`] per instance; a revocation made on this
//! instance applies here at once, on the others within that time (access tokens live 15
//! minutes, so the list stays short).

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use faro_auth::token::UserClaims;
use faro_store::{Db, StoreError, TenantId};

use crate::error::ApiError;
use crate::state::Core;
use crate::tenant::PublicTenant;
use crate::ttl::TtlMap;

/// The end user's access token for browsers (HttpOnly, `SameSite=Lax`, 15 minutes).
pub const USER_COOKIE: &str = "faro_user";
/// The end user's refresh token for browsers (HttpOnly, `SameSite=Strict`, only sent to
/// `/api/v1/auth`).
pub const USER_REFRESH_COOKIE: &str = "faro_user_refresh";
/// The double-submit companion of [`USER_COOKIE`]: readable by the site's scripts, echoed in
/// `x-csrf-token` on writes. Not the panel's `faro_csrf`, so a staff member signing out of
/// the panel does not break their own sign-in as a user of the site, nor the other way round.
pub const USER_CSRF_COOKIE: &str = "faro_user_csrf";

/// How the request carries an end user's access token, if it does: the bearer token first,
/// else the browser's cookie.
fn user_token(parts: &Parts) -> Option<(&str, crate::auth::Via)> {
    if parts
        .headers
        .contains_key(axum::http::header::AUTHORIZATION)
    {
        return crate::auth::bearer(&parts.headers).map(|t| (t, crate::auth::Via::Bearer));
    }
    crate::auth::cookie(&parts.headers, USER_COOKIE)
        .filter(|t| !t.is_empty())
        .map(|t| (t, crate::auth::Via::Cookie))
}

/// How long "this token is not revoked" is believed without asking the database.
pub const REVOKED_CACHE_TTL: Duration = Duration::from_secs(5);
const MAX_CACHED: usize = 50_000;

/// A signed-in end user of the request's tenant.
#[derive(Clone, Debug)]
pub struct EndUser {
    pub id: String,
    pub tenant: TenantId,
    pub claims: UserClaims,
}

/// Tokens checked against the deny list lately: `true` revoked (believed for good: a revoked
/// token never comes back), `false` believed for [`REVOKED_CACHE_TTL`].
pub struct RevokedCache {
    map: TtlMap<String, bool>,
}

impl Default for RevokedCache {
    fn default() -> Self {
        RevokedCache {
            map: TtlMap::new(MAX_CACHED),
        }
    }
}

impl RevokedCache {
    /// Whether the token `jti` or its sign-in `sid` was revoked. The answer is cached by
    /// token; a sign-in ended on this instance is also remembered by its own id, so every
    /// token of it is refused here at once.
    pub async fn is_revoked(&self, db: &Db, jti: &str, sid: &str) -> Result<bool, StoreError> {
        if let Some((true, _)) = self.map.get(sid) {
            return Ok(true);
        }
        if let Some((revoked, age)) = self.map.get(jti)
            && (revoked || age < REVOKED_CACHE_TTL)
        {
            return Ok(revoked);
        }
        let revoked = faro_store::revoked_tokens::is_revoked_any_tenant(db, jti, sid).await?;
        self.map.insert(jti.to_string(), revoked);
        Ok(revoked)
    }

    /// Records a revocation (of a token or a whole sign-in) made on this instance, so it
    /// applies here at once.
    pub fn revoked(&self, jti_or_sid: &str) {
        self.map.insert(jti_or_sid.to_string(), true);
    }
}

impl<S> FromRequestParts<S> for EndUser
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let (token, via) = user_token(parts).ok_or_else(|| {
            ApiError::unauthorized(
                "sign in first: send the access token as a bearer token (or, in a browser, \
                 the faro_user cookie)",
            )
        })?;
        if via == crate::auth::Via::Cookie {
            crate::auth::check_csrf(&parts.method, &parts.headers, USER_CSRF_COOKIE)?;
        }
        let claims = core
            .keys
            .verify_user(token, faro_store::unix_now())
            .map_err(|_| ApiError::unauthorized("the access token is invalid or expired"))?;
        let PublicTenant(tenant) = PublicTenant::from_request_parts(parts, state).await?;
        if claims.tid != tenant.as_str() {
            return Err(ApiError::unauthorized(
                "this access token belongs to another site",
            ));
        }
        if core
            .revoked_tokens
            .is_revoked(&core.db, &claims.jti, &claims.sid)
            .await?
        {
            return Err(ApiError::unauthorized(
                "this access token was revoked: sign in again",
            ));
        }
        Ok(EndUser {
            id: claims.sub.clone(),
            tenant,
            claims,
        })
    }
}

/// The signed-in end user, when the request carries a valid access token of this site; `None`
/// otherwise (no token, a staff token, an expired or revoked one). For endpoints open to
/// everyone that remember who used them (a quiz finished by a signed-in user becomes theirs):
/// a stale token must not turn a visitor away there.
pub struct MaybeEndUser(pub Option<EndUser>);

impl<S> FromRequestParts<S> for MaybeEndUser
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // A cookie-carried write without its CSRF token is answered as anonymous: another
        // site's form cannot make a result someone's.
        let has_user_token = user_token(parts).is_some_and(|(t, _)| !t.starts_with("faro_"));
        if !has_user_token {
            return Ok(MaybeEndUser(None));
        }
        match EndUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(MaybeEndUser(Some(user))),
            // The database failing is not the token's fault: say so.
            Err(e) if e.status.is_server_error() => Err(e),
            Err(_) => Ok(MaybeEndUser(None)),
        }
    }
}
