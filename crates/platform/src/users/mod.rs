//! End users: the people who register on a tenant's sites and apps (spec/platform.md, "end
//! user"). Register and log in with an email and a password, get a short access token and a
//! refresh token that rotates on every use; a spent refresh token presented again revokes its
//! whole sign-in (it was copied). Logging out, a reset or changed password, a copied refresh
//! token and an erasure put the sign-ins they end on the deny list, so their access tokens
//! stop at once rather than at expiry. Registering publishes `user.registered`.
//!
//! The HTTP layer's `EndUser` extractor (faro_http::enduser) checks access tokens for every
//! module; rate limits are the handlers' (api.rs).

pub mod api;
pub mod cookies;
pub mod domain;
pub mod links;
pub mod links_api;
pub mod links_pages;
pub mod mail_texts;
pub mod store;

use std::time::Duration;

use faro_http::{ApiError, Core};
use faro_store::outbox::NewEvent;
use faro_store::quota::Quota;
use faro_store::{StoreError, TenantId, new_id, unix_now};

use crate::tenants::domain::Problem;
use domain::Presented;
use store::{NewRefresh, UserRow};

/// Everything an end-user use case can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("the email is taken")]
    EmailTaken,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("{0}")]
    InvalidRefresh(&'static str),
    #[error("no such user")]
    NotFound,
    #[error("the email is confirmed already")]
    AlreadyVerified,
    #[error("the link is unknown, spent or expired")]
    InvalidLink,
    #[error("issuing a token: {0}")]
    Token(String),
    #[error(transparent)]
    Quota(#[from] faro_store::quota::Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for UserError {
    fn from(e: sqlx::Error) -> Self {
        UserError::Store(e.into())
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Invalid(problems) => {
                crate::tenants::domain::invalid("the request is not valid", problems)
            }
            UserError::EmailTaken => ApiError::conflict(
                "email_taken",
                "an account with this email exists here: log in, or reset the password",
            ),
            UserError::InvalidCredentials => {
                ApiError::unauthorized("wrong email or password").with_code("invalid_credentials")
            }
            UserError::InvalidRefresh(m) => {
                ApiError::unauthorized(m).with_code("invalid_refresh_token")
            }
            UserError::NotFound => ApiError::not_found("no such user here"),
            UserError::AlreadyVerified => ApiError::conflict(
                "email_verified",
                "this account's email is confirmed already",
            ),
            UserError::InvalidLink => ApiError::bad_request(
                "invalid_link",
                "this link is unknown, used already or expired: ask for a new one",
            ),
            UserError::Token(e) => ApiError::internal(e),
            UserError::Quota(e) => e.into(),
            UserError::Store(e) => e.into(),
        }
    }
}

/// A sign-in's tokens, as the API answers them.
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub user: UserRow,
    /// The confirmation mail queued by a registration, to send now.
    pub mail: Option<String>,
}

/// Issues an access token and stores the next refresh token of `family` in `tx`.
async fn issue(
    core: &Core,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user: &UserRow,
    family: &str,
    now: i64,
) -> Result<(String, String), UserError> {
    let refresh = domain::generate_refresh_token(&mut rand::rng());
    store::insert_refresh(
        tx,
        NewRefresh {
            id: &new_id(),
            tenant: &user.tenant,
            user_id: &user.id,
            family,
            token_hash: &faro_auth::secret::hash(&refresh),
            created_at: now,
            expires_at: now + domain::REFRESH_TTL_SECS,
        },
    )
    .await?;
    let (access, _) = core
        .keys
        .issue_user(
            &user.id,
            user.tenant.as_str(),
            family,
            Duration::from_secs(domain::ACCESS_TTL_SECS),
            now,
        )
        .map_err(|e| UserError::Token(e.to_string()))?;
    Ok((access, refresh))
}

