//! Payments over HTTP on both databases: the tenant's settings, estimates frozen as quotes
//! (the converter's worked examples), intents for a quote (one per quote), wallet top-ups
//! through the test provider credited exactly once, and every refusal with its code.

mod refunds;
mod stripe;
mod topup;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::both;
use crate::common::{Resp, TestApp};

/// No payment settings at all (a tenant that never set them up).
pub async fn unconfigure(app: &TestApp) {
    let r = app
        .admin_put("/api/v1/admin/payments/settings", &json!({}))
        .await;
    assert_eq!(r.status, 200, "{r}");
}

/// The demo settings: the converter's tables, credits at €0.10, the test provider on.
pub async fn configure(app: &TestApp) {
    let demo = serde_json::to_value(faro_payments::settings::demo()).expect("demo settings");
    let r = app
        .admin_put("/api/v1/admin/payments/settings", &demo)
        .await;
    assert_eq!(r.status, 200, "{r}");
}

pub async fn estimate(app: &TestApp, body: &Value) -> Resp {
    app.post_json("/api/v1/payments/estimate", body).await
}

pub async fn topup(app: &TestApp, token: &str, credits: i64, key: &str) -> Resp {
    app.send(
        app.request(Method::POST, "/api/v1/wallet/topup")
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({ "credits": credits })),
    )
    .await
}

pub async fn confirm(app: &TestApp, token: &str, intent: &str, outcome: &str) -> Resp {
    app.send(
        app.request(
            Method::POST,
            &format!("/api/v1/payments/test/intents/{intent}/confirm"),
        )
        .bearer_auth(token)
        .json(&json!({ "outcome": outcome })),
    )
    .await
}

