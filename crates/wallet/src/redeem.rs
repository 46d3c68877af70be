//! Points redeemed into credits: gamification spends the points and publishes
//! `gamification.points_redeemed` in one transaction; the wallet's consumer credits the user
//! from the tenant's issuance account, with an id derived from the user and the redemption's
//! key (`redeem:<hash>`), so the credits arrive exactly once: the consumer's cursor moves in
//! the same transaction, and the ledger refuses a second transfer with that id anyway.
//!
//! The two legs commit in two transactions joined by the outbox, not as one linked pair on
//! this ledger: the points live in gamification's own ledger. Once committed, the points leg
//! always gets its credit leg (the outbox retries until it does).

use faro_store::idempotency::derived_id;
use faro_store::{NewEvent, StoreError, TenantId};
use serde::Deserialize;
use serde_json::json;

use crate::error::WalletError;
use crate::{Wallet, accounts, store};

/// What the wallet reads of `gamification.points_redeemed`.
#[derive(Deserialize)]
struct Redeemed {
    user: String,
    points: i64,
    credits: i64,
    key: String,
}

pub(crate) async fn take(
    w: &Wallet,
    tx: &mut store::Tx,
    e: &faro_store::Event,
) -> Result<(), StoreError> {
    let Ok(r) = serde_json::from_str::<Redeemed>(&e.payload) else {
        tracing::warn!(event = %e.id, "gamification.points_redeemed without user, credits or key");
        return Ok(());
    };
    if r.credits <= 0 {
        return Ok(());
    }
    let tenant = TenantId::new(e.tenant.as_str());
    match credit(w, tx, &tenant, &r, e.occurred_at).await {
        Ok(()) => Ok(()),
        // A user id the ledger cannot name: nothing to credit, said once in the log.
        Err(WalletError::Invalid(p)) => {
            tracing::warn!(event = %e.id, problems = ?p, "redemption for a user the wallet cannot hold");
            Ok(())
        }
        Err(WalletError::Store(s)) => Err(s),
        Err(other) => Err(StoreError::Other(other.to_string())),
    }
}

async fn credit(
    w: &Wallet,
    tx: &mut store::Tx,
    tenant: &TenantId,
    r: &Redeemed,
    now: i64,
) -> Result<(), WalletError> {
    let backend = w.core.db.backend();
    let user = accounts::user(&r.user)?;
    let issuance = accounts::issuance()?;
    let unit = accounts::credits()?;
    let opened = [issuance.clone(), user.clone()];
    store::lock_accounts(tx, backend, tenant, &opened, &unit, now).await?;
    let id = derived_id("redeem", &r.user, &r.key);
    let transfer = accounts::moving("redemption", id.clone(), &issuance, &user, r.credits)?;
    let applied = store::apply(tx, backend, tenant, &transfer, &opened, &unit, now)
        .await?
        .map_err(WalletError::Refused)?;
    if !applied.new {
        return Ok(());
    }
    let event = NewEvent::new(
        tenant.as_str(),
        "wallet.points_credited",
        &r.user,
        &json!({"user_id": r.user, "points": r.points, "credits": r.credits,
                "transfer_id": id}),
    )?
    .at(now);
    faro_store::outbox::append(tx, backend, &[event]).await?;
    Ok(())
}
