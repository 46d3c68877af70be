//! The module's scheduled work: expired quotes deleted a day after they expire (an intent
//! keeps its own amount; nothing reads a quote after that), so public estimates cannot grow
//! the database without bound; and Stripe payments left open for a while asked about, so a
//! missed webhook never leaves a paid order unfulfilled.

use std::time::Duration;

use faro_store::{Db, Job, StoreError, unix_now};

use crate::{Payments, store, stripe};

/// How long an expired quote is kept (to answer "this quote expired" rather than "no such
/// quote" for a while).
pub const KEEP_EXPIRED_SECS: i64 = 86_400;

pub fn purge_quotes() -> Job {
    Job::new(
        "payments.purge_quotes",
        Duration::from_secs(60 * 60),
        move |db: Db| async move {
            let gone = store::purge_quotes(&db, unix_now() - KEEP_EXPIRED_SECS).await?;
            if gone > 0 {
                tracing::info!(quotes = gone, "expired quotes purged");
            }
            Ok::<_, StoreError>(())
        },
    )
}

/// An open Stripe payment unchanged this long is asked about.
pub const RECONCILE_AFTER_SECS: i64 = 10 * 60;
/// At most this many per run, oldest first (each is one call to Stripe).
const RECONCILE_BATCH: i64 = 50;

pub fn reconcile(p: Payments) -> Job {
    Job::new(
        "payments.reconcile",
        Duration::from_secs(5 * 60),
        move |db: Db| {
            let p = p.clone();
            async move {
                let stale = store::stale_intents(
                    &db,
                    stripe::PROVIDER,
                    unix_now() - RECONCILE_AFTER_SECS,
                    RECONCILE_BATCH,
                )
                .await?;
                for (tenant, row) in stale {
                    let tenant = faro_store::TenantId::new(tenant.as_str());
                    match stripe::reconcile(&p, &tenant, &row).await {
                        Ok(true) => tracing::info!(intent = %row.id, "reconciled with Stripe"),
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(intent = %row.id, error = %e, "reconciling failed")
                        }
                    }
                }
                Ok::<_, StoreError>(())
            }
        },
    )
}
