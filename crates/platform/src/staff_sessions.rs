//! Staff sign-ins that outlive their access token: a sign-in gets a one-hour access token
//! and a refresh token (`faro_refresh` cookie for the panel, `refresh_token` for API
//! clients) that is spent by its first use for the next pair. A spent one presented again
//! means it was copied: the whole sign-in ends (thief and owner both sign in again). A
//! refresh reads the account again, so a disabled account or a paused tenant stops there, and
//! a changed role is in the next token. Signing out ends the sign-in. Only SHA-256 hashes
//! are stored. The rules of presenting a token are the end users' (`refresh.rs`).

use std::time::Duration;

use faro_http::{ApiError, ApiResult, Core};
use faro_store::{StoreError, TenantId, new_id, unix_now};
use sqlx::Row;

use crate::refresh::{Presented, RefreshState, generate_refresh_token, presented};

/// An access token lasts an hour at most (the issue's rule for every token).
pub const ACCESS_TTL: Duration = Duration::from_secs(3600);
/// A sign-in lasts this long without a password, as long as it is used.
pub const REFRESH_TTL_SECS: i64 = 7 * 86_400;

/// Stores the first refresh token of a new sign-in; the token.
pub async fn start(
    core: &Core,
    tenant: &TenantId,
    user_id: &str,
    mfa: bool,
) -> Result<String, StoreError> {
    let mut tx = core.db.writer().begin().await?;
    let token = insert(&mut tx, tenant, user_id, &new_id(), mfa, unix_now()).await?;
    tx.commit().await?;
    Ok(token)
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    user_id: &str,
    family: &str,
    mfa: bool,
    now: i64,
) -> Result<String, StoreError> {
    let token = generate_refresh_token(&mut rand::rng());
    sqlx::query(
        "INSERT INTO staff_refresh_tokens (id, tenant_id, user_id, family, token_hash, mfa, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(family)
    .bind(faro_auth::secret::hash(&token))
    .bind(i64::from(mfa))
    .bind(now)
    .bind(now + REFRESH_TTL_SECS)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

async fn revoke_family(core: &Core, family: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE staff_refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL",
    )
    .bind(family)
    .bind(now)
    .execute(core.db.writer())
    .await?;
    Ok(())
}

fn refused(message: &'static str) -> ApiError {
    ApiError::unauthorized(message).with_code("invalid_refresh_token")
}

/// A renewed sign-in: the next access token and refresh token.
pub struct Renewed {
    pub access_token: String,
    pub refresh_token: String,
}

/// Spends `token` (of this tenant) for the next pair.
pub async fn refresh(core: &Core, tenant: &TenantId, token: &str) -> ApiResult<Renewed> {
    const UNKNOWN: &str = "this refresh token is not valid here: sign in again";
    let row = sqlx::query(
        "SELECT id, tenant_id, user_id, family, mfa, expires_at, used_at, revoked_at \
         FROM staff_refresh_tokens WHERE token_hash = $1",
    )
    .bind(faro_auth::secret::hash(token.trim()))
    .fetch_optional(core.db.writer())
    .await
    .map_err(StoreError::from)?;
    let Some(row) = row else {
        return Err(refused(UNKNOWN));
    };
    let get = |e: sqlx::Error| ApiError::from(StoreError::from(e));
    let row_tenant: String = row.try_get("tenant_id").map_err(get)?;
    if row_tenant != tenant.as_str() {
        return Err(refused(UNKNOWN));
    }
    let id: String = row.try_get("id").map_err(get)?;
    let family: String = row.try_get("family").map_err(get)?;
    let user_id: String = row.try_get("user_id").map_err(get)?;
    let mfa = row.try_get::<i64, _>("mfa").map_err(get)? != 0;
    let now = unix_now();
    let state = RefreshState {
        used: row
            .try_get::<Option<i64>, _>("used_at")
            .map_err(get)?
            .is_some(),
        revoked: row
            .try_get::<Option<i64>, _>("revoked_at")
            .map_err(get)?
            .is_some(),
        expires_at: row.try_get("expires_at").map_err(get)?,
    };
    match presented(state, now) {
        Presented::Rotate => {}
        Presented::Reused => {
            revoke_family(core, &family, now).await?;
            return Err(refused(
                "this refresh token was used already, so it was copied: this sign-in has ended everywhere; sign in again",
            ));
        }
        Presented::Expired => return Err(refused("this sign-in has expired: sign in again")),
        Presented::Revoked => return Err(refused("this sign-in has ended: sign in again")),
    }
    // The account as it is now: disabled stops here, a new role is in the next token.
    let account = sqlx::query(
        "SELECT username, role, super_admin, disabled FROM users WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(&user_id)
    .fetch_optional(core.db.writer())
    .await
    .map_err(StoreError::from)?;
    let Some(account) = account else {
        revoke_family(core, &family, now).await?;
        return Err(refused(UNKNOWN));
    };
    let disabled = account.try_get::<i64, _>("disabled").map_err(get)? != 0;
    if disabled {
        revoke_family(core, &family, now).await?;
        return Err(refused("this account is disabled"));
    }
    if core.tenants.state(&core.db, tenant).await.paused {
        return Err(ApiError::forbidden(
            "this tenant is paused: ask the installation's administrator",
        )
        .with_code("tenant_paused"));
    }
    let role_name: String = account.try_get("role").map_err(get)?;
    let role = faro_auth::Role::parse(&role_name).ok_or_else(|| {
        ApiError::from(StoreError::corrupt(format!("unknown role {role_name:?}")))
    })?;
    let username: String = account.try_get("username").map_err(get)?;
    let super_admin = account.try_get::<i64, _>("super_admin").map_err(get)? != 0
        && tenant.as_str() == faro_store::DEFAULT_TENANT;
    let mut tx = core.db.writer().begin().await.map_err(StoreError::from)?;
    let spent = sqlx::query(
        "UPDATE staff_refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
    )
    .bind(&id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?
    .rows_affected();
    if spent != 1 {
        // Another refresh spent it a moment ago: two holders of one token.
        drop(tx);
        revoke_family(core, &family, now).await?;
        return Err(refused(
            "this refresh token was used already, so it was copied: this sign-in has ended everywhere; sign in again",
        ));
    }
    let refresh_token = insert(&mut tx, tenant, &user_id, &family, mfa, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    let grant = faro_auth::token::Grant {
        user_id: &user_id,
        username: &username,
        tenant_id: tenant.as_str(),
        role,
        super_admin,
        impersonator: None,
        mfa,
    };
    let access_token = core
        .keys
        .issue_grant(&grant, ACCESS_TTL, now)
        .map_err(ApiError::internal)?;
    Ok(Renewed {
        access_token,
        refresh_token,
    })
}

/// Ends the sign-in `token` belongs to (nothing when it is unknown).
pub async fn end(core: &Core, token: &str) -> Result<(), StoreError> {
    let family: Option<String> =
        sqlx::query_scalar("SELECT family FROM staff_refresh_tokens WHERE token_hash = $1")
            .bind(faro_auth::secret::hash(token.trim()))
            .fetch_optional(core.db.writer())
            .await?;
    if let Some(f) = family {
        revoke_family(core, &f, unix_now()).await?;
    }
    Ok(())
}

/// Forgets refresh tokens a day past their expiry (hourly, with the end users').
pub async fn purge(db: &faro_store::Db, now: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM staff_refresh_tokens WHERE expires_at < $1")
            .bind(now - 86_400)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}
