//! The sender: a background task on every instance that makes the delivery attempts.
//!
//! # Each attempt once, across instances
//!
//! It reads the due deliveries (pending, `next_attempt_at` passed, not leased, endpoint
//! enabled) and claims each with one compare-and-set `UPDATE ... SET lease_owner = me,
//! lease_until = now + lease, attempts = attempts + 1 WHERE id = $1 AND status = 'pending' AND
//! next_attempt_at <= now AND (lease_until IS NULL OR lease_until < now)`: whichever instance's
//! statement changes the row makes the attempt; the others match nothing. The outcome is
//! recorded with `WHERE lease_owner = me`, scheduling the next attempt from the retry schedule
//! (or marking the delivery delivered or failed) and releasing the lease. At most
//! [`CONCURRENCY`] attempts are in flight per instance.
//!
//! # At least once
//!
//! A crash (or a lost database) between sending and recording leaves the lease to expire
//! (`WEBHOOK_TIMEOUT_SECS` + 30 s); then the delivery is claimed again and sent again, with the
//! same `webhook-id`. Delivery is therefore at-least-once: receivers deduplicate by
//! `webhook-id`, as the Standard Webhooks specification asks of them. The attempt count is
//! taken at the claim, so a delivery that crashes its sender every time still ends.
//!
//! # Waking
//!
//! The fan-out kicks the sender after queueing deliveries, but its transaction commits only
//! after the kick; so after a kick the sender looks every [`HOT_POLL`] for [`HOT_FOR`] instead
//! of once. Otherwise it sleeps until the next due time (a retry's), at most [`POLL`]: other
//! instances' deliveries are found within a second.

use std::time::Duration;

use faro_store::{new_id, unix_now, unix_now_ms};
use faro_webhooks_domain::{Next, excerpt, parse_secret};
use hyper::body::Bytes;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::Webhooks;
use crate::outbound::Signed;
use crate::store::{self, DELIVERED, Due, FAILED, Outcome, PENDING};

/// Attempts in flight per instance.
pub const CONCURRENCY: usize = 8;
/// The longest idle wait.
pub const POLL: Duration = Duration::from_secs(1);
/// How often to look just after a kick, and for how long.
pub const HOT_POLL: Duration = Duration::from_millis(25);
pub const HOT_FOR: Duration = Duration::from_secs(2);
/// Longest error text kept.
const ERROR_BYTES: usize = 500;

/// The task `Mounted::tasks` runs.
pub fn task(wh: Webhooks) -> faro_http::module::Task {
    Box::new(move |stop| Box::pin(run(wh, stop)))
}

