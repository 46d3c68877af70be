//! Credits bought with money: an outbox consumer named `wallet` takes
//! `payments.intent_succeeded` for a wallet top-up and moves the credits from the tenant's
//! payment clearing account to the payer's, in the consumer's own transaction. The transfer id
//! is the intent's (`topup:<intent>`), so the ledger's own retry check makes the credit
//! exactly once, whatever the outbox redelivers after a crash.
//!
//! The same consumer takes gamification's redemptions ([`crate::redeem`]).
//!
//! A refund of a top-up (`payments.refund_succeeded`) takes its share of the credits back to
//! clearing (`refund:<refund id>`). Credits already spent cannot be taken: the wallet takes
//! what the user still has and publishes `wallet.refund_shortfall` with the rest, for staff
//! to settle (a user's credits never go below zero).

use std::time::Duration;

use faro_store::{Consumer, NewEvent, StoreError, TenantId};
use serde::Deserialize;
use serde_json::json;

use crate::error::WalletError;
use crate::{Wallet, accounts, store};

/// The consumer's name (its cursor's key): stable across releases.
pub const CONSUMER: &str = "wallet";

/// What the wallet reads of `payments.intent_succeeded`.
#[derive(Deserialize)]
struct Succeeded {
    intent_id: String,
    user_id: String,
    purpose: String,
    #[serde(default)]
    credits: Option<i64>,
    amount_cents: i64,
    currency: String,
}

pub fn consumer(w: Wallet) -> Consumer {
    Consumer::new(CONSUMER, move |tx, events| {
        let w = w.clone();
        Box::pin(async move {
            for e in events {
                take(&w, tx, e).await?;
            }
            Ok(())
        })
    })
    .kinds(&[
        "payments.intent_succeeded",
        "payments.refund_succeeded",
        "gamification.points_redeemed",
    ])
    .poll(Duration::from_secs(1))
}

fn to_store(e: WalletError) -> StoreError {
    match e {
        WalletError::Store(s) => s,
        other => StoreError::Other(other.to_string()),
    }
}

async fn take(w: &Wallet, tx: &mut store::Tx, e: &faro_store::Event) -> Result<(), StoreError> {
    match e.kind.as_str() {
        "payments.refund_succeeded" => return take_refund(w, tx, e).await,
        "gamification.points_redeemed" => return crate::redeem::take(w, tx, e).await,
        _ => {}
    }
    let Ok(paid) = serde_json::from_str::<Succeeded>(&e.payload) else {
        tracing::warn!(event = %e.id, "payments.intent_succeeded without the fields a top-up needs");
        return Ok(());
    };
    if paid.purpose != "wallet_topup" {
        return Ok(());
    }
    let Some(credits) = paid.credits.filter(|c| *c > 0) else {
        tracing::warn!(event = %e.id, "a top-up without credits");
        return Ok(());
    };
    let tenant = TenantId::new(e.tenant.as_str());
    credit(w, tx, &tenant, &paid, credits, e.occurred_at)
        .await
        .map_err(to_store)
}

async fn credit(
    w: &Wallet,
    tx: &mut store::Tx,
    tenant: &TenantId,
    paid: &Succeeded,
    credits: i64,
    now: i64,
) -> Result<(), WalletError> {
    let backend = w.core.db.backend();
    let user = accounts::user(&paid.user_id)?;
    let clearing = accounts::clearing()?;
    let unit = accounts::credits()?;
    let opened = [clearing.clone(), user.clone()];
    store::lock_accounts(tx, backend, tenant, &opened, &unit, now).await?;
    let transfer = accounts::moving(
        "topup",
        format!("topup:{}", paid.intent_id),
        &clearing,
        &user,
        credits,
    )?;
    let applied = store::apply(tx, backend, tenant, &transfer, &opened, &unit, now)
        .await?
        .map_err(WalletError::Refused)?;
    if !applied.new {
        return Ok(());
    }
    let event = NewEvent::new(
        tenant.as_str(),
        "wallet.topup_completed",
        &paid.user_id,
        &json!({"intent_id": paid.intent_id, "user_id": paid.user_id, "credits": credits,
                "amount_cents": paid.amount_cents, "currency": paid.currency,
                "transfer_id": transfer.id.to_string()}),
    )?
    .at(now);
    faro_store::outbox::append(tx, backend, &[event]).await?;
    Ok(())
}

/// What the wallet reads of `payments.refund_succeeded`.
#[derive(Deserialize)]
struct Refunded {
    intent_id: String,
    user_id: String,
    purpose: String,
    refund_id: String,
    #[serde(default)]
    credits: Option<i64>,
}

async fn take_refund(
    w: &Wallet,
    tx: &mut store::Tx,
    e: &faro_store::Event,
) -> Result<(), StoreError> {
    let Ok(refund) = serde_json::from_str::<Refunded>(&e.payload) else {
        tracing::warn!(event = %e.id, "payments.refund_succeeded without the fields a top-up needs");
        return Ok(());
    };
    if refund.purpose != "wallet_topup" {
        return Ok(());
    }
    let Some(credits) = refund.credits.filter(|c| *c > 0) else {
        return Ok(());
    };
    let tenant = TenantId::new(e.tenant.as_str());
    take_back(w, tx, &tenant, &refund, credits, e.occurred_at)
        .await
        .map_err(to_store)
}

async fn take_back(
    w: &Wallet,
    tx: &mut store::Tx,
    tenant: &TenantId,
    refund: &Refunded,
    credits: i64,
    now: i64,
) -> Result<(), WalletError> {
    let backend = w.core.db.backend();
    let user = accounts::user(&refund.user_id)?;
    let clearing = accounts::clearing()?;
    let unit = accounts::credits()?;
    let opened = [clearing.clone(), user.clone()];
    let locked = store::lock_accounts(tx, backend, tenant, &opened, &unit, now).await?;
    let id = format!("refund:{}", refund.refund_id);
    // The consumer's cursor moves in this transaction, so an event is taken once; the transfer
    // id guards again (a redelivery finds the first transfer and changes nothing).
    let available = locked
        .iter()
        .find(|a| a.id == user.id)
        .map_or(0, faro_wallet_domain::Account::available);
    let taken = credits.min(available);
    if taken > 0 {
        let transfer = accounts::moving("refund", id.clone(), &user, &clearing, taken)?;
        let applied = store::apply(tx, backend, tenant, &transfer, &opened, &unit, now)
            .await?
            .map_err(WalletError::Refused);
        match applied {
            Ok(a) if !a.new => return Ok(()),
            Ok(_) => {}
            // Retried after the first took a different amount: the first stands.
            Err(WalletError::Refused(faro_wallet_domain::Refusal::ExistsWithDifferentFields {
                ..
            })) => {
                return Ok(());
            }
            Err(other) => return Err(other),
        }
    }
    let mut events = vec![
        NewEvent::new(
            tenant.as_str(),
            "wallet.topup_refunded",
            &refund.user_id,
            &json!({"intent_id": refund.intent_id, "refund_id": refund.refund_id,
                    "user_id": refund.user_id, "credits": taken}),
        )?
        .at(now),
    ];
    if taken < credits {
        events.push(
            NewEvent::new(
                tenant.as_str(),
                "wallet.refund_shortfall",
                &refund.user_id,
                &json!({"intent_id": refund.intent_id, "refund_id": refund.refund_id,
                        "user_id": refund.user_id, "credits_due": credits,
                        "credits_taken": taken, "shortfall": credits - taken}),
            )?
            .at(now),
        );
    }
    faro_store::outbox::append(tx, backend, &events).await?;
    Ok(())
}
