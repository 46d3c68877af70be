//! The fan-out: an outbox consumer named `webhooks` that turns every event into one pending
//! delivery per matching, enabled endpoint of the event's tenant. The deliveries are written in
//! the consumer's own transaction, so they commit together with the cursor's move: each event
//! is fanned out exactly once, across instances and crashes, and the slow part (HTTP) happens
//! later, outside any transaction, in the sender.
//!
//! An endpoint gets the events fanned out while it is enabled and subscribed; events that
//! arrive while it is disabled are not queued for it (and not queued later either).

use std::time::Duration;

use faro_store::{Consumer, unix_now_ms};

use crate::state::Kick;
use crate::store;

/// The consumer's name (its cursor's key, and its metrics label): stable across releases.
pub const CONSUMER: &str = "webhooks";

/// The consumer, reading every kind (any kind may have subscribers).
pub fn consumer(kick: Kick) -> Consumer {
    Consumer::new(CONSUMER, move |tx, events| {
        let kick = kick.clone();
        Box::pin(async move {
            let created = store::fan_out_all_tenants(tx, events, unix_now_ms()).await?;
            if created > 0 {
                // The transaction commits after this returns: the sender may look too early,
                // and then keeps looking every few milliseconds for a moment (see `sender`).
                kick.notify();
            }
            Ok(())
        })
    })
    .poll(Duration::from_secs(1))
    // Most installations have no endpoint: then the fan-out has nothing to write, and the
    // batches stay quiet instead of taking SQLite's one writer for a cursor move each.
    .active_when(|db| Box::pin(store::any_endpoint_enabled(db)))
}
