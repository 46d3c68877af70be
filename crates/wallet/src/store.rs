//! Every SQL statement of the wallet. The ledger's write path is [`apply`]: inside one write
//! transaction it opens and locks the transfer's accounts (in id order, `FOR UPDATE` on
//! PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds its one write lock), reads the record
//! a retry would find, lets the pure `plan` decide, and writes exactly its effects. The check
//! and the write are one atomic step on both databases and across instances.

use faro_store::{Backend, Db, StoreError, TenantId};
use faro_wallet_domain::{
    Account, AccountId, AccountKind, Action, Balance, Effects, HoldState, Planned, Record, Refusal,
    Rows, Transfer, TransferId, Unit,
};
use sqlx::Row;
use sqlx::any::AnyRow;

pub mod holds;

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// What the store knows of an account it may open: its kind.
#[derive(Clone, Debug)]
pub struct Open {
    pub id: AccountId,
    pub kind: AccountKind,
}

fn kind_word(kind: AccountKind) -> Result<String, StoreError> {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| StoreError::corrupt("account kind"))
}

fn kind_of(word: &str) -> Result<AccountKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(word.to_owned()))
        .map_err(|_| StoreError::corrupt(format!("account kind {word:?}")))
}

const ACCOUNT: &str =
    "id, kind, unit, debits_pending, debits_posted, credits_pending, credits_posted";

fn account_row(r: &AnyRow) -> Result<Account, StoreError> {
    let id: String = r.try_get(0)?;
    let kind: String = r.try_get(1)?;
    let unit: String = r.try_get(2)?;
    Ok(Account {
        id: AccountId::parse(id).map_err(StoreError::corrupt)?,
        kind: kind_of(&kind)?,
        unit: Unit::parse(unit).map_err(StoreError::corrupt)?,
        balance: Balance {
            debits_pending: r.try_get(3)?,
            debits_posted: r.try_get(4)?,
            credits_pending: r.try_get(5)?,
            credits_posted: r.try_get(6)?,
        },
    })
}

