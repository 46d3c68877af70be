//! Other modules' events as gamification events: an outbox consumer named `gamification`
//! takes every event that names a user (`user_id` in its payload, or a `user.*` event's
//! subject) and that the tenant's design cares about (a rule, a badge or a challenge looks at
//! its kind), and applies it in the consumer's own transaction, keyed by the outbox event's
//! id: so each is applied exactly once, across instances and crashes. The demo's
//! `quiz_finished` rule pays for a quiz finished by a signed-in user this way.
//!
//! An event naming only a visitor (a quiz finished without signing in) is applied to the
//! visitor's own player until the visitor is linked to an account; `visitor.merged` moves
//! that player into the account's ([`crate::merge`]). `user.deleted` and `visitor.deleted`
//! erase what the module holds about them ([`crate::people`]).

use std::time::Duration;

use faro_gamification_domain::Event;
use faro_store::{Consumer, StoreError, TenantId, unix_now};
use serde_json::Value;

use crate::error::GamificationError;
use crate::{Gamification, design, merge, sheets, store};

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

/// Who an event is about: the user it names (`user_id` in its payload, or a `user.*` event's
/// subject), else the visitor it names (`visitor_id`).
enum Who {
    User(String),
    Visitor(String),
}

fn who(e: &faro_store::Event, payload: &Value) -> Option<Who> {
    if let Some(u) = payload.get("user_id").and_then(Value::as_str) {
        return Some(Who::User(u.to_owned()));
    }
    if e.kind.starts_with("user.") && !e.subject.is_empty() {
        return Some(Who::User(e.subject.clone()));
    }
    let visitor = payload.get("visitor_id").and_then(Value::as_str)?;
    (!visitor.is_empty()).then(|| Who::Visitor(visitor.to_owned()))
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
    let field = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_owned);
    // Erased whether or not the tenant runs the module now.
    match e.kind.as_str() {
        "user.deleted" => {
            if let Some(user) = field("user_id") {
                crate::people::erase(tx, &e.tenant, &user).await?;
            }
            return Ok(());
        }
        "visitor.deleted" => {
            if let Some(visitor) = field("visitor_id") {
                crate::people::erase(tx, &e.tenant, &merge::visitor_player(&visitor)).await?;
            }
            return Ok(());
        }
        _ => {}
    }
    let who = who(e, &payload);
    if who.is_none() && e.kind != "visitor.merged" {
        return Ok(());
    }
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
    let backend = g.core.db.backend();
    let loaded = design::load(g, &tenant).await.map_err(to_store)?;
    if e.kind == "visitor.merged" {
        if let (Some(visitor), Some(user)) = (field("visitor_id"), field("user_id")) {
            merge::merge(tx, backend, &loaded, &tenant, &visitor, &user).await?;
        }
        return Ok(());
    }
    if !loaded.design.concerns(&e.kind) {
        return Ok(());
    }
    let user = match who {
        None => return Ok(()),
        Some(Who::User(u)) => u,
        // A visitor's events are the account's once they are linked.
        Some(Who::Visitor(v)) => match merge::account_of(tx, &tenant, &v).await? {
            Some(u) => u,
            None => merge::visitor_player(&v),
        },
    };
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
    sheets::apply(tx, backend, &g.weeks, &loaded, &tenant, &[item], unix_now()).await?;
    Ok(())
}
