//! The outbox across processes (issue 9): three `faro serve` on one database, 10,000 quiz
//! finishes spread over them, the webhooks fan-out consumer running in each, and the instance
//! holding the consumer's lease killed with SIGKILL mid-run.
//!
//! What must hold afterwards, read straight from the database: one `quiz.finished` event per
//! stored result (none lost, none doubled, every acknowledged finish among them), events
//! numbered `1..=n` without a gap, and exactly one webhook delivery per event, created in event
//! order (the consumer handled them in seq order, across the takeover). Deliveries are queued,
//! not sent (`WEBHOOK_DELIVERY=paused`): sending is the webhook tests' subject, and 10,000 HTTP
//! posts would only slow this one down.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use faro_store::{Backend, Db, DbOptions};
use serde_json::{Value, json};
use sqlx::Row;

use super::{Faro, Launch, ScratchDb, Visits, client, one_session, wait_for};

/// Finishes acknowledged before the run ends.
const FINISHES: usize = 10_000;
/// The lease holder is killed once this many are acknowledged.
const KILL_AT: usize = 4_000;
/// Visitors at once, each doing whole sessions one after another.
const VISITORS: usize = 12;

/// Three instances: the first is started alone, so it takes the consumer's lease.
struct Fleet {
    instances: Vec<Faro>,
    alive: Arc<Vec<AtomicBool>>,
}

async fn db_of(url: &str) -> Db {
    Db::connect(url, &DbOptions::default())
        .await
        .expect("the test's own connection")
}

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.reader())
        .await
        .expect(sql)
        .try_get(0)
        .expect(sql)
}

/// `(last_seq, lease_owner)` of the webhooks consumer.
async fn cursor(db: &Db) -> Option<(i64, Option<String>)> {
    sqlx::query("SELECT last_seq, lease_owner FROM event_cursors WHERE consumer = 'webhooks'")
        .fetch_optional(db.reader())
        .await
        .expect("cursor")
        .map(|r| (r.try_get(0).expect("seq"), r.try_get(1).expect("owner")))
}

/// Registers an endpoint for quiz.finished through instance `faro`'s admin API.
async fn create_endpoint(faro: &Faro) -> String {
    let token = faro.admin_token().await;
    let r = client()
        .post(faro.url("/api/v1/admin/webhooks"))
        .bearer_auth(token)
        .json(&json!({"url": "http://127.0.0.1:9/never-called", "event_kinds": ["quiz.finished"]}))
        .send()
        .await
        .expect("create webhook");
    assert_eq!(r.status(), 201, "create webhook");
    let v: Value = r.json().await.expect("webhook json");
    v["id"].as_str().expect("id").to_string()
}