/// A claimed delivery and the number of the attempt to make.
struct Claimed {
    due: Due,
    attempt: i64,
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Runs until `stop` turns true, then waits (a timeout's length at most) for the attempts in
/// flight, so their outcomes are recorded before the database closes.
pub async fn run(wh: Webhooks, mut stop: watch::Receiver<bool>) {
    let owner = format!("webhooks/{}", new_id());
    let mut kicked = wh.kick.subscribe();
    let mut inflight: JoinSet<()> = JoinSet::new();
    let mut hot_until: Option<Instant> = None;
    let mut backoff = Duration::from_millis(500);
    loop {
        if *stop.borrow() {
            break;
        }
        // Seen before looking: a kick during the look wakes the next wait.
        kicked.mark_unchanged();
        while inflight.try_join_next().is_some() {}
        let free = CONCURRENCY.saturating_sub(inflight.len());
        let mut wait = POLL;
        if free > 0 {
            match claim_some(&wh, &owner, free).await {
                Ok(claimed) => {
                    backoff = Duration::from_millis(500);
                    let full = claimed.len() == free;
                    for c in claimed {
                        inflight.spawn(attempt(wh.clone(), owner.clone(), c));
                    }
                    if !full {
                        wait = until_next_due(&wh).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64,
                        "webhook sender cannot read due deliveries; will retry");
                    wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
        if hot_until.is_some_and(|t| Instant::now() < t) {
            wait = wait.min(HOT_POLL);
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            changed = kicked.changed() => {
                if changed.is_ok() {
                    hot_until = Some(Instant::now() + HOT_FOR);
                }
            }
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            _ = stopped(&mut stop) => break,
        }
    }
    let grace = wh.cfg.timeout + Duration::from_secs(2);
    let drained = tokio::time::timeout(grace, async {
        while inflight.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        inflight.abort_all();
    }
}

/// How long to sleep until the next delivery can be claimed (at most [`POLL`]).
async fn until_next_due(wh: &Webhooks) -> Duration {
    match store::next_due_all_tenants(&wh.core.db).await {
        Ok(Some(at)) => {
            let ms = (at - unix_now_ms()).clamp(5, POLL.as_millis() as i64);
            Duration::from_millis(ms as u64)
        }
        _ => POLL,
    }
}

/// Claims up to `n` due deliveries.
async fn claim_some(
    wh: &Webhooks,
    owner: &str,
    n: usize,
) -> Result<Vec<Claimed>, faro_store::StoreError> {
    let db = &wh.core.db;
    let now = unix_now_ms();
    let due = store::due_all_tenants(db, now, n as i64).await?;
    let lease = (wh.cfg.timeout + Duration::from_secs(30)).as_millis() as i64;
    let mut claimed = Vec::with_capacity(due.len());
    for d in due {
        let now = unix_now_ms();
        if let Some(attempt) = store::claim(db, &d.tenant, &d.id, owner, now, now + lease).await? {
            claimed.push(Claimed { due: d, attempt });
        }
    }
    Ok(claimed)
}

/// Makes one attempt and records its outcome.
async fn attempt(wh: Webhooks, owner: String, c: Claimed) {
    let Claimed { due, attempt } = c;
    let started = Instant::now();
    let secret = crate::service::open_secret(&wh, &due.tenant, &due.secret);
    let sent = match secret.and_then(|s| parse_secret(&s).map_err(|e| e.to_string())) {
        Ok(key) => {
            let timestamp = unix_now();
            let signature = key.sign(&due.event_id, timestamp, due.body.as_bytes());
            let signed = Signed {
                webhook_id: &due.event_id,
                timestamp,
                signature: &signature,
            };
            wh.outbound
                .post(&due.url, &signed, Bytes::from(due.body.clone()))
                .await
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(format!("the endpoint's secret is unusable: {e}")),
    };
    let duration_ms = started.elapsed().as_millis() as i64;
    let succeeded = matches!(&sent, Ok(a) if a.is_success());
    let number = u32::try_from(attempt).unwrap_or(u32::MAX);
    let next = wh
        .cfg
        .schedule
        .after_attempt(number, succeeded, unix_now_ms());
    let (status, next_attempt_at) = match next {
        Next::Delivered => (DELIVERED, None),
        Next::RetryAt(at) => (PENDING, Some(at)),
        Next::Failed => (FAILED, None),
    };
    let (status_code, error, response) = match &sent {
        Ok(a) => (
            Some(i64::from(a.status)),
            (!succeeded).then(|| format!("HTTP {}", a.status)),
            (!a.body.is_empty()).then(|| a.body.clone()),
        ),
        Err(e) => (None, Some(excerpt(e.as_bytes(), ERROR_BYTES)), None),
    };
    let outcome = Outcome {
        status,
        next_attempt_at,
        status_code,
        error,
        response,
        duration_ms,
    };
    let outcome_label = if succeeded { "delivered" } else { "failed" };
    metrics::counter!("faro_webhook_attempts_total", "outcome" => outcome_label).increment(1);
    if !succeeded {
        let why = outcome.error.as_deref().unwrap_or_default();
        if status == FAILED {
            tracing::warn!(delivery = %due.id, tenant = %due.tenant, attempt, error = why,
                "webhook delivery failed for good (replayable)");
        } else {
            tracing::info!(delivery = %due.id, tenant = %due.tenant, attempt, error = why,
                "webhook attempt failed; will retry");
        }
    }
    match store::record(
        &wh.core.db,
        &due.tenant,
        &due.id,
        &owner,
        &outcome,
        unix_now_ms(),
    )
    .await
    {
        Ok(true) => {}
        // Replayed meanwhile, or our lease expired and someone else took it: theirs counts.
        Ok(false) => {
            tracing::debug!(delivery = %due.id, "webhook outcome not recorded: lease lost")
        }
        Err(e) => tracing::warn!(delivery = %due.id, error = %e,
            "webhook outcome not recorded; the attempt will be repeated when the lease expires"),
    }
}
