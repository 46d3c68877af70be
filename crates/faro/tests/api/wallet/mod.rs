//! The wallet over HTTP on both databases: the item catalogue, staff grants, balances,
//! purchases with credits (idempotent by `Idempotency-Key`), the history with running
//! balances, every refusal with its code, and the last credits spent once under concurrency.

mod concurrency;
mod holds;
mod redemption;
mod reversals;

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp};

pub async fn item(app: &TestApp, sku: &str, price: i64) {
    let r = app
        .admin_post(
            "/api/v1/admin/wallet/items",
            &json!({"sku": sku, "name": format!("Item {sku}"), "price_credits": price}),
        )
        .await;
    assert_eq!(r.status, 201, "{r}");
}

pub async fn grant(app: &TestApp, user: &str, amount: i64, key: &str) -> Resp {
    let req = app
        .admin(Method::POST, "/api/v1/admin/wallet/grants")
        .await
        .header("idempotency-key", key)
        .json(&json!({"user": user, "amount": amount, "reason": "welcome"}));
    app.send(req).await
}

pub async fn buy(app: &TestApp, token: &str, sku: &str, key: &str) -> Resp {
    app.send(
        app.request(Method::POST, "/api/v1/wallet/purchase")
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({"sku": sku})),
    )
    .await
}

pub async fn balance(app: &TestApp, token: &str) -> Value {
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/wallet/balance")
                .bearer_auth(token),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    r.json()
}

/// Σ debits = Σ credits over the tenant's accounts, and no user account below zero.
pub async fn ledger_balances(app: &TestApp) {
    let debits = app
        .scalar(
            "SELECT CAST(COALESCE(SUM(debits_posted + debits_pending), 0) AS BIGINT) \
             FROM wallet_accounts",
        )
        .await;
    let credits = app
        .scalar(
            "SELECT CAST(COALESCE(SUM(credits_posted + credits_pending), 0) AS BIGINT) \
             FROM wallet_accounts",
        )
        .await;
    assert_eq!(debits, credits, "double entry");
    let negative = app
        .scalar(
            "SELECT COUNT(*) FROM wallet_accounts WHERE kind = 'user_credits' \
             AND debits_posted + debits_pending > credits_posted",
        )
        .await;
    assert_eq!(negative, 0, "no user below zero");
}

