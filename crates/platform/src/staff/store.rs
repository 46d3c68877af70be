//! Staff rows of one tenant (the `users` table), for the staff API. Never the password hash
//! out of here.

use faro_auth::Role;
use faro_store::{Db, StoreError, TenantId};
use sqlx::Row;

#[derive(Clone, Debug, serde::Serialize)]
pub struct StaffRow {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, username, role, disabled, created_at, updated_at";

fn row_of(r: &sqlx::any::AnyRow) -> Result<StaffRow, StoreError> {
    let role: String = r.try_get("role")?;
    Ok(StaffRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::corrupt(format!("unknown role {role:?}")))?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn list(db: &Db, tenant: &TenantId) -> Result<Vec<StaffRow>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY username"
    )))
    .bind(tenant.as_str())
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(row_of).collect()
}

pub async fn get_on(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<StaffRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(row_of)
    .transpose()
}

pub async fn get(db: &Db, tenant: &TenantId, id: &str) -> Result<Option<StaffRow>, StoreError> {
    let mut tx = db.writer().begin().await?;
    let row = get_on(&mut tx, tenant, id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Inserts an account; `Conflict` when the username is taken in the tenant.
pub async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
    username: &str,
    pass_hash: &str,
    role: Role,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, username, pass_hash, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id)
    .bind(tenant.as_str())
    .bind(username)
    .bind(pass_hash)
    .bind(role.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Locks the tenant's active owners' rows for the rest of the transaction (a no-op update,
/// portable SQL): two owners demoting each other at once on PostgreSQL take turns, so the
/// count that follows cannot be stale. SQLite has one writer anyway. Returns their number.
pub async fn lock_active_owners(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
) -> Result<usize, StoreError> {
    let n = sqlx::query(
        "UPDATE users SET updated_at = updated_at WHERE tenant_id = $1 AND role = 'owner' \
         AND disabled = 0",
    )
    .bind(tenant.as_str())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n as usize)
}

/// Changes the account; its tokens issued before now stop counting (their role or the
/// password they were signed in with may no longer be true).
pub async fn update(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
    role: Role,
    disabled: bool,
    pass_hash: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET role = $3, disabled = $4, pass_hash = COALESCE($5, pass_hash), \
         updated_at = $6, tokens_after = $7 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(role.as_str())
    .bind(i64::from(disabled))
    .bind(pass_hash)
    .bind(now)
    .bind(faro_store::unix_now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
