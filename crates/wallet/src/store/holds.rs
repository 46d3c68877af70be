//! The SQL of holds, expiry, reversals and past balances: which accounts a recorded transfer
//! touches, the expiry's locked write, the holds due to expire, and an account's posted balance
//! at a past time from its history's running balances.

use faro_store::{Backend, Db, StoreError, TenantId};
use faro_wallet_domain::{AccountId, Refusal, Rows, TransferId, Unit};
use sqlx::Row;

use super::{Open, Tx, kind_of, lock_accounts, record, write};

/// The accounts of a recorded transfer (for a post, void, expiry or reversal, which name a
/// transfer rather than accounts), as [`super::apply`] takes them. They exist: the transfer
/// was applied to them.
pub async fn opens(
    tx: &mut Tx,
    tenant: &TenantId,
    ids: [&AccountId; 2],
) -> Result<Vec<Open>, StoreError> {
    let mut out = Vec::with_capacity(2);
    for id in ids {
        let kind: String =
            sqlx::query_scalar("SELECT kind FROM wallet_accounts WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::corrupt(format!("transfer account {id} missing")))?;
        out.push(Open {
            id: id.clone(),
            kind: kind_of(&kind)?,
        });
    }
    Ok(out)
}

/// Expires the hold `pending` at `now` inside `tx`: locks its accounts, reads its state under
/// those locks, lets `plan_expiry` decide, writes its effects. A hold another instance
/// settled or expired first is refused (nothing written), so running this twice is harmless.
pub async fn expire(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    pending: &TransferId,
    unit: &Unit,
    now: i64,
) -> Result<Result<(), Refusal>, StoreError> {
    let Some((hold, _)) = record(tx, tenant, pending).await? else {
        return Ok(Err(Refusal::PendingTransferNotFound {
            pending: pending.clone(),
        }));
    };
    let accounts = opens(tx, tenant, [&hold.debit, &hold.credit]).await?;
    let mut rows = Rows::default();
    for account in lock_accounts(tx, backend, tenant, &accounts, unit, now).await? {
        rows.accounts.insert(account.id.clone(), account);
    }
    if let Some((hold, state)) = record(tx, tenant, pending).await? {
        rows.transfers.insert(pending.clone(), hold);
        if let Some(state) = state {
            rows.holds.insert(pending.clone(), state);
        }
    }
    let effects = match faro_wallet_domain::plan_expiry(&rows, pending, now) {
        Ok(e) => e,
        Err(refusal) => return Ok(Err(refusal)),
    };
    write(tx, tenant, &rows, &effects, now).await?;
    Ok(Ok(()))
}

/// Up to `limit` pending holds whose end has passed at `now`, oldest end first, across tenants
/// (the partial index `wallet_transfers_expiring` holds just the pending ones).
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<(TenantId, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT tenant_id, id FROM wallet_transfers \
         WHERE hold_state = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let tenant: String = r.try_get(0)?;
            Ok((TenantId::new(tenant.as_str()), r.try_get(1)?))
        })
        .collect()
}

/// A hold as stored, for reading it back.
#[derive(Clone, Debug)]
pub struct HoldRow {
    pub debit: String,
    pub amount: i64,
    pub state: String,
    pub posted: Option<i64>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// The post or void that settled it, if any.
    pub settled_by: Option<String>,
}

/// The hold `id` as last committed; `None` when there is no such transfer or it is not a hold.
pub async fn hold(db: &Db, tenant: &TenantId, id: &str) -> Result<Option<HoldRow>, StoreError> {
    let row = sqlx::query(
        "SELECT h.debit_account, h.amount, h.hold_state, h.posted_amount, h.created_at, \
         h.expires_at, (SELECT s.id FROM wallet_transfers s \
                        WHERE s.tenant_id = h.tenant_id AND s.pending_id = h.id) \
         FROM wallet_transfers h \
         WHERE h.tenant_id = $1 AND h.id = $2 AND h.action = 'hold'",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let state: Option<String> = r.try_get(2)?;
    Ok(Some(HoldRow {
        debit: r.try_get(0)?,
        amount: r.try_get(1)?,
        state: state.ok_or_else(|| StoreError::corrupt("a hold without its state"))?,
        posted: r.try_get(3)?,
        created_at: r.try_get(4)?,
        expires_at: r.try_get(5)?,
        settled_by: r.try_get(6)?,
    }))
}

/// `account`'s posted balance at the end of second `at`: the running balance of its last
/// history line at or before then (0 before its first). Lines are numbered in the order they
/// were written under the account's lock, so the last by number is the balance then.
pub async fn balance_at(
    db: &Db,
    tenant: &TenantId,
    account: &AccountId,
    at: i64,
) -> Result<i64, StoreError> {
    let balance: Option<i64> = sqlx::query_scalar(
        "SELECT balance FROM wallet_entries WHERE tenant_id = $1 AND account_id = $2 \
         AND created_at <= $3 ORDER BY n DESC LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(account.as_str())
    .bind(at)
    .fetch_optional(db.reader())
    .await?;
    Ok(balance.unwrap_or(0))
}