/// Visitors doing whole sessions, each on the instances in turn (a session stays on one),
/// until `FINISHES` are acknowledged; a dead instance is skipped. Per visitor, one `Visits` per
/// instance, so failures can be told apart by instance.
fn spawn_visitors(
    bases: Vec<String>,
    alive: &Arc<Vec<AtomicBool>>,
    acked: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Vec<Visits>>> {
    (0..VISITORS)
        .map(|i| {
            let (bases, alive, acked) = (bases.clone(), alive.clone(), acked.clone());
            tokio::spawn(async move {
                let http = client();
                let mut visits: Vec<Visits> = bases.iter().map(|_| Visits::default()).collect();
                let mut round = i;
                while acked.load(Ordering::Relaxed) < FINISHES {
                    round += 1;
                    let k = round % bases.len();
                    if !alive[k].load(Ordering::Relaxed) {
                        continue;
                    }
                    if one_session(&http, &bases[k], round.is_multiple_of(2), &mut visits[k]).await
                    {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                }
                visits
            })
        })
        .collect()
}

async fn three_instances_kill_9_the_consumer_and_lose_no_event(backend: Backend) {
    let scratch = ScratchDb::new(backend).await;
    let mut launch = Launch::new(&scratch.url);
    launch.env = vec![
        ("WEBHOOK_DELIVERY", "paused".into()),
        ("ALLOW_PRIVATE_NETWORK_TARGETS", "true".into()),
    ];
    let first = launch.start().await;
    let db = db_of(&scratch.url).await;
    let endpoint = create_endpoint(&first).await;

    // The first instance alone: its consumer takes the lease, and keeps it while it is busy.
    let mut warm = Visits::default();
    let http = client();
    for i in 0..5 {
        assert!(one_session(&http, &first.base, i % 2 == 0, &mut warm).await);
    }
    wait_drained(&db, Duration::from_secs(30)).await;
    let holder = cursor(&db).await.and_then(|c| c.1).expect("a lease holder");

    let mut fleet = Fleet {
        instances: vec![first, launch.start().await, launch.start().await],
        alive: Arc::new((0..3).map(|_| AtomicBool::new(true)).collect()),
    };
    let acked = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let visitors = spawn_visitors(
        fleet.instances.iter().map(|f| f.base.clone()).collect(),
        &fleet.alive,
        &acked,
    );
    wait_for("finishes before the kill", Duration::from_secs(600), || {
        acked.load(Ordering::Relaxed) >= KILL_AT
    })
    .await;
    let still_holds = cursor(&db).await.and_then(|c| c.1);
    fleet.alive[0].store(false, Ordering::Relaxed);
    let killed_at = Instant::now();
    fleet.instances[0].kill9();
    assert_eq!(
        still_holds.as_deref(),
        Some(holder.as_str()),
        "the killed instance held the consumer's lease"
    );

    let mut per_instance: Vec<Visits> = (0..3).map(|_| Visits::default()).collect();
    for v in visitors {
        for (all, visits) in per_instance.iter_mut().zip(v.await.expect("visitor")) {
            all.absorb(visits);
        }
    }
    let load_took = started.elapsed();
    // Failures only from the killed instance, only from its death on, only "no response".
    for (k, visits) in per_instance.iter().enumerate() {
        for e in visits.exchanges.iter().filter(|e| !e.ok()) {
            assert!(
                k == 0 && e.sent + e.took >= killed_at && e.status.is_none(),
                "instance {k}: {} failed: {:?} {}",
                e.what,
                e.status,
                e.body
            );
        }
    }
    let acked_tokens: HashSet<&str> = per_instance
        .iter()
        .flat_map(|v| v.finished.iter().map(|f| f.token.as_str()))
        .collect();
    let in_flight: usize = per_instance.iter().map(|v| v.finish_no_response).sum();
    assert!(acked_tokens.len() >= FINISHES);

    // The survivors take the lease over once it expires, number and fan out everything.
    wait_drained(&db, Duration::from_secs(120)).await;
    let results = scalar(&db, "SELECT COUNT(*) FROM quiz_results").await;
    let drained = started.elapsed();
    let (last_seq, owner) = cursor(&db).await.expect("cursor");
    assert_ne!(owner.as_deref(), Some(holder.as_str()), "taken over");

    let events = sqlx::query("SELECT seq, id, kind, subject, payload FROM events ORDER BY seq")
        .fetch_all(db.reader())
        .await
        .expect("events");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM events WHERE seq IS NULL").await,
        0,
        "every event numbered"
    );
    let seqs: Vec<i64> = events.iter().map(|r| r.try_get(0).expect("seq")).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap");
    assert_eq!(last_seq, seqs.len() as i64, "the cursor passed every event");
    let finished: Vec<(String, String, String)> = events
        .iter()
        .filter(|r| r.try_get::<String, _>(2).expect("kind") == "quiz.finished")
        .map(|r| {
            let payload: Value =
                serde_json::from_str(&r.try_get::<String, _>(4).expect("payload")).expect("json");
            let share = payload["share_url"].as_str().expect("share_url");
            (
                r.try_get(1).expect("id"),
                r.try_get(3).expect("subject"),
                share.rsplit('/').next().expect("token").to_string(),
            )
        })
        .collect();
    assert_eq!(
        finished.len() as i64,
        results,
        "one event per stored result"
    );
    let subjects: HashSet<&str> = finished.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(subjects.len(), finished.len(), "one event per session");
    let event_tokens: HashSet<&str> = finished.iter().map(|f| f.2.as_str()).collect();
    let missing: Vec<_> = acked_tokens.difference(&event_tokens).take(5).collect();
    assert!(
        missing.is_empty(),
        "acknowledged finishes without an event: {missing:?}"
    );
    let total = finished.len();
    assert!(
        total >= acked_tokens.len() + warm.finished.len()
            && total <= acked_tokens.len() + warm.finished.len() + in_flight,
        "{total} events for {} acknowledged (+{in_flight} in flight)",
        acked_tokens.len() + warm.finished.len()
    );

    // Exactly one delivery per event, created in event order.
    let deliveries =
        sqlx::query("SELECT event_id, created_at FROM webhook_deliveries WHERE endpoint_id = $1")
            .bind(&endpoint)
            .fetch_all(db.reader())
            .await
            .expect("deliveries");
    let created: std::collections::HashMap<String, i64> = deliveries
        .iter()
        .map(|r| (r.try_get(0).expect("event"), r.try_get(1).expect("at")))
        .collect();
    assert_eq!(deliveries.len(), total, "one delivery per event");
    assert_eq!(created.len(), total, "no event fanned out twice");
    let mut previous = 0;
    for (id, _, _) in &finished {
        let at = *created
            .get(id)
            .unwrap_or_else(|| panic!("event {id} has no delivery"));
        assert!(
            at >= previous,
            "event {id} fanned out before an earlier one"
        );
        previous = at;
    }
    eprintln!(
        "{backend:?}: {total} finishes ({} acknowledged, {in_flight} in flight at the kill) \
         on 3 instances in {load_took:?}; the lease holder killed after {KILL_AT}; every event \
         fanned out once {drained:?} after the start",
        acked_tokens.len() + warm.finished.len()
    );
    for f in fleet.instances.iter_mut().skip(1) {
        f.stop().await;
    }
    db.close().await;
}

/// Waits until every event is numbered and the webhooks consumer has passed them all.
async fn wait_drained(db: &Db, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let stored = scalar(db, "SELECT COUNT(*) FROM events").await;
        let unnumbered = scalar(db, "SELECT COUNT(*) FROM events WHERE seq IS NULL").await;
        let at = cursor(db).await.map(|c| c.0).unwrap_or(0);
        if stored > 0 && unnumbered == 0 && at == stored {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the webhooks consumer is stuck at {at} of {stored} events ({unnumbered} unnumbered)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_three_instances_kill_9_loses_no_event_on_sqlite() {
    three_instances_kill_9_the_consumer_and_lose_no_event(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_three_instances_kill_9_loses_no_event_on_postgres() {
    three_instances_kill_9_the_consumer_and_lose_no_event(Backend::Postgres).await;
}
