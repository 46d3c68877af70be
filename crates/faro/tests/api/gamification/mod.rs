//! Gamification over HTTP on both databases: events turned into points, badges and levels
//! exactly once (however often and concurrently they arrive, on one instance or three), caps,
//! streaks by the tenant's calendar, profiles, leaderboards and the design document. The
//! default tenant starts with the converter's demo design (`FARO_DEMO`).

mod challenges;
mod concurrency;
mod design;
mod own;
mod panel;
mod spend;
mod visitors;
mod widget;

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp};

/// Sends an event as the admin.
pub async fn send(app: &TestApp, body: Value) -> Resp {
    app.admin_post("/api/v1/gamification/events", &body).await
}

pub fn conversion(user: &str, key: &str, props: Value) -> Value {
    json!({"user": user, "type": "conversion.completed", "key": key, "props": props})
}

fn rules(out: &Value) -> Vec<(String, i64)> {
    out["awards"]
        .as_array()
        .expect("awards")
        .iter()
        .map(|a| {
            (
                a["rule"].as_str().expect("rule").to_owned(),
                a["points"].as_i64().expect("points"),
            )
        })
        .collect()
}

async fn an_event_pays_once_with_badges_and_a_level(app: TestApp) {
    let first = send(
        &app,
        json!({"user": "ana", "type": "conversion.completed", "key": "c-1",
               "props": {"target_format": "pdf"}, "display_name": "Ana María García"}),
    )
    .await;
    assert_eq!(first.status, 201, "{first}");
    let out = first.json();
    assert_eq!(
        rules(&out),
        [
            ("conversion".to_owned(), 10),
            ("first_conversion".to_owned(), 50),
            ("badge:primer_paso".to_owned(), 50),
            ("badge:adoptador_temprano".to_owned(), 500),
        ]
    );
    assert_eq!(out["badges"], json!(["primer_paso", "adoptador_temprano"]));
    assert_eq!(out["balance"], 610);
    assert_eq!(out["level_up"], 4, "600 points is Maestro de Formatos");

    // The same key again: nothing changes, and the answer says what the first time gave.
    let again = send(&app, conversion("ana", "c-1", json!({}))).await;
    assert_eq!(again.status, 200, "{again}");
    let again = again.json();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["balance"], 610);
    assert_eq!(rules(&again).len(), 2, "the rules' awards for that key");

    // A second conversion pays 10; the first-conversion bonus does not come back.
    let second = send(&app, conversion("ana", "c-2", json!({}))).await.json();
    assert_eq!(rules(&second), [("conversion".to_owned(), 10)]);
    assert_eq!(second["balance"], 620);

    let p = app
        .admin_get("/api/v1/gamification/users/ana/profile")
        .await;
    assert_eq!(p.status, 200, "{p}");
    let p = p.json();
    assert_eq!(p["points"], 620);
    assert_eq!(p["level"]["number"], 4);
    assert_eq!(p["level"]["title"], "Maestro de Formatos");
    assert_eq!(
        p["level"]["progress_percent"], 5.0,
        "20 of the 400 to level 5"
    );
    assert_eq!(p["level"]["next"]["min_points"], 1000);
    assert_eq!(p["streak"]["current"], 1);
    assert_eq!(p["statistics"]["events"], 2);
    assert_eq!(p["statistics"]["badges_unlocked"], 2);
    assert_eq!(p["statistics"]["badges_available"], 12);
    assert_eq!(p["statistics"]["rank"], 1);
    let unlocked: Vec<&str> = p["badges"]
        .as_array()
        .expect("badges")
        .iter()
        .filter(|b| b["unlocked"] == true)
        .map(|b| b["key"].as_str().expect("key"))
        .collect();
    assert_eq!(unlocked, ["primer_paso", "adoptador_temprano"]);
    // Someone who never played has an empty profile, not a 404.
    let nobody = app
        .admin_get("/api/v1/gamification/users/nobody/profile")
        .await
        .json();
    assert_eq!(nobody["points"], 0);
    assert_eq!(nobody["level"]["number"], 1);

    // Other modules hear of it through the outbox.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM events WHERE kind LIKE 'gamification.%' ORDER BY seq")
            .fetch_all(app.core.db.writer())
            .await
            .expect("events");
    assert_eq!(
        kinds,
        [
            "gamification.points_awarded",
            "gamification.badge_unlocked",
            "gamification.badge_unlocked",
            "gamification.level_reached",
            "gamification.points_awarded"
        ]
    );
}
both!(an_event_pays_once_with_badges_and_a_level);

