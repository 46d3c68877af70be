//! The job scheduler on both backends: claims are exclusive, slots run once across instances,
//! failures are recorded, dead runners are taken over, and the admin listing shows it all.
//!
//! `FARO_SCHEDULER_TEST_SECS` sets the three-instance run's length (default 30 s: 30 runs in
//! total across the three, not 90).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use faro_store::scheduler::{Job, JobStatus, Scheduler, list_jobs, schedule_once};
use faro_store::testing::TestDb;
use faro_store::{Db, both_backends, new_id, unix_now_ms};
use sqlx::Row;
use tokio::sync::watch;

async fn status(db: &Db, name: &str) -> JobStatus {
    list_jobs(db)
        .await
        .expect("list")
        .into_iter()
        .find(|j| j.name == name)
        .unwrap_or_else(|| panic!("no job {name}"))
}

async fn create_runs_table(db: &Db) {
    sqlx::query(
        "CREATE TABLE job_runs (job TEXT NOT NULL, instance TEXT NOT NULL, at BIGINT NOT NULL, \
         slot BIGINT)",
    )
    .execute(db.writer())
    .await
    .expect("create job_runs");
}

/// A job that records which instance ran it, when, and which slot it claimed (its row's
/// `next_run_at` is one period past that slot until the run has finished).
fn recording_job(name: &'static str, every: Duration, instance: &str) -> Job {
    let instance = instance.to_string();
    Job::new(name, every, move |db: Db| {
        let instance = instance.clone();
        async move {
            sqlx::query(
                "INSERT INTO job_runs (job, instance, at, slot) SELECT $1, $2, $3, \
                 next_run_at - every_ms FROM jobs WHERE name = $1",
            )
            .bind(name)
            .bind(instance)
            .bind(unix_now_ms())
            .execute(db.writer())
            .await
            .map(|_| ())
        }
    })
}

/// `(instance, at, slot)` of each run, in order.
async fn runs_of(db: &Db, job: &str) -> Vec<(String, i64, i64)> {
    sqlx::query("SELECT instance, at, slot FROM job_runs WHERE job = $1 ORDER BY at")
        .bind(job)
        .fetch_all(db.writer())
        .await
        .expect("runs")
        .iter()
        .map(|r| {
            (
                r.try_get(0).expect("instance"),
                r.try_get(1).expect("at"),
                r.try_get(2).expect("slot"),
            )
        })
        .collect()
}

async fn claims_are_exclusive(t: &TestDb) {
    let dbs = t.handles(3).await;
    let noop = Job::new("exclusive", Duration::from_secs(60), |_db| async {
        Ok::<(), String>(())
    });
    Scheduler::new(t.db.clone(), "setup")
        .register(&[noop])
        .await
        .expect("register");
    let before = unix_now_ms();
    let attempts: Vec<_> = (0..24)
        .map(|i| {
            let s = Scheduler::new(dbs[i % 3].clone(), format!("i{i}"));
            tokio::spawn(async move { s.claim("exclusive").await.expect("claim").map(|_| i) })
        })
        .collect();
    let mut winners = Vec::new();
    for a in attempts {
        winners.extend(a.await.expect("task"));
    }
    assert_eq!(winners.len(), 1, "exactly one claim wins: {winners:?}");
    let job = status(&t.db, "exclusive").await;
    assert!(job.running);
    assert_eq!(job.lease_owner, Some(format!("i{}", winners[0])));
    let next = job.next_run_at.expect("next run");
    assert!(
        next > before && next <= unix_now_ms() + 60_000,
        "next slot one period on"
    );
    // Not due again, and leased: nobody else can claim it.
    let again = Scheduler::new(t.db.clone(), "late")
        .claim("exclusive")
        .await;
    assert_eq!(again.expect("claim"), None);
    for db in &dbs[1..] {
        db.close().await;
    }
}

