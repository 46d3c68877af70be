//! Reversals: staff undo a posted transfer (a grant, a purchase, a hold's post) with a new
//! transfer the other way for the same amount; nothing is edited. A transfer has at most one
//! reversal: its id is derived from the original's, so a second request with another key finds
//! it and is refused (`already_reversed`), and two racing requests cannot both apply. Credits
//! the user already spent are not taken back (409 `insufficient_funds`).

use faro_store::{TenantId, unix_now};
use faro_wallet_domain::{Code, Refusal, TransferId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::{self, WalletBalance};
use crate::error::WalletError;
use crate::{Wallet, store};
use faro_store::idempotency::{self, Reply};

/// The `Idempotency-Key` scope of reversals.
const SCOPE: &str = "wallet.reversal";

/// What a reversal asks (hashed for its key).
#[derive(Clone, Debug, Serialize)]
pub struct ReverseInput {
    pub transfer: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TransferReversed {
    /// The reversal's own transfer id.
    pub transfer_id: String,
    /// The transfer it undoes.
    pub reverses: String,
    #[schema(example = "reversal")]
    pub code: String,
    /// The amount moved back.
    pub amount: i64,
    /// Where the amount came back from (the original's credit account).
    pub debit_account: String,
    /// Where it went back to (the original's debit account).
    pub credit_account: String,
    pub reason: String,
    /// The user whose credits moved, when one side is a user's.
    pub user: Option<String>,
    /// That user's balance after the reversal.
    pub balance: Option<WalletBalance>,
    /// RFC 3339.
    pub at: String,
}

/// The one id a reversal of `original` can have.
fn reversal_id(original: &TransferId) -> String {
    idempotency::derived_id("reversal", "transfer", original.as_str())
}

pub async fn reverse(
    w: &Wallet,
    tenant: &TenantId,
    actor: &str,
    key: Option<&str>,
    input: ReverseInput,
) -> Result<Reply, WalletError> {
    let key = idempotency::key(key)?;
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 300 {
        return Err(WalletError::invalid("reason", "why: 1 to 300 characters"));
    }
    let not_found = || WalletError::NotFound("no such transfer");
    let original = TransferId::parse(input.transfer.as_str()).map_err(|_| not_found())?;
    let corrupt = |e: String| WalletError::Store(faro_store::StoreError::corrupt(e));
    let id = TransferId::parse(reversal_id(&original)).map_err(corrupt)?;
    let code = Code::parse("reversal").map_err(corrupt)?;
    let hash = idempotency::hash(&input)?;
    let unit = accounts::credits()?;
    let db = &w.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    // A posted record never changes, so it is read before the locks.
    let (record, _) = store::record(&mut tx, tenant, &original)
        .await?
        .ok_or_else(not_found)?;
    let opened = store::holds::opens(&mut tx, tenant, [&record.debit, &record.credit]).await?;
    store::lock_accounts(&mut tx, db.backend(), tenant, &opened, &unit, now).await?;
    if let Some(first) = idempotency::earlier(&mut tx, tenant, SCOPE, actor, &key, &hash).await? {
        return Ok(first);
    }
    let transfer = faro_wallet_domain::checked_reversal(&record, id.clone(), code)
        .map_err(WalletError::Refused)?;
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
    .map_err(WalletError::Refused)?;
    if !applied.new {
        return Err(WalletError::Refused(Refusal::AlreadyReversed {
            id: original,
            reversal: id,
        }));
    }
    let r = &applied.record;
    let user_side = [
        (r.credit.as_str(), applied.credit.as_ref()),
        (r.debit.as_str(), applied.debit.as_ref()),
    ]
    .into_iter()
    .find_map(|(account, after)| accounts::user_of(account).map(|u| (u.to_owned(), after)));
    let body = TransferReversed {
        transfer_id: r.id().to_string(),
        reverses: original.to_string(),
        code: r.transfer.code.to_string(),
        amount: r.amount,
        debit_account: r.debit.to_string(),
        credit_account: r.credit.to_string(),
        reason: reason.to_owned(),
        balance: user_side
            .as_ref()
            .map(|(_, after)| WalletBalance::of(*after)),
        user: user_side.map(|(u, _)| u),
        at: faro_http::respond::rfc3339(r.at),
    };
    let reply =
        idempotency::remember(&mut tx, tenant, SCOPE, actor, &key, &hash, 201, &body, now).await?;
    tx.commit().await?;
    Ok(reply)
}
