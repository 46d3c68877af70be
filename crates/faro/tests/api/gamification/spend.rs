//! Points going out: redemption (idempotent, never past the balance, even ten at once) and
//! staff reversals (with a reason; never past the award or the balance; levels stay).

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::json;

use super::{conversion, send};
use crate::both;
use crate::common::{Resp, TestApp};

async fn redeem(app: &TestApp, user: &str, points: i64, key: &str) -> Resp {
    let req = app
        .admin(
            Method::POST,
            &format!("/api/v1/gamification/users/{user}/redeem"),
        )
        .await
        .header("idempotency-key", key)
        .json(&json!({ "points": points }));
    app.send(req).await
}

async fn redemption_is_idempotent_and_never_overdraws(app: TestApp) {
    assert_eq!(
        send(&app, conversion("ana", "c-1", json!({}))).await.status,
        201
    );
    let r = redeem(&app, "ana", 300, "k1").await;
    assert_eq!(r.status, 200, "{r}");
    let first = r.json();
    assert_eq!(
        (
            first["points"].clone(),
            first["credits"].clone(),
            first["balance"].clone(),
            first["credits_balance"].clone()
        ),
        (json!(300), json!(3), json!(310), json!(3))
    );
    let again = redeem(&app, "ana", 300, "k1").await.json();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["balance"], 310, "spent once");
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let redeemed: Vec<&serde_json::Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "gamification.redeem")
        .collect();
    assert_eq!(
        redeemed.len(),
        1,
        "the retry is not a second entry: {audit}"
    );
    assert_eq!(redeemed[0]["after"]["credits"], 3);
    redeem(&app, "ana", 50, "k2")
        .await
        .assert_error(422, "validation_failed");
    redeem(&app, "ana", 150, "k3")
        .await
        .assert_error(422, "validation_failed");
    redeem(&app, "ana", 400, "k4")
        .await
        .assert_error(409, "insufficient_points");

    // Ten redemptions of 100 at once against 310: three win, the rest are refused.
    let keys: Vec<String> = (0..10).map(|i| format!("race-{i}")).collect();
    let answers = join_all(keys.iter().map(|k| redeem(&app, "ana", 100, k))).await;
    let won = answers.iter().filter(|r| r.status == 200).count();
    let refused = answers.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (won, refused),
        (3, 7),
        "{:?}",
        answers.iter().find(|r| r.status >= 500)
    );
    let p = app
        .admin_get("/api/v1/gamification/users/ana/profile")
        .await
        .json();
    assert_eq!(p["points"], 10);
    assert_eq!(
        p["lifetime_points"], 610,
        "spending does not lower what was earned"
    );
    assert_eq!(p["level"]["number"], 4);
    assert_eq!(
        app.scalar_where(
            "SELECT CAST(SUM(points) AS BIGINT) FROM gamification_ledger WHERE user_id = $1",
            "ana"
        )
        .await,
        10,
        "the balance is the ledger's sum"
    );

    // The signed-in user redeems their own.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/register")
                .json(&json!({"email": "mar@example.com", "password": "Sol-y-Sombra-2026"})),
        )
        .await
        .json();
    let (id, token) = (
        r["user"]["id"].as_str().expect("id").to_owned(),
        r["access_token"].as_str().expect("token").to_owned(),
    );
    send(&app, conversion(&id, "m-1", json!({}))).await;
    let mine = app
        .send(
            app.request(Method::POST, "/api/v1/gamification/redeem")
                .bearer_auth(&token)
                .json(&json!({"points": 200})),
        )
        .await;
    assert_eq!(mine.status, 200, "{mine}");
    assert_eq!(mine.json()["credits"], 2);
    app.send(
        app.request(Method::POST, "/api/v1/gamification/redeem")
            .json(&json!({"points": 200})),
    )
    .await
    .assert_error(401, "unauthorized");
}
both!(redemption_is_idempotent_and_never_overdraws);

async fn staff_reverse_awards_with_a_reason(app: TestApp) {
    send(&app, conversion("bea", "b1", json!({}))).await;
    let reverse = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.admin_post("/api/v1/admin/gamification/reversals", &body)
                .await
        }
    };
    let r = reverse(
        json!({"user": "bea", "rule": "conversion", "source": "b1", "reason": "duplicate order"}),
    )
    .await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(r.json(), json!({"points": 10, "balance": 600}));
    reverse(json!({"user": "bea", "rule": "conversion", "source": "b1", "reason": "again"}))
        .await
        .assert_error(409, "conflict");
    reverse(json!({"user": "bea", "rule": "conversion", "source": "nope", "reason": "x"}))
        .await
        .assert_error(404, "not_found");
    let r = reverse(json!({"user": "bea", "rule": "badge:adoptador_temprano", "source": "unlock", "reason": " "})).await;
    r.assert_error(422, "validation_failed");
    // Part of the early-adopter badge's 500, then the rest.
    let r = reverse(
        json!({"user": "bea", "rule": "badge:adoptador_temprano", "source": "unlock",
                           "points": 200, "reason": "test account"}),
    )
    .await;
    assert_eq!(r.json()["points"], 200, "{r}");
    let r = reverse(
        json!({"user": "bea", "rule": "badge:adoptador_temprano", "source": "unlock",
                           "reason": "test account"}),
    )
    .await;
    assert_eq!(r.json()["points"], 300, "what was left: {r}");
    let p = app
        .admin_get("/api/v1/gamification/users/bea/profile")
        .await
        .json();
    assert_eq!(p["points"], 100);
    assert_eq!(p["lifetime_points"], 100);
    assert_eq!(p["level"]["number"], 4, "levels never go down");
    let (reason, actor): (Option<String>, Option<String>) = {
        let row: (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT reason, actor FROM gamification_ledger WHERE kind = 'reversal' ORDER BY id LIMIT 1",
        )
        .fetch_one(app.core.db.writer())
        .await
        .expect("a reversal");
        row
    };
    assert_eq!(reason.as_deref(), Some("duplicate order"));
    assert_eq!(actor.as_deref(), Some("staff:admin"));
    let audit = app.admin_get("/api/v1/admin/audit").await.json();
    let reversals: Vec<&serde_json::Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "gamification.reverse")
        .collect();
    assert_eq!(reversals.len(), 3, "{audit}");
    assert_eq!(reversals[2]["after"]["reason"], "duplicate order");
    assert_eq!(reversals[2]["target"], "bea");
}
both!(staff_reverse_awards_with_a_reason);
