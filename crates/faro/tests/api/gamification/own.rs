//! End users reporting their own events: only the kinds the design lists, dated when they
//! arrive, idempotent per user, capped by their rules, and never another user's key.

use reqwest::Method;
use serde_json::{Value, json};

use super::{conversion, send};
use crate::both;
use crate::common::{Resp, TestApp};

async fn report(app: &TestApp, token: &str, body: Value) -> Resp {
    app.send(
        app.request(Method::POST, "/api/v1/gamification/me/events")
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn points(app: &TestApp, token: &str) -> i64 {
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/gamification/profile")
                .bearer_auth(token),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    r.json()["points"].as_i64().expect("points")
}

/// The points a rule paid in an event's outcome.
fn paid(out: &Value, rule: &str) -> i64 {
    out["awards"]
        .as_array()
        .expect("awards")
        .iter()
        .filter(|a| a["rule"] == rule)
        .filter_map(|a| a["points"].as_i64())
        .sum()
}

async fn end_users_report_only_what_the_design_lets_them(app: TestApp) {
    let (ana, token) = app.register_user("ana@example.com").await;
    let (_, other) = app.register_user("bea@example.com").await;

    // A daily visit: 5 points, once a day however often it is reported.
    let first = report(
        &app,
        &token,
        json!({"type": "user.daily_login", "key": "d1"}),
    )
    .await;
    assert_eq!(first.status, 201, "{first}");
    assert_eq!(paid(&first.json(), "daily_login"), 5, "{first}");
    let after_first = points(&app, &token).await;
    let again = report(
        &app,
        &token,
        json!({"type": "user.daily_login", "key": "d1"}),
    )
    .await;
    assert_eq!(again.status, 200, "the same key changes nothing: {again}");
    let another = report(&app, &token, json!({"type": "user.daily_login"})).await;
    assert_eq!(another.status, 201, "{another}");
    assert_eq!(paid(&another.json(), "daily_login"), 0, "capped at 5 a day");
    assert_eq!(points(&app, &token).await, after_first);

    // Opinions pay 15, up to 45 a day.
    let mut feedback = 0;
    for i in 0..5 {
        let r = report(
            &app,
            &token,
            json!({"type": "feedback.given", "key": format!("f{i}"), "props": {"stars": 5}}),
        )
        .await;
        assert_eq!(r.status, 201, "{r}");
        feedback += paid(&r.json(), "feedback");
    }
    assert_eq!(feedback, 45);

    // What pays for something done elsewhere comes from servers, never from the person paid.
    report(&app, &token, json!({"type": "conversion.completed"}))
        .await
        .assert_error(403, "event_not_allowed");
    report(
        &app,
        &token,
        json!({"type": "payment.succeeded", "props": {"amount_eur": 1000}}),
    )
    .await
    .assert_error(403, "event_not_allowed");
    // No backdating, no other user: the body has no such fields.
    assert_eq!(
        report(
            &app,
            &token,
            json!({"type": "user.daily_login", "occurred_at": "2026-01-01T00:00:00Z"})
        )
        .await
        .status,
        422
    );
    assert_eq!(
        report(
            &app,
            &token,
            json!({"type": "user.daily_login", "user": "someone"})
        )
        .await
        .status,
        422
    );
    report(&app, &token, json!({"type": "feedback.given", "key": ""}))
        .await
        .assert_error(422, "validation_failed");
    app.send(
        app.request(Method::POST, "/api/v1/gamification/me/events")
            .json(&json!({"type": "user.daily_login"})),
    )
    .await
    .assert_error(401, "unauthorized");

    // A user's key is theirs: the same key from another user, or from a server, is another
    // event.
    let r = report(
        &app,
        &other,
        json!({"type": "user.daily_login", "key": "d1"}),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(paid(&r.json(), "daily_login"), 5, "{r}");
    let r = send(&app, conversion(&ana, "d1", json!({}))).await;
    assert_eq!(r.status, 201, "the server's key is not taken: {r}");

    // A site that lists nothing lets end users report nothing.
    let design = app
        .admin_get("/api/v1/admin/gamification/design")
        .await
        .json();
    let mut doc = design["design"].clone();
    doc["user_events"] = json!([]);
    let r = app
        .admin_put(
            "/api/v1/admin/gamification/design",
            &json!({"design": doc, "version": design["version"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    report(&app, &token, json!({"type": "user.daily_login"}))
        .await
        .assert_error(403, "event_not_allowed");
}
both!(end_users_report_only_what_the_design_lets_them);

async fn a_design_lists_exact_kinds_for_end_users(app: TestApp) {
    let design = app
        .admin_get("/api/v1/admin/gamification/design")
        .await
        .json();
    assert_eq!(
        design["design"]["user_events"],
        json!(["user.daily_login", "feedback.given", "content.shared"])
    );
    let mut doc = design["design"].clone();
    doc["user_events"] = json!(["payment.*", "ok.kind", "ok.kind", "Bad Kind"]);
    let r = app
        .admin_put(
            "/api/v1/admin/gamification/design",
            &json!({"design": doc, "version": design["version"]}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert!(paths.contains(&"user_events[0]".to_string()), "{paths:?}");
    assert!(
        paths.contains(&"user_events[2].key".to_string()),
        "{paths:?}"
    );
    assert!(paths.contains(&"user_events[3]".to_string()), "{paths:?}");
}
both!(a_design_lists_exact_kinds_for_end_users);
