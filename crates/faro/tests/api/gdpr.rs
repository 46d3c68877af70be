//! GDPR: one export of everything about an end user or a visitor, from every module (the
//! platform's account and visitors, the quiz's results), for the person and for their site's
//! staff; erasure through events, each module erasing its own rows; both audited.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{DEMO, Resp, TestApp, aggressive};

const PASSWORD: &str = "Sol-y-Sombra-2026";

/// A new visitor's signed token.
async fn visitor(app: &TestApp) -> (String, String) {
    let v = app.get("/api/v1/public/whoami").await.json();
    (
        v["visitor_id"].as_str().expect("id").to_string(),
        v["token"].as_str().expect("token").to_string(),
    )
}

/// Plays the demo test to the end, the finish carrying `header` = `value`; returns the share
/// token.
async fn finish_as(app: &TestApp, header: &str, value: &str) -> String {
    let s = app.start(DEMO).await;
    app.answer_all(&s.id, &s.first, aggressive).await;
    let r = app
        .send(
            app.request(Method::POST, &format!("/api/v1/sessions/{}/finish", s.id))
                .header(header, value),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    r.json()["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("share token")
        .to_string()
}

/// Registers `email` from the visitor with `token`; returns `(user id, access token)`.
async fn register(app: &TestApp, email: &str, visitor_token: &str) -> (String, String) {
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .header("x-faro-visitor", visitor_token)
                .json(&json!({"email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let v = r.json();
    (
        v["user"]["id"].as_str().expect("id").to_string(),
        v["access_token"].as_str().expect("token").to_string(),
    )
}

async fn as_user(app: &TestApp, token: &str, method: Method, path: &str) -> Resp {
    app.send(app.request(method, path).bearer_auth(token)).await
}

fn shares(export: &Value) -> Vec<String> {
    export["modules"]["quiz"]["results"]
        .as_array()
        .expect("quiz results")
        .iter()
        .map(|r| {
            r["share_url"]
                .as_str()
                .and_then(|u| u.rsplit('/').next())
                .expect("share_url")
                .to_string()
        })
        .collect()
}

/// Waits until the share link answers `status` (the modules' consumers erase a moment later).
async fn share_becomes(app: &TestApp, token: &str, status: u16) {
    let started = Instant::now();
    loop {
        let r = app.share(token, true).await;
        if r.status == status {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "share {token} still {}",
            r.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_user_exports_their_account_their_visits_and_their_results(app: TestApp) {
    let (visitor_id, visitor_token) = visitor(&app).await;
    // Finished as an anonymous visitor the site knows, then as the signed-in user.
    let before = finish_as(&app, "x-faro-visitor", &visitor_token).await;
    let (user_id, token) = register(&app, "ana@example.com", &visitor_token).await;
    let after = finish_as(&app, "authorization", &format!("Bearer {token}")).await;
    // Someone else's result is not theirs.
    let (_, stranger) = visitor(&app).await;
    let other = finish_as(&app, "x-faro-visitor", &stranger).await;
    // Nor is an anonymous one.
    let anonymous = app.complete(DEMO, aggressive).await;

    let r = as_user(&app, &token, Method::GET, "/api/v1/me/export").await;
    assert_eq!(r.status, 200, "{r}");
    let export = r.json();
    assert_eq!(export["subject"]["user_id"], user_id.as_str());
    assert_eq!(export["subject"]["visitor_ids"], json!([visitor_id]));
    let account = &export["modules"]["platform"]["account"];
    assert_eq!(account["email"], "ana@example.com");
    assert_eq!(account["email_verified"], false);
    assert_eq!(
        export["modules"]["platform"]["visitors"][0]["id"],
        visitor_id.as_str()
    );
    let mut mine = shares(&export);
    mine.sort();
    let mut want = vec![before.clone(), after.clone()];
    want.sort();
    assert_eq!(mine, want, "{export}");
    assert!(!mine.contains(&other));
    let result = &export["modules"]["quiz"]["results"][0];
    assert_eq!(result["test"]["slug"], DEMO);
    assert!(result["profile_code"].is_string() && result["finished_at"].is_string());
    assert!(
        !r.text
            .contains(anonymous["share_url"].as_str().expect("url"))
    );

    // The finish's event names who finished.
    let payloads: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM events WHERE kind = 'quiz.finished' ORDER BY seq")
            .fetch_all(app.core.db.writer())
            .await
            .expect("events");
    let first: Value = serde_json::from_str(&payloads[0]).expect("json");
    assert_eq!(first["visitor_id"], visitor_id.as_str());
    let second: Value = serde_json::from_str(&payloads[1]).expect("json");
    assert_eq!(second["user_id"], user_id.as_str());

    // Without a token there is nothing to export.
    app.get("/api/v1/me/export")
        .await
        .assert_error(401, "unauthorized");
}
both!(a_user_exports_their_account_their_visits_and_their_results);

async fn staff_export_a_person_and_the_audit_log_says_so(app: TestApp) {
    let (visitor_id, visitor_token) = visitor(&app).await;
    let token = finish_as(&app, "x-faro-visitor", &visitor_token).await;
    let (user_id, _) = register(&app, "bea@example.com", &visitor_token).await;

    let r = app
        .admin_get(&format!("/api/v1/admin/users/{user_id}/export"))
        .await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(shares(&r.json()), vec![token.clone()]);
    let r = app
        .admin_get(&format!("/api/v1/admin/visitors/{visitor_id}/export"))
        .await;
    assert_eq!(r.status, 200, "{r}");
    let export = r.json();
    assert_eq!(shares(&export), vec![token]);
    assert_eq!(
        export["modules"]["platform"]["visitor"]["user_id"],
        user_id.as_str()
    );

    app.admin_get("/api/v1/admin/users/nobody/export")
        .await
        .assert_error(404, "not_found");
    app.admin_get("/api/v1/admin/visitors/nobody/export")
        .await
        .assert_error(404, "not_found");

    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let actions: Vec<(String, String)> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("user.export".into(), user_id)),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("visitor.export".into(), visitor_id)),
        "{actions:?}"
    );
}
both!(staff_export_a_person_and_the_audit_log_says_so);

async fn erasing_a_user_erases_their_quiz_results(app: TestApp) {
    let (_, visitor_token) = visitor(&app).await;
    let before = finish_as(&app, "x-faro-visitor", &visitor_token).await;
    let (_, token) = register(&app, "carla@example.com", &visitor_token).await;
    let after = finish_as(&app, "authorization", &format!("Bearer {token}")).await;
    let anonymous = app.complete(DEMO, aggressive).await;
    let anonymous = anonymous["share_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("token")
        .to_string();

    let r = app
        .send(
            app.request(Method::DELETE, "/api/v1/me")
                .bearer_auth(&token)
                .json(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 204, "{r}");
    share_becomes(&app, &before, 404).await;
    share_becomes(&app, &after, 404).await;
    assert_eq!(app.share(&anonymous, true).await.status, 200);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM quiz_result_owners").await,
        0
    );
}
both!(erasing_a_user_erases_their_quiz_results);

async fn erasing_a_visitor_erases_their_results_and_is_audited(app: TestApp) {
    let (visitor_id, visitor_token) = visitor(&app).await;
    let theirs = finish_as(&app, "x-faro-visitor", &visitor_token).await;
    let (_, stranger) = visitor(&app).await;
    let others = finish_as(&app, "x-faro-visitor", &stranger).await;

    // A viewer may not erase anyone.
    let r = app
        .admin_post(
            "/api/v1/admin/staff",
            &json!({"username": "vera", "password": "Lectura-Segura-77", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
    let viewer = app.login_as("vera", "Lectura-Segura-77").await.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let path = format!("/api/v1/admin/visitors/{visitor_id}");
    as_user(&app, &viewer, Method::DELETE, &path)
        .await
        .assert_error(403, "forbidden");

    let r = app.admin_delete(&path).await;
    assert_eq!(r.status, 204, "{r}");
    share_becomes(&app, &theirs, 404).await;
    assert_eq!(app.share(&others, true).await.status, 200);
    app.admin_delete(&path).await.assert_error(404, "not_found");
    app.admin_get(&format!("{path}/export"))
        .await
        .assert_error(404, "not_found");
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    assert!(
        audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["action"] == "visitor.delete" && e["target"] == visitor_id.as_str()),
        "{audit}"
    );
}
both!(erasing_a_visitor_erases_their_results_and_is_audited);
