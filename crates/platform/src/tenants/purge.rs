//! Purging a tenant: every row of every table with a `tenant_id` column, whichever module
//! made it, then the tenant itself, in one transaction. The tables are found in the
//! database's own catalogue, so a module added later is purged without being named here.
//! Tables refer to each other (an end user's sign-ins, a test's versions), so a table whose
//! rows are still referenced is retried after the others, each attempt in a savepoint.
//!
//! Only a paused tenant is purged, and only when the request repeats its slug: the pause is
//! the first step of the confirmation, the slug the second. The default tenant never is.
//! The purge is recorded in the default tenant's audit log (the tenant's own log goes with
//! it), with the tenant as it was, and announced as `tenant.purged` (in the default tenant's
//! outbox), so modules delete what they keep outside the database (files' bytes).

use faro_store::{Backend, DEFAULT_TENANT, Db, StoreError};
use sqlx::Acquire;

use super::TenantError;
use super::domain::{Problem, Status};
use crate::audit::{self, Actor, Entry};

/// The tables that hold tenants' rows, by name.
async fn tenant_tables(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
) -> Result<Vec<String>, StoreError> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY m.name"
        }
        Backend::Postgres => {
            "SELECT table_name::TEXT FROM information_schema.columns \
             WHERE column_name = 'tenant_id' AND table_schema = current_schema() \
             ORDER BY table_name"
        }
    };
    Ok(sqlx::query_scalar(sql).fetch_all(&mut **tx).await?)
}

/// Deletes the tenant's rows from `tables`, children before parents: a delete refused
/// because other rows still refer to these is undone to its savepoint and tried again once
/// the rest are gone. The rows deleted per table.
async fn delete_everywhere(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tables: Vec<String>,
    tenant: &str,
) -> Result<Vec<(String, u64)>, StoreError> {
    let mut left = tables;
    let mut done = Vec::new();
    while !left.is_empty() {
        let before = left.len();
        let mut refused = Vec::new();
        let mut last_error = None;
        for table in left {
            let mut sp = tx.begin().await?;
            let ident = table.replace('"', "");
            let result = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM \"{ident}\" WHERE tenant_id = $1"
            )))
            .bind(tenant)
            .execute(&mut *sp)
            .await;
            match result {
                Ok(r) => {
                    sp.commit().await?;
                    done.push((table, r.rows_affected()));
                }
                Err(e) => {
                    sp.rollback().await?;
                    last_error = Some(e);
                    refused.push(table);
                }
            }
        }
        if refused.len() == before {
            // No table could be emptied this round: rows outside the tenant refer to these.
            return Err(match last_error {
                Some(e) => e.into(),
                None => StoreError::Other("the purge made no progress".into()),
            });
        }
        left = refused;
    }
    Ok(done)
}

/// Purges the tenant `id_or_slug` (see the module's documentation); `confirm` must be its
/// slug. The rows deleted per table.
pub async fn purge(
    db: &Db,
    id_or_slug: &str,
    confirm: &str,
    actor: &Actor,
) -> Result<Vec<(String, u64)>, TenantError> {
    let row = super::store::get(db, id_or_slug)
        .await?
        .ok_or(TenantError::NotFound)?;
    if row.id == DEFAULT_TENANT {
        return Err(TenantError::DefaultTenant(
            "the default tenant serves every host no other tenant claims: it cannot be purged",
        ));
    }
    if confirm.trim() != row.slug {
        return Err(TenantError::Invalid(vec![Problem::new(
            "confirm",
            format!("type the tenant's slug, {}, to confirm", row.slug),
        )]));
    }
    if row.status != Status::Paused {
        return Err(TenantError::NotPaused);
    }
    let mut tx = db.begin_write().await?;
    let tables = tenant_tables(&mut tx, db.backend()).await?;
    let deleted = delete_everywhere(&mut tx, tables, &row.id).await?;
    sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(&row.id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let rows: u64 = deleted.iter().map(|(_, n)| n).sum();
    // Installation-wide (the default tenant's outbox): what the modules keep outside the
    // database, such as files' bytes, goes when they hear it.
    let event = faro_store::outbox::NewEvent::new(
        DEFAULT_TENANT,
        "tenant.purged",
        &row.id,
        &serde_json::json!({"tenant_id": row.id, "slug": row.slug}),
    )?;
    faro_store::outbox::append(&mut tx, db.backend(), &[event]).await?;
    audit::record(
        &mut tx,
        Entry {
            tenant: &faro_store::TenantId::default_tenant(),
            actor,
            action: "tenant.purge",
            target: &row.id,
            before: serde_json::to_value(&row).ok(),
            after: Some(serde_json::json!({"rows_deleted": rows})),
        },
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(deleted)
}
