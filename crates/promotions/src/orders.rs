//! Paid orders, from the outbox: the module cannot read the wallet's or payments' tables, so
//! an outbox consumer named `promotions` records each paid order (`wallet.purchase_completed`,
//! `payments.intent_succeeded`) under its own reference, in the consumer's transaction. The
//! count per customer decides "first purchase"; a redelivered event finds its order and
//! changes nothing. `user.deleted` erases what the module holds about the user.

use std::time::Duration;

use faro_store::{Consumer, Event, StoreError};
use serde_json::Value;

use crate::store;

/// The consumer's name (its cursor's key): stable across releases.
pub const CONSUMER: &str = "promotions";

pub fn consumer() -> Consumer {
    Consumer::new(CONSUMER, move |tx, events| {
        Box::pin(async move {
            for e in events {
                take(tx, e).await?;
            }
            Ok(())
        })
    })
    .kinds(&[
        "wallet.purchase_completed",
        "payments.intent_succeeded",
        "user.deleted",
    ])
    .poll(Duration::from_secs(1))
}

/// The order an event reports, and its payer: `(reference, user)`.
fn order(e: &Event, payload: &Value) -> Option<(String, String)> {
    let text = |k: &str| {
        payload
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match e.kind.as_str() {
        "wallet.purchase_completed" => {
            let user = text("user").or(text("user_id"))?;
            Some((format!("wallet:{}", text("order_id")?), user.to_owned()))
        }
        "payments.intent_succeeded" => Some((
            format!("payment:{}", text("intent_id")?),
            text("user_id")?.to_owned(),
        )),
        _ => None,
    }
}

async fn take(tx: &mut store::Tx, e: &Event) -> Result<(), StoreError> {
    let payload: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
    if e.kind == "user.deleted" {
        if let Some(user) = payload.get("user_id").and_then(Value::as_str) {
            store::erase_user(tx, &e.tenant, user).await?;
        }
        return Ok(());
    }
    match order(e, &payload) {
        Some((reference, user)) => {
            store::record_order(tx, &e.tenant, &reference, &user, e.occurred_at).await
        }
        None => {
            tracing::warn!(event = %e.id, kind = %e.kind, "a paid order without its order or payer");
            Ok(())
        }
    }
}
