//! The storage plumbing on both backends: migrations, settings, batched counters.

use faro_store::{CounterKey, Counters, Db, both_backends, get_or_create_setting, get_setting};
use sqlx::Row;

fn key(metric: &'static str, k: &str) -> CounterKey {
    CounterKey {
        tenant_id: "default".into(),
        scope: "v1".into(),
        day: "2026-11-22".into(),
        metric,
        key: k.into(),
    }
}

async fn value(db: &Db, metric: &str, k: &str) -> i64 {
    sqlx::query("SELECT value FROM stats_daily WHERE metric = $1 AND key = $2")
        .bind(metric)
        .bind(k)
        .fetch_optional(db.reader())
        .await
        .expect("query")
        .map(|r| r.try_get::<i64, _>(0).expect("value"))
        .unwrap_or(0)
}

async fn migrations_are_idempotent(db: Db) {
    db.migrate().await.expect("second migrate is a no-op");
    db.ping().await.expect("ping");
}

async fn counters_from_two_instances_add_up(db: Db) {
    let a = Counters::new();
    let b = Counters::new();
    for _ in 0..5 {
        a.add(key("starts", ""), 1);
    }
    b.add(key("starts", ""), 3);
    b.add(key("answered", "q1"), 2);
    a.add(key("answered", "q1"), -1);
    a.flush(&db).await.expect("flush a");
    b.flush(&db).await.expect("flush b");
    a.add(key("starts", ""), 1);
    a.flush(&db).await.expect("flush a again");
    assert_eq!(value(&db, "starts", "").await, 9);
    assert_eq!(value(&db, "answered", "q1").await, 1);
    assert_eq!(a.pending_cells(), 0);
}

async fn counters_flush_many_cells_in_chunks(db: Db) {
    let c = Counters::new();
    for i in 0..450 {
        c.add(key("source", &format!("s{i}")), 2);
    }
    assert_eq!(c.flush(&db).await.expect("flush"), 450);
    let row = sqlx::query("SELECT COUNT(*), CAST(SUM(value) AS BIGINT) FROM stats_daily")
        .fetch_one(db.reader())
        .await
        .expect("count");
    assert_eq!(row.try_get::<i64, _>(0).expect("n"), 450);
    assert_eq!(row.try_get::<i64, _>(1).expect("sum"), 900);
}

async fn failed_flush_keeps_the_counts(db: Db) {
    let c = Counters::new();
    c.add(key("starts", ""), 4);
    db.close().await;
    assert!(c.flush(&db).await.is_err());
    assert_eq!(
        c.pending_cells(),
        1,
        "nothing lost while the database is away"
    );
}

async fn settings_first_writer_wins(db: Db) {
    assert_eq!(get_setting(&db, "jwt").await.expect("get"), None);
    let first = get_or_create_setting(&db, "jwt", || "one".into())
        .await
        .expect("create");
    let second = get_or_create_setting(&db, "jwt", || "two".into())
        .await
        .expect("read");
    assert_eq!(first, "one");
    assert_eq!(second, "one");
}

async fn write_transactions_do_not_deadlock_under_concurrency(db: Db) {
    let mut tasks = Vec::new();
    for i in 0..32 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = db.begin_write().await.expect("begin");
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM settings")
                .fetch_one(&mut *tx)
                .await
                .expect("read")
                .try_get(0)
                .expect("n");
            sqlx::query("INSERT INTO settings (key, value, created_at) VALUES ($1, $2, 0)")
                .bind(format!("k{i}"))
                .bind(n.to_string())
                .execute(&mut *tx)
                .await
                .expect("write");
            tx.commit().await.expect("commit");
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM settings")
        .fetch_one(db.reader())
        .await
        .expect("count")
        .try_get(0)
        .expect("n");
    assert_eq!(n, 32);
}

both_backends!(
    migrations_are_idempotent,
    counters_from_two_instances_add_up,
    counters_flush_many_cells_in_chunks,
    failed_flush_keeps_the_counts,
    settings_first_writer_wins,
    write_transactions_do_not_deadlock_under_concurrency,
);
