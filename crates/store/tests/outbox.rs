//! The transactional outbox on both backends: appends commit and roll back with the producer's
//! transaction, seqs follow commit order, and consumers handle every event exactly once, in
//! order, across instances, failures, crashes and replays.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use faro_store::outbox::{
    self, Ahead, Batch, Consumer, ConsumerTx, Event, NewEvent, Wake, consume_batch,
    consume_batch_ahead, cursor_of, run_consumer,
};
use faro_store::testing::TestDb;
use faro_store::{Db, StoreError, both_backends};
use sqlx::Row;
use tokio::sync::watch;

fn ev(kind: &str, subject: &str, n: i64) -> NewEvent {
    NewEvent::new("default", kind, subject, &serde_json::json!({ "n": n })).expect("event")
}

/// Appends `events` in a transaction of their own; returns their ids.
async fn publish(db: &Db, events: &[NewEvent]) -> Vec<String> {
    let mut tx = db.begin_write().await.expect("begin");
    let ids = outbox::append(&mut tx, db.backend(), events)
        .await
        .expect("append");
    tx.commit().await.expect("commit");
    ids
}

/// The events `ids` as stored, in the given order, once numbered (as a consumer would).
async fn numbered(db: &Db, ids: &[String]) -> Vec<Event> {
    outbox::sequence(db).await.expect("sequence");
    let all = outbox::events_after(db, 0, 100_000).await.expect("read");
    ids.iter()
        .map(|id| {
            all.iter()
                .find(|e| &e.id == id)
                .cloned()
                .unwrap_or_else(|| panic!("event {id} is not numbered"))
        })
        .collect()
}

/// Appends `events` in a transaction of their own; returns them as stored, numbered.
async fn publish_numbered(db: &Db, events: &[NewEvent]) -> Vec<Event> {
    let ids = publish(db, events).await;
    numbered(db, &ids).await
}

/// The table recording handlers write to, in their transaction.
async fn create_handled_table(db: &Db) {
    sqlx::query(
        "CREATE TABLE handled (consumer TEXT NOT NULL, seq BIGINT NOT NULL, \
         subject TEXT NOT NULL, payload TEXT NOT NULL, n BIGINT NOT NULL)",
    )
    .execute(db.writer())
    .await
    .expect("create handled");
}