/// Creates the account and its first sign-in, and publishes `user.registered`, in one
/// transaction.
pub async fn register(
    core: &Core,
    tenant: &TenantId,
    email: &str,
    password: &str,
    given_fields: &serde_json::Map<String, serde_json::Value>,
    lang: faro_web::i18n::Lang,
) -> Result<Tokens, UserError> {
    let mut problems = Vec::new();
    if let Err(m) = domain::check_email(email) {
        problems.push(Problem::new("email", m));
    }
    if let Err(m) = faro_auth::policy::check(password) {
        problems.push(Problem::new("password", m));
    }
    let defs = field_defs(core, tenant).await?;
    let fields = match crate::user_fields::apply(&defs, &serde_json::Map::new(), given_fields) {
        Ok(f) => f,
        Err(p) => {
            problems.extend(p);
            serde_json::Map::new()
        }
    };
    if !problems.is_empty() {
        return Err(UserError::Invalid(problems));
    }
    let email = domain::normalize_email(email);
    // Checked before the costly hash, and again by the unique index (a race).
    if store::user_by_email(&core.db, store::Emails::of(core), tenant, &email)
        .await?
        .is_some()
    {
        return Err(UserError::EmailTaken);
    }
    let pass_hash = faro_auth::password::hash_blocking(password.to_string())
        .await
        .map_err(|e| UserError::Token(e.to_string()))?;
    let now = unix_now();
    let user = UserRow {
        id: new_id(),
        tenant: tenant.clone(),
        email,
        pass_hash,
        email_verified_at: None,
        created_at: now,
        last_login_at: Some(now),
        fields,
    };
    let family = new_id();
    let mut tx = core.db.writer().begin().await?;
    let registered = "SELECT COUNT(*) FROM end_users WHERE tenant_id = $1";
    faro_store::quota::guard(&mut tx, tenant, Quota::EndUsers, registered, 1).await??;
    match store::insert_user(&mut tx, store::Emails::of(core), &user).await {
        Err(StoreError::Conflict(_)) => return Err(UserError::EmailTaken),
        other => other?,
    }
    let (access, refresh) = issue(core, &mut tx, &user, &family, now).await?;
    let event = NewEvent::new(
        tenant.as_str(),
        "user.registered",
        &user.id,
        &serde_json::json!({"user_id": user.id, "email": user.email}),
    )?;
    faro_store::outbox::append(&mut tx, core.db.backend(), &[event]).await?;
    let mail = links::enqueue(
        &mut tx,
        tenant,
        &user.id,
        mail_texts::Purpose::VerifyEmail,
        lang,
        now,
    )
    .await?;
    tx.commit().await?;
    core.wake.notify();
    Ok(Tokens {
        access_token: access,
        refresh_token: refresh,
        expires_in: domain::ACCESS_TTL_SECS,
        user,
        mail,
    })
}

/// Checks the password (the same argon2 work for an unknown email) and starts a sign-in.
pub async fn login(
    core: &Core,
    tenant: &TenantId,
    email: &str,
    password: &str,
) -> Result<Tokens, UserError> {
    let email = domain::normalize_email(email);
    let user = if domain::check_email(&email).is_ok() {
        store::user_by_email(&core.db, store::Emails::of(core), tenant, &email).await?
    } else {
        None
    };
    let ok = faro_auth::password::verify_blocking(
        password.to_string(),
        user.as_ref().map(|u| u.pass_hash.clone()),
    )
    .await;
    let Some(user) = user.filter(|_| ok) else {
        return Err(UserError::InvalidCredentials);
    };
    let now = unix_now();
    let mut tx = core.db.writer().begin().await?;
    let (access, refresh) = issue(core, &mut tx, &user, &new_id(), now).await?;
    tx.commit().await?;
    store::record_login(&core.db, tenant, &user.id, now).await?;
    Ok(Tokens {
        access_token: access,
        refresh_token: refresh,
        expires_in: domain::ACCESS_TTL_SECS,
        user,
        mail: None,
    })
}

