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

/// Sends 20 events for each of 10 players, all at once (so they share batches), to `apps` in
/// turn; checks every player's sums against the ledger, the counts, and that badges and the
/// weekly challenge were given exactly once.
async fn many_players_at_once(apps: &[&TestApp]) {
    let sends = (0..200).map(|i| {
        let app = apps[i % apps.len()];
        let user = format!("m{}", i % 10);
        let n = i / 10;
        let body = match n % 4 {
            // Two logins a day for the same day: the cap pays one.
            1 | 3 => json!({"user": user, "type": "user.daily_login", "key": format!("l{i}")}),
            _ => conversion(&user, &format!("c{i}"), json!({"size_mb": 10})),
        };
        async move { send(app, body).await }
    });
    let answers = join_all(sends).await;
    assert!(
        answers.iter().all(|r| r.status == 201),
        "{:?}",
        answers.iter().find(|r| r.status != 201)
    );
    let a = apps[0];
    for p in 0..10 {
        let user = format!("m{p}");
        let (_, sum) = ledger(a, &user).await;
        assert_eq!(balance(a, &user).await, sum, "{user}: balance = ledger");
        // 10 conversions: 100, first 50, login 5, primer paso 50, veterano 100, adoptador 500,
        // burst 150, the week's "10 conversions" challenge 150 when it is one of the week's
        // three, maestro de formatos 200 when that reaches level 5 (1,000).
        let events = a
            .scalar_where(
                "SELECT CAST(SUM(count) AS BIGINT) FROM gamification_kind_counts WHERE user_id = $1",
                &user,
            )
            .await;
        assert_eq!(events, 20, "{user}: every event counted once");
        let badges = a
            .scalar_where(
                "SELECT COUNT(*) FROM gamification_badges WHERE user_id = $1",
                &user,
            )
            .await;
        // 10 conversions within seconds: primer paso, veterano, adoptador temprano and the
        // burst badge; maestro de formatos too when the challenge lifts them to level 5.
        let challenge: i64 = a
            .scalar_where(
                "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1 AND rule LIKE 'challenge:%'",
                &user,
            )
            .await;
        assert!(challenge <= 1, "{user}: a challenge paid at most once");
        let before_level = 100 + 50 + 5 + 50 + 100 + 500 + 150 + 150 * challenge;
        let level_badge = i64::from(before_level >= 1_000);
        assert_eq!(badges, 4 + level_badge, "{user}: badges");
        assert_eq!(
            a.scalar_where(
                "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1 AND rule = 'daily_login'",
                &user
            )
            .await,
            1,
            "{user}: one login paid a day"
        );
        assert_eq!(sum, before_level + 200 * level_badge, "{user}");
    }
    // The outbox told other modules once per award-bearing event.
    let awarded = a
        .scalar("SELECT COUNT(*) FROM events WHERE kind = 'gamification.points_awarded'")
        .await;
    let paying = a
        .scalar(
            "SELECT COUNT(DISTINCT source) FROM gamification_ledger WHERE kind = 'award' \
             AND source NOT IN ('unlock', 'complete')",
        )
        .await;
    assert_eq!(awarded, paying);
}

async fn many_players_events_at_once_keep_every_sum(app: TestApp) {
    many_players_at_once(&[&app]).await;
}
both!(many_players_events_at_once_keep_every_sum);

async fn many_players_events_on_three_instances_keep_every_sum(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    many_players_at_once(&[&a, &b, &c]).await;
}
postgres_only!(many_players_events_on_three_instances_keep_every_sum);
