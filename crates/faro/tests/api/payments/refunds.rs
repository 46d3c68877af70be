//! Staff refunding payments: full and partial, never more than was paid, once per key; a
//! top-up's refund takes its share of the credits back, and what the user already spent is
//! reported as a shortfall instead of driving their balance below zero.

use reqwest::Method;
use serde_json::json;

use super::{configure, confirm, credits_when, topup};
use crate::both;
use crate::common::{Resp, TestApp};

async fn refund(app: &TestApp, intent: &str, cents: i64, key: &str) -> Resp {
    let req = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/payments/intents/{intent}/refunds"),
        )
        .await
        .header("idempotency-key", key)
        .json(&json!({"amount_cents": cents, "reason": "customer asked"}));
    app.send(req).await
}

async fn events(app: &TestApp, kind: &str) -> i64 {
    app.scalar_where("SELECT COUNT(*) FROM events WHERE kind = $1", kind)
        .await
}

async fn refunds_take_back_a_topups_credits(app: TestApp) {
    configure(&app).await;
    let (ana_id, ana) = app.register_user("ana@example.com").await;
    let paid = topup(&app, &ana, 100, "t-1").await.json();
    let paid = paid["id"].as_str().expect("id").to_owned();
    let waiting = topup(&app, &ana, 10, "t-2").await.json();
    let waiting = waiting["id"].as_str().expect("id").to_owned();
    confirm(&app, &ana, &paid, "succeed").await;
    assert_eq!(credits_when(&app, &ana, 100).await, 100);

    // Staff see the tenant's payments, one user's on request.
    let all = app.admin_get("/api/v1/admin/payments/intents").await;
    assert_eq!(all.status, 200, "{all}");
    assert_eq!(all.json()["items"].as_array().map(Vec::len), Some(2));
    let page = app
        .admin_get("/api/v1/admin/payments/intents?limit=1")
        .await
        .json();
    assert_eq!(page["items"][0]["id"], waiting.as_str(), "newest first");
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let next = app
        .admin_get(&format!(
            "/api/v1/admin/payments/intents?limit=1&cursor={cursor}"
        ))
        .await
        .json();
    assert_eq!(next["items"][0]["id"], paid.as_str());
    let theirs = app
        .admin_get(&format!("/api/v1/admin/payments/intents?user={ana_id}"))
        .await
        .json();
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(2));
    let one = app
        .admin_get(&format!("/api/v1/admin/payments/intents/{paid}"))
        .await;
    assert_eq!(one.json()["status"], "succeeded", "{one}");

    // Bad requests say what is wrong.
    let req = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/payments/intents/{paid}/refunds"),
        )
        .await
        .json(&json!({"amount_cents": 100, "reason": "x"}));
    app.send(req)
        .await
        .assert_error(400, "missing_idempotency_key");
    let req = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/payments/intents/{paid}/refunds"),
        )
        .await
        .header("idempotency-key", "bad-1")
        .json(&json!({"amount_cents": 0, "reason": " "}));
    let r = app.send(req).await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["amount_cents", "reason"]);
    refund(&app, "no-such-payment", 100, "r-0")
        .await
        .assert_error(404, "not_found");
    refund(&app, &waiting, 100, "r-w")
        .await
        .assert_error(409, "not_refundable");

    // A partial refund: 3.00 of 10.00 takes back 30 of the 100 credits, once.
    let r = refund(&app, &paid, 300, "r-1").await;
    assert_eq!(r.status, 201, "{r}");
    let v = r.json();
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["payment"]["refunded_cents"], 300);
    let again = refund(&app, &paid, 300, "r-1").await;
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.json()["refund_id"], v["refund_id"]);
    assert_eq!(credits_when(&app, &ana, 70).await, 70);
    refund(&app, &paid, 800, "r-2")
        .await
        .assert_error(409, "exceeds_refundable");

    // Ana spends 60 of her 70; refunding the rest (7.00 = 70 credits) takes the 10 she has.
    let item = app
        .admin_post(
            "/api/v1/admin/wallet/items",
            &json!({"sku": "pack", "name": "Pack", "price_credits": 60}),
        )
        .await;
    assert_eq!(item.status, 201, "{item}");
    let bought = app
        .send(
            app.request(Method::POST, "/api/v1/wallet/purchase")
                .bearer_auth(&ana)
                .header("idempotency-key", "buy-1")
                .json(&json!({"sku": "pack"})),
        )
        .await;
    assert_eq!(bought.status, 201, "{bought}");
    let r = refund(&app, &paid, 700, "r-3").await;
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(r.json()["payment"]["refunded_cents"], 1000);
    assert_eq!(credits_when(&app, &ana, 0).await, 0);
    for _ in 0..50 {
        if events(&app, "wallet.refund_shortfall").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events(&app, "wallet.refund_shortfall").await, 1);
    assert_eq!(events(&app, "wallet.topup_refunded").await, 2);
    assert_eq!(events(&app, "payments.refund_succeeded").await, 2);
    let shortfall = app
        .scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM events WHERE kind = 'wallet.refund_shortfall' \
             AND payload LIKE '%\"shortfall\":60%'",
        )
        .await;
    assert_eq!(shortfall, 1);
    refund(&app, &paid, 1, "r-4")
        .await
        .assert_error(409, "exceeds_refundable");
    crate::wallet::ledger_balances(&app).await;
}
both!(refunds_take_back_a_topups_credits);
