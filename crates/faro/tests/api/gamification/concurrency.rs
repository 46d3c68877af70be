//! The same event delivered many times at once, on one instance and on three sharing one
//! PostgreSQL: one award, one badge, one balance. Caps hold under concurrent events too.

use futures_util::future::join_all;
use serde_json::json;

use super::{conversion, send};
use crate::common::TestApp;
use crate::{both, postgres_only};

async fn ledger(app: &TestApp, user: &str) -> (i64, i64) {
    let rows = app
        .scalar_where(
            "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1",
            user,
        )
        .await;
    let sum = app
        .scalar_where(
            "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM gamification_ledger \
             WHERE user_id = $1",
            user,
        )
        .await;
    (rows, sum)
}

async fn balance(app: &TestApp, user: &str) -> i64 {
    app.scalar_where(
        "SELECT balance FROM gamification_players WHERE user_id = $1",
        user,
    )
    .await
}

async fn the_same_event_a_hundred_times_at_once_pays_once(app: TestApp) {
    let body = conversion("ana", "once", json!({}));
    let answers = join_all((0..100).map(|_| send(&app, body.clone()))).await;
    let created = answers.iter().filter(|r| r.status == 201).count();
    let replayed = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        (created, replayed),
        (1, 99),
        "{:?}",
        answers.iter().find(|r| r.status >= 300)
    );
    // conversion 10, first conversion 50, two badges (50 + 500): four entries, once.
    assert_eq!(ledger(&app, "ana").await, (4, 610));
    assert_eq!(balance(&app, "ana").await, 610);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM gamification_badges").await,
        2
    );
    // Twenty different logins at once: the daily cap (5) holds.
    let logins = join_all((0..20).map(|i| {
        send(
            &app,
            json!({"user": "ana", "type": "user.daily_login", "key": format!("login-{i}")}),
        )
    }))
    .await;
    assert!(logins.iter().all(|r| r.status == 201));
    assert_eq!(
        app.scalar_where(
            "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM gamification_ledger \
             WHERE rule = $1",
            "daily_login"
        )
        .await,
        5
    );
    assert_eq!(balance(&app, "ana").await, 615);
}
both!(the_same_event_a_hundred_times_at_once_pays_once);

async fn three_instances_pay_each_event_once(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    let apps = [&a, &b, &c];
    // The same key sent 30 times to each instance, and 30 new players' first conversions
    // spread over them: numbered 1 to 31 without a gap or a repeat.
    let same = conversion("ana", "shared", json!({}));
    let sends = (0..90).map(|i| {
        let app = apps[i % 3];
        let body = if i % 3 == 0 {
            conversion(&format!("p{i}"), &format!("k{i}"), json!({}))
        } else {
            same.clone()
        };
        async move { send(app, body).await }
    });
    let answers = join_all(sends).await;
    assert!(
        answers.iter().all(|r| r.status < 300),
        "{:?}",
        answers.iter().find(|r| r.status >= 300)
    );
    assert_eq!(
        answers.iter().filter(|r| r.status == 201).count(),
        31,
        "one per new key"
    );
    assert_eq!(ledger(&a, "ana").await, (4, 610));
    let ordinals: Vec<i64> =
        sqlx::query_scalar("SELECT ordinal FROM gamification_players ORDER BY ordinal")
            .fetch_all(a.core.db.writer())
            .await
            .expect("ordinals");
    assert_eq!(ordinals, (1..=31).collect::<Vec<i64>>());
}
postgres_only!(three_instances_pay_each_event_once);
