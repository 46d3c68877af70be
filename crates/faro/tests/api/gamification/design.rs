//! The design document (read, replace, refused with every problem's path, stale versions),
//! a tenant's own design and calendar: streaks by its time zone, and nothing shared with
//! another tenant.

use reqwest::Method;
use serde_json::{Value, json};

use super::send;
use crate::both;
use crate::common::TestApp;
use crate::tenants::{OWNER_PASSWORD, create_tenant, on_host, token_on};

const DESIGN: &str = "/api/v1/admin/gamification/design";

async fn put(app: &TestApp, body: &Value) -> crate::common::Resp {
    app.admin_put(DESIGN, body).await
}

async fn the_design_is_replaced_whole_and_checked(app: TestApp) {
    let current = app.admin_get(DESIGN).await;
    assert_eq!(current.status, 200, "{current}");
    let current = current.json();
    assert_eq!(current["version"], 1, "the demo's");
    assert_eq!(
        current["design"]["levels"].as_array().map(Vec::len),
        Some(10)
    );
    let mut design = current["design"].clone();

    // Every problem with its path; nothing saved.
    let mut bad = design.clone();
    bad["rules"][0]["award"]["points"] = json!(0);
    bad["levels"][0]["min_points"] = json!(5);
    bad["badges"][1]["criterion"] = json!({"type": "streak", "days": 1});
    bad["rules"]
        .as_array_mut()
        .expect("rules")
        .push(json!({"key": "gift", "event": "x.y", "award": {"type": "badge", "badge": "nope"}}));
    let r = put(&app, &json!({"version": 1, "design": bad})).await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "rules[0].award.points",
            "levels[0].min_points",
            "badges[1].criterion.days",
            "rules[8].award.badge"
        ]
    );
    assert_eq!(app.admin_get(DESIGN).await.json()["version"], 1);

    // A new rule applies to the next event.
    design["rules"].as_array_mut().expect("rules").push(json!({
        "key": "review", "name": "Reseña", "event": "review.posted",
        "filters": [{"prop": "stars", "op": "gte", "value": 4}],
        "award": {"type": "points", "points": 30}
    }));
    let r = put(&app, &json!({"version": 1, "design": design})).await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["version"], 2);
    // In the tenant's audit log, with what it was and what it became.
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let entry = &audit["items"][0];
    assert_eq!(entry["action"], "gamification.design_put", "{audit}");
    assert_eq!(entry["actor"], "admin");
    assert_eq!(entry["before"]["rules"].as_array().map(Vec::len), Some(8));
    assert_eq!(entry["after"]["rules"].as_array().map(Vec::len), Some(9));
    let out = send(
        &app,
        json!({"user": "ana", "type": "review.posted", "key": "r1", "props": {"stars": 5}}),
    )
    .await
    .json();
    assert_eq!(
        out["awards"][0],
        json!({"rule": "review", "points": 30}),
        "{out}"
    );
    let out = send(
        &app,
        json!({"user": "ana", "type": "review.posted", "key": "r2", "props": {"stars": 2}}),
    )
    .await
    .json();
    assert_eq!(out["awards"], json!([]), "{out}");

    // Someone else saved meanwhile: the stale version is refused.
    put(&app, &json!({"version": 1, "design": design}))
        .await
        .assert_error(409, "stale_version");
    let r = put(
        &app,
        &json!({"version": 2, "design": {"rules": [], "unknown": 1}}),
    )
    .await;
    r.assert_error(422, "invalid_body");
    assert!(r.text.contains("design.unknown"), "{r}");
}
both!(the_design_is_replaced_whole_and_checked);

async fn streaks_follow_the_tenants_calendar_and_tenants_share_nothing(app: TestApp) {
    create_tenant(&app, "pampa", "pampa.example").await;
    let r = app
        .send(
            app.admin(Method::PATCH, "/api/v1/platform/tenants/pampa")
                .await
                .json(&json!({"time_zone": "America/Argentina/Buenos_Aires"})),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    let owner = token_on(&app, "pampa.example", "owner", OWNER_PASSWORD).await;
    let post = |body: Value| {
        let req = app
            .request(Method::POST, "/api/v1/gamification/events")
            .bearer_auth(&owner)
            .json(&body);
        on_host(&app, "pampa.example", req)
    };
    // Yesterday 23:50 and today 00:10 in Buenos Aires: two days in a row (both could be the
    // same UTC day).
    let tz = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").expect("tz");
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let at = |d: jiff::civil::Date, h: i8, m: i8| {
        d.at(h, m, 0, 0)
            .to_zoned(tz.clone())
            .expect("a local time")
            .timestamp()
            .to_string()
    };
    let yesterday = today.yesterday().expect("yesterday");
    for (key, when) in [("late", at(yesterday, 23, 50)), ("early", at(today, 0, 10))] {
        let r = post(json!({"user": "sol", "type": "app.opened", "key": key, "occurred_at": when}))
            .await;
        assert_eq!(r.status, 201, "{r}");
    }
    let profile = on_host(
        &app,
        "pampa.example",
        app.request(Method::GET, "/api/v1/gamification/users/sol/profile")
            .bearer_auth(&owner),
    )
    .await
    .json();
    assert_eq!(profile["streak"]["current"], 2, "{profile}");
    assert_eq!(profile["streak"]["last_day"], today.to_string());
    // The new tenant has no rules (and no points), the default levels, and its own board.
    assert_eq!(profile["points"], 0);
    assert_eq!(profile["level"]["title"], "Novato Converter");
    let board = on_host(
        &app,
        "pampa.example",
        app.request(Method::GET, "/api/v1/gamification/leaderboard"),
    )
    .await
    .json();
    assert_eq!(board["items"], json!([]));
    // The default tenant does not see Sol.
    let home = app
        .admin_get("/api/v1/gamification/users/sol/profile")
        .await
        .json();
    assert_eq!(home["statistics"]["events"], 0);
}
both!(streaks_follow_the_tenants_calendar_and_tenants_share_nothing);
