//! Other modules' events as gamification events: an outbox consumer named `gamification`
//! takes every event that names a user (`user_id` in its payload, or a `user.*` event's
//! subject) and that the tenant's design cares about (a rule, a badge or a challenge looks at
//! its kind), and applies it in the consumer's own transaction, keyed by the outbox event's
//! id: so each is applied exactly once, across instances and crashes. The demo's
//! `quiz_finished` rule pays for a quiz finished by a signed-in user this way.
//!
//! `user.deleted` erases what the module holds about the user ([`crate::people`]).
//!
//! Not yet: events of anonymous visitors (their points would move to the account on
//! registration).

use std::time::Duration;

use faro_gamification_domain::Event;
use faro_store::{Consumer, StoreError, TenantId, unix_now};
use serde_json::Value;

use crate::error::GamificationError;
use crate::{Gamification, design, sheets, store};

/// The consumer's name (its cursor's key): stable across releases.
pub const CONSUMER: &str = "gamification";

pub fn consumer(g: Gamification) -> Consumer {
    Consumer::new(CONSUMER, move |tx, events| {
        let g = g.clone();
        Box::pin(async move {
            for e in events {
                take(&g, tx, e).await?;
            }
            Ok(())
        })
    })
    .poll(Duration::from_secs(1))
}

/// The user an event is about, if it names one.
fn user_of(e: &faro_store::Event, payload: &Value) -> Option<String> {
    if let Some(u) = payload.get("user_id").and_then(Value::as_str) {
        return Some(u.to_owned());
    }
    (e.kind.starts_with("user.") && !e.subject.is_empty()).then(|| e.subject.clone())
}

fn to_store(e: GamificationError) -> StoreError {
    match e {
        GamificationError::Store(s) => s,
        other => StoreError::Other(other.to_string()),
    }
}

async fn take(
    g: &Gamification,
    tx: &mut store::Tx,
    e: &faro_store::Event,
) -> Result<(), StoreError> {
    if e.kind.starts_with("gamification.") {
        return Ok(());
    }
    let payload: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
    if e.kind == "user.deleted" {
        // Erased whether or not the tenant runs the module now.
        if let Some(user) = payload.get("user_id").and_then(Value::as_str) {
            crate::people::erase(tx, &e.tenant, user).await?;
        }
        return Ok(());
    }
    let Some(user) = user_of(e, &payload) else {
        return Ok(());
    };
    let tenant = TenantId::new(e.tenant.as_str());
    if !g
        .core
        .tenants
        .state(&g.core.db, &tenant)
        .await
        .has_module(CONSUMER)
    {
        return Ok(());
    }
    let loaded = design::load(g, &tenant).await.map_err(to_store)?;
    if !loaded.design.concerns(&e.kind) {
        return Ok(());
    }
    let event = Event {
        kind: e.kind.clone(),
        props: match payload {
            Value::Object(m) => m,
            _ => Default::default(),
        },
        at: e.occurred_at,
    };
    let item = sheets::Item {
        key: format!("outbox:{}", e.id),
        user,
        event,
        masked: None,
    };
    let backend = g.core.db.backend();
    sheets::apply(tx, backend, &g.weeks, &loaded, &tenant, &[item], unix_now()).await?;
    Ok(())
}
