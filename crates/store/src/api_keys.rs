//! API key rows. The key is never stored, only its hash: see the migration for why SHA-256.
//! The checks (expiry, revocation, scopes) are the HTTP layer's; this is only what was stored.

use sqlx::Row;

use crate::{Db, StoreError, TenantId};

/// One key as stored (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub tenant: TenantId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// A key to store: `key_hash` is the hex SHA-256 of the whole key.
pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub tenant: &'a TenantId,
    pub name: &'a str,
    pub key_hash: &'a str,
    pub prefix: &'a str,
    pub scopes: &'a [String],
    pub created_by: &'a str,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, name, prefix, scopes, created_by, created_at, expires_at, \
                       revoked_at, last_used_at";

fn row_of(r: &sqlx::any::AnyRow) -> Result<ApiKeyRow, StoreError> {
    let scopes: String = r.try_get("scopes")?;
    let tenant: String = r.try_get("tenant_id")?;
    Ok(ApiKeyRow {
        id: r.try_get("id")?,
        tenant: TenantId::new(tenant),
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| StoreError::Corrupt(format!("api_keys.scopes: {e}")))?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// Inserts the key in the caller's transaction (with its audit entry).
pub async fn insert_api_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: NewApiKey<'_>,
) -> Result<(), StoreError> {
    let scopes = serde_json::to_string(key.scopes)
        .map_err(|e| StoreError::Corrupt(format!("api key scopes: {e}")))?;
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, scopes, created_by, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(key.id)
    .bind(key.tenant.as_str())
    .bind(key.name)
    .bind(key.key_hash)
    .bind(key.prefix)
    .bind(scopes)
    .bind(key.created_by)
    .bind(key.created_at)
    .bind(key.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The key with this hash, whichever tenant it belongs to (the key names its tenant). Read
/// from the writer, so a key works on this instance the moment it is created.
pub async fn api_key_by_hash_any_tenant(
    db: &Db,
    key_hash: &str,
) -> Result<Option<ApiKeyRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1"
    )))
    .bind(key_hash)
    .fetch_optional(db.writer())
    .await?
    .as_ref()
    .map(row_of)
    .transpose()
}

/// The tenant's keys, newest first (revoked ones included: they say when they stopped).
pub async fn list_api_keys(db: &Db, tenant: &TenantId) -> Result<Vec<ApiKeyRow>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY id DESC"
    )))
    .bind(tenant.as_str())
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(row_of).collect()
}

/// One of the tenant's keys.
pub async fn get_api_key(
    db: &Db,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<ApiKeyRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(db.writer())
    .await?
    .as_ref()
    .map(row_of)
    .transpose()
}

/// Revokes one of the tenant's keys in the caller's transaction; false when there is no such
/// key or it was already revoked (the first revocation's time stays).
pub async fn revoke_api_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 \
         AND revoked_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Records a use; only moves forward, so instances writing out of order never go back.
pub async fn touch_api_key(db: &Db, id: &str, at: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < $2)",
    )
    .bind(id)
    .bind(at)
    .execute(db.writer())
    .await?;
    Ok(())
}