async fn proportional_points_caps_and_special_badges(app: TestApp) {
    let pay = |key: &str, amount: Value| json!({"user": "bea", "type": "payment.succeeded", "key": key, "props": {"amount_eur": amount}});
    let out = send(&app, pay("p-1", json!(12.5))).await.json();
    assert_eq!(
        rules(&out)[0],
        ("payment".to_owned(), 125),
        "10 points per EUR"
    );
    let out = send(&app, pay("p-2", json!("0.05"))).await.json();
    assert!(
        rules(&out).iter().all(|(r, _)| r != "payment"),
        "under a point"
    );

    // The daily login pays 5 once a day, however many logins.
    let mut login_points = 0;
    for i in 0..4 {
        let out = send(
            &app,
            json!({"user": "bea", "type": "user.daily_login", "key": format!("l-{i}")}),
        )
        .await
        .json();
        login_points += rules(&out)
            .iter()
            .filter(|(r, _)| r == "daily_login")
            .map(|(_, p)| p)
            .sum::<i64>();
    }
    assert_eq!(login_points, 5);

    // A file over 100 MB; five conversions within an hour.
    let out = send(&app, conversion("bea", "big", json!({"size_mb": 150})))
        .await
        .json();
    assert!(
        out["badges"]
            .as_array()
            .expect("badges")
            .contains(&json!("domador_de_gigantes"))
    );
    let mut speed = false;
    for i in 0..4 {
        let out = send(&app, conversion("bea", &format!("fast-{i}"), json!({})))
            .await
            .json();
        speed |= out["badges"]
            .as_array()
            .expect("badges")
            .contains(&json!("demonio_de_la_velocidad"));
        assert_eq!(speed, i == 3, "the fifth conversion in the hour: {out}");
    }
}
both!(proportional_points_caps_and_special_badges);

