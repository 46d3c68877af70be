//! The audit log's writer, shared by every module: each staff change is recorded in the same
//! transaction as the change, so an entry exists exactly when the change does. The table and
//! its readers (`GET /api/v1/admin/audit`, the consoles) are the platform's; the writer lives
//! in the seam so a module's use case can call it in its own transaction.

use faro_store::{StoreError, TenantId, new_id, unix_now};

use crate::tenant::Staff;

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

/// [`record`] for a change described by its parts, when the caller has no [`Entry`] at hand
/// (a module's store function); the entry's id is not needed there.
#[allow(clippy::too_many_arguments)]
pub async fn record_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tenant: &TenantId,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), StoreError> {
    record(
        tx,
        Entry {
            tenant,
            actor,
            action,
            target,
            before,
            after,
        },
    )
    .await
    .map(drop)
}