async fn items_grants_balance_purchase_and_history(app: TestApp) {
    let (ana, token) = app.register_user("ana@example.com").await;
    item(&app, "pdf-pack", 30).await;
    item(&app, "big", 1000).await;
    let list = app.admin_get("/api/v1/admin/wallet/items?limit=1").await;
    assert_eq!(list.status, 200, "{list}");
    let list = list.json();
    assert_eq!(list["items"][0]["sku"], "big");
    let cursor = list["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = app
        .admin_get(&format!("/api/v1/admin/wallet/items?cursor={cursor}"))
        .await
        .json();
    assert_eq!(next["items"][0]["sku"], "pdf-pack");
    assert_eq!(next["items"][0]["price_credits"], 30);
    assert!(next["next_cursor"].is_null());

    assert_eq!(
        balance(&app, &token).await,
        json!({"available": 0, "pending": 0, "currency": "credits"})
    );
    let g = grant(&app, &ana, 100, "g-1").await;
    assert_eq!(g.status, 201, "{g}");
    assert_eq!(g.json()["balance"]["available"], 100);
    let staff = app
        .admin_get(&format!("/api/v1/admin/wallet/users/{ana}/balance"))
        .await;
    assert_eq!(staff.status, 200, "{staff}");
    assert_eq!(staff.json()["available"], 100);

    let p = buy(&app, &token, "pdf-pack", "p-1").await;
    assert_eq!(p.status, 201, "{p}");
    let body = p.json();
    assert_eq!(body["status"], "fulfilled");
    assert_eq!(body["balance"]["available"], 70);
    assert_eq!(body["balance"]["pending"], 0);
    assert!(body["order_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(balance(&app, &token).await["available"], 70);

    // Too expensive: 409 insufficient_funds, nothing changes.
    buy(&app, &token, "big", "p-2")
        .await
        .assert_error(409, "insufficient_funds");
    assert_eq!(balance(&app, &token).await["available"], 70);
    // The refused key stored nothing: once credited, the same key buys.
    assert_eq!(grant(&app, &ana, 1000, "g-2").await.status, 201);
    assert_eq!(buy(&app, &token, "big", "p-2").await.status, 201);
    assert_eq!(balance(&app, &token).await["available"], 70 + 1000 - 1000);

    // History: newest first, running balances, paginated.
    let h = app
        .send(
            app.request(Method::GET, "/api/v1/wallet/transactions?limit=2")
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(h.status, 200, "{h}");
    let h = h.json();
    let lines: Vec<(String, i64, i64)> = h["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| {
            (
                t["code"].as_str().expect("code").to_owned(),
                t["amount"].as_i64().expect("amount"),
                t["balance"].as_i64().expect("balance"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("purchase".to_owned(), -1000, 70),
            ("grant".to_owned(), 1000, 1070)
        ]
    );
    let cursor = h["next_cursor"].as_str().expect("more").to_owned();
    let rest = app
        .send(
            app.request(
                Method::GET,
                &format!("/api/v1/wallet/transactions?cursor={cursor}"),
            )
            .bearer_auth(&token),
        )
        .await
        .json();
    let balances: Vec<i64> = rest["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["balance"].as_i64().expect("balance"))
        .collect();
    assert_eq!(balances, [70, 100]);
    assert!(rest["next_cursor"].is_null());

    // Other modules hear of purchases through the outbox.
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM events WHERE kind = 'wallet.purchase_completed'")
            .await,
        2
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM wallet_orders WHERE status = 'fulfilled'")
            .await,
        2
    );
    ledger_balances(&app).await;
}
both!(items_grants_balance_purchase_and_history);

async fn the_same_key_replays_and_another_body_is_refused(app: TestApp) {
    let (ana, token) = app.register_user("ana@example.com").await;
    item(&app, "a", 10).await;
    item(&app, "b", 10).await;
    let g = grant(&app, &ana, 50, "same").await;
    assert_eq!(g.status, 201);
    let again = grant(&app, &ana, 50, "same").await;
    assert_eq!(again.status, 201, "{again}");
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.json(), g.json());
    grant(&app, &ana, 60, "same")
        .await
        .assert_error(409, "idempotency_key_reused");
    assert_eq!(balance(&app, &token).await["available"], 50);

    let first = buy(&app, &token, "a", "k").await;
    assert_eq!(first.status, 201, "{first}");
    assert!(first.header("idempotency-replayed").is_none());
    let replay = buy(&app, &token, "a", "k").await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.json(), first.json());
    buy(&app, &token, "b", "k")
        .await
        .assert_error(409, "idempotency_key_reused");
    assert_eq!(balance(&app, &token).await["available"], 40);
    // Keys are per caller: another user's "k" is theirs.
    let (bea, other) = app.register_user("bea@example.com").await;
    grant(&app, &bea, 10, "gb").await;
    assert_eq!(buy(&app, &other, "b", "k").await.status, 201);
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM wallet_orders").await,
        2,
        "a replay makes no order"
    );
    ledger_balances(&app).await;
}
both!(the_same_key_replays_and_another_body_is_refused);

async fn bad_input_is_refused_with_a_clear_message(app: TestApp) {
    let (ana, token) = app.register_user("ana@example.com").await;
    // Items.
    let r = app
        .admin_post(
            "/api/v1/admin/wallet/items",
            &json!({"sku": "no spaces", "name": "", "price_credits": 0}),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["sku", "name", "price_credits"]);
    item(&app, "x", 5).await;
    app.admin_post(
        "/api/v1/admin/wallet/items",
        &json!({"sku": "x", "name": "again", "price_credits": 5}),
    )
    .await
    .assert_error(409, "sku_taken");
    app.admin_post(
        "/api/v1/admin/wallet/items",
        &json!({"sku": "y", "name": "n", "price_credits": 5, "extra": 1}),
    )
    .await
    .assert_error(422, "invalid_body");

    // Grants: no key, zero and negative amounts, bad JSON.
    let req = app
        .admin(Method::POST, "/api/v1/admin/wallet/grants")
        .await
        .json(&json!({"user": ana, "amount": 5, "reason": "r"}));
    let r = app.send(req).await;
    r.assert_error(400, "missing_idempotency_key");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .contains("Idempotency-Key")
    );
    for amount in [0, -5] {
        let r = grant(&app, &ana, amount, &format!("neg{amount}")).await;
        r.assert_error(422, "validation_failed");
        assert_eq!(r.problems()[0].0, "amount");
    }
    let req = app
        .admin(Method::POST, "/api/v1/admin/wallet/grants")
        .await
        .header("idempotency-key", "bad-json")
        .header("content-type", "application/json")
        .body("{\"user\": ");
    app.send(req).await.assert_error(400, "malformed_json");

    // Purchases: unknown sku, no key, bad JSON.
    grant(&app, &ana, 10, "g").await;
    buy(&app, &token, "nope", "u1")
        .await
        .assert_error(404, "not_found");
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/wallet/purchase")
                .bearer_auth(&token)
                .json(&json!({"sku": "x"})),
        )
        .await;
    r.assert_error(400, "missing_idempotency_key");
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/wallet/purchase")
                .bearer_auth(&token)
                .header("idempotency-key", "j")
                .header("content-type", "application/json")
                .body("not json"),
        )
        .await;
    r.assert_error(400, "malformed_json");
    assert_eq!(balance(&app, &token).await["available"], 10);

    // Wrong auth: anonymous 401; a staff token is not an end user's; an end user is not staff.
    for (m, path) in [
        (Method::GET, "/api/v1/wallet/balance"),
        (Method::GET, "/api/v1/wallet/transactions"),
        (Method::POST, "/api/v1/wallet/purchase"),
        (Method::GET, "/api/v1/admin/wallet/items"),
        (Method::POST, "/api/v1/admin/wallet/items"),
        (Method::POST, "/api/v1/admin/wallet/grants"),
    ] {
        let r = app.send(app.request(m, path).json(&json!({}))).await;
        r.assert_error(401, "unauthorized");
    }
    let staff = app.login().await;
    app.send(
        app.request(Method::GET, "/api/v1/wallet/balance")
            .bearer_auth(&staff),
    )
    .await
    .assert_error(401, "unauthorized");
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/admin/wallet/grants")
                .bearer_auth(&token)
                .header("idempotency-key", "u")
                .json(&json!({"user": ana, "amount": 1000, "reason": "me"})),
        )
        .await;
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(balance(&app, &token).await["available"], 10);
    // A viewer-scoped API key reads but does not grant.
    let key = app
        .admin_post(
            "/api/v1/admin/api-keys",
            &json!({"name": "reader", "scopes": ["wallet:read"]}),
        )
        .await;
    assert_eq!(key.status, 201, "{key}");
    let key = key.json()["key"].as_str().expect("key").to_owned();
    let r = app
        .send(
            app.request(Method::GET, "/api/v1/admin/wallet/items")
                .bearer_auth(&key),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    app.send(
        app.request(Method::POST, "/api/v1/admin/wallet/grants")
            .bearer_auth(&key)
            .header("idempotency-key", "k")
            .json(&json!({"user": ana, "amount": 5, "reason": "r"})),
    )
    .await
    .assert_error(403, "insufficient_scope");
}
both!(bad_input_is_refused_with_a_clear_message);
