//! Background jobs shared by every instance: each slot of a periodic job runs once in total, not
//! once per instance, and a run whose instance died is taken over.
//!
//! # How a run is claimed
//!
//! Every instance runs a [`Scheduler`]. Each tick (about 250 ms, jittered) it reads which jobs
//! are due and tries to claim each with **one compare-and-set `UPDATE`**:
//!
//! ```sql
//! UPDATE jobs SET lease_owner = $me, lease_until = $now + lease, last_started_at = $now,
//!        next_run_at = <next slot after $now>
//!  WHERE name = $1 AND next_run_at <= $now AND (lease_until IS NULL OR lease_until < $now)
//! ```
//!
//! Only the instance whose `UPDATE` changed the row (`rows_affected == 1`) runs the job. The
//! statement both moves `next_run_at` past now and takes the lease, so a rival's identical
//! `UPDATE` matches nothing: on SQLite writers are serialised, on PostgreSQL the rival waits for
//! the row lock and READ COMMITTED re-checks its `WHERE` against the new row. Hence:
//!
//! - **each slot runs at most once** across instances (the claim moved `next_run_at`);
//! - **runs never overlap**: a run longer than `every` keeps the lease (renewed every third of
//!   it while the job runs), so the next slot is claimed only after it finished;
//! - **missed slots are not replayed**: the next slot is the first multiple of `every` after
//!   now, anchored on the previous `next_run_at` (`next + every * ((now - next) / every + 1)`),
//!   so a job every second keeps its phase, and a stalled cluster runs it once, not in a burst;
//! - **a dead runner is taken over**: its lease is no longer renewed and expires, after which
//!   the job can be claimed again (the slot it was running is lost, not retried).
//!
//! Times are each instance's clock (unix milliseconds). Clock skew between instances shifts
//! when a slot starts by the skew; it can only cause overlap if it exceeds two thirds of the
//! lease (the renewal margin), so keep clocks synchronised (NTP) and leases generous.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::Row;
use tokio::sync::watch;

use crate::outbox::BoxFuture;
use crate::shutdown::stopped;
use crate::{Db, StoreError};

/// Current time in unix milliseconds: the unit of leases and job slots.
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What a job runs: given the database, a future that reports success or an error message.
pub type JobFn = Arc<dyn Fn(Db) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// A job. `name` is stable (it keys the row) and from a closed set (it labels metrics).
/// `every` zero makes a one-off job, which runs when [`schedule_once`] says.
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    pub run: JobFn,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl Job {
    /// A job every `every`, first run as soon as it is registered for the first time.
    pub fn new<F, Fut, E>(name: &'static str, every: Duration, run: F) -> Job
    where
        F: Fn(Db) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        Job {
            name,
            every,
            run: Arc::new(move |db| {
                let fut = run(db);
                Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
            }),
        }
    }

    /// A one-off job: runs only when [`schedule_once`] sets a time, once per call.
    pub fn once<F, Fut, E>(name: &'static str, run: F) -> Job
    where
        F: Fn(Db) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        Job::new(name, Duration::ZERO, run)
    }
}

/// A job's row, for the admin view.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JobStatus {
    pub name: String,
    /// 0 for a one-off job.
    pub every_ms: i64,
    /// Unix milliseconds; `None` when nothing is scheduled (a one-off job that ran).
    pub next_run_at: Option<i64>,
    /// An unexpired lease: some instance is running it now.
    pub running: bool,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub runs: i64,
    pub failures: i64,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    pub last_duration_ms: Option<i64>,
    /// The last run's error; `None` when it succeeded.
    pub last_error: Option<String>,
}

/// Runs registered jobs on this instance; cheap to clone. `instance_id` must be unique per
/// running process (it owns leases): a fresh [`crate::new_id`] or host name plus pid.
#[derive(Clone, Debug)]
pub struct Scheduler {
    db: Db,
    instance: String,
    lease: Duration,
    tick: Duration,
    grace: Duration,
}

impl Scheduler {
    /// Lease 60 s, tick 250 ms, 10 s for running jobs to finish at shutdown.
    pub fn new(db: Db, instance_id: impl Into<String>) -> Scheduler {
        Scheduler {
            db,
            instance: instance_id.into(),
            lease: Duration::from_secs(60),
            tick: Duration::from_millis(250),
            grace: Duration::from_secs(10),
        }
    }

