//! API keys: a tenant's admins make keys for their integrations (`/api/v1/admin/api-keys`),
//! see when each was last used, and revoke them. The key is shown once, at creation; only its
//! hash is stored (`faro_store::api_keys`) and it is checked on every request by
//! `faro_http::apikey`. Making and revoking keys is audited, and a key can never make keys:
//! these routes belong to no module, so no scope reaches them.

pub mod api;
pub mod domain;
pub mod panel;

use faro_http::ApiError;
use faro_store::api_keys::{self as store, ApiKeyRow, NewApiKey};
use faro_store::quota::{Exceeded, Quota};
use faro_store::{Db, StoreError, TenantId, new_id, unix_now};

use crate::audit::{self, Actor, Entry};
use crate::tenants::domain::Problem;

/// Everything an API key use case can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("no such API key")]
    NotFound,
    #[error(transparent)]
    Quota(#[from] Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ApiKeyError {
    fn from(e: sqlx::Error) -> Self {
        ApiKeyError::Store(e.into())
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(e: ApiKeyError) -> Self {
        match e {
            ApiKeyError::Invalid(problems) => {
                crate::tenants::domain::invalid("the API key is not valid", problems)
            }
            ApiKeyError::NotFound => ApiError::not_found("this tenant has no API key with this id"),
            ApiKeyError::Quota(e) => e.into(),
            ApiKeyError::Store(e) => e.into(),
        }
    }
}

/// A key as asked for.
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
}

/// The key's stored record and, this once, the key itself.
pub struct Created {
    pub row: ApiKeyRow,
    pub key: String,
}

fn summary(row: &ApiKeyRow) -> serde_json::Value {
    serde_json::json!({
        "name": row.name,
        "prefix": row.prefix,
        "scopes": row.scopes,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
    })
}

/// Validates and stores a new key of `tenant`, with its audit entry, in one transaction.
pub async fn create(
    db: &Db,
    tenant: &TenantId,
    modules: &[&str],
    new: NewKey,
    actor: &Actor,
) -> Result<Created, ApiKeyError> {
    let now = unix_now();
    let mut problems = Vec::new();
    if let Err(m) = domain::check_name(&new.name) {
        problems.push(Problem::new("name", m));
    }
    domain::check_scopes(&new.scopes, modules, &mut problems);
    if let Some(at) = new.expires_at
        && let Err(m) = domain::check_expiry(at, now)
    {
        problems.push(Problem::new("expires_at", m));
    }
    if !problems.is_empty() {
        return Err(ApiKeyError::Invalid(problems));
    }
    let (key, prefix) = domain::generate(&mut rand::rng());
    let hash = faro_auth::secret::hash(&key);
    let row = ApiKeyRow {
        id: new_id(),
        tenant: tenant.clone(),
        name: new.name.trim().to_string(),
        prefix,
        scopes: new.scopes,
        created_by: actor.name.clone(),
        created_at: now,
        expires_at: new.expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    let mut tx = db.writer().begin().await?;
    // Expired keys still count until revoked: revoking is how a tenant frees one.
    let live = "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL";
    faro_store::quota::guard(&mut tx, tenant, Quota::ApiKeys, live, 1).await??;
    store::insert_api_key(
        &mut tx,
        NewApiKey {
            id: &row.id,
            tenant,
            name: &row.name,
            key_hash: &hash,
            prefix: &row.prefix,
            scopes: &row.scopes,
            created_by: &row.created_by,
            created_at: now,
            expires_at: row.expires_at,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor,
            action: "api_key.create",
            target: &row.id,
            before: None,
            after: Some(summary(&row)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Created { row, key })
}

/// The tenant's keys, newest first.
pub async fn list(db: &Db, tenant: &TenantId) -> Result<Vec<ApiKeyRow>, ApiKeyError> {
    Ok(store::list_api_keys(db, tenant).await?)
}

pub async fn get(db: &Db, tenant: &TenantId, id: &str) -> Result<ApiKeyRow, ApiKeyError> {
    store::get_api_key(db, tenant, id)
        .await?
        .ok_or(ApiKeyError::NotFound)
}

/// Revokes the key (once: revoking it again changes nothing and writes no entry) and returns
/// it as it now is.
pub async fn revoke(
    db: &Db,
    tenant: &TenantId,
    id: &str,
    actor: &Actor,
) -> Result<ApiKeyRow, ApiKeyError> {
    let before = get(db, tenant, id).await?;
    let now = unix_now();
    let mut tx = db.writer().begin().await?;
    if store::revoke_api_key(&mut tx, tenant, id, now).await? {
        let mut after = before.clone();
        after.revoked_at = Some(now);
        audit::record(
            &mut tx,
            Entry {
                tenant,
                actor,
                action: "api_key.revoke",
                target: id,
                before: Some(summary(&before)),
                after: Some(summary(&after)),
            },
        )
        .await?;
    }
    tx.commit().await?;
    get(db, tenant, id).await
}
