//! `GET /api/v1/admin/jobs`: what the scheduler ran, when, for how long and how it ended, and
//! how far each event consumer is behind. Jobs and consumers are installation-wide (one purge
//! serves every tenant), so any staff member may read them; nothing tenant-specific is shown.

use std::time::Duration;

use axum::extract::State;
use faro_http::auth::Viewer;
use faro_http::respond::rfc3339;
use faro_http::{ApiResult, Core, Json};
use faro_store::scheduler::Job;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub name: String,
    /// Seconds between runs; 0 for a one-off job.
    pub every_seconds: i64,
    /// RFC 3339; null when nothing is scheduled.
    pub next_run_at: Option<String>,
    /// Some instance is running it now.
    pub running: bool,
    pub runs: i64,
    pub failures: i64,
    pub last_started_at: Option<String>,
    pub last_finished_at: Option<String>,
    pub last_duration_ms: Option<i64>,
    /// The last run's error; null when it succeeded.
    pub last_error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsumerView {
    pub name: String,
    /// The last event it handled (events are numbered in commit order).
    pub last_seq: i64,
    /// Events committed that it has not handled yet.
    pub lag: i64,
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    pub items: Vec<JobView>,
    pub consumers: Vec<ConsumerView>,
}

fn ms_to_rfc3339(ms: i64) -> String {
    rfc3339(ms.div_euclid(1000))
}

/// Scheduled jobs with their last run, and event consumers with their lag.
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "platform", security(("bearer" = [])),
    responses((status = 200, body = JobList), (status = 401, body = faro_http::ErrorBody)))]
pub async fn list_jobs(State(core): State<Core>, _staff: Viewer) -> ApiResult<Json<JobList>> {
    let jobs = faro_store::scheduler::list_jobs(&core.db).await?;
    let latest = faro_store::outbox::latest_seq(&core.db).await?;
    let cursors = faro_store::outbox::list_cursors(&core.db).await?;
    Ok(Json(JobList {
        items: jobs
            .into_iter()
            .map(|j| JobView {
                name: j.name,
                every_seconds: j.every_ms / 1000,
                next_run_at: j.next_run_at.map(ms_to_rfc3339),
                running: j.running,
                runs: j.runs,
                failures: j.failures,
                last_started_at: j.last_started_at.map(ms_to_rfc3339),
                last_finished_at: j.last_finished_at.map(ms_to_rfc3339),
                last_duration_ms: j.last_duration_ms,
                last_error: j.last_error,
            })
            .collect(),
        consumers: cursors
            .into_iter()
            .map(|c| ConsumerView {
                lag: (latest - c.last_seq).max(0),
                name: c.consumer,
                last_seq: c.last_seq,
            })
            .collect(),
    }))
}

/// `EVENT_RETENTION_DAYS`, checked at start: events every consumer has handled are deleted
/// once older than this (the newest is always kept). A consumer's cursor can be reset this
/// far back to replay.
pub fn retention_days(
    s: &faro_http::module::Settings,
) -> Result<i64, faro_http::module::ConfigError> {
    Ok(s.number("EVENT_RETENTION_DAYS", 1, 3650)? as i64)
}

/// Hourly: handled events older than the retention go (`EVENT_RETENTION_DAYS`). A consumer that never
/// runs again holds them back until it is retired.
pub fn purge_events_job(days: i64) -> Job {
    Job::new(
        "platform.purge_events",
        Duration::from_secs(3600),
        move |db| async move {
            let n = faro_store::outbox::purge_delivered_all_tenants(&db, days).await?;
            if n > 0 {
                tracing::info!(purged = n, "handled events purged");
            }
            Ok::<(), faro_store::StoreError>(())
        },
    )
}

/// Hourly: access tokens on the deny list that have expired anyway, refresh tokens a day
/// past their expiry, and failed sign-ins an hour old, are forgotten.
pub fn purge_tokens_job() -> Job {
    Job::new(
        "platform.purge_tokens",
        Duration::from_secs(3600),
        move |db| async move {
            let now = faro_store::unix_now();
            let revoked =
                faro_store::revoked_tokens::purge_revoked_tokens_all_tenants(&db, now).await?;
            let refresh = crate::users::store::purge_refresh_all_tenants(&db, now).await?
                + crate::staff_sessions::purge(&db, now).await?;
            crate::lockout::purge(&db, faro_store::unix_now_ms()).await?;
            if revoked + refresh > 0 {
                tracing::info!(revoked, refresh, "expired tokens purged");
            }
            Ok::<(), faro_store::StoreError>(())
        },
    )
}