async fn bad_events_list_every_problem(app: TestApp) {
    let r = send(
        &app,
        json!({"user": "", "type": "Not A Kind", "key": "", "props": {},
               "occurred_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["user", "type", "key", "occurred_at"]);
    let r = send(&app, json!({"user": "a", "type": "x.y", "extra": 1})).await;
    assert_eq!(r.status, 422, "unknown fields: {r}");
    let r = send(
        &app,
        json!({"user": "a", "type": "x.y", "occurred_at": "yesterday"}),
    )
    .await;
    r.assert_error(422, "validation_failed");
    // Anonymous callers and end users do not send events.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/gamification/events")
                .json(&json!({"user": "a", "type": "x.y"})),
        )
        .await;
    r.assert_error(401, "unauthorized");
}
both!(bad_events_list_every_problem);

async fn leaderboards_mask_names_and_break_ties_by_time(app: TestApp) {
    // Each first conversion pays 610 (with the early-adopter badge); Eva converts twice.
    for (user, name) in [
        ("carla", "Carla Pérez"),
        ("dani", "dani.ruiz@example.com"),
        ("eva", ""),
    ] {
        let mut body = conversion(user, &format!("{user}-1"), json!({}));
        if !name.is_empty() {
            body["display_name"] = json!(name);
        }
        assert_eq!(send(&app, body).await.status, 201);
    }
    send(&app, conversion("eva", "eva-2", json!({}))).await;
    let board = app.get("/api/v1/gamification/leaderboard?limit=10").await;
    assert_eq!(board.status, 200, "{board}");
    let board = board.json();
    let rows: Vec<(i64, String, i64)> = board["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            assert!(r.get("user").is_none(), "no ids in public: {r}");
            (
                r["rank"].as_i64().expect("rank"),
                r["display_name"].as_str().expect("name").to_owned(),
                r["points"].as_i64().expect("points"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "#3".to_owned(), 620),
            (2, "Carla P.".to_owned(), 610),
            (3, "Dani R.".to_owned(), 610),
        ]
    );
    let staff = app
        .admin_get("/api/v1/admin/gamification/leaderboard?period=weekly")
        .await
        .json();
    assert_eq!(staff["items"][0]["user"], "eva", "{staff}");
    assert_eq!(staff["period"], "weekly");
    assert!(staff["since"].as_str().is_some());
    app.get("/api/v1/gamification/leaderboard?period=daily")
        .await
        .assert_error(422, "validation_failed");
    app.get("/api/v1/gamification/leaderboard?limit=101")
        .await
        .assert_error(422, "validation_failed");
}
both!(leaderboards_mask_names_and_break_ties_by_time);

async fn a_quiz_finished_by_a_signed_in_user_earns_points(app: TestApp) {
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .json(&json!({"email": "lia@example.com", "password": "Sol-y-Sombra-2026"})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let body = r.json();
    let token = body["access_token"].as_str().expect("token").to_owned();
    let user = body["user"]["id"].as_str().expect("id").to_owned();
    let s = app.start(crate::common::DEMO).await;
    app.answer_all(&s.id, &s.first, crate::common::aggressive)
        .await;
    let r = app
        .send(
            app.request(Method::POST, &format!("/api/v1/sessions/{}/finish", s.id))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    // The outbox consumer takes the quiz's event in: the demo's quiz_finished rule pays 10.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let profile = loop {
        let p = app
            .send(
                app.request(Method::GET, "/api/v1/gamification/profile")
                    .bearer_auth(&token),
            )
            .await;
        assert_eq!(p.status, 200, "{p}");
        let p = p.json();
        if p["points"].as_i64() > Some(0) {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no points arrived: {p}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(profile["user"], user);
    assert_eq!(profile["statistics"]["events"], 1);
    let quiz_points: i64 = app
        .scalar_where(
            "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM gamification_ledger \
             WHERE rule = $1",
            "quiz_finished",
        )
        .await;
    assert_eq!(quiz_points, 10);
    // An anonymous caller has no profile of their own.
    app.get("/api/v1/gamification/profile")
        .await
        .assert_error(401, "unauthorized");

    // GDPR: the export carries the module's part; erasing the account erases it.
    let export = app
        .send(
            app.request(Method::GET, "/api/v1/me/export")
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(export.status, 200, "{export}");
    let part = &export.json()["modules"]["gamification"];
    assert_eq!(part["events"][0]["type"], "quiz.finished", "{part}");
    assert!(part["points"].as_i64() > Some(0), "{part}");
    let r = app
        .send(
            app.request(Method::DELETE, "/api/v1/me")
                .bearer_auth(&token)
                .json(&json!({"password": "Sol-y-Sombra-2026"})),
        )
        .await;
    assert_eq!(r.status, 204, "{r}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while app
        .scalar_where(
            "SELECT COUNT(*) FROM gamification_ledger WHERE user_id = $1",
            &user,
        )
        .await
        > 0
    {
        assert!(std::time::Instant::now() < deadline, "not erased");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for sql in [
        "SELECT COUNT(*) FROM gamification_players WHERE user_id = $1",
        "SELECT COUNT(*) FROM gamification_events WHERE user_id = $1",
        "SELECT COUNT(*) FROM gamification_badges WHERE user_id = $1",
    ] {
        assert_eq!(app.scalar_where(sql, &user).await, 0, "{sql}");
    }
}
both!(a_quiz_finished_by_a_signed_in_user_earns_points);
