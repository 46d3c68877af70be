//! Kept 5xx causes: one row per failed request, per tenant, bounded by a trim job. Written by
//! the request middleware (`faro_http::request_id`), read by the platform's panel and API.

use sqlx::Row;

use crate::{Db, StoreError, TenantId, new_id, unix_now};

/// How many causes each tenant keeps; older ones are trimmed.
pub const KEEP_PER_TENANT: i64 = 1000;

/// Longest cause kept, in characters.
pub const CAUSE_CHARS: usize = 2000;

/// One failed request as the middleware saw it.
#[derive(Clone, Debug)]
pub struct NewRequestError {
    /// `None` when the request failed before its tenant was resolved.
    pub tenant: Option<TenantId>,
    pub request_id: String,
    pub method: String,
    pub route: String,
    pub status: u16,
    pub cause: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestErrorRow {
    pub id: String,
    pub request_id: String,
    pub method: String,
    pub route: String,
    pub status: i64,
    pub cause: String,
    pub created_at: i64,
}

pub async fn record(db: &Db, e: &NewRequestError) -> Result<(), StoreError> {
    let cause: String = e.cause.chars().take(CAUSE_CHARS).collect();
    let method: String = e.method.chars().take(16).collect();
    let route: String = e.route.chars().take(256).collect();
    sqlx::query(
        "INSERT INTO request_errors (id, tenant_id, request_id, method, route, status, cause, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(e.tenant.as_ref().map(TenantId::as_str).unwrap_or(""))
    .bind(&e.request_id)
    .bind(method)
    .bind(route)
    .bind(i64::from(e.status))
    .bind(cause)
    .bind(unix_now())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// A tenant's kept errors, newest first; `before` is the id of the last row of the previous
/// page (ids are UUIDv7, so they sort by time).
pub async fn list(
    db: &Db,
    tenant: &TenantId,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<RequestErrorRow>, StoreError> {
    let rows = sqlx::query_as::<_, RequestErrorRow>(
        "SELECT id, request_id, method, route, status, cause, created_at FROM request_errors \
         WHERE tenant_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(before.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(rows)
}

/// Deletes, for every tenant, the kept errors beyond the newest [`KEEP_PER_TENANT`].
pub async fn trim_all_tenants(db: &Db) -> Result<u64, StoreError> {
    let tenants =
        sqlx::query("SELECT tenant_id FROM request_errors GROUP BY tenant_id HAVING COUNT(*) > $1")
            .bind(KEEP_PER_TENANT)
            .fetch_all(db.reader())
            .await?;
    let mut deleted = 0;
    for row in tenants {
        let tenant: String = row.try_get(0)?;
        deleted += sqlx::query(
            "DELETE FROM request_errors WHERE tenant_id = $1 AND id < (SELECT id FROM \
             request_errors WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
        )
        .bind(&tenant)
        .bind(KEEP_PER_TENANT - 1)
        .execute(db.writer())
        .await?
        .rows_affected();
    }
    Ok(deleted)
}
