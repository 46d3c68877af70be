//! Staff granting credits: a move from the tenant's issuance account to the user's credits,
//! once per `Idempotency-Key`.

use faro_store::{TenantId, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::{self, WalletBalance};
use crate::error::WalletError;
use crate::{Wallet, store};
use faro_store::idempotency::{self, Reply};

/// The `Idempotency-Key` scope of grants.
const SCOPE: &str = "wallet.grant";

/// What a grant asks (hashed for its key).
#[derive(Clone, Debug, Serialize)]
pub struct GrantInput {
    pub user: String,
    pub amount: i64,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Granted {
    pub transfer_id: String,
    pub user: String,
    pub amount: i64,
    pub reason: String,
    /// The user's balance after the grant.
    pub balance: WalletBalance,
}

/// Grants `input.amount` credits to `input.user`; `actor` is the staff member (or API key).
pub async fn grant(
    w: &Wallet,
    tenant: &TenantId,
    actor: &str,
    key: Option<&str>,
    input: GrantInput,
) -> Result<Reply, WalletError> {
    let key = idempotency::key(key)?;
    let mut problems = Vec::new();
    let user = accounts::user(&input.user);
    if let Err(WalletError::Invalid(p)) = &user {
        problems.extend(p.iter().cloned());
    }
    if input.amount < 1 {
        problems.push(faro_http::FieldProblem {
            path: "amount".into(),
            message: "a whole number of credits, at least 1".into(),
        });
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 300 {
        problems.push(faro_http::FieldProblem {
            path: "reason".into(),
            message: "why: 1 to 300 characters".into(),
        });
    }
    if !problems.is_empty() {
        return Err(WalletError::Invalid(problems));
    }
    let user = user?;
    let issuance = accounts::issuance()?;
    let unit = accounts::credits()?;
    let hash = idempotency::hash(&input)?;
    let db = &w.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    let opened = [issuance.clone(), user.clone()];
    store::lock_accounts(&mut tx, db.backend(), tenant, &opened, &unit, now).await?;
    if let Some(first) = idempotency::earlier(&mut tx, tenant, SCOPE, actor, &key, &hash).await? {
        return Ok(first);
    }
    let transfer = accounts::moving(
        "grant",
        idempotency::derived_id("grant", actor, &key),
        &issuance,
        &user,
        input.amount,
    )?;
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
    let body = Granted {
        transfer_id: applied.record.id().to_string(),
        user: input.user.clone(),
        amount: input.amount,
        reason: reason.to_owned(),
        balance: WalletBalance::of(applied.credit.as_ref()),
    };
    let reply =
        idempotency::remember(&mut tx, tenant, SCOPE, actor, &key, &hash, 201, &body, now).await?;
    tx.commit().await?;
    Ok(reply)
}