/// Spends a refresh token for the next pair; a reused one revokes its whole sign-in.
pub async fn refresh(core: &Core, tenant: &TenantId, token: &str) -> Result<Tokens, UserError> {
    const UNKNOWN: &str = "this refresh token is not valid here: log in again";
    let row =
        match store::refresh_by_hash_any_tenant(&core.db, &faro_auth::secret::hash(token)).await? {
            Some(row) if &row.tenant == tenant => row,
            _ => return Err(UserError::InvalidRefresh(UNKNOWN)),
        };
    let now = unix_now();
    let state = domain::RefreshState {
        used: row.used_at.is_some(),
        revoked: row.revoked_at.is_some(),
        expires_at: row.expires_at,
    };
    match domain::presented(state, now) {
        Presented::Rotate => {}
        Presented::Reused => return Err(reused(core, &row, now).await),
        Presented::Expired => {
            return Err(UserError::InvalidRefresh(
                "this refresh token has expired: log in again",
            ));
        }
        Presented::Revoked => {
            return Err(UserError::InvalidRefresh(
                "this sign-in has ended: log in again",
            ));
        }
    }
    let user = store::user_by_id(&core.db, store::Emails::of(core), tenant, &row.user_id)
        .await?
        .ok_or(UserError::InvalidRefresh(UNKNOWN))?;
    let mut tx = core.db.writer().begin().await?;
    if !store::spend_refresh(&mut tx, &row.id, now).await? {
        // Another refresh spent it a moment ago: two holders of one token.
        drop(tx);
        return Err(reused(core, &row, now).await);
    }
    let (access, refresh) = issue(core, &mut tx, &user, &row.family, now).await?;
    tx.commit().await?;
    Ok(Tokens {
        access_token: access,
        refresh_token: refresh,
        expires_in: domain::ACCESS_TTL_SECS,
        user,
        mail: None,
    })
}

async fn reused(core: &Core, row: &store::RefreshRow, now: i64) -> UserError {
    let ended = match store::revoke_family(&core.db, &row.tenant, &row.family, now).await {
        // The thief may hold an access token of the sign-in too: it ends with it.
        Ok(n) => deny_sign_in(core, &row.tenant, &row.family, now)
            .await
            .map(|()| n),
        Err(e) => Err(e),
    };
    match ended {
        Ok(n) => {
            tracing::warn!(
                user = %row.user_id,
                family = %row.family,
                revoked = n,
                "a spent refresh token was presented again: the sign-in is revoked"
            );
            UserError::InvalidRefresh(
                "this refresh token was already used: the sign-in is ended, log in again",
            )
        }
        Err(e) => e.into(),
    }
}

/// Ends the sign-in of this access token: its refresh tokens are revoked and the sign-in goes
/// on the deny list until its last access token expires, so a token refreshed earlier in the
/// same sign-in stops working too.
pub async fn logout(core: &Core, user: &faro_http::enduser::EndUser) -> Result<(), UserError> {
    let now = unix_now();
    store::revoke_family(&core.db, &user.tenant, &user.claims.sid, now).await?;
    deny_sign_in(core, &user.tenant, &user.claims.sid, now).await?;
    Ok(())
}

/// Puts one sign-in on the deny list for as long as an access token of it can live.
async fn deny_sign_in(
    core: &Core,
    tenant: &TenantId,
    sid: &str,
    now: i64,
) -> Result<(), StoreError> {
    let until = now + domain::ACCESS_TTL_SECS as i64;
    faro_store::revoked_tokens::revoke_token(core.db.writer(), tenant, sid, until).await?;
    core.revoked_tokens.revoked(sid);
    Ok(())
}

/// Puts every sign-in of the user that may still hold a live access token, but `except`, on
/// the deny list, in the caller's transaction (a password reset, a changed password, an
/// erasure: whoever held those tokens is out at once, not in 15 minutes). Returns them, for
/// [`denied_here`] once the transaction commits.
pub(crate) async fn deny_sign_ins(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    user_id: &str,
    except: &str,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let ttl = domain::ACCESS_TTL_SECS as i64;
    let sids = store::recent_sign_ins(tx, tenant, user_id, now - ttl, except).await?;
    for sid in &sids {
        faro_store::revoked_tokens::revoke_token(&mut **tx, tenant, sid, now + ttl).await?;
    }
    Ok(sids)
}

/// Tells this instance's deny-list cache about sign-ins [`deny_sign_ins`] ended (the others
/// read the list within `REVOKED_CACHE_TTL`).
pub(crate) fn denied_here(core: &Core, sids: &[String]) {
    for sid in sids {
        core.revoked_tokens.revoked(sid);
    }
}