/// Writes one row per event, numbered in handling order (`n`), in the consumer's transaction.
async fn record(tx: &mut ConsumerTx, name: &str, events: &[Event]) -> Result<(), StoreError> {
    for e in events {
        sqlx::query(
            "INSERT INTO handled (consumer, seq, subject, payload, n) \
             SELECT $1, $2, $3, $4, COALESCE(MAX(n), 0) + 1 FROM handled WHERE consumer = $1",
        )
        .bind(name)
        .bind(e.seq)
        .bind(&e.subject)
        .bind(&e.payload)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn recording(name: &'static str) -> Consumer {
    Consumer::new(name, move |tx, events| {
        Box::pin(async move { record(tx, name, events).await })
    })
}

/// `(seq, subject, payload)` of what `consumer` handled, in handling order.
async fn handled(db: &Db, consumer: &str) -> Vec<(i64, String, String)> {
    sqlx::query("SELECT seq, subject, payload FROM handled WHERE consumer = $1 ORDER BY n")
        .bind(consumer)
        .fetch_all(db.writer())
        .await
        .expect("handled")
        .iter()
        .map(|r| {
            (
                r.try_get(0).expect("seq"),
                r.try_get(1).expect("subject"),
                r.try_get(2).expect("payload"),
            )
        })
        .collect()
}

async fn last_seq(db: &Db, consumer: &str) -> i64 {
    cursor_of(db, consumer)
        .await
        .expect("cursor")
        .map(|c| c.last_seq)
        .unwrap_or(0)
}

/// Waits until `consumer`'s cursor reaches `seq`, or panics after `secs`.
async fn wait_for_cursor(db: &Db, consumer: &str, seq: i64, secs: u64) {
    let until = Instant::now() + Duration::from_secs(secs);
    while last_seq(db, consumer).await < seq {
        assert!(
            Instant::now() < until,
            "{consumer} stuck at {} of {seq}",
            last_seq(db, consumer).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every seq `1..=total` handled exactly once, in seq order.
fn assert_exactly_once_in_order(rows: &[(i64, String, String)], total: i64) {
    let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "exactly once, in seq order"
    );
}

async fn rolled_back_appends_leave_no_event(db: Db) {
    let mut tx = db.begin_write().await.expect("begin");
    sqlx::query("INSERT INTO settings (key, value, created_at) VALUES ('k', 'v', 0)")
        .execute(&mut *tx)
        .await
        .expect("state change");
    outbox::append(&mut tx, db.backend(), &[ev("quiz.finished", "s1", 1)])
        .await
        .expect("append");
    tx.rollback().await.expect("rollback");
    assert_eq!(outbox::sequence(&db).await.expect("sequence"), 0);
    assert_eq!(outbox::latest_seq(&db).await.expect("latest"), 0);
    assert!(
        outbox::events_after(&db, 0, 10)
            .await
            .expect("read")
            .is_empty()
    );
    // Seqs stay contiguous: the next event is the first.
    let stored = publish_numbered(&db, &[ev("quiz.finished", "s2", 2)]).await;
    assert_eq!(stored[0].seq, 1);
}

async fn seqs_are_contiguous_and_in_append_order(db: Db) {
    let mut expected = Vec::new();
    // 600 rows span two INSERT statements of one append.
    for size in [1usize, 3, 600, 2] {
        let batch: Vec<NewEvent> = (0..size)
            .map(|i| {
                ev("quiz.finished", &format!("b{size}"), i as i64).at(1_800_000_000 + i as i64)
            })
            .collect();
        let stored = publish_numbered(&db, &batch).await;
        assert_eq!(stored.len(), size);
        for (s, n) in stored.iter().zip(&batch) {
            assert_eq!(
                (&s.subject, &s.payload, s.occurred_at),
                (&n.subject, &n.payload, n.occurred_at)
            );
        }
        expected.extend(stored);
    }
    let seqs: Vec<i64> = expected.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=606).collect::<Vec<_>>());
    assert_eq!(outbox::latest_seq(&db).await.expect("latest"), 606);
    // Paging through events_after returns exactly what was stored.
    let mut read = Vec::new();
    let mut after = 0;
    loop {
        let page = outbox::events_after(&db, after, 250).await.expect("page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        read.extend(page);
    }
    assert_eq!(read, expected);
    let ids: std::collections::HashSet<_> = read.iter().map(|e| &e.id).collect();
    assert_eq!(ids.len(), 606, "ids are unique");
    #[derive(serde::Deserialize)]
    struct P {
        n: i64,
    }
    assert_eq!(read[5].payload_as::<P>().expect("payload").n, 1);
}

async fn malformed_kinds_are_refused(db: Db) {
    let mut tx = db.begin_write().await.expect("begin");
    let bad = NewEvent::new("default", "finished", "s", &1).expect("event");
    assert!(outbox::append(&mut tx, db.backend(), &[bad]).await.is_err());
}

/// Seqs become visible in increasing order, so a consumer never passes one still to come. On
/// SQLite an appending transaction holds back the next one until it commits; on PostgreSQL the
/// next one commits at once, and the late commit is numbered after it.
async fn seq_order_is_commit_order(db: Db) {
    let mut first = db.begin_write().await.expect("begin first");
    outbox::append(&mut first, db.backend(), &[ev("quiz.finished", "a", 1)])
        .await
        .expect("append first");
    let second = tokio::spawn({
        let db = db.clone();
        async move { publish(&db, &[ev("quiz.finished", "b", 2)]).await }
    });
    let subjects = |events: Vec<Event>| {
        events
            .iter()
            .map(|e| format!("{}{}", e.subject, e.seq))
            .collect::<Vec<_>>()
    };
    match db.backend() {
        faro_store::Backend::Sqlite => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(
                !second.is_finished(),
                "the second producer waits for the first to commit"
            );
            assert!(
                outbox::events_after(&db, 0, 10)
                    .await
                    .expect("read")
                    .is_empty()
            );
            first.commit().await.expect("commit first");
            second.await.expect("second producer");
            let seen = outbox::events_after(&db, 0, 10).await.expect("read");
            assert_eq!(subjects(seen), ["a1", "b2"]);
        }
        faro_store::Backend::Postgres => {
            second.await.expect("the second producer does not wait");
            assert_eq!(outbox::sequence(&db).await.expect("sequence"), 1);
            let seen = outbox::events_after(&db, 0, 10).await.expect("read");
            assert_eq!(
                subjects(seen),
                ["b1"],
                "the uncommitted event is not numbered"
            );
            first.commit().await.expect("commit first");
            assert_eq!(outbox::sequence(&db).await.expect("sequence"), 1);
            let seen = outbox::events_after(&db, 0, 10).await.expect("read");
            assert_eq!(subjects(seen), ["b1", "a2"], "numbered in commit order");
        }
    }
}

async fn kind_filters_skip_but_advance(db: Db) {
    create_handled_table(&db).await;
    publish(
        &db,
        &[
            ev("quiz.started", "s1", 1),
            ev("lead.qualified", "l1", 2),
            ev("quiz.finished", "s1", 3),
            ev("quizzes.finished", "x", 4),
        ],
    )
    .await;
    let quiz = recording("quiz_only").kinds(&["quiz.*"]);
    let leads = recording("leads").kinds(&["lead.qualified"]);
    // Each reads only its own kinds (the database filters), and moves past all four.
    for (c, read) in [(&quiz, 2), (&leads, 1)] {
        match consume_batch(&db, c, "me").await.expect("batch") {
            Batch::Done {
                events, last_seq, ..
            } => assert_eq!((events, last_seq), (read, 4)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            consume_batch(&db, c, "me").await.expect("idle"),
            Batch::Idle
        ));
        assert_eq!(last_seq(&db, c.name).await, 4);
    }
    let q: Vec<i64> = handled(&db, "quiz_only")
        .await
        .iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(q, [1, 3]);
    let l: Vec<i64> = handled(&db, "leads").await.iter().map(|r| r.0).collect();
    assert_eq!(l, [2]);
    // Nothing matching at all still moves the cursor.
    publish(&db, &[ev("quiz.started", "s2", 5)]).await;
    assert!(matches!(
        consume_batch(&db, &leads, "me").await.expect("batch"),
        Batch::Done {
            handled: 0,
            last_seq: 5,
            ..
        }
    ));
}

async fn a_failing_handler_retries_the_same_batch(db: Db) {
    create_handled_table(&db).await;
    publish(
        &db,
        &[ev("quiz.finished", "s1", 1), ev("quiz.finished", "s2", 2)],
    )
    .await;
    let calls = Arc::new(std::sync::Mutex::new(Vec::<Vec<i64>>::new()));
    let flaky = {
        let calls = calls.clone();
        Consumer::new("flaky", move |tx, events| {
            let calls = calls.clone();
            Box::pin(async move {
                let attempt = {
                    let mut c = calls.lock().expect("lock");
                    c.push(events.iter().map(|e| e.seq).collect());
                    c.len()
                };
                // Writes first, then fails: the writes must roll back with the cursor.
                record(tx, "flaky", events).await?;
                if attempt <= 2 {
                    return Err(StoreError::Other(format!("attempt {attempt} fails")));
                }
                Ok(())
            })
        })
        .retry(Duration::from_millis(50), Duration::from_millis(200))
        // The direct call below holds the lease as "me"; the loop takes over when it expires.
        .lease(Duration::from_millis(100))
    };
    match consume_batch(&db, &flaky, "me").await.expect("batch") {
        Batch::Failed {
            first_seq,
            last_seq,
            error,
        } => {
            assert_eq!((first_seq, last_seq), (1, 2));
            assert!(error.to_string().contains("attempt 1"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        last_seq(&db, "flaky").await,
        0,
        "a failed batch does not advance"
    );
    assert!(
        handled(&db, "flaky").await.is_empty(),
        "its writes rolled back"
    );

    // The loop backs off and retries until the handler succeeds.
    let (stop_tx, stop) = watch::channel(false);
    let task = tokio::spawn(run_consumer(db.clone(), flaky, Wake::new(), stop));
    wait_for_cursor(&db, "flaky", 2, 5).await;
    stop_tx.send(true).expect("stop");
    task.await.expect("consumer");
    assert_eq!(*calls.lock().expect("lock"), vec![vec![1, 2]; 3]);
    assert_exactly_once_in_order(&handled(&db, "flaky").await, 2);
    let cursor = cursor_of(&db, "flaky").await.expect("cursor").expect("row");
    assert_eq!(cursor.lease_owner, None, "a clean stop releases the lease");
}

async fn reset_cursor_replays_and_skips(db: Db) {
    create_handled_table(&db).await;
    let c = recording("replayed");
    publish(
        &db,
        &[ev("quiz.finished", "a", 1), ev("quiz.finished", "b", 2)],
    )
    .await;
    assert!(matches!(
        consume_batch(&db, &c, "me").await.expect("batch"),
        Batch::Done { .. }
    ));
    outbox::reset_cursor(&db, "replayed", 0)
        .await
        .expect("reset");
    assert!(matches!(
        consume_batch(&db, &c, "me").await.expect("batch"),
        Batch::Done { events: 2, .. }
    ));
    assert_eq!(
        handled(&db, "replayed").await.len(),
        4,
        "replayed once more"
    );
    publish(&db, &[ev("quiz.finished", "c", 3)]).await;
    outbox::reset_cursor(&db, "replayed", 3)
        .await
        .expect("skip ahead");
    assert!(matches!(
        consume_batch(&db, &c, "me").await.expect("idle"),
        Batch::Idle
    ));
    // A reset of a consumer that never ran creates its cursor.
    outbox::reset_cursor(&db, "later", 2).await.expect("create");
    let names: Vec<String> = outbox::list_cursors(&db)
        .await
        .expect("list")
        .into_iter()
        .map(|c| format!("{}@{}", c.consumer, c.last_seq))
        .collect();
    assert_eq!(names, ["later@2", "replayed@3"]);
    assert!(outbox::remove_cursor(&db, "later").await.expect("remove"));
    assert_eq!(cursor_of(&db, "later").await.expect("cursor"), None);
}

async fn purge_keeps_undelivered_events_and_the_newest(db: Db) {
    let old = faro_store::unix_now() - 40 * 86_400;
    let batch: Vec<NewEvent> = (0..10)
        .map(|i| ev("quiz.finished", "s", i).at(old))
        .collect();
    publish(&db, &batch).await;
    outbox::reset_cursor(&db, "slow", 4).await.expect("cursor");
    outbox::reset_cursor(&db, "fast", 10).await.expect("cursor");
    assert_eq!(
        outbox::purge_delivered_all_tenants(&db, 30)
            .await
            .expect("purge"),
        4
    );
    assert_eq!(
        outbox::events_after(&db, 0, 1).await.expect("read")[0].seq,
        5
    );
    // Recent events stay whatever the cursors say.
    assert_eq!(
        outbox::purge_delivered_all_tenants(&db, 50)
            .await
            .expect("purge"),
        0
    );
    // Without cursors only the newest stays, and seqs continue after it.
    outbox::remove_cursor(&db, "slow").await.expect("remove");
    outbox::remove_cursor(&db, "fast").await.expect("remove");
    assert_eq!(
        outbox::purge_delivered_all_tenants(&db, 30)
            .await
            .expect("purge"),
        5
    );
    let left = outbox::events_after(&db, 0, 100).await.expect("read");
    assert_eq!(left.iter().map(|e| e.seq).collect::<Vec<_>>(), [10]);
    assert_eq!(
        publish_numbered(&db, &[ev("quiz.finished", "s", 11)]).await[0].seq,
        11
    );
}

/// An idle consumer polling only once a minute still reacts at once: on SQLite to the
/// producer's in-process wake-up, on PostgreSQL to the `NOTIFY` another instance (another
/// handle with its own `Wake`) sends after its commit.
async fn idle_consumers_wake_on_commit(t: &TestDb) {
    let db = &t.db;
    create_handled_table(db).await;
    let wake = Wake::new();
    let other_wake = Wake::new();
    let (stop_tx, stop) = watch::channel(false);
    let mut listeners = Vec::new();
    if t.backend == faro_store::Backend::Postgres {
        for w in [&wake, &other_wake] {
            listeners.push(
                w.listen_postgres(&t.url, stop.clone())
                    .await
                    .expect("listen"),
            );
        }
    }
    let c = recording("woken").poll(Duration::from_secs(60));
    let task = tokio::spawn(run_consumer(db.clone(), c, wake.clone(), stop));
    wait_for_cursor(db, "woken", 0, 5).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // the consumer is idle now
    for round in 1..=3 {
        let started = Instant::now();
        let other = t.handles(2).await.remove(1);
        publish(&other, &[ev("quiz.finished", "s", round)]).await;
        match t.backend {
            faro_store::Backend::Sqlite => wake.notify(),
            faro_store::Backend::Postgres => other_wake.notify(),
        }
        wait_for_cursor(db, "woken", round, 5).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "woken, not polled"
        );
        other.close().await;
    }
    stop_tx.send(true).expect("stop");
    task.await.expect("consumer");
    for l in listeners {
        l.await.expect("listener");
    }
}

/// Two instances (two handles) run batches of the same consumer as fast as they can, both
/// under the *same* lease owner, so the lease keeps nothing apart and only the compare-and-set
/// on `last_seq` stands between them and double handling.
async fn two_instances_handle_each_event_once(t: &TestDb) {
    let db = &t.db;
    create_handled_table(db).await;
    for i in 0..30 {
        let batch: Vec<NewEvent> = (0..10)
            .map(|j| ev("quiz.finished", &format!("s{}", j % 3), i * 10 + j))
            .collect();
        publish(db, &batch).await;
    }
    let other = t.handles(2).await.remove(1);
    let c = Consumer::new("racing", |tx, events| {
        Box::pin(async move {
            // Widen the window between the compare-and-set and the commit.
            tokio::time::sleep(Duration::from_millis(2)).await;
            record(tx, "racing", events).await
        })
    })
    .batch(7);
    let instance = |db: Db, c: Consumer| {
        tokio::spawn(async move {
            let (mut done, mut lost) = (0, 0);
            loop {
                match consume_batch(&db, &c, "twin").await.expect("batch") {
                    Batch::Done { .. } => done += 1,
                    Batch::Lost => lost += 1,
                    Batch::Idle => return (done, lost),
                    other => panic!("{other:?}"),
                }
            }
        })
    };
    let a = instance(db.clone(), c.clone());
    let b = instance(other.clone(), c);
    let (a, b) = (a.await.expect("a"), b.await.expect("b"));
    assert_eq!(last_seq(db, "racing").await, 300);
    assert_exactly_once_in_order(&handled(db, "racing").await, 300);
    eprintln!(
        "{:?}: batches committed {} + {}, lost to the other {} + {}",
        t.backend, a.0, b.0, a.1, b.1
    );
    other.close().await;
}

/// 8 producers × 250 events (one transaction each) while 3 instances consume: every event
/// exactly once, and each producer's events in the order it appended them.
async fn concurrent_producers_and_three_consumers(t: &TestDb) {
    const PRODUCERS: i64 = 8;
    const EACH: i64 = 250;
    let db = &t.db;
    create_handled_table(db).await;
    let started = Instant::now();
    let wake = Wake::new();
    let (stop_tx, stop) = watch::channel(false);
    let c = recording("busy")
        .batch(50)
        .lease(Duration::from_millis(100));
    let mut consumers = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..3 {
        let h = t.handles(2).await.remove(1);
        consumers.push(tokio::spawn(run_consumer(
            h.clone(),
            c.clone(),
            wake.clone(),
            stop.clone(),
        )));
        handles.push(h);
    }
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (db, wake) = (db.clone(), wake.clone());
            tokio::spawn(async move {
                for n in 0..EACH {
                    publish(&db, &[ev("quiz.finished", &format!("p{p}"), n)]).await;
                    wake.notify();
                }
            })
        })
        .collect();
    for p in producers {
        p.await.expect("producer");
    }
    let produced = started.elapsed();
    wait_for_cursor(db, "busy", PRODUCERS * EACH, 20).await;
    stop_tx.send(true).expect("stop");
    for c in consumers {
        c.await.expect("consumer");
    }
    let rows = handled(db, "busy").await;
    assert_exactly_once_in_order(&rows, PRODUCERS * EACH);
    for p in 0..PRODUCERS {
        let ns: Vec<i64> = rows
            .iter()
            .filter(|r| r.1 == format!("p{p}"))
            .map(|r| {
                serde_json::from_str::<serde_json::Value>(&r.2).expect("json")["n"]
                    .as_i64()
                    .expect("n")
            })
            .collect();
        assert_eq!(
            ns,
            (0..EACH).collect::<Vec<_>>(),
            "producer {p} in append order"
        );
    }
    eprintln!(
        "{:?}: {} events appended in {produced:?}, all handled after {:?}",
        t.backend,
        PRODUCERS * EACH,
        started.elapsed()
    );
    for h in handles {
        h.close().await;
    }
}

/// A consumer killed while its handler runs loses nothing: its transaction rolls back, and
/// another instance takes over once the lease expires.
async fn a_killed_consumer_loses_nothing(t: &TestDb) {
    let db = &t.db;
    create_handled_table(db).await;
    let batch: Vec<NewEvent> = (0..20).map(|i| ev("quiz.finished", "s", i)).collect();
    publish(db, &batch).await;
    let entered = Arc::new(AtomicUsize::new(0));
    let slow = {
        let entered = entered.clone();
        Consumer::new("crashy", move |tx, events| {
            let entered = entered.clone();
            Box::pin(async move {
                record(tx, "crashy", events).await?;
                entered.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(())
            })
        })
        .batch(5)
        .lease(Duration::from_millis(500))
    };
    let (_stop_tx, stop) = watch::channel(false);
    let victim = tokio::spawn(run_consumer(db.clone(), slow, Wake::new(), stop.clone()));
    while entered.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    victim.abort();
    let _ = victim.await;
    let killed_at = Instant::now();
    let cursor = cursor_of(db, "crashy").await.expect("cursor").expect("row");
    assert_eq!(cursor.last_seq, 0, "the killed batch did not commit");
    assert!(
        cursor.lease_owner.is_some(),
        "the dead instance's lease is left behind"
    );

    let other = t.handles(2).await.remove(1);
    let (stop_tx, stop) = watch::channel(false);
    let heir = tokio::spawn(run_consumer(
        other.clone(),
        recording("crashy").batch(5).poll(Duration::from_millis(50)),
        Wake::new(),
        stop,
    ));
    wait_for_cursor(db, "crashy", 20, 5).await;
    assert!(
        killed_at.elapsed() >= Duration::from_millis(300),
        "taken over after the lease"
    );
    stop_tx.send(true).expect("stop");
    heir.await.expect("heir");
    assert_exactly_once_in_order(&handled(db, "crashy").await, 20);
    other.close().await;
}

/// A running consumer writes its cursor for batches with nothing to handle at most once per
/// `quiet_write`, yet handles what matches at once, exactly once, and honours a reset.
async fn quiet_batches_write_the_cursor_sparingly(db: Db) {
    create_handled_table(&db).await;
    let c = recording("erasures")
        .kinds(&["user.deleted"])
        .batch(10)
        .quiet_write(Duration::from_secs(3600));
    let mut ahead = Ahead::default();
    let batch = |ahead: &mut Ahead| {
        let (db, c) = (db.clone(), c.clone());
        let mut a = std::mem::take(ahead);
        async move {
            let b = consume_batch_ahead(&db, &c, "me", &mut a)
                .await
                .expect("batch");
            (b, a)
        }
    };
    let many: Vec<NewEvent> = (1..=25).map(|n| ev("quiz.finished", "s", n)).collect();
    publish(&db, &many).await;
    // The first batch writes (nothing written yet): past all 25, none of which it read.
    let (b, a) = batch(&mut ahead).await;
    ahead = a;
    assert!(
        matches!(
            b,
            Batch::Done {
                events: 0,
                handled: 0,
                last_seq: 25
            }
        ),
        "{b:?}"
    );
    assert_eq!(last_seq(&db, "erasures").await, 25);
    // Quiet batches after it move on in memory only.
    let more: Vec<NewEvent> = (26..=30).map(|n| ev("quiz.finished", "s", n)).collect();
    publish(&db, &more).await;
    let (b, a) = batch(&mut ahead).await;
    ahead = a;
    assert!(
        matches!(
            b,
            Batch::Done {
                handled: 0,
                last_seq: 30,
                ..
            }
        ),
        "{b:?}"
    );
    assert_eq!(
        last_seq(&db, "erasures").await,
        25,
        "a quiet batch wrote nothing"
    );
    let (b, a) = batch(&mut ahead).await;
    ahead = a;
    assert!(matches!(b, Batch::Idle), "{b:?}");
    // Something to handle: handled at once, and the cursor written past all of it.
    publish(
        &db,
        &[ev("user.deleted", "u1", 31), ev("quiz.finished", "s", 32)],
    )
    .await;
    let (b, a) = batch(&mut ahead).await;
    ahead = a;
    assert!(
        matches!(
            b,
            Batch::Done {
                events: 1,
                handled: 1,
                last_seq: 32
            }
        ),
        "{b:?}"
    );
    assert_eq!(last_seq(&db, "erasures").await, 32);
    assert_eq!(handled(&db, "erasures").await.len(), 1);
    // More matching events than a batch: a full batch stops at its last event.
    let deletions: Vec<NewEvent> = (33..=44).map(|n| ev("user.deleted", "u", n)).collect();
    publish(&db, &deletions).await;
    let (b, a) = batch(&mut ahead).await;
    ahead = a;
    assert!(
        matches!(
            b,
            Batch::Done {
                events: 10,
                handled: 10,
                last_seq: 42
            }
        ),
        "{b:?}"
    );
    let (b, a) = batch(&mut ahead).await;
    ahead = a;
    assert!(
        matches!(
            b,
            Batch::Done {
                events: 2,
                handled: 2,
                last_seq: 44
            }
        ),
        "{b:?}"
    );
    // Quiet again, then a reset to 0 while ahead: the replay reads from 0, not from memory.
    publish(&db, &[ev("quiz.finished", "s", 45)]).await;
    let (b, a) = batch(&mut ahead).await;
    ahead = a;
    assert!(
        matches!(
            b,
            Batch::Done {
                handled: 0,
                last_seq: 45,
                ..
            }
        ),
        "{b:?}"
    );
    outbox::reset_cursor(&db, "erasures", 0)
        .await
        .expect("reset");
    let mut replayed = 0;
    for _ in 0..10 {
        let (b, a) = batch(&mut ahead).await;
        ahead = a;
        match b {
            Batch::Done { handled, .. } => replayed += handled,
            Batch::Idle => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        replayed, 13,
        "the reset replays every matching event once more"
    );
    assert_eq!(handled(&db, "erasures").await.len(), 26);
    // A consumer that is due writes even an idle position: nothing stays unwritten for long.
    let due = c.clone().quiet_write(Duration::ZERO);
    publish(&db, &[ev("quiz.finished", "s", 46)]).await;
    let mut fresh = Ahead::default();
    consume_batch_ahead(&db, &due, "me", &mut fresh)
        .await
        .expect("batch");
    assert_eq!(last_seq(&db, "erasures").await, 46);

    // A consumer with nothing to do at all reads no event and moves past them all.
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let idle = Consumer::new("no_endpoints", move |_tx, _events| {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    })
    .active_when(|_db| Box::pin(async { Ok(false) }));
    let b = consume_batch(&db, &idle, "me").await.expect("batch");
    assert!(
        matches!(
            b,
            Batch::Done {
                events: 0,
                handled: 0,
                last_seq: 46
            }
        ),
        "{b:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

both_backends!(
    quiet_batches_write_the_cursor_sparingly,
    rolled_back_appends_leave_no_event,
    seqs_are_contiguous_and_in_append_order,
    malformed_kinds_are_refused,
    seq_order_is_commit_order,
    kind_filters_skip_but_advance,
    a_failing_handler_retries_the_same_batch,
    reset_cursor_replays_and_skips,
    purge_keeps_undelivered_events_and_the_newest,
);

both_backends!(
    test_db;
    idle_consumers_wake_on_commit,
    two_instances_handle_each_event_once,
    concurrent_producers_and_three_consumers,
    a_killed_consumer_loses_nothing,
);
