//! Eligibility for the signed-in customer: every reason at once, the optional one-line cart
//! and its refusals, and "first purchase" after a purchase reaches the module through the
//! outbox.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{create, now, promotion};
use crate::both;
use crate::common::{Resp, TestApp};

async fn eligibility(app: &TestApp, token: &str, id: &str, query: &str) -> Resp {
    app.send(
        app.request(
            Method::GET,
            &format!("/api/v1/promotions/{id}/eligibility{query}"),
        )
        .bearer_auth(token),
    )
    .await
}

async fn codes(app: &TestApp, token: &str, id: &str, query: &str) -> Vec<String> {
    let r = eligibility(app, token, id, query).await;
    assert_eq!(r.status, 200, "{r}");
    let body = r.json();
    let codes: Vec<String> = body["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code").to_owned())
        .collect();
    assert_eq!(body["eligible"], codes.is_empty(), "{body}");
    codes
}

async fn reasons_for_the_customer_and_the_cart(app: TestApp) {
    let (_, token) = app.register_user("ana@example.com").await;
    // Without a cart only the customer's side counts: a new customer may have the welcome.
    assert!(codes(&app, &token, "welcome", "").await.is_empty());
    let r = eligibility(&app, &token, "bonus-200", "?sku=tee&price_cents=1000").await;
    assert_eq!(
        r.json(),
        json!({"eligible": false, "reasons": [{"code": "below_minimum_ticket",
            "message": "the cart is 20.00 below the minimum of 30.00"}]})
    );
    assert!(
        codes(
            &app,
            &token,
            "bonus-200",
            "?sku=tee&price_cents=1000&quantity=3"
        )
        .await
        .is_empty()
    );
    // No module keeps loyalty tiers yet: nobody is Gold.
    assert_eq!(codes(&app, &token, "gold-5", "").await, ["tier"]);
    assert_eq!(codes(&app, &token, "summer-2x1", "").await, ["ended"]);
    assert_eq!(
        codes(
            &app,
            &token,
            "summer-2x1",
            "?sku=tee&category=summer&price_cents=900"
        )
        .await,
        ["ended", "not_enough_items"]
    );
    let start = now() + 3600;
    assert_eq!(
        create(&app, &promotion("soon", start, None)).await.status,
        201
    );
    assert_eq!(
        codes(
            &app,
            &token,
            "soon",
            "?sku=mug&category=home&price_cents=500"
        )
        .await,
        ["not_started", "below_minimum_ticket", "no_item_in_scope"]
    );
    // Budgets: the promotion's uses, and this customer's.
    let mut capped = promotion("capped", now() - 10, None);
    capped["scope"] = json!({"type": "all"});
    assert_eq!(create(&app, &capped).await.status, 201);
    app.exec(
        "UPDATE promotions_promotions SET uses = 100 WHERE id = $1",
        "capped",
    )
    .await;
    assert_eq!(
        codes(&app, &token, "capped", "").await,
        ["global_budget_exhausted"]
    );

    // Refusals.
    eligibility(&app, &token, "nope", "")
        .await
        .assert_error(404, "not_found");
    let anon = app.get("/api/v1/promotions/welcome/eligibility").await;
    assert_eq!(anon.status, 401, "{anon}");
    for (query, path) in [
        ("?sku=tee&price_cents=-1", "price_cents"),
        ("?sku=tee&price_cents=100&quantity=0", "quantity"),
        ("?sku=tee&price_cents=100&quantity=10001", "quantity"),
        ("?category=summer", "sku"),
        ("?sku=tee", "sku"),
        ("?sku=%20&price_cents=100", "sku"),
    ] {
        let r = eligibility(&app, &token, "welcome", query).await;
        r.assert_error(422, "validation_failed");
        assert_eq!(r.problems()[0].0, path, "{query}: {r}");
    }
    eligibility(&app, &token, "welcome", "?colour=red")
        .await
        .assert_error(400, "invalid_query");
    eligibility(&app, &token, "welcome", "?sku=tee&price_cents=ten")
        .await
        .assert_error(400, "invalid_query");
}
both!(reasons_for_the_customer_and_the_cart);

/// Buys an item with credits: the wallet publishes `wallet.purchase_completed`.
async fn buy_something(app: &TestApp, user: &str, token: &str) {
    let item = app
        .admin_post(
            "/api/v1/admin/wallet/items",
            &json!({"sku": "pdf-pack", "name": "PDF pack", "price_credits": 30}),
        )
        .await;
    assert_eq!(item.status, 201, "{item}");
    let grant = app
        .send(
            app.admin(Method::POST, "/api/v1/admin/wallet/grants")
                .await
                .header("idempotency-key", "g-1")
                .json(&json!({"user": user, "amount": 100, "reason": "welcome"})),
        )
        .await;
    assert_eq!(grant.status, 201, "{grant}");
    let bought = app
        .send(
            app.request(Method::POST, "/api/v1/wallet/purchase")
                .bearer_auth(token)
                .header("idempotency-key", "p-1")
                .json(&json!({"sku": "pdf-pack"})),
        )
        .await;
    assert_eq!(bought.status, 201, "{bought}");
}

async fn first_purchase_ends_with_the_first_paid_order(app: TestApp) {
    let (ana, token) = app.register_user("ana@example.com").await;
    let (_, bob) = app.register_user("bob@example.com").await;
    assert!(codes(&app, &token, "welcome", "").await.is_empty());
    buy_something(&app, &ana, &token).await;
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = codes(&app, &token, "welcome", "").await;
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, ["not_first_purchase"]);
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM promotions_orders WHERE user_id = $1",
            &ana
        )
        .await,
        1
    );
    // Another customer is untouched, until a payment of theirs succeeds (a top-up through
    // the demo's test provider: `payments.intent_succeeded`).
    assert!(codes(&app, &bob, "welcome", "").await.is_empty());
    let intent = app
        .send(
            app.request(Method::POST, "/api/v1/wallet/topup")
                .bearer_auth(&bob)
                .header("idempotency-key", "t-1")
                .json(&json!({"credits": 100})),
        )
        .await;
    assert_eq!(intent.status, 201, "{intent}");
    let id = intent.json()["id"].as_str().expect("id").to_owned();
    let paid = app
        .send(
            app.request(
                Method::POST,
                &format!("/api/v1/payments/test/intents/{id}/confirm"),
            )
            .bearer_auth(&bob)
            .json(&json!({"outcome": "succeed"})),
        )
        .await;
    assert_eq!(paid.status, 200, "{paid}");
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = codes(&app, &bob, "welcome", "").await;
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, ["not_first_purchase"]);
    // The GDPR export carries the order; deleting the user erases it.
    let export: Value = app
        .send(
            app.request(Method::GET, "/api/v1/me/export")
                .bearer_auth(&token),
        )
        .await
        .json();
    assert!(
        export.to_string().contains("wallet:"),
        "the export lists the order: {export}"
    );
    let gone = app
        .admin_delete(&format!("/api/v1/admin/users/{ana}"))
        .await;
    assert!(gone.status == 204 || gone.status == 200, "{gone}");
    let mut left = 1;
    for _ in 0..100 {
        left = app
            .scalar_where(
                "SELECT COUNT(*) FROM promotions_orders WHERE user_id = $1",
                &ana,
            )
            .await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "erased on user.deleted");
}
both!(first_purchase_ends_with_the_first_paid_order);
