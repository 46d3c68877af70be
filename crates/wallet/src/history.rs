//! A user's transactions: their credits account's posted history, newest first, each line
//! with the balance just after it.

use faro_store::TenantId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::WalletError;
use crate::{Wallet, accounts, store};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WalletTransaction {
    pub transfer_id: String,
    /// Why: `grant`, `purchase`, ...
    #[schema(example = "purchase")]
    pub code: String,
    /// Signed: positive in, negative out.
    pub amount: i64,
    /// The balance just after it.
    pub balance: i64,
    /// RFC 3339.
    pub at: String,
    /// Position in the account's history (what cursors carry).
    #[serde(skip)]
    pub n: i64,
}

/// Up to `limit + 1` lines of `user`'s history before line `before`.
pub async fn transactions(
    w: &Wallet,
    tenant: &TenantId,
    user: &str,
    before: Option<i64>,
    limit: usize,
) -> Result<Vec<WalletTransaction>, WalletError> {
    let account = accounts::user(user)?;
    let rows = store::history(&w.core.db, tenant, &account.id, before, limit as i64 + 1).await?;
    Ok(rows
        .into_iter()
        .map(|r| WalletTransaction {
            transfer_id: r.transfer,
            code: r.code,
            amount: r.amount,
            balance: r.balance,
            at: faro_http::respond::rfc3339(r.at),
            n: r.n,
        })
        .collect())
}
