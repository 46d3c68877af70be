//! An anonymous visitor's points: a quiz finished without signing in pays the visitor's own
//! player, registering moves everything it holds to the account (ledger, badges, counts,
//! sums), later visits by the linked visitor pay the account, and erasing the visitor erases
//! its player.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{DEMO, TestApp, aggressive};

const PASSWORD: &str = "Sol-y-Sombra-2026";

async fn visitor(app: &TestApp) -> (String, String) {
    let v = app.get("/api/v1/public/whoami").await.json();
    (
        v["visitor_id"].as_str().expect("visitor_id").to_owned(),
        v["token"].as_str().expect("token").to_owned(),
    )
}

/// Plays the demo test to the end as the visitor with `token`.
async fn finish_as_visitor(app: &TestApp, token: &str) {
    let s = app.start(DEMO).await;
    app.answer_all(&s.id, &s.first, aggressive).await;
    let r = app
        .send(
            app.request(Method::POST, &format!("/api/v1/sessions/{}/finish", s.id))
                .header("x-faro-visitor", token),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
}

/// Waits (the outbox consumer polls) until `sql` with `arg` counts `want`.
async fn until(app: &TestApp, sql: &'static str, arg: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n = app.scalar_where(sql, arg).await;
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql} [{arg}]: {n}, not {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const BALANCE: &str =
    "SELECT COALESCE(MAX(balance), -1) FROM gamification_players WHERE user_id = $1";
const LEDGER: &str =
    "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM gamification_ledger WHERE user_id = $1";

/// A new visitor who finished the demo quiz: its id, token and player, once paid 10 for the
/// quiz and 500 for being among the site's first players (the early-adopter badge).
async fn visitor_with_points(app: &TestApp) -> (String, String, String) {
    let (id, token) = visitor(app).await;
    let player = format!("visitor:{id}");
    finish_as_visitor(app, &token).await;
    until(app, BALANCE, &player, 510).await;
    (id, token, player)
}

async fn a_visitors_points_become_the_accounts_on_registration(app: TestApp) {
    let (_, token, player) = visitor_with_points(&app).await;

    // The visitor registers: its player becomes the account's.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .header("x-faro-visitor", &token)
                .json(&json!({"email": "vera@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let body = r.json();
    let user = body["user"]["id"].as_str().expect("id").to_owned();
    let access = body["access_token"].as_str().expect("token").to_owned();

    until(&app, BALANCE, &player, -1).await;
    until(&app, BALANCE, &user, 510).await;
    assert_eq!(
        app.scalar_where(LEDGER, &user).await,
        510,
        "the ledger moved too"
    );
    for sql in [
        "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1",
        "SELECT COUNT(*) FROM gamification_events WHERE user_id = $1",
        "SELECT COUNT(*) FROM gamification_badges WHERE user_id = $1",
        "SELECT COUNT(*) FROM gamification_kind_counts WHERE user_id = $1",
    ] {
        assert_eq!(app.scalar_where(sql, &player).await, 0, "{sql}");
    }
    let profile: Value = app
        .send(
            app.request(Method::GET, "/api/v1/gamification/profile")
                .bearer_auth(&access),
        )
        .await
        .json();
    assert_eq!(profile["points"], 510, "{profile}");
    assert_eq!(profile["statistics"]["events"], 1, "{profile}");
    let badges: Vec<&str> = profile["badges"]
        .as_array()
        .expect("badges")
        .iter()
        .filter(|b| b["unlocked"] == true)
        .filter_map(|b| b["key"].as_str())
        .collect();
    assert_eq!(badges, ["adoptador_temprano"], "{profile}");

    // The same browser, not signed in, finishes again: the visitor is the account's now.
    finish_as_visitor(&app, &token).await;
    until(&app, BALANCE, &user, 520).await;
    assert_eq!(app.scalar_where(BALANCE, &player).await, -1);
    assert_eq!(app.scalar_where(LEDGER, &user).await, 520);
}
both!(a_visitors_points_become_the_accounts_on_registration);

async fn an_account_with_points_of_its_own_adds_the_visitors(app: TestApp) {
    // The account signs up first (from another browser) and earns the early-adopter badge.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .json(&json!({"email": "teo@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let user = r.json()["user"]["id"].as_str().expect("id").to_owned();
    let sent = app
        .admin_post(
            "/api/v1/gamification/events",
            &json!({"user": user, "type": "conversion.completed", "key": "c1"}),
        )
        .await;
    assert_eq!(sent.status, 201, "{sent}");
    // conversion 10, first conversion 50, primer paso 50, adoptador temprano 500.
    assert_eq!(app.scalar_where(BALANCE, &user).await, 610);

    // A visitor (second player: also an early adopter) finishes a quiz, then signs in.
    let (_, token, _) = visitor_with_points(&app).await;
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/login")
                .header("x-faro-visitor", &token)
                .json(&json!({"email": "teo@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    until(&app, BALANCE, &user, 1_120).await;
    // Both unlocked the same badge: one badge row, both payments kept in the ledger (the
    // visitor's under a source naming it), so the balance still equals the ledger.
    assert_eq!(app.scalar_where(LEDGER, &user).await, 1_120);
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM gamification_badges WHERE user_id = $1",
            &user
        )
        .await,
        2
    );
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1 \
             AND rule = 'badge:adoptador_temprano'",
            &user
        )
        .await,
        2
    );
    // 1,120 lifetime points: level 5 ("Experto en Conversión" at 1,000).
    assert_eq!(
        app.scalar_where(
            "SELECT level FROM gamification_players WHERE user_id = $1",
            &user
        )
        .await,
        5
    );
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM events WHERE kind = 'gamification.level_reached' AND subject = $1",
            &user
        )
        .await,
        2,
        "the event's level-up, and the merge's"
    );
}
both!(an_account_with_points_of_its_own_adds_the_visitors);

async fn erasing_a_visitor_erases_its_points(app: TestApp) {
    let (id, _, player) = visitor_with_points(&app).await;
    let r = app
        .admin_delete(&format!("/api/v1/admin/visitors/{id}"))
        .await;
    assert_eq!(r.status, 204, "{r}");
    until(&app, BALANCE, &player, -1).await;
    for sql in [
        "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1",
        "SELECT COUNT(*) FROM gamification_events WHERE user_id = $1",
        "SELECT COUNT(*) FROM gamification_badges WHERE user_id = $1",
    ] {
        assert_eq!(app.scalar_where(sql, &player).await, 0, "{sql}");
    }
}
both!(erasing_a_visitor_erases_its_points);
