//! A tenant's settings (branding, allowed origins, quotas) as versioned JSON: every change
//! is a new version, a rollback writes an old document again as the newest, so the history is
//! never rewritten; each is audited. `GET/PUT /api/v1/admin/settings`,
//! `GET /api/v1/admin/settings/versions`, `POST …/versions/{n}/rollback`.

pub mod api;
pub mod domain;
pub mod panel;

use faro_http::ApiError;
use faro_store::{Db, StoreError, TenantId, unix_now};
use serde_json::Value;
use sqlx::Row;

use crate::audit::{self, Actor, Entry};
use crate::tenants::domain::Problem;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings have {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("no such version")]
    NoSuchVersion,
    #[error("changed meanwhile: now version {0}")]
    Changed(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SettingsError {
    fn from(e: sqlx::Error) -> Self {
        SettingsError::Store(e.into())
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid(problems) => {
                crate::tenants::domain::invalid("the settings are not valid", problems)
            }
            SettingsError::NoSuchVersion => {
                ApiError::not_found("the settings have no such version")
            }
            SettingsError::Changed(v) => ApiError::conflict(
                "settings_changed",
                format!(
                    "someone saved the settings meanwhile (now version {v}): reload them and try again"
                ),
            ),
            SettingsError::Store(e) => e.into(),
        }
    }
}

/// One version of the document.
#[derive(Clone, Debug)]
pub struct Version {
    pub version: i64,
    pub doc: Value,
    pub actor: String,
    pub note: Option<String>,
    pub created_at: i64,
}

fn version_of(r: &sqlx::any::AnyRow) -> Result<Version, StoreError> {
    let doc: String = r.try_get("doc")?;
    Ok(Version {
        version: r.try_get("version")?,
        doc: serde_json::from_str(&doc)
            .map_err(|e| StoreError::corrupt(format!("tenant_settings.doc: {e}")))?,
        actor: r.try_get("actor")?,
        note: r.try_get("note")?,
        created_at: r.try_get("created_at")?,
    })
}

const COLUMNS: &str = "version, doc, actor, note, created_at";

/// The newest version; a tenant that never saved any (the `default` tenant of an older
/// installation) has version 0, the initial document.
pub async fn current(db: &Db, tenant: &TenantId) -> Result<Version, SettingsError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tenant_settings WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1"
    )))
    .bind(tenant.as_str())
    .fetch_optional(db.writer())
    .await?;
    match row {
        Some(r) => Ok(version_of(&r)?),
        None => Ok(Version {
            version: 0,
            doc: serde_json::from_str(domain::INITIAL).unwrap_or(Value::Null),
            actor: "system".into(),
            note: None,
            created_at: 0,
        }),
    }
}

/// Newest first.
pub async fn versions(
    db: &Db,
    tenant: &TenantId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Version>, SettingsError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tenant_settings WHERE tenant_id = $1 AND version < $2 \
         ORDER BY version DESC LIMIT $3"
    )))
    .bind(tenant.as_str())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.iter().map(version_of).collect::<Result<_, _>>()?)
}

/// Saves `doc` as the next version. With `base`, refuses (409) when the newest version is no
/// longer `base`: two admins editing at once do not overwrite each other unknowingly.
pub async fn save(
    db: &Db,
    tenant: &TenantId,
    doc: Value,
    base: Option<i64>,
    actor: &Actor,
) -> Result<Version, SettingsError> {
    let problems = domain::check(&doc);
    if !problems.is_empty() {
        return Err(SettingsError::Invalid(problems));
    }
    write(db, tenant, doc, base, None, "settings.update", actor).await
}

/// Writes version `n`'s document again as the newest version.
pub async fn rollback(
    db: &Db,
    tenant: &TenantId,
    n: i64,
    actor: &Actor,
) -> Result<Version, SettingsError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM tenant_settings WHERE tenant_id = $1 AND version = $2"
    )))
    .bind(tenant.as_str())
    .bind(n)
    .fetch_optional(db.writer())
    .await?
    .ok_or(SettingsError::NoSuchVersion)?;
    let old = version_of(&row)?;
    let note = format!("rollback to {n}");
    write(
        db,
        tenant,
        old.doc,
        None,
        Some(&note),
        "settings.rollback",
        actor,
    )
    .await
}

async fn write(
    db: &Db,
    tenant: &TenantId,
    doc: Value,
    base: Option<i64>,
    note: Option<&str>,
    action: &str,
    actor: &Actor,
) -> Result<Version, SettingsError> {
    let before = current(db, tenant).await?;
    if let Some(b) = base
        && b != before.version
    {
        return Err(SettingsError::Changed(before.version));
    }
    let now = unix_now();
    let next = Version {
        version: before.version + 1,
        doc,
        actor: actor.name.clone(),
        note: note.map(str::to_owned),
        created_at: now,
    };
    let mut tx = db.writer().begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO tenant_settings (tenant_id, version, doc, actor, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_str())
    .bind(next.version)
    .bind(next.doc.to_string())
    .bind(&next.actor)
    .bind(&next.note)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from);
    match inserted {
        // Another save took this version number first.
        Err(StoreError::Conflict(_)) => return Err(SettingsError::Changed(next.version)),
        other => other?,
    };
    // The tenant directory's copy, read by every instance's CORS and staff checks.
    let origins = domain::origins_of(&next.doc);
    sqlx::query("UPDATE tenants SET origins = $1, require_totp = $2 WHERE id = $3")
        .bind((!origins.is_empty()).then(|| serde_json::json!(origins).to_string()))
        .bind(i64::from(domain::requires_totp(&next.doc)))
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor,
            action,
            target: tenant.as_str(),
            before: Some(serde_json::json!({"version": before.version, "doc": before.doc})),
            after: Some(serde_json::json!({"version": next.version, "doc": next.doc})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}
