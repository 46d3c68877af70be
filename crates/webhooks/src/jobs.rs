//! Scheduled work: purging finished deliveries older than `WEBHOOK_RETENTION_DAYS`, hourly,
//! once across all instances (the platform's scheduler leases each run).

use std::time::Duration;

use faro_store::{Job, StoreError, unix_now_ms};

use crate::store;

/// The hourly purge. Pending deliveries are never purged; a failed one can be replayed until
/// it is.
pub fn purge_job(retention_days: i64) -> Job {
    Job::new(
        "webhooks.purge_deliveries",
        Duration::from_secs(3600),
        move |db| async move {
            let before = unix_now_ms() - retention_days * 86_400_000;
            let n = store::purge_finished_all_tenants(&db, before).await?;
            if n > 0 {
                tracing::info!(purged = n, "old webhook deliveries purged");
            }
            Ok::<(), StoreError>(())
        },
    )
}
