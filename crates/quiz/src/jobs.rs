//! Scheduled work of the quiz module: purging expired session rows, hourly, once across all
//! instances (the platform's scheduler leases each run).

use std::time::Duration;

use faro_store::{Db, Job, StoreError, unix_now};

/// Deletes expired session rows, and with `older_than` also sessions started longer ago than
/// that. Results behind share links and the daily counters are kept.
pub async fn purge(db: &Db, older_than: Option<Duration>) -> Result<u64, StoreError> {
    let now = unix_now();
    let started_before =
        older_than.map(|d| now.saturating_sub(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
    crate::store::purge_sessions(db, now, started_before).await
}

/// The hourly purge, as the scheduler runs it.
pub fn purge_job() -> Job {
    Job::new(
        "quiz.purge_sessions",
        Duration::from_secs(3600),
        |db| async move {
            let n = purge(&db, None).await?;
            if n > 0 {
                tracing::info!(purged = n, "expired quiz sessions purged");
            }
            Ok::<(), StoreError>(())
        },
    )
}
