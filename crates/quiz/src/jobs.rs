//! Scheduled work of the quiz module: purging expired session rows, hourly. Several
//! instances may purge at once; the delete is idempotent, so no coordination is needed.

use std::time::Duration;

use faro_store::{Db, StoreError, unix_now};

/// Deletes expired session rows, and with `older_than` also sessions started longer ago than
/// that. Results behind share links and the daily counters are kept.
pub async fn purge(db: &Db, older_than: Option<Duration>) -> Result<u64, StoreError> {
    let now = unix_now();
    let started_before =
        older_than.map(|d| now.saturating_sub(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
    crate::store::purge_sessions(db, now, started_before).await
}

/// The hourly purge as a background task of the mounted module.
pub fn purger(db: Db) -> faro_http::module::Task {
    Box::new(move |stop| Box::pin(run_purger(db, Duration::from_secs(3600), stop)))
}

pub async fn run_purger(db: Db, every: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => match purge(&db, None).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired quiz sessions purged"),
                Err(e) => tracing::warn!(error = %e, "purging expired sessions failed; will retry"),
            },
            _ = shutdown.changed() => return,
        }
    }
}
