//! The tenant's item catalogue: digital items priced in credits.

use faro_store::{StoreError, TenantId, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::WalletError;
use crate::{Wallet, store};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WalletItem {
    #[schema(example = "pdf-pack-10")]
    pub sku: String,
    #[schema(example = "10 PDF conversions")]
    pub name: String,
    #[schema(example = 50)]
    pub price_credits: i64,
    pub active: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl From<store::ItemRow> for WalletItem {
    fn from(r: store::ItemRow) -> Self {
        WalletItem {
            sku: r.sku,
            name: r.name,
            price_credits: r.price_credits,
            active: r.active != 0,
            created_at: faro_http::respond::rfc3339(r.created_at),
        }
    }
}

/// Checks an sku: 1 to 64 letters, digits, `_`, `-` or `.`.
pub fn check_sku(sku: &str) -> Result<(), String> {
    if !sku.is_empty()
        && sku.len() <= 64
        && sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        Ok(())
    } else {
        Err("1 to 64 letters, digits, '_', '-' or '.'".to_owned())
    }
}

/// Adds an item to the catalogue; every problem is listed at once.
pub async fn create(
    w: &Wallet,
    tenant: &TenantId,
    sku: &str,
    name: &str,
    price_credits: i64,
) -> Result<WalletItem, WalletError> {
    let mut problems = Vec::new();
    if let Err(m) = check_sku(sku) {
        problems.push(faro_http::FieldProblem {
            path: "sku".into(),
            message: m,
        });
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        problems.push(faro_http::FieldProblem {
            path: "name".into(),
            message: "1 to 200 characters".into(),
        });
    }
    if price_credits < 1 {
        problems.push(faro_http::FieldProblem {
            path: "price_credits".into(),
            message: "a whole number of credits, at least 1".into(),
        });
    }
    if !problems.is_empty() {
        return Err(WalletError::Invalid(problems));
    }
    let now = unix_now();
    match store::insert_item(&w.core.db, tenant, sku, name, price_credits, now).await {
        Err(StoreError::Conflict(_)) => return Err(WalletError::SkuTaken(sku.to_owned())),
        other => other?,
    }
    Ok(WalletItem {
        sku: sku.to_owned(),
        name: name.to_owned(),
        price_credits,
        active: true,
        created_at: faro_http::respond::rfc3339(now),
    })
}

/// One page of items by sku, after the sku `after`; one more than `limit` is read so the
/// caller knows whether a next page exists.
pub async fn list(
    w: &Wallet,
    tenant: &TenantId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<WalletItem>, WalletError> {
    let rows = store::items(&w.core.db, tenant, after, limit as i64 + 1).await?;
    Ok(rows.into_iter().map(WalletItem::from).collect())
}
