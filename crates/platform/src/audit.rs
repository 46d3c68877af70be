//! The audit log: every staff change, written in the same transaction as the change, so an
//! entry exists exactly when the change does. Tenant staff read their tenant's entries
//! (`GET /api/v1/admin/audit`), the super-admin everyone's (`GET /api/v1/platform/audit`);
//! both page with the conventions' cursor and export as NDJSON.

use faro_http::Staff;
use faro_store::{Db, StoreError, TenantId, new_id, unix_now};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

/// Who did it, as the log records it.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
    pub impersonator: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    /// A signed-in staff member (or a super-admin impersonating one).
    pub fn staff(staff: &Staff, ip: Option<&str>) -> Self {
        Actor {
            id: Some(staff.claims.sub.clone()),
            name: staff.claims.name.clone(),
            impersonator: staff.claims.imp.clone(),
            ip: ip.map(str::to_owned),
        }
    }

    /// A staff member signed in to the panel, or a super-admin impersonating one (pages do
    /// not see the client address).
    pub fn panel(user: &faro_web::panel::PanelUser) -> Self {
        Actor {
            id: Some(user.id.clone()),
            name: user.name.clone(),
            impersonator: user.impersonator.clone(),
            ip: None,
        }
    }

    /// The installation itself (a job), named for what acted: `retention`.
    pub fn system(name: &str) -> Self {
        Actor {
            id: None,
            name: name.to_owned(),
            impersonator: None,
            ip: None,
        }
    }

    /// `faro tenant …` on the server's command line.
    pub fn cli() -> Self {
        Actor {
            id: None,
            name: "cli".into(),
            impersonator: None,
            ip: None,
        }
    }
}

/// One change to record.
pub struct Entry<'a> {
    pub tenant: &'a TenantId,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub target: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Writes `entry` in the caller's transaction.
pub async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry: Entry<'_>,
) -> Result<String, StoreError> {
    let id = new_id();
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_id, actor, impersonator, action, target, \
         before_json, after_json, ip, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(entry.tenant.as_str())
    .bind(entry.actor.id.as_deref())
    .bind(&entry.actor.name)
    .bind(entry.actor.impersonator.as_deref())
    .bind(entry.action)
    .bind(entry.target)
    .bind(json(&entry.before))
    .bind(json(&entry.after))
    .bind(entry.actor.ip.as_deref())
    .bind(unix_now())
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

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
