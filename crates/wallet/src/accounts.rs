//! The wallet's accounts: whose they are, what they are called in the ledger, and the
//! balance a user sees.

use faro_store::TenantId;
use faro_wallet_domain::{
    Account, AccountId, AccountKind, Action, Code, Transfer, TransferId, Unit,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Wallet;
use crate::error::WalletError;
use crate::store::{self, Open};

/// The wallet's one unit for now.
pub fn credits() -> Result<Unit, WalletError> {
    Unit::parse("credits").map_err(|e| WalletError::Store(faro_store::StoreError::corrupt(e)))
}

fn fixed(id: &str, kind: AccountKind) -> Result<Open, WalletError> {
    Ok(Open {
        id: AccountId::parse(id)
            .map_err(|e| WalletError::Store(faro_store::StoreError::corrupt(e)))?,
        kind,
    })
}

/// A user's credits: `user:<id>:credits`; the id must fit the ledger's ids.
pub fn user(user: &str) -> Result<Open, WalletError> {
    if user.is_empty() || user.len() > 100 || !user.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(WalletError::invalid(
            "user",
            "the user's id: 1 to 100 visible ASCII characters without spaces",
        ));
    }
    Ok(Open {
        id: AccountId::parse(format!("user:{user}:credits"))
            .map_err(|e| WalletError::invalid("user", e))?,
        kind: AccountKind::UserCredits,
    })
}

/// Where the tenant's granted credits come from (its balance is what is outstanding).
pub fn issuance() -> Result<Open, WalletError> {
    fixed("tenant:issuance", AccountKind::Issuance)
}

/// What users spent on the tenant's items.
pub fn revenue() -> Result<Open, WalletError> {
    fixed("tenant:revenue", AccountKind::Revenue)
}

/// A transfer of `amount` from `debit` to `credit`, with an id derived from the caller and
/// its `Idempotency-Key` (or another id made to repeat on a retry).
pub fn moving(
    code: &str,
    id: String,
    debit: &Open,
    credit: &Open,
    amount: i64,
) -> Result<Transfer, WalletError> {
    let corrupt = |e: String| WalletError::Store(faro_store::StoreError::corrupt(e));
    Ok(Transfer {
        id: TransferId::parse(id).map_err(corrupt)?,
        code: Code::parse(code).map_err(corrupt)?,
        action: Action::Move {
            debit: debit.id.clone(),
            credit: credit.id.clone(),
            amount,
        },
    })
}

/// Where credits bought with money come in (topped up through a payment).
pub fn clearing() -> Result<Open, WalletError> {
    fixed("tenant:clearing", AccountKind::PaymentClearing)
}

/// A balance as a user sees it, in credits.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct WalletBalance {
    /// What can be spent now: posted credits less what is held.
    pub available: i64,
    /// Credits held by pending operations (reserved, not yet spent).
    pub pending: i64,
    #[schema(example = "credits")]
    pub currency: &'static str,
}

impl WalletBalance {
    pub fn of(account: Option<&Account>) -> WalletBalance {
        WalletBalance {
            available: account.map_or(0, Account::available),
            pending: account.map_or(0, Account::pending),
            currency: "credits",
        }
    }
}

/// `user`'s balance as last committed (zero for a user the wallet has not seen).
pub async fn balance(
    w: &Wallet,
    tenant: &TenantId,
    who: &str,
) -> Result<WalletBalance, WalletError> {
    let open = user(who)?;
    let account = store::account(&w.core.db, tenant, &open.id).await?;
    Ok(WalletBalance::of(account.as_ref()))
}

/// The user whose credits `account` is (`user:<id>:credits`), if it is a user's.
pub fn user_of(account: &str) -> Option<&str> {
    account
        .strip_prefix("user:")
        .and_then(|rest| rest.strip_suffix(":credits"))
        .filter(|u| !u.is_empty())
}

/// A user's posted credits at a past time, from their history's running balances.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PastBalance {
    /// The moment asked about (unix seconds, the end of that second).
    pub at: i64,
    /// Posted credits then. Holds are not in the history, so what was held at that moment is
    /// not taken off.
    pub posted: i64,
    #[schema(example = "credits")]
    pub currency: &'static str,
}

/// `who`'s posted balance at the end of second `at` (unix seconds as sent, from 0 to `now`).
pub async fn balance_at(
    w: &Wallet,
    tenant: &TenantId,
    who: &str,
    at: &str,
    now: i64,
) -> Result<PastBalance, WalletError> {
    let open = user(who)?;
    let at = at
        .parse::<i64>()
        .ok()
        .filter(|at| (0..=now).contains(at))
        .ok_or_else(|| WalletError::invalid("at", "a moment in unix seconds, from 0 to now"))?;
    let posted = store::holds::balance_at(&w.core.db, tenant, &open.id, at).await?;
    Ok(PastBalance {
        at,
        posted,
        currency: "credits",
    })
}

#[cfg(test)]
mod tests {
    use super::user_of;

    #[test]
    fn a_users_account_names_the_user() {
        assert_eq!(user_of("user:42:credits"), Some("42"));
        assert_eq!(user_of("user:a:b:credits"), Some("a:b"));
        assert_eq!(user_of("user::credits"), None);
        assert_eq!(user_of("tenant:revenue"), None);
    }
}