    /// How long a claim lasts without renewal: how soon a dead runner's job is taken over.
    pub fn lease(mut self, lease: Duration) -> Scheduler {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// How often due jobs are looked for (each wait is jittered by ±20 %).
    pub fn tick(mut self, tick: Duration) -> Scheduler {
        self.tick = tick.max(Duration::from_millis(10));
        self
    }

    /// How long [`Scheduler::run`] waits for running jobs after stop before abandoning them.
    pub fn grace(mut self, grace: Duration) -> Scheduler {
        self.grace = grace;
        self
    }

    pub fn instance_id(&self) -> &str {
        &self.instance
    }

    /// Creates the jobs' rows. An existing row keeps its schedule and history; if the job's
    /// period changed and its next run is further away than one new period, it moves closer.
    pub async fn register(&self, jobs: &[Job]) -> Result<(), StoreError> {
        let now = unix_now_ms();
        for job in jobs {
            let every = job.every.as_millis() as i64;
            sqlx::query(
                "INSERT INTO jobs (name, every_ms, next_run_at, runs, failures, updated_at) \
                 VALUES ($1, $2, $3, 0, 0, $4) \
                 ON CONFLICT (name) DO UPDATE SET every_ms = excluded.every_ms, \
                 updated_at = excluded.updated_at, next_run_at = CASE \
                   WHEN excluded.every_ms = 0 THEN jobs.next_run_at \
                   WHEN jobs.next_run_at IS NULL THEN excluded.next_run_at \
                   WHEN jobs.every_ms <> excluded.every_ms \
                    AND jobs.next_run_at > excluded.next_run_at + excluded.every_ms \
                   THEN excluded.next_run_at + excluded.every_ms \
                   ELSE jobs.next_run_at END",
            )
            .bind(job.name)
            .bind(every)
            .bind((every > 0).then_some(now))
            .bind(now)
            .execute(self.db.writer())
            .await?;
        }
        Ok(())
    }

    /// Tries to claim the due job `name` for this instance (the compare-and-set above). Returns
    /// the run's start time when this instance won and must run it.
    pub async fn claim(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let now = unix_now_ms();
        let won = sqlx::query(
            "UPDATE jobs SET lease_owner = $2, lease_until = $3, last_started_at = $4, \
             updated_at = $4, next_run_at = CASE WHEN every_ms > 0 \
               THEN next_run_at + every_ms * (($4 - next_run_at) / every_ms + 1) ELSE NULL END \
             WHERE name = $1 AND next_run_at IS NOT NULL AND next_run_at <= $4 \
             AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(name)
        .bind(&self.instance)
        .bind(now + self.lease.as_millis() as i64)
        .bind(now)
        .execute(self.db.writer())
        .await?
        .rows_affected();
        Ok((won == 1).then_some(now))
    }

    /// Names of the jobs that are due and not running.
    async fn due(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT name FROM jobs WHERE next_run_at IS NOT NULL AND next_run_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1)",
        )
        .bind(unix_now_ms())
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    /// Registers `jobs` and runs them until `stop` turns true: each tick, claims and starts
    /// every due job (each in its own task, so a slow job delays no other). On stop, claims
    /// nothing more and waits up to the grace period for running jobs; those still running are
    /// then aborted and their leases released, recorded as failed.
    pub async fn run(&self, jobs: Vec<Job>, mut stop: watch::Receiver<bool>) {
        let mut delay = Duration::from_millis(500);
        while let Err(e) = self.register(&jobs).await {
            tracing::warn!(error = %e, "cannot register jobs yet; will retry");
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped(&mut stop) => return,
            }
            delay = (delay * 2).min(Duration::from_secs(30));
        }
        let jobs: HashMap<&str, Job> = jobs.into_iter().map(|j| (j.name, j)).collect();
        let mut running = tokio::task::JoinSet::new();
        let mut busy: HashMap<tokio::task::Id, &'static str> = HashMap::new();
        let mut failing = false;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(jittered(self.tick)) => {}
                Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                    let id = match done { Ok((id, ())) => id, Err(e) => e.id() };
                    busy.remove(&id);
                    continue;
                }
                _ = stopped(&mut stop) => break,
            }
            let due = match self.due().await {
                Ok(due) => {
                    failing = false;
                    due
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "cannot read due jobs; will retry");
                    }
                    failing = true;
                    continue;
                }
            };
            let here: HashSet<&str> = busy.values().copied().collect();
            for name in due {
                let Some(job) = jobs.get(name.as_str()) else {
                    continue; // registered by another build of the binary
                };
                if here.contains(job.name) {
                    continue; // our run lost its lease renewal but is still going
                }
                match self.claim(job.name).await {
                    Ok(Some(started)) => {
                        let handle = running.spawn(run_one(self.clone(), job.clone(), started));
                        busy.insert(handle.id(), job.name);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(job = job.name, error = %e, "cannot claim job"),
                }
            }
        }
        let deadline = tokio::time::sleep(self.grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = running.join_next_with_id() => match next {
                    None => return,
                    Some(Ok((id, ()))) => { busy.remove(&id); }
                    Some(Err(e)) => { busy.remove(&e.id()); }
                },
                _ = &mut deadline => break,
            }
        }
        running.shutdown().await;
        let names: Vec<&str> = busy.values().copied().collect();
        tracing::warn!(jobs = ?names, "jobs still running at shutdown were abandoned");
        let released = sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, failures = failures + 1, \
             runs = runs + 1, last_error = 'abandoned at shutdown', updated_at = $2 \
             WHERE lease_owner = $1",
        )
        .bind(&self.instance)
        .bind(unix_now_ms())
        .execute(self.db.writer())
        .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release the leases of abandoned jobs");
        }
    }
}

