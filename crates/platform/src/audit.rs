//! The audit log: every staff change, written in the same transaction as the change, so an
//! entry exists exactly when the change does. Tenant staff read their tenant's entries
//! (`GET /api/v1/admin/audit`), the super-admin everyone's (`GET /api/v1/platform/audit`);
//! both page with the conventions' cursor and export as NDJSON.

use faro_store::{Db, StoreError, TenantId};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

pub use faro_http::audit::{Actor, Entry, record};

/// An entry as the API shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: String,
    pub tenant: String,
    /// Username, `cli` or `system`.
    pub actor: String,
    pub actor_id: Option<String>,
    /// Set when a super-admin acted through an impersonation token.
    pub impersonator: Option<String>,
    /// `tenant.create`, `tenant.update`, `staff.create`, …
    pub action: String,
    pub target: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    /// RFC 3339.
    pub at: String,
}

/// Newest first, `limit` entries older than the `before` id; `None` tenant = every tenant.
pub async fn list(
    db: &Db,
    tenant: Option<&TenantId>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditItem>, StoreError> {
    let mut filters = Vec::new();
    if tenant.is_some() {
        filters.push(format!("tenant_id = ${}", filters.len() + 1));
    }
    if before.is_some() {
        filters.push(format!("id < ${}", filters.len() + 1));
    }
    let sql = format!(
        "SELECT id, tenant_id, actor_id, actor, impersonator, action, target, before_json, \
         after_json, ip, at FROM audit_log {} ORDER BY id DESC LIMIT ${}",
        if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        },
        filters.len() + 1
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(t) = tenant {
        q = q.bind(t.as_str().to_owned());
    }
    if let Some(b) = before {
        q = q.bind(b.to_owned());
    }
    let rows = q.bind(limit).fetch_all(db.reader()).await?;
    rows.iter().map(item).collect()
}

fn item(r: &sqlx::any::AnyRow) -> Result<AuditItem, StoreError> {
    let json = |col: &str| -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = r.try_get(col)?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::corrupt(format!("audit {col}: {e}")))
        })
        .transpose()
    };
    let at: i64 = r.try_get("at")?;
    Ok(AuditItem {
        id: r.try_get("id")?,
        tenant: r.try_get("tenant_id")?,
        actor: r.try_get("actor")?,
        actor_id: r.try_get("actor_id")?,
        impersonator: r.try_get("impersonator")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        before: json("before_json")?,
        after: json("after_json")?,
        ip: r.try_get("ip")?,
        at: faro_http::respond::rfc3339(at),
    })
}

/// Records an entry that goes with no other write (an impersonation, an export).
pub async fn record_alone(db: &Db, entry: Entry<'_>) -> Result<String, StoreError> {
    let mut tx = db.begin_write().await?;
    let id = record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(id)
}
