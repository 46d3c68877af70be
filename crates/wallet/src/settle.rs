//! Settling a hold: post it (all or part, to the tenant's revenue; the rest goes back) or void
//! it (all back), once per `Idempotency-Key`. The hold's accounts are locked before its state
//! is read, so of any number of posts and voids racing for one hold, across instances, one
//! settles it and the ledger refuses the rest (`pending_transfer_already_posted`, ...).

use faro_store::{TenantId, unix_now};
use faro_wallet_domain::{Action, HoldState, Refusal, Transfer, TransferId};
use serde::Serialize;

use crate::accounts::{self, WalletBalance};
use crate::error::WalletError;
use crate::holds::{self, Held};
use crate::{Wallet, store};
use faro_store::idempotency::{self, Reply};

/// How a hold is settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Settle {
    /// Post `Some(amount)` of it, or all of it.
    Post(Option<i64>),
    Void,
}

impl Settle {
    fn scope(self) -> &'static str {
        match self {
            Settle::Post(_) => "wallet.hold_post",
            Settle::Void => "wallet.hold_void",
        }
    }
}

/// What a settlement asks (hashed for its key).
#[derive(Serialize)]
struct SettleInput<'a> {
    hold: &'a str,
    settle: Settle,
}

/// Posts or voids the hold `hold`; `actor` is the staff member (or API key). 200 with the
/// hold as it now stands.
pub async fn settle(
    w: &Wallet,
    tenant: &TenantId,
    actor: &str,
    key: Option<&str>,
    hold: &str,
    how: Settle,
) -> Result<Reply, WalletError> {
    let key = idempotency::key(key)?;
    if let Settle::Post(Some(amount)) = how
        && amount < 1
    {
        return Err(WalletError::invalid(
            "amount",
            "a whole number of credits, at least 1 (leave it out to post all)",
        ));
    }
    let not_found = || WalletError::NotFound("no such hold");
    let pending = TransferId::parse(hold).map_err(|_| not_found())?;
    let hash = idempotency::hash(&SettleInput { hold, settle: how })?;
    let unit = accounts::credits()?;
    let db = &w.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    // The hold's accounts never change, so reading them before the locks is safe; its state
    // is read again by `apply`, under them.
    let (record, _) = store::record(&mut tx, tenant, &pending)
        .await?
        .filter(|(r, _)| r.is_hold())
        .ok_or_else(not_found)?;
    let user = accounts::user_of(record.debit.as_str())
        .ok_or_else(not_found)?
        .to_owned();
    let opened = store::holds::opens(&mut tx, tenant, [&record.debit, &record.credit]).await?;
    store::lock_accounts(&mut tx, db.backend(), tenant, &opened, &unit, now).await?;
    let scope = how.scope();
    if let Some(first) = idempotency::earlier(&mut tx, tenant, scope, actor, &key, &hash).await? {
        return Ok(first);
    }
    let corrupt = |e: String| WalletError::Store(faro_store::StoreError::corrupt(e));
    let (word, action) = match how {
        Settle::Post(amount) => (
            "post",
            Action::Post {
                pending: pending.clone(),
                amount,
            },
        ),
        Settle::Void => (
            "void",
            Action::Void {
                pending: pending.clone(),
            },
        ),
    };
    let transfer = Transfer {
        id: TransferId::parse(idempotency::derived_id(word, actor, &key)).map_err(corrupt)?,
        code: record.transfer.code.clone(),
        action,
    };
    let applied = store::apply(
        &mut tx,
        db.backend(),
        tenant,
        &transfer,
        &opened,
        &unit,
        now,
    )
    .await?
    .map_err(|r| match r {
        Refusal::PendingTransferNotFound { .. } | Refusal::PendingTransferNotPending { .. } => {
            not_found()
        }
        other => WalletError::Refused(other),
    })?;
    let state = match how {
        Settle::Post(_) => HoldState::Posted {
            amount: applied.record.amount,
        },
        Settle::Void => HoldState::Voided,
    };
    let body = holds::view(
        Held {
            id: pending.as_str(),
            user: &user,
            amount: record.amount,
            state,
            settled_by: Some(applied.record.id().to_string()),
            created_at: record.at,
            expires_at: record.expires_at,
        },
        WalletBalance::of(applied.debit.as_ref()),
        now,
    );
    let reply =
        idempotency::remember(&mut tx, tenant, scope, actor, &key, &hash, 200, &body, now).await?;
    tx.commit().await?;
    Ok(reply)
}