/// Aborts a task when dropped: a run aborted from outside takes its job's task with it.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs one claimed job, renewing its lease meanwhile, and records the outcome.
async fn run_one(s: Scheduler, job: Job, started_at: i64) {
    let clock = Instant::now();
    // Its own task, so a panic in the job is an outcome rather than the end of this one.
    let mut task = tokio::spawn((job.run)(s.db.clone()));
    let _abort = AbortOnDrop(task.abort_handle());
    let every = s.lease / 3;
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let joined = loop {
        tokio::select! {
            joined = &mut task => break joined,
            _ = renew.tick() => {
                let r = sqlx::query(
                    "UPDATE jobs SET lease_until = $3 WHERE name = $1 AND lease_owner = $2",
                )
                .bind(job.name)
                .bind(&s.instance)
                .bind(unix_now_ms() + s.lease.as_millis() as i64)
                .execute(s.db.writer())
                .await;
                if let Err(e) = r {
                    tracing::warn!(job = job.name, error = %e, "cannot renew the job's lease");
                }
            }
        }
    };
    let outcome = match joined {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(format!("panicked: {}", panic_message(e.into_panic()))),
        Err(_) => Err("cancelled".to_string()),
    };
    let took = clock.elapsed();
    let label = if outcome.is_ok() { "ok" } else { "error" };
    metrics::counter!("faro_job_runs_total", "job" => job.name, "outcome" => label).increment(1);
    metrics::histogram!("faro_job_duration_seconds", "job" => job.name).record(took.as_secs_f64());
    // When each job last finished, by outcome, so an alert can say "no successful purge for a
    // day" (runs of other instances show on theirs: take the max across instances).
    metrics::gauge!("faro_job_last_finished_timestamp_seconds", "job" => job.name, "outcome" => label)
        .set(crate::unix_now() as f64);
    if let Err(e) = &outcome {
        tracing::warn!(job = job.name, error = %e, "job failed");
    }
    // Counters always; the "last run" fields and the lease only if no later run has started
    // (one that took over after our lease expired).
    let now = unix_now_ms();
    let recorded = sqlx::query(
        "UPDATE jobs SET runs = runs + 1, failures = failures + $2, updated_at = $3, \
         last_finished_at = CASE WHEN last_started_at = $6 THEN $3 ELSE last_finished_at END, \
         last_duration_ms = CASE WHEN last_started_at = $6 THEN $4 ELSE last_duration_ms END, \
         last_error = CASE WHEN last_started_at = $6 THEN $5 ELSE last_error END, \
         lease_owner = CASE WHEN lease_owner = $7 THEN NULL ELSE lease_owner END, \
         lease_until = CASE WHEN lease_owner = $7 THEN NULL ELSE lease_until END \
         WHERE name = $1",
    )
    .bind(job.name)
    .bind(i64::from(outcome.is_err()))
    .bind(now)
    .bind(took.as_millis() as i64)
    .bind(outcome.err())
    .bind(started_at)
    .bind(&s.instance)
    .execute(s.db.writer())
    .await;
    if let Err(e) = recorded {
        // The lease expires on its own; only this run's record is lost.
        tracing::warn!(job = job.name, error = %e, "cannot record the job's run");
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "(no message)".into()),
    }
}

/// `d` ± 20 %, so instances started together do not tick in lockstep.
fn jittered(d: Duration) -> Duration {
    use std::hash::BuildHasher;
    // A randomly keyed hasher is a dependency-free source of a little randomness.
    let r = std::collections::hash_map::RandomState::new().hash_one(Instant::now()) % 1000;
    d.mul_f64(0.8 + 0.4 * (r as f64 / 1000.0))
}

/// Schedules job `name` to run at `at_ms` (unix milliseconds; now or past = at the next tick),
/// creating a one-off row if the job has none yet. For a periodic job this moves its next slot
/// to `at_ms`, and its cadence continues from there.
pub async fn schedule_once(db: &Db, name: &str, at_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO jobs (name, every_ms, next_run_at, runs, failures, updated_at) \
         VALUES ($1, 0, $2, 0, 0, $3) \
         ON CONFLICT (name) DO UPDATE SET next_run_at = excluded.next_run_at, \
         updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(at_ms)
    .bind(unix_now_ms())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Every job's row, by name.
pub async fn list_jobs(db: &Db) -> Result<Vec<JobStatus>, StoreError> {
    let now = unix_now_ms();
    let rows = sqlx::query(
        "SELECT name, every_ms, next_run_at, lease_owner, lease_until, runs, failures, \
         last_started_at, last_finished_at, last_duration_ms, last_error FROM jobs ORDER BY name",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let lease_until: Option<i64> = r.try_get(4)?;
            Ok(JobStatus {
                name: r.try_get(0)?,
                every_ms: r.try_get(1)?,
                next_run_at: r.try_get(2)?,
                running: lease_until.is_some_and(|t| t >= now),
                lease_owner: r.try_get(3)?,
                lease_until,
                runs: r.try_get(5)?,
                failures: r.try_get(6)?,
                last_started_at: r.try_get(7)?,
                last_finished_at: r.try_get(8)?,
                last_duration_ms: r.try_get(9)?,
                last_error: r.try_get(10)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_fifth() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(1000));
            assert!(d >= Duration::from_millis(800) && d <= Duration::from_millis(1200));
        }
    }
}
