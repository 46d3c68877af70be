//! Gamification events under SIGKILL (issue 11): senders post events with keys to `faro
//! serve` and, when a send fails, post the same key again to an instance that is up, as a
//! client with an idempotency key would; mid-run an instance is killed with SIGKILL. Three
//! instances on one PostgreSQL (one killed), and one on SQLite killed and started again on the
//! same file.
//!
//! What must hold afterwards, read straight from the database: every key sent is recorded
//! once, each conversion paid its rule once, every player's balance equals the sum of their
//! ledger and their event counts add up to their events. A batch is one transaction, so a
//! kill loses whole batches whose callers never got a 201 (and who sent them again), never a
//! part of one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use faro_store::{Backend, Db, DbOptions};
use serde_json::json;
use sqlx::Row;

use super::{Faro, Launch, ScratchDb, client, wait_for};

/// Keys acknowledged before the run ends.
const EVENTS: usize = 1_500;
/// An instance is killed once this many are acknowledged.
const KILL_AT: usize = 500;
const SENDERS: usize = 12;
const PLAYERS: usize = 40;

/// The event for key number `n` of sender `s`: conversions and daily logins over `PLAYERS`.
fn event(s: usize, n: usize) -> serde_json::Value {
    let user = format!("p{}", (s * 7 + n) % PLAYERS);
    let key = format!("s{s}-{n}");
    if n.is_multiple_of(3) {
        json!({"user": user, "type": "user.daily_login", "key": key})
    } else {
        let format = ["pdf", "png", "mp3"][n % 3];
        json!({"user": user, "type": "conversion.completed", "key": key,
               "props": {"size_mb": n % 120, "target_format": format}})
    }
}

/// Where each instance answers (its base URL and an admin token); `None` while it is down.
type Targets = Arc<RwLock<Vec<Option<(String, String)>>>>;

fn target(targets: &Targets, k: usize) -> Option<(String, String)> {
    targets.read().unwrap_or_else(|p| p.into_inner())[k].clone()
}

/// Sends every key until some instance acknowledges it (201, or 200 for a key already taken);
/// returns how many of its keys were conversions. Each failed attempt counts in `retried`.
fn spawn_senders(
    targets: Targets,
    acked: Arc<AtomicUsize>,
    retried: Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<usize>> {
    (0..SENDERS)
        .map(|s| {
            let (targets, acked, retried) = (targets.clone(), acked.clone(), retried.clone());
            tokio::spawn(async move {
                let http = client();
                let count = targets.read().unwrap_or_else(|p| p.into_inner()).len();
                let mut conversions = 0;
                let mut n = 0;
                while acked.load(Ordering::Relaxed) < EVENTS {
                    let body = event(s, n);
                    let mut attempt = s + n;
                    loop {
                        let k = attempt % count;
                        attempt += 1;
                        let Some((base, token)) = target(&targets, k) else {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        };
                        let sent = http
                            .post(format!("{base}/api/v1/gamification/events"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status() == 201 || r.status() == 200 => break,
                            Ok(r) if r.status().is_client_error() => {
                                panic!("{body}: refused with {}", r.status())
                            }
                            // No answer (killed), or 503 while it starts: the same key again.
                            _ => {
                                retried.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(20)).await
                            }
                        }
                    }
                    if body["type"] == "conversion.completed" {
                        conversions += 1;
                    }
                    acked.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
                conversions
            })
        })
        .collect()
}

async fn scalar(db: &Db, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(db.writer())
        .await
        .expect(sql)
        .try_get::<i64, _>(0)
        .expect(sql)
}

async fn events_survive_kill_9(backend: Backend) {
    let scratch = ScratchDb::new(backend).await;
    let launch = Launch::new(&scratch.url);
    let count = match backend {
        Backend::Postgres => 3,
        Backend::Sqlite => 1,
    };
    let mut instances: Vec<Faro> = Vec::new();
    let mut up = Vec::new();
    for _ in 0..count {
        let f = launch.start().await;
        up.push(Some((f.base.clone(), f.admin_token().await)));
        instances.push(f);
    }
    let targets: Targets = Arc::new(RwLock::new(up));
    let acked = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let senders = spawn_senders(targets.clone(), acked.clone(), retried.clone());
    wait_for("events before the kill", Duration::from_secs(300), || {
        acked.load(Ordering::Relaxed) >= KILL_AT
    })
    .await;
    // Killed while it is being sent to (the senders learn of it only from failed requests).
    instances[0].kill9();
    targets.write().unwrap_or_else(|p| p.into_inner())[0] = None;
    if backend == Backend::Sqlite {
        // The only instance: started again on the same file (a new port).
        let again = launch.start().await;
        let token = again.admin_token().await;
        targets.write().unwrap_or_else(|p| p.into_inner())[0] = Some((again.base.clone(), token));
        instances[0] = again;
    }
    let mut conversions = 0i64;
    for h in senders {
        conversions += h.await.expect("a sender") as i64;
    }
    let sent = acked.load(Ordering::Relaxed) as i64;
    assert!(
        retried.load(Ordering::Relaxed) > 0,
        "the kill interrupted no request: the test proved nothing"
    );

    let db = Db::connect(&scratch.url, &DbOptions::default())
        .await
        .expect("the test's own connection");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM gamification_events").await,
        sent,
        "every key acknowledged is recorded, once"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM gamification_ledger WHERE rule = 'conversion'"
        )
        .await,
        conversions,
        "each conversion paid its rule once"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM gamification_players p WHERE p.balance <> \
             (SELECT COALESCE(SUM(l.points), 0) FROM gamification_ledger l \
              WHERE l.tenant_id = p.tenant_id AND l.user_id = p.user_id)"
        )
        .await,
        0,
        "every balance equals its ledger"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM gamification_players p WHERE \
             (SELECT COALESCE(SUM(c.count), 0) FROM gamification_kind_counts c \
              WHERE c.tenant_id = p.tenant_id AND c.user_id = p.user_id) <> \
             (SELECT COUNT(*) FROM gamification_events e \
              WHERE e.tenant_id = p.tenant_id AND e.user_id = p.user_id)"
        )
        .await,
        0,
        "every player's counts add up to their events"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM (SELECT user_id FROM gamification_ledger \
             WHERE rule = 'first_conversion' GROUP BY user_id HAVING COUNT(*) > 1) x"
        )
        .await,
        0,
        "once per user stays once"
    );
    for f in &mut instances[1..] {
        f.stop().await;
    }
    if backend == Backend::Sqlite {
        instances[0].stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gamification_events_survive_kill_9_on_sqlite() {
    events_survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gamification_events_on_three_instances_survive_kill_9_on_postgres() {
    events_survive_kill_9(Backend::Postgres).await;
}
