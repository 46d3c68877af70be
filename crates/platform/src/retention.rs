//! Retention per tenant and data class: a tenant's settings may say how many days it keeps
//! anonymous visitors (since last seen), end users (since their last sign-in, or since they
//! registered if they never signed in again) and its audit log (`retention` in the settings
//! document; absent, a class is kept until erased). Every hour `platform.retention` erases
//! what is older, through the same use cases as a person's erasure: each visitor and end user
//! goes with its `visitor.deleted` or `user.deleted` event (every module erases its part) and
//! an audit entry by `retention`. Paused tenants are skipped, like every job skips them.

use std::time::Duration;

use faro_http::Core;
use faro_store::{Db, Job, StoreError, TenantId, unix_now};

use crate::audit::Actor;
use crate::settings::domain::retention_days;

/// At most this many people erased per tenant, class and run, so one run stays short; the
/// next run goes on.
const BATCH: i64 = 500;

/// What one run erased, every tenant together.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub visitors: u64,
    pub end_users: u64,
    pub audit_entries: u64,
}

async fn older(
    db: &Db,
    sql: &'static str,
    tenant: &TenantId,
    cutoff: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(sql)
        .bind(tenant.as_str())
        .bind(cutoff)
        .bind(BATCH)
        .fetch_all(db.reader())
        .await?)
}

/// Applies every active tenant's retention once, as of `now`.
pub async fn apply(core: &Core, now: i64) -> Result<Applied, StoreError> {
    let tenants: Vec<String> = sqlx::query_scalar("SELECT id FROM tenants WHERE status = 'active'")
        .fetch_all(core.db.reader())
        .await?;
    let actor = Actor::system("retention");
    let mut applied = Applied::default();
    for id in tenants {
        let tenant = TenantId::new(id.as_str());
        let doc = crate::settings::current(&core.db, &tenant)
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?
            .doc;
        if let Some(days) = retention_days(&doc, "visitors") {
            let ids = older(
                &core.db,
                "SELECT id FROM visitors WHERE tenant_id = $1 AND last_seen_at < $2 \
                 AND user_id IS NULL ORDER BY last_seen_at LIMIT $3",
                &tenant,
                now - days * 86_400,
            )
            .await?;
            for v in ids {
                if crate::gdpr::erase_visitor(core, &tenant, &v, &actor).await? {
                    applied.visitors += 1;
                }
            }
        }
        if let Some(days) = retention_days(&doc, "end_users") {
            let ids = older(
                &core.db,
                "SELECT id FROM end_users WHERE tenant_id = $1 \
                 AND COALESCE(last_login_at, created_at) < $2 ORDER BY created_at LIMIT $3",
                &tenant,
                now - days * 86_400,
            )
            .await?;
            for u in ids {
                match crate::users::delete(core, &tenant, &u, &actor).await {
                    Ok(()) => applied.end_users += 1,
                    // Erased meanwhile by someone else.
                    Err(crate::users::UserError::NotFound) => {}
                    Err(e) => return Err(StoreError::Other(e.to_string())),
                }
            }
        }
        if let Some(days) = retention_days(&doc, "audit_log") {
            applied.audit_entries +=
                sqlx::query("DELETE FROM audit_log WHERE tenant_id = $1 AND at < $2")
                    .bind(tenant.as_str())
                    .bind(now - days * 86_400)
                    .execute(core.db.writer())
                    .await?
                    .rows_affected();
        }
    }
    Ok(applied)
}

/// Every hour.
pub fn retention_job(core: Core) -> Job {
    Job::new(
        "platform.retention",
        Duration::from_secs(3600),
        move |_db: Db| {
            let core = core.clone();
            async move {
                let applied = apply(&core, unix_now()).await?;
                if applied != Applied::default() {
                    tracing::info!(?applied, "retention applied");
                }
                Ok::<_, StoreError>(())
            }
        },
    )
}