/// The tenant's custom user fields, from its settings.
async fn field_defs(
    core: &Core,
    tenant: &TenantId,
) -> Result<Vec<crate::user_fields::FieldDef>, UserError> {
    let doc = crate::settings::current(&core.db, tenant)
        .await
        .map_err(|e| UserError::Store(StoreError::Other(e.to_string())))?
        .doc;
    Ok(crate::user_fields::defs(&doc))
}

/// The user's custom fields with `given` applied (`null` removes one), checked against the
/// tenant's definitions; saved by [`save_fields`].
pub async fn merged_fields(
    core: &Core,
    user: &faro_http::enduser::EndUser,
    given: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Map<String, serde_json::Value>, UserError> {
    let row = me(core, user).await?;
    let defs = field_defs(core, &user.tenant).await?;
    crate::user_fields::apply(&defs, &row.fields, given).map_err(UserError::Invalid)
}

pub async fn save_fields(
    core: &Core,
    user: &faro_http::enduser::EndUser,
    fields: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), UserError> {
    store::set_fields(
        &core.db,
        store::Emails::of(core),
        &user.tenant,
        &user.id,
        fields,
        unix_now(),
    )
    .await?;
    Ok(())
}

pub async fn me(core: &Core, user: &faro_http::enduser::EndUser) -> Result<UserRow, UserError> {
    store::user_by_id(&core.db, store::Emails::of(core), &user.tenant, &user.id)
        .await?
        .ok_or(UserError::NotFound)
}

/// Changes the user's password after checking the current one; every other sign-in ends (a
/// changed password is often a response to a stolen one), this one goes on.
pub async fn change_password(
    core: &Core,
    user: &faro_http::enduser::EndUser,
    current: &str,
    new: &str,
) -> Result<(), UserError> {
    let row = me(core, user).await?;
    if let Err(m) = faro_auth::policy::check(new) {
        return Err(UserError::Invalid(vec![Problem::new("password", m)]));
    }
    if !faro_auth::password::verify_blocking(current.to_string(), Some(row.pass_hash.clone())).await
    {
        return Err(UserError::Invalid(vec![Problem::new(
            "current_password",
            "this is not your current password",
        )]));
    }
    let hash = faro_auth::password::hash_blocking(new.to_string())
        .await
        .map_err(|e| UserError::Token(e.to_string()))?;
    let now = unix_now();
    store::set_password(&core.db, &user.tenant, &user.id, &hash, now).await?;
    store::revoke_other_sign_ins(&core.db, &user.tenant, &user.id, &user.claims.sid, now).await?;
    let mut tx = core.db.writer().begin().await?;
    let ended = deny_sign_ins(&mut tx, &user.tenant, &user.id, &user.claims.sid, now).await?;
    tx.commit().await?;
    denied_here(core, &ended);
    Ok(())
}

/// Erases the account: the row, its sign-ins, its link to visitors; the access token is
/// denied from now on; `user.deleted` tells every module to erase what it holds about the
/// user, and the audit log confirms the deletion (who asked, never what was erased).
pub async fn delete(
    core: &Core,
    tenant: &TenantId,
    user_id: &str,
    actor: &crate::audit::Actor,
) -> Result<(), UserError> {
    let mut tx = core.db.writer().begin().await?;
    // Before the rows go: the sign-ins are found through the account's refresh tokens.
    let ended = deny_sign_ins(&mut tx, tenant, user_id, "", unix_now()).await?;
    if !store::delete_user(&mut tx, tenant, user_id).await? {
        return Err(UserError::NotFound);
    }
    let event = NewEvent::new(
        tenant.as_str(),
        "user.deleted",
        user_id,
        &serde_json::json!({"user_id": user_id}),
    )?;
    faro_store::outbox::append(&mut tx, core.db.backend(), &[event]).await?;
    crate::audit::record(
        &mut tx,
        crate::audit::Entry {
            tenant,
            actor,
            action: "user.delete",
            target: user_id,
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    denied_here(core, &ended);
    core.wake.notify();
    Ok(())
}
