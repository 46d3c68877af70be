//! Visitor rows (see the migration): touched when a visitor is seen, listed for staff, and
//! linked to the end user they became.

use sqlx::Row;

use crate::{Db, StoreError, TenantId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitorRow {
    pub id: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub user_id: Option<String>,
    pub merged_at: Option<i64>,
}

/// Records that the visitor was seen now (created on first sight).
pub async fn touch_visitor(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    ip_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO visitors (tenant_id, id, first_seen_at, last_seen_at, ip_hash) \
         VALUES ($1, $2, $3, $3, $4) ON CONFLICT (tenant_id, id) DO UPDATE \
         SET last_seen_at = excluded.last_seen_at, ip_hash = excluded.ip_hash",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(now)
    .bind(ip_hash)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The tenant's visitors, most recently seen first; `before` is the last page's last
/// `(last_seen_at, id)`.
pub async fn list_visitors(
    db: &Db,
    tenant: &TenantId,
    before: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<VisitorRow>, StoreError> {
    let rows = match before {
        Some((at, id)) => {
            sqlx::query(
                "SELECT id, first_seen_at, last_seen_at, user_id, merged_at FROM visitors \
                 WHERE tenant_id = $1 AND (last_seen_at < $2 OR (last_seen_at = $2 AND id < $3)) \
                 ORDER BY last_seen_at DESC, id DESC LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(at)
            .bind(id)
            .bind(limit)
            .fetch_all(db.reader())
            .await?
        }
        None => {
            sqlx::query(
                "SELECT id, first_seen_at, last_seen_at, user_id, merged_at FROM visitors \
                 WHERE tenant_id = $1 ORDER BY last_seen_at DESC, id DESC LIMIT $2",
            )
            .bind(tenant.as_str())
            .bind(limit)
            .fetch_all(db.reader())
            .await?
        }
    };
    rows.iter().map(visitor_of).collect()
}

/// Links the visitor to the end user it became, in the caller's transaction. False when it
/// already belongs to someone (the first account keeps it) or is unknown here.
pub async fn merge_visitor(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE visitors SET user_id = $3, merged_at = $4 \
         WHERE tenant_id = $1 AND id = $2 AND user_id IS NULL",
    )
    .bind(tenant.as_str())
    .bind(id)
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

fn visitor_of(r: &sqlx::any::AnyRow) -> Result<VisitorRow, StoreError> {
    Ok(VisitorRow {
        id: r.try_get("id")?,
        first_seen_at: r.try_get("first_seen_at")?,
        last_seen_at: r.try_get("last_seen_at")?,
        user_id: r.try_get("user_id")?,
        merged_at: r.try_get("merged_at")?,
    })
}

/// One visitor of the tenant.
pub async fn get_visitor(
    db: &Db,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<VisitorRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, first_seen_at, last_seen_at, user_id, merged_at FROM visitors \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(visitor_of).transpose()
}

/// The visitors that became `user_id`, first seen first.
pub async fn visitors_of_user(
    db: &Db,
    tenant: &TenantId,
    user_id: &str,
) -> Result<Vec<VisitorRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, first_seen_at, last_seen_at, user_id, merged_at FROM visitors \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY first_seen_at, id",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(visitor_of).collect()
}

/// Deletes the visitor's row in the caller's transaction; false when there was none.
pub async fn delete_visitor(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    id: &str,
) -> Result<bool, StoreError> {
    let n = sqlx::query("DELETE FROM visitors WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}