/// The user's available credits once they reach `want` (the wallet takes top-ups from the
/// outbox), or whatever they are after ten seconds.
pub async fn credits_when(app: &TestApp, token: &str, want: i64) -> i64 {
    let mut seen = -1;
    for _ in 0..100 {
        let r = app
            .send(
                app.request(Method::GET, "/api/v1/wallet/balance")
                    .bearer_auth(token),
            )
            .await;
        assert_eq!(r.status, 200, "{r}");
        seen = r.json()["available"].as_i64().expect("available");
        if seen == want {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

fn jpg_to_png() -> Value {
    json!({"source_format": "jpg", "target_format": "png", "file_size_mb": 5,
           "quality": "standard", "features": ["batch_processing"]})
}

async fn settings_are_checked_whole(app: TestApp) {
    // The demo tenant starts with the demo settings.
    let demo = app.admin_get("/api/v1/admin/payments/settings").await;
    assert_eq!(demo.status, 200, "{demo}");
    assert_eq!(demo.json()["test_provider"], true);
    unconfigure(&app).await;
    let empty = app.admin_get("/api/v1/admin/payments/settings").await;
    assert_eq!(empty.json(), json!({"test_provider": false}));

    let mut bad = serde_json::to_value(faro_payments::settings::demo()).expect("demo");
    bad["pricing"]["quote_validity_secs"] = json!(5);
    bad["topup"]["credit_price_cents"] = json!(0);
    bad["topup"]["currency"] = json!("euro");
    let r = app.admin_put("/api/v1/admin/payments/settings", &bad).await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    for want in [
        "pricing.quote_validity_secs",
        "topup.currency",
        "topup.credit_price_cents",
    ] {
        assert!(paths.iter().any(|p| p == want), "{want} in {paths:?}");
    }
    let r = app
        .admin_put("/api/v1/admin/payments/settings", &json!({"prices": {}}))
        .await;
    r.assert_error(422, "invalid_body");

    configure(&app).await;
    let saved = app
        .admin_get("/api/v1/admin/payments/settings")
        .await
        .json();
    assert_eq!(saved["topup"]["credit_price_cents"], 10);
    assert_eq!(saved["pricing"]["currency"], "EUR");

    let r = app
        .admin_put("/api/v1/admin/payments/queue", &json!({"depth": -1}))
        .await;
    r.assert_error(422, "validation_failed");
    let r = app
        .send(
            app.request(Method::PUT, "/api/v1/admin/payments/queue")
                .json(&json!({"depth": 3})),
        )
        .await;
    assert_eq!(r.status, 401, "workers need a key or a sign-in: {r}");
}
both!(settings_are_checked_whole);

async fn estimates_price_the_converters_examples_and_freeze_a_quote(app: TestApp) {
    unconfigure(&app).await;
    estimate(&app, &jpg_to_png())
        .await
        .assert_error(409, "payments_not_configured");
    configure(&app).await;

    // Seven conversions queued and running: load 1.14.
    let r = app
        .admin_put("/api/v1/admin/payments/queue", &json!({"depth": 7}))
        .await;
    assert_eq!(r.status, 204, "{r}");
    let r = estimate(&app, &jpg_to_png()).await;
    assert_eq!(r.status, 200, "{r}");
    let v = r.json();
    assert_eq!(v["total_price"], "0.07");
    assert_eq!(v["total_cents"], 7);
    assert_eq!(v["server_load_factor"], 1.14);
    assert_eq!(v["load"], json!({"type": "queue", "depth": 7}));
    assert_eq!(v["currency"], "EUR");
    let quote = v["quote_id"].as_str().expect("a quote id");
    assert!(v["expires_at"].as_i64().expect("expiry") > 0);
    let stored = app
        .scalar_where(
            "SELECT amount_cents FROM payments_quotes WHERE id = $1",
            quote,
        )
        .await;
    assert_eq!(stored, 7);

    // A what-if load is the staff's alone.
    let pdf = json!({"source_format": "PDF", "target_format": ".docx", "file_size_mb": 15,
                     "quality": "high", "server_load_factor": 1.1});
    estimate(&app, &pdf)
        .await
        .assert_error(403, "what_if_staff_only");
    let staff = app.admin_post("/api/v1/payments/estimate", &pdf).await;
    assert_eq!(staff.status, 200, "{staff}");
    assert_eq!(staff.json()["total_price"], "0.30");
    assert_eq!(staff.json()["load"], json!({"type": "what_if"}));
    let mut at_one = pdf.clone();
    at_one["server_load_factor"] = json!(1.0);
    let staff = app.admin_post("/api/v1/payments/estimate", &at_one).await;
    assert_eq!(staff.json()["total_price"], "0.27");
    let mut too_high = pdf.clone();
    too_high["server_load_factor"] = json!(1.6);
    app.admin_post("/api/v1/payments/estimate", &too_high)
        .await
        .assert_error(422, "load_out_of_range");

    // Every request it cannot price says why, on the field at fault.
    for (body, code, path) in [
        (
            json!({"source_format": "xyz", "target_format": "png", "file_size_mb": 1, "quality": "basic"}),
            "unknown_format",
            "source_format",
        ),
        (
            json!({"source_format": "png", "target_format": "png", "file_size_mb": 1, "quality": "basic"}),
            "same_format",
            "target_format",
        ),
        (
            json!({"source_format": "mp3", "target_format": "png", "file_size_mb": 1, "quality": "basic"}),
            "unsupported_conversion",
            "target_format",
        ),
        (
            json!({"source_format": "jpg", "target_format": "png", "file_size_mb": 0, "quality": "basic"}),
            "size_not_positive",
            "file_size_mb",
        ),
        (
            json!({"source_format": "jpg", "target_format": "png", "file_size_mb": 5000, "quality": "basic"}),
            "size_too_large",
            "file_size_mb",
        ),
        (
            json!({"source_format": "jpg", "target_format": "png", "file_size_mb": 1, "quality": "ultra"}),
            "unknown_quality",
            "quality",
        ),
        (
            json!({"source_format": "jpg", "target_format": "png", "file_size_mb": 1, "quality": "basic",
                "features": ["ocr"]}),
            "unknown_feature",
            "features",
        ),
    ] {
        let r = estimate(&app, &body).await;
        r.assert_error(422, code);
        assert_eq!(r.problems()[0].0, path, "{r}");
    }
    let r = estimate(&app, &json!({"source_format": "jpg"})).await;
    assert!(r.status == 400 || r.status == 422, "{r}");
    let r = estimate(
        &app,
        &json!({"source_format": "jpg", "target_format": "png",
                                   "file_size_mb": 1, "quality": "basic", "colour": "red"}),
    )
    .await;
    r.assert_error(422, "invalid_body");
}
both!(estimates_price_the_converters_examples_and_freeze_a_quote);

async fn a_quote_is_paid_by_one_intent(app: TestApp) {
    configure(&app).await;
    let (_, ana) = app.register_user("ana@example.com").await;
    let (_, bea) = app.register_user("bea@example.com").await;
    let quote = estimate(&app, &jpg_to_png()).await.json()["quote_id"]
        .as_str()
        .expect("quote")
        .to_owned();
    let pay = |token: &str, key: &str, quote: &str| {
        app.request(Method::POST, "/api/v1/payments/intents")
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({ "quote_id": quote }))
    };
    let r = app.send(pay(&ana, "pay-1", &quote)).await;
    assert_eq!(r.status, 201, "{r}");
    let intent = r.json();
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["amount_cents"], 7);
    assert_eq!(intent["amount"], "0.07");
    assert_eq!(intent["purpose"], "quote");
    assert_eq!(intent["reference"], quote.as_str());
    let id = intent["id"].as_str().expect("id").to_owned();

    let again = app.send(pay(&ana, "pay-1", &quote)).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json()["id"], id.as_str());
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    app.send(pay(&ana, "pay-2", &quote))
        .await
        .assert_error(409, "quote_already_charged");
    app.send(pay(&ana, "pay-3", "no-such-quote"))
        .await
        .assert_error(404, "not_found");
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/payments/intents")
                .bearer_auth(&ana)
                .json(&json!({ "quote_id": quote })),
        )
        .await;
    r.assert_error(400, "missing_idempotency_key");

    // The payer sees it; nobody else does.
    let mine = app
        .send(
            app.request(Method::GET, &format!("/api/v1/payments/intents/{id}"))
                .bearer_auth(&ana),
        )
        .await;
    assert_eq!(mine.status, 200, "{mine}");
    let theirs = app
        .send(
            app.request(Method::GET, &format!("/api/v1/payments/intents/{id}"))
                .bearer_auth(&bea),
        )
        .await;
    theirs.assert_error(404, "not_found");
    confirm(&app, &bea, &id, "succeed")
        .await
        .assert_error(404, "not_found");

    // The test provider: declined, then paid; the event is published once.
    let r = confirm(&app, &ana, &id, "fail").await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["status"], "requires_payment_method");
    assert!(r.json()["last_error"].as_str().is_some());
    let r = confirm(&app, &ana, &id, "succeed").await;
    assert_eq!(r.json()["status"], "succeeded");
    let r = confirm(&app, &ana, &id, "cancel").await;
    assert_eq!(r.json()["status"], "succeeded", "nothing leaves succeeded");
    let fulfilled = app
        .scalar("SELECT COUNT(*) FROM events WHERE kind = 'payments.intent_succeeded'")
        .await;
    assert_eq!(fulfilled, 1);
    confirm(&app, &ana, &id, "explode")
        .await
        .assert_error(422, "invalid_body");

    let list = app
        .send(
            app.request(Method::GET, "/api/v1/payments/intents?limit=10")
                .bearer_auth(&ana),
        )
        .await;
    assert_eq!(list.status, 200, "{list}");
    assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(1));
}
both!(a_quote_is_paid_by_one_intent);