/// Three instances, one job every second, for `FARO_SCHEDULER_TEST_SECS`: the job runs once
/// per elapsed slot in total (±1 for the edges), never twice in one slot.
async fn three_instances_share_each_slot(t: &TestDb) {
    let secs: u64 = std::env::var("FARO_SCHEDULER_TEST_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    create_runs_table(&t.db).await;
    let dbs = t.handles(3).await;
    let (stop_tx, stop) = watch::channel(false);
    let first_slot = unix_now_ms();
    let tasks: Vec<_> = dbs
        .iter()
        .enumerate()
        .map(|(i, db)| {
            let id = format!("instance-{i}");
            let s = Scheduler::new(db.clone(), &id).tick(Duration::from_millis(200));
            let job = recording_job("every_second", Duration::from_secs(1), &id);
            let stop = stop.clone();
            tokio::spawn(async move { s.run(vec![job], stop).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop_tx.send(true).expect("stop");
    let stopped_at = unix_now_ms();
    for task in tasks {
        task.await.expect("scheduler");
    }
    let runs = runs_of(&t.db, "every_second").await;
    // Slots are first_slot (give or take registration) + k seconds; count those due at least
    // one tick (with jitter) before the stop, so a slot falling due at the stop is not a miss.
    let slots = (stopped_at - 250 - first_slot) / 1000 + 1;
    assert!(
        (runs.len() as i64 - slots).abs() <= 1,
        "{} runs for {slots} slots: {runs:?}",
        runs.len()
    );
    for pair in runs.windows(2) {
        assert!(
            pair[1].2 - pair[0].2 >= 1000,
            "two runs in one slot: {pair:?}"
        );
    }
    let job = status(&t.db, "every_second").await;
    assert_eq!(job.runs, runs.len() as i64);
    assert_eq!(
        (job.failures, job.running, job.last_error),
        (0, false, None)
    );
    let instances: std::collections::HashSet<_> = runs.iter().map(|r| &r.0).collect();
    eprintln!(
        "{:?}: {} runs in {slots} slots by {} instances",
        t.backend,
        runs.len(),
        instances.len()
    );
    for db in &dbs[1..] {
        db.close().await;
    }
}

async fn failures_are_recorded_and_the_next_slot_still_runs(db: Db) {
    let attempts = Arc::new(AtomicUsize::new(0));
    let failing = {
        let attempts = attempts.clone();
        Job::new("failing", Duration::from_millis(500), move |_db| {
            let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Err(format!("boom {n}")) }
        })
    };
    let panicking = Job::new("panicking", Duration::from_secs(60), |_db| async {
        if unix_now_ms() > 0 {
            panic!("job bug");
        }
        Ok::<(), String>(())
    });
    let (stop_tx, stop) = watch::channel(false);
    let s = Scheduler::new(db.clone(), "only").tick(Duration::from_millis(50));
    let task = tokio::spawn(async move { s.run(vec![failing, panicking], stop).await });
    let until = Instant::now() + Duration::from_secs(5);
    while attempts.load(Ordering::SeqCst) < 3 {
        assert!(
            Instant::now() < until,
            "the failing job is retried each slot"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_tx.send(true).expect("stop");
    task.await.expect("scheduler");
    let job = status(&db, "failing").await;
    let n = attempts.load(Ordering::SeqCst) as i64;
    assert_eq!((job.runs, job.failures), (n, n));
    assert_eq!(job.last_error, Some(format!("boom {n}")));
    assert!(!job.running);
    assert!(job.last_finished_at >= job.last_started_at);
    assert!(job.last_duration_ms.is_some());
    let job = status(&db, "panicking").await;
    assert_eq!((job.runs, job.failures), (1, 1));
    assert_eq!(job.last_error.as_deref(), Some("panicked: job bug"));
}

/// An instance dies while its job runs: the lease it left behind blocks the job until it
/// expires, then another instance runs the next slot.
async fn a_dead_runners_job_is_taken_over(t: &TestDb) {
    create_runs_table(&t.db).await;
    let hung = Arc::new(AtomicUsize::new(0));
    let hanging = {
        let hung = hung.clone();
        Job::new("takeover", Duration::from_secs(1), move |_db| {
            hung.fetch_add(1, Ordering::SeqCst);
            async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<(), String>(())
            }
        })
    };
    let lease = Duration::from_millis(900);
    let (_keep, stop) = watch::channel(false);
    let dying = Scheduler::new(t.db.clone(), "dying")
        .lease(lease)
        .tick(Duration::from_millis(50));
    let victim = tokio::spawn({
        let stop = stop.clone();
        async move { dying.run(vec![hanging], stop).await }
    });
    while hung.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Past one renewal, so the lease outlives the crash by up to a whole lease.
    tokio::time::sleep(Duration::from_millis(400)).await;
    victim.abort();
    let _ = victim.await;
    let left = status(&t.db, "takeover").await;
    assert_eq!(left.lease_owner.as_deref(), Some("dying"));
    assert!(left.running, "the dead instance's lease is left behind");
    let lease_until = left.lease_until.expect("lease");

    let other = t.handles(2).await.pop().expect("handle");
    let (stop_tx, stop) = watch::channel(false);
    let heir = Scheduler::new(other.clone(), "heir").tick(Duration::from_millis(50));
    let job = recording_job("takeover", Duration::from_secs(1), "heir");
    let task = tokio::spawn(async move { heir.run(vec![job], stop).await });
    let until = Instant::now() + Duration::from_secs(5);
    while runs_of(&t.db, "takeover").await.is_empty() {
        assert!(Instant::now() < until, "the job was never taken over");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let runs = runs_of(&t.db, "takeover").await;
    assert!(
        runs[0].1 >= lease_until,
        "not before the lease expired: {runs:?} vs {lease_until}"
    );
    stop_tx.send(true).expect("stop");
    task.await.expect("heir");
    assert_eq!(
        hung.load(Ordering::SeqCst),
        1,
        "the dead instance ran it once"
    );
    let job = status(&t.db, "takeover").await;
    assert!(!job.running);
    assert_eq!(job.last_error, None);
    other.close().await;
}

async fn one_off_jobs_run_once_per_schedule(db: Db) {
    let ran = Arc::new(AtomicUsize::new(0));
    let once = {
        let ran = ran.clone();
        Job::once("reindex", move |_db| {
            ran.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), String>(()) }
        })
    };
    let (stop_tx, stop) = watch::channel(false);
    let s = Scheduler::new(db.clone(), new_id()).tick(Duration::from_millis(50));
    let task = tokio::spawn(async move { s.run(vec![once], stop).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "unscheduled one-off jobs wait"
    );
    assert_eq!(status(&db, "reindex").await.next_run_at, None);
    for expected in 1..=2 {
        schedule_once(&db, "reindex", unix_now_ms())
            .await
            .expect("schedule");
        let until = Instant::now() + Duration::from_secs(3);
        while ran.load(Ordering::SeqCst) < expected {
            assert!(Instant::now() < until, "scheduled job never ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(ran.load(Ordering::SeqCst), expected, "once per schedule");
    }
    // Scheduled in the future: not yet.
    schedule_once(&db, "reindex", unix_now_ms() + 60_000)
        .await
        .expect("schedule");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    stop_tx.send(true).expect("stop");
    task.await.expect("scheduler");
    let job = status(&db, "reindex").await;
    assert_eq!((job.every_ms, job.runs, job.failures), (0, 2, 0));
    assert!(job.next_run_at.is_some());
}

async fn registering_again_keeps_the_schedule(db: Db) {
    let job = |every| Job::new("hourly", every, |_db| async { Ok::<(), String>(()) });
    let s = Scheduler::new(db.clone(), "a");
    s.register(&[job(Duration::from_secs(3600))])
        .await
        .expect("register");
    assert!(s.claim("hourly").await.expect("claim").is_some());
    let next = status(&db, "hourly").await.next_run_at.expect("next");
    // Another instance starting (same period) changes nothing.
    Scheduler::new(db.clone(), "b")
        .register(&[job(Duration::from_secs(3600))])
        .await
        .expect("register");
    let after = status(&db, "hourly").await;
    assert_eq!(
        (after.next_run_at, after.lease_owner.as_deref()),
        (Some(next), Some("a"))
    );
    // A shorter period pulls a far next run closer.
    s.register(&[job(Duration::from_secs(60))])
        .await
        .expect("register");
    let after = status(&db, "hourly").await;
    assert_eq!(after.every_ms, 60_000);
    assert!(after.next_run_at.expect("next") <= unix_now_ms() + 60_000);
}

both_backends!(
    failures_are_recorded_and_the_next_slot_still_runs,
    one_off_jobs_run_once_per_schedule,
    registering_again_keeps_the_schedule,
);

both_backends!(
    test_db;
    claims_are_exclusive,
    three_instances_share_each_slot,
    a_dead_runners_job_is_taken_over,
);