/// Opens `open` if missing and locks its row for the rest of the transaction.
async fn open_and_lock(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    open: &Open,
    unit: &Unit,
    now: i64,
) -> Result<Account, StoreError> {
    sqlx::query(
        "INSERT INTO wallet_accounts (tenant_id, id, kind, unit, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(open.id.as_str())
    .bind(kind_word(open.kind)?)
    .bind(unit.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let sql =
        format!("SELECT {ACCOUNT} FROM wallet_accounts WHERE tenant_id = $1 AND id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(open.id.as_str())
        .fetch_one(&mut **tx)
        .await?;
    account_row(&row)
}

/// Opens (if new) and locks `accounts`, always in id order so two transactions never wait on
/// each other crosswise.
pub async fn lock_accounts(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    accounts: &[Open],
    unit: &Unit,
    now: i64,
) -> Result<Vec<Account>, StoreError> {
    let mut sorted: Vec<&Open> = accounts.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    sorted.dedup_by(|a, b| a.id == b.id);
    let mut out = Vec::with_capacity(sorted.len());
    for open in sorted {
        out.push(open_and_lock(tx, backend, tenant, open, unit, now).await?);
    }
    Ok(out)
}

/// The record kept under `id`, with its hold state (read it under the accounts' locks when
/// the state matters).
pub async fn record(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &TransferId,
) -> Result<Option<(Record, Option<HoldState>)>, StoreError> {
    let row = sqlx::query(
        "SELECT request, debit_account, credit_account, amount, created_at, expires_at, \
         hold_state, posted_amount FROM wallet_transfers WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let request: String = r.try_get(0)?;
    let transfer: Transfer = serde_json::from_str(&request).map_err(StoreError::corrupt)?;
    let debit: String = r.try_get(1)?;
    let credit: String = r.try_get(2)?;
    let state: Option<String> = r.try_get(6)?;
    let posted: Option<i64> = r.try_get(7)?;
    let state = match state.as_deref() {
        None => None,
        Some("pending") => Some(HoldState::Pending),
        Some("posted") => Some(HoldState::Posted {
            amount: posted.unwrap_or(0),
        }),
        Some("voided") => Some(HoldState::Voided),
        Some("expired") => Some(HoldState::Expired),
        Some(other) => return Err(StoreError::corrupt(format!("hold state {other:?}"))),
    };
    Ok(Some((
        Record {
            transfer,
            debit: AccountId::parse(debit).map_err(StoreError::corrupt)?,
            credit: AccountId::parse(credit).map_err(StoreError::corrupt)?,
            amount: r.try_get(3)?,
            at: r.try_get(4)?,
            expires_at: r.try_get(5)?,
        },
        state,
    )))
}

/// Plans and writes one move or hold between `debit` and `credit` (opened when new, in
/// `unit`) inside `tx`: the refusal, the first result of a retry, or the new record. A post
/// or void names its hold: `accounts` must then be the hold's two accounts
/// ([`holds::opens`] finds them), locked before the hold's state is read.
pub async fn apply(
    tx: &mut Tx,
    backend: Backend,
    tenant: &TenantId,
    transfer: &Transfer,
    accounts: &[Open],
    unit: &Unit,
    now: i64,
) -> Result<Result<Applied, Refusal>, StoreError> {
    let mut rows = Rows::default();
    for account in lock_accounts(tx, backend, tenant, accounts, unit, now).await? {
        rows.accounts.insert(account.id.clone(), account);
    }
    // A hold's state changes only under its accounts' locks (post, void, expiry), so it is
    // read after taking them: of a post and a void racing for one hold, the second to get the
    // locks sees the first's write (PostgreSQL reads each statement afresh), never a stale
    // `pending`.
    if let Some(pending) = transfer.pending()
        && let Some((hold, state)) = record(tx, tenant, pending).await?
    {
        rows.transfers.insert(pending.clone(), hold);
        if let Some(state) = state {
            rows.holds.insert(pending.clone(), state);
        }
    }
    if let Some((first, state)) = record(tx, tenant, &transfer.id).await? {
        if let Some(state) = state {
            rows.holds.insert(transfer.id.clone(), state);
        }
        rows.transfers.insert(transfer.id.clone(), first);
    }
    let planned = match faro_wallet_domain::plan(&rows, transfer, now) {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let effects = match planned {
        Planned::Exists(first) => {
            let account = |id: &AccountId| rows.accounts.get(id).cloned();
            return Ok(Ok(Applied {
                debit: account(&first.debit),
                credit: account(&first.credit),
                record: first,
                new: false,
            }));
        }
        Planned::New(effects) => effects,
    };
    write(tx, tenant, &rows, &effects, now).await?;
    rows.write(&effects);
    let record = effects
        .record
        .clone()
        .ok_or_else(|| StoreError::corrupt("a transfer without a record"))?;
    Ok(Ok(Applied {
        debit: rows.accounts.get(&record.debit).cloned(),
        credit: rows.accounts.get(&record.credit).cloned(),
        record,
        new: true,
    }))
}

/// A transfer applied: its record and both accounts as they are now.
#[derive(Clone, Debug)]
pub struct Applied {
    pub record: Record,
    pub debit: Option<Account>,
    pub credit: Option<Account>,
    /// `false` for a retry answered with the first result.
    pub new: bool,
}

fn action_word(action: &Action) -> &'static str {
    match action {
        Action::Move { .. } => "move",
        Action::Hold { .. } => "hold",
        Action::Post { .. } => "post",
        Action::Void { .. } => "void",
    }
}

fn state_word(state: HoldState) -> (&'static str, Option<i64>) {
    match state {
        HoldState::Pending => ("pending", None),
        HoldState::Posted { amount } => ("posted", Some(amount)),
        HoldState::Voided => ("voided", None),
        HoldState::Expired => ("expired", None),
    }
}

/// Writes `effects`: the record, both balances, the history lines of what was posted, and a
/// hold's new state.
pub(crate) async fn write(
    tx: &mut Tx,
    tenant: &TenantId,
    rows: &Rows,
    effects: &Effects,
    now: i64,
) -> Result<(), StoreError> {
    if let Some(r) = &effects.record {
        let (pending, timeout) = match &r.transfer.action {
            Action::Hold { timeout, .. } => (None, Some(*timeout)),
            Action::Post { pending, .. } | Action::Void { pending } => {
                (Some(pending.as_str()), None)
            }
            Action::Move { .. } => (None, None),
        };
        let request = serde_json::to_string(&r.transfer).map_err(StoreError::corrupt)?;
        let own_state = effects
            .hold
            .as_ref()
            .filter(|(id, _)| id == r.id())
            .map(|(_, s)| state_word(*s).0);
        sqlx::query(
            "INSERT INTO wallet_transfers (tenant_id, id, code, action, debit_account, \
             credit_account, amount, pending_id, timeout, expires_at, hold_state, request, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(tenant.as_str())
        .bind(r.id().as_str())
        .bind(r.transfer.code.as_str())
        .bind(action_word(&r.transfer.action))
        .bind(r.debit.as_str())
        .bind(r.credit.as_str())
        .bind(r.amount)
        .bind(pending)
        .bind(timeout)
        .bind(r.expires_at)
        .bind(own_state)
        .bind(request)
        .bind(r.at)
        .execute(&mut **tx)
        .await?;
    }
    let posted = effects.record.as_ref().and_then(|r| r.posted());
    for change in [&effects.debit, &effects.credit] {
        let Some(account) = rows.accounts.get(&change.account) else {
            return Err(StoreError::corrupt("a change to an account not loaded"));
        };
        let a = change.after;
        let entry = match (posted, &effects.record) {
            (Some(_), Some(r)) => r.entry(&change.account),
            _ => None,
        };
        let bump = i64::from(entry.is_some());
        sqlx::query(
            "UPDATE wallet_accounts SET debits_pending = $3, debits_posted = $4, \
             credits_pending = $5, credits_posted = $6, entries = entries + $7 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(change.account.as_str())
        .bind(a.debits_pending)
        .bind(a.debits_posted)
        .bind(a.credits_pending)
        .bind(a.credits_posted)
        .bind(bump)
        .execute(&mut **tx)
        .await?;
        if let Some(entry) = entry {
            let normal = account.kind.normal();
            sqlx::query(
                "INSERT INTO wallet_entries (tenant_id, account_id, n, transfer_id, code, amount, \
                 balance, created_at) VALUES ($1, $2, \
                 (SELECT entries FROM wallet_accounts WHERE tenant_id = $1 AND id = $2), \
                 $3, $4, $5, $6, $7)",
            )
            .bind(tenant.as_str())
            .bind(change.account.as_str())
            .bind(entry.transfer.as_str())
            .bind(entry.code.as_str())
            .bind(entry.delta(normal))
            .bind(a.posted(normal))
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    if let Some((id, state)) = &effects.hold
        && effects.record.as_ref().is_none_or(|r| r.id() != id)
    {
        let (word, amount) = state_word(*state);
        sqlx::query(
            "UPDATE wallet_transfers SET hold_state = $3, posted_amount = $4 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(word)
        .bind(amount)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// An account as last committed (no lock), if it exists.
pub async fn account(
    db: &Db,
    tenant: &TenantId,
    id: &AccountId,
) -> Result<Option<Account>, StoreError> {
    let sql = format!("SELECT {ACCOUNT} FROM wallet_accounts WHERE tenant_id = $1 AND id = $2");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(db.reader())
        .await?
        .as_ref()
        .map(account_row)
        .transpose()
}

/// One line of an account's history as stored: its number, transfer, code, signed amount,
/// balance after it and time.
#[derive(Clone, Debug)]
pub struct HistoryRow {
    pub n: i64,
    pub transfer: String,
    pub code: String,
    pub amount: i64,
    pub balance: i64,
    pub at: i64,
}

/// `limit` lines of `account`'s history, newest first, numbered below `before` when given.
pub async fn history(
    db: &Db,
    tenant: &TenantId,
    account: &AccountId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<HistoryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT n, transfer_id, code, amount, balance, created_at FROM wallet_entries \
         WHERE tenant_id = $1 AND account_id = $2 AND n < $3 ORDER BY n DESC LIMIT $4",
    )
    .bind(tenant.as_str())
    .bind(account.as_str())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                n: r.try_get(0)?,
                transfer: r.try_get(1)?,
                code: r.try_get(2)?,
                amount: r.try_get(3)?,
                balance: r.try_get(4)?,
                at: r.try_get(5)?,
            })
        })
        .collect()
}

// ---- items ------------------------------------------------------------------------------

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ItemRow {
    pub sku: String,
    pub name: String,
    pub price_credits: i64,
    pub active: i64,
    pub created_at: i64,
}

/// Inserts an item; `Conflict` when the sku is taken in the tenant.
pub async fn insert_item(
    db: &Db,
    tenant: &TenantId,
    sku: &str,
    name: &str,
    price: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO wallet_items (tenant_id, sku, name, price_credits, active, created_at) \
         VALUES ($1, $2, $3, $4, 1, $5)",
    )
    .bind(tenant.as_str())
    .bind(sku)
    .bind(name)
    .bind(price)
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Up to `limit` items by sku, after `after`.
pub async fn items(
    db: &Db,
    tenant: &TenantId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ItemRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT sku, name, price_credits, active, created_at FROM wallet_items \
         WHERE tenant_id = $1 AND sku > $2 ORDER BY sku LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(after.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

/// An active item, read inside the purchase's transaction.
pub async fn active_item(
    tx: &mut Tx,
    tenant: &TenantId,
    sku: &str,
) -> Result<Option<ItemRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT sku, name, price_credits, active, created_at FROM wallet_items \
         WHERE tenant_id = $1 AND sku = $2 AND active = 1",
    )
    .bind(tenant.as_str())
    .bind(sku)
    .fetch_optional(&mut **tx)
    .await?)
}

// ---- orders -----------------------------------------------------------------------------

pub struct NewOrder<'a> {
    pub id: &'a str,
    pub user: &'a str,
    pub sku: &'a str,
    pub status: &'a str,
    pub amount: i64,
    pub transfer: &'a str,
    pub at: i64,
}

pub async fn insert_order(
    tx: &mut Tx,
    tenant: &TenantId,
    o: &NewOrder<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO wallet_orders (tenant_id, id, user_id, sku, status, amount, transfer_id, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_str())
    .bind(o.id)
    .bind(o.user)
    .bind(o.sku)
    .bind(o.status)
    .bind(o.amount)
    .bind(o.transfer)
    .bind(o.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
