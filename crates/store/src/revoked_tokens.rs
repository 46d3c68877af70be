//! The deny list of access tokens revoked before their expiry (see the migration). An entry's
//! `jti` is either one token's id (a staff sign-out) or the id of a whole sign-in (an end
//! user's `sid`: logging out, a password reset or an erasure ends every access token that
//! sign-in was given, refreshed ones included). Both are random UUIDs: they never collide.

use crate::{Db, StoreError, TenantId};

/// Puts a token (or a sign-in) on the deny list until `expires_at` (again: nothing happens).
/// `on` is the writer pool or a transaction of it.
pub async fn revoke_token<'c, E>(
    on: E,
    tenant: &TenantId,
    jti: &str,
    expires_at: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, tenant_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(tenant.as_str())
    .bind(expires_at)
    .execute(on)
    .await?;
    Ok(())
}

/// Whether the token `jti`, or the sign-in `sid` it belongs to, is on the deny list (read
/// from the writer: a logout on this instance is seen at once).
pub async fn is_revoked_any_tenant(db: &Db, jti: &str, sid: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM revoked_tokens WHERE jti = $1 OR jti = $2")
            .bind(jti)
            .bind(sid)
            .fetch_optional(db.writer())
            .await?
            .is_some(),
    )
}

/// Forgets entries whose token has expired anyway; returns how many.
pub async fn purge_revoked_tokens_all_tenants(db: &Db, now: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
            .bind(now)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}
