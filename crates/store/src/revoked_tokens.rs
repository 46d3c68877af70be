//! The deny list of access tokens revoked before their expiry (see the migration).

use crate::{Db, StoreError, TenantId};

/// Puts a token on the deny list until `expires_at` (again: nothing happens).
pub async fn revoke_token(
    db: &Db,
    tenant: &TenantId,
    jti: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, tenant_id, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(tenant.as_str())
    .bind(expires_at)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Whether the token `jti` is on the deny list (read from the writer: a logout on this
/// instance is seen at once).
pub async fn is_revoked_any_tenant(db: &Db, jti: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM revoked_tokens WHERE jti = $1")
        .bind(jti)
        .fetch_optional(db.writer())
        .await?
        .is_some())
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
