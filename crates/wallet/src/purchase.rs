//! An end user buying a digital item with credits: one transaction moves the item's price
//! from the user's credits to the tenant's revenue, records the order as fulfilled (a digital
//! item paid with credits needs nothing more), publishes `wallet.purchase_completed`, and
//! stores the reply for the `Idempotency-Key`. Not enough credits refuses it all.

use faro_store::{NewEvent, TenantId, new_id, unix_now};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::{self, WalletBalance};
use crate::catalogue::check_sku;
use crate::error::WalletError;
use crate::{Wallet, store};
use faro_store::idempotency::{self, Reply};

/// The `Idempotency-Key` scope of purchases.
const SCOPE: &str = "wallet.purchase";

/// What a purchase asks (hashed for its key).
#[derive(Clone, Debug, Serialize)]
pub struct PurchaseInput {
    pub sku: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Purchased {
    pub order_id: String,
    /// `fulfilled`: paid with credits and delivered.
    #[schema(example = "fulfilled")]
    pub status: &'static str,
    pub sku: String,
    /// The credits paid.
    pub amount: i64,
    pub transfer_id: String,
    /// The user's balance after the purchase.
    pub balance: WalletBalance,
}

pub async fn purchase(
    w: &Wallet,
    tenant: &TenantId,
    user: &str,
    key: Option<&str>,
    input: PurchaseInput,
) -> Result<Reply, WalletError> {
    let key = idempotency::key(key)?;
    check_sku(&input.sku).map_err(|m| WalletError::invalid("sku", m))?;
    let account = accounts::user(user)?;
    let revenue = accounts::revenue()?;
    let unit = accounts::credits()?;
    let hash = idempotency::hash(&input)?;
    let db = &w.core.db;
    let mut tx = db.begin_write().await?;
    let now = unix_now();
    let opened = [account.clone(), revenue.clone()];
    store::lock_accounts(&mut tx, db.backend(), tenant, &opened, &unit, now).await?;
    if let Some(first) = idempotency::earlier(&mut tx, tenant, SCOPE, user, &key, &hash).await? {
        return Ok(first);
    }
    let item = store::active_item(&mut tx, tenant, &input.sku)
        .await?
        .ok_or(WalletError::NotFound("no such item in the catalogue"))?;
    let transfer = accounts::moving(
        "purchase",
        idempotency::derived_id("purchase", user, &key),
        &account,
        &revenue,
        item.price_credits,
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
    let order_id = new_id();
    let transfer_id = applied.record.id().to_string();
    store::insert_order(
        &mut tx,
        tenant,
        &store::NewOrder {
            id: &order_id,
            user,
            sku: &item.sku,
            status: "fulfilled",
            amount: item.price_credits,
            transfer: &transfer_id,
            at: now,
        },
    )
    .await?;
    let event = NewEvent::new(
        tenant.as_str(),
        "wallet.purchase_completed",
        user,
        &json!({"order_id": order_id, "user": user, "sku": item.sku,
                "amount": item.price_credits, "currency": "credits"}),
    )?
    .at(now);
    faro_store::outbox::append(&mut tx, db.backend(), &[event]).await?;
    let body = Purchased {
        order_id,
        status: "fulfilled",
        sku: item.sku,
        amount: item.price_credits,
        transfer_id,
        balance: WalletBalance::of(applied.debit.as_ref()),
    };
    let reply =
        idempotency::remember(&mut tx, tenant, SCOPE, user, &key, &hash, 201, &body, now).await?;
    tx.commit().await?;
    w.core.wake.notify();
    Ok(reply)
}
