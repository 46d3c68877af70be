//! The tenant a record belongs to. Store functions take a `&TenantId`, never a bare string, so
//! a caller cannot pass a slug, a user id or a value straight from a request by mistake: a
//! `TenantId` only comes from the request's resolved host, a staff member's credentials, or
//! the named default.

use std::fmt;
use std::sync::Arc;

/// A tenant's id; cheap to clone (one `Arc`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Arc<str>);

/// The tenant of a single-tenant installation, and the one every host name no other tenant
/// claims belongs to.
pub const DEFAULT_TENANT: &str = "default";

impl TenantId {
    /// A tenant id read from trusted storage or credentials (a token's signed claim, a row).
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        TenantId(id.into())
    }

    /// The `default` tenant.
    pub fn default_tenant() -> Self {
        static DEFAULT: std::sync::LazyLock<TenantId> =
            std::sync::LazyLock::new(|| TenantId::new(DEFAULT_TENANT));
        DEFAULT.clone()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({:?})", &*self.0)
    }
}

/// Every claimed host with its tenant (the whole table: one row per custom domain).
pub async fn tenant_hosts_all_tenants(
    db: &crate::Db,
) -> Result<Vec<(String, TenantId)>, crate::StoreError> {
    use sqlx::Row;
    let rows = sqlx::query("SELECT host, tenant_id FROM tenant_hosts")
        .fetch_all(db.reader())
        .await?;
    rows.iter()
        .map(|r| {
            let host: String = r.try_get("host")?;
            let tenant: String = r.try_get("tenant_id")?;
            Ok((host, TenantId::new(tenant)))
        })
        .collect()
}

/// A tenant whose switches differ from the usual: paused, in maintenance, or with its own
/// choice of modules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantStateRow {
    pub tenant: TenantId,
    pub paused: bool,
    pub maintenance: bool,
    pub modules: Option<Vec<String>>,
    /// The browser origins its settings allow (CORS); `None` when none.
    pub origins: Option<Vec<String>>,
    /// Its settings require two-factor sign-in of all staff.
    pub require_totp: bool,
}

/// Every tenant that is paused, in maintenance, has chosen its modules or allows browser
/// origins (usually few).
pub async fn tenant_states_all_tenants(
    db: &crate::Db,
) -> Result<Vec<TenantStateRow>, crate::StoreError> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT id, status, maintenance, modules, origins, require_totp FROM tenants \
         WHERE status <> 'active' OR maintenance <> 0 OR modules IS NOT NULL \
         OR origins IS NOT NULL OR require_totp <> 0",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let status: String = r.try_get("status")?;
            let modules: Option<String> = r.try_get("modules")?;
            let origins: Option<String> = r.try_get("origins")?;
            Ok(TenantStateRow {
                paused: status != "active",
                maintenance: r.try_get::<i64, _>("maintenance")? != 0,
                require_totp: r.try_get::<i64, _>("require_totp")? != 0,
                modules: modules
                    .map(|m| {
                        serde_json::from_str(&m).map_err(|e| {
                            crate::StoreError::corrupt(format!("modules of tenant {id}: {e}"))
                        })
                    })
                    .transpose()?,
                origins: origins
                    .map(|o| {
                        serde_json::from_str(&o).map_err(|e| {
                            crate::StoreError::corrupt(format!("origins of tenant {id}: {e}"))
                        })
                    })
                    .transpose()?,
                tenant: TenantId::new(id),
            })
        })
        .collect()
}

/// Staff tokens issued before this (unix milliseconds) are refused; 0 for an unknown account.
pub async fn staff_tokens_after_any_tenant(
    db: &crate::Db,
    user_id: &str,
) -> Result<i64, crate::StoreError> {
    use sqlx::Row;
    let row = sqlx::query("SELECT tokens_after FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.writer())
        .await?;
    Ok(match row {
        Some(r) => r.try_get("tokens_after")?,
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tenant_is_named_default() {
        assert_eq!(TenantId::default_tenant().as_str(), "default");
        assert_eq!(TenantId::new("acme").to_string(), "acme");
        assert_eq!(TenantId::new("acme"), TenantId::new(String::from("acme")));
    }
}
