//! The module's scheduled work: expired quotes deleted a day after they expire (an intent
//! keeps its own amount; nothing reads a quote after that), so public estimates cannot grow
//! the database without bound.

use std::time::Duration;

use faro_store::{Db, Job, StoreError, unix_now};

use crate::store;

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
