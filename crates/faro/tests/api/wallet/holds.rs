//! Holds (two-phase transfers), their expiry, reversals and past balances over HTTP, on both
//! databases: a hold takes credits out of the available balance at once, a post (all or part)
//! moves them to revenue, a void or the expiry job gives them back, and a hold settles once
//! (racing posts and voids: `concurrency.rs`). Every bad input, with its code.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{balance, grant, ledger_balances};
use crate::both;
use crate::common::{Resp, TestApp};

pub async fn hold(app: &TestApp, user: &str, amount: i64, timeout: i64, key: &str) -> Resp {
    let req = app
        .admin(Method::POST, "/api/v1/admin/wallet/holds")
        .await
        .header("idempotency-key", key)
        .json(
            &json!({"user": user, "amount": amount, "reason": "checkout", "timeout_secs": timeout}),
        );
    app.send(req).await
}

/// Posts (`body` `{}` or `{"amount": n}`) or voids (`body` `None`) the hold `id`.
pub async fn settle(app: &TestApp, id: &str, body: Option<Value>, key: &str) -> Resp {
    let what = if body.is_some() { "post" } else { "void" };
    let mut req = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/wallet/holds/{id}/{what}"),
        )
        .await
        .header("idempotency-key", key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    app.send(req).await
}

pub async fn get_hold(app: &TestApp, id: &str) -> Resp {
    app.admin_get(&format!("/api/v1/admin/wallet/holds/{id}"))
        .await
}

pub fn id_of(r: &Resp, field: &str) -> String {
    assert!(r.status == 200 || r.status == 201, "{r}");
    r.json()[field].as_str().expect("an id").to_owned()
}

/// Credits, user and hold: `ana` granted `credits`, and her end-user token.
pub async fn credited(app: &TestApp, credits: i64) -> (String, String) {
    let (ana, token) = app.register_user("ana@example.com").await;
    assert_eq!(grant(app, &ana, credits, "g-0").await.status, 201);
    (ana, token)
}

async fn a_hold_reserves_credits_and_a_partial_post_releases_the_rest(app: TestApp) {
    let (ana, token) = credited(&app, 100).await;
    let h = hold(&app, &ana, 40, 600, "h-1").await;
    assert_eq!(h.status, 201, "{h}");
    let body = h.json();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["user"], ana.as_str());
    assert_eq!(body["amount"], 40);
    assert!(
        body["expires_at"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z'))
    );
    assert_eq!(
        body["balance"],
        json!({"available": 60, "pending": 40, "currency": "credits"})
    );
    let id = id_of(&h, "hold_id");
    assert_eq!(balance(&app, &token).await["available"], 60);
    assert_eq!(get_hold(&app, &id).await.json()["status"], "pending");

    let p = settle(&app, &id, Some(json!({"amount": 25})), "p-1").await;
    assert_eq!(p.status, 200, "{p}");
    let posted = p.json();
    assert_eq!(posted["status"], "posted");
    assert_eq!(posted["posted_amount"], 25);
    assert_eq!(posted["balance"]["available"], 75, "the other 15 came back");
    assert_eq!(posted["balance"]["pending"], 0);
    let replay = settle(&app, &id, Some(json!({"amount": 25})), "p-1").await;
    assert_eq!(replay.status, 200, "{replay}");
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.json(), posted);
    let read = get_hold(&app, &id).await.json();
    assert_eq!(read["status"], "posted");
    assert_eq!(read["settled_by"], posted["settled_by"]);

    // Settled once: another post or a void is refused with the ledger's code.
    settle(&app, &id, Some(json!({})), "p-2")
        .await
        .assert_error(409, "pending_transfer_already_posted");
    settle(&app, &id, None, "v-1")
        .await
        .assert_error(409, "pending_transfer_already_posted");
    assert_eq!(
        app.scalar("SELECT credits_posted FROM wallet_accounts WHERE id = 'tenant:revenue'")
            .await,
        25
    );
    // The post is a line in her history; the hold itself posted nothing.
    let h = app
        .send(
            app.request(Method::GET, "/api/v1/wallet/transactions")
                .bearer_auth(&token),
        )
        .await
        .json();
    assert_eq!(h["items"][0]["code"], "hold");
    assert_eq!(h["items"][0]["amount"], -25);
    assert_eq!(h["items"][0]["balance"], 75);
    assert_eq!(h["items"].as_array().map(Vec::len), Some(2));

    // A full post with `{}`.
    let all = hold(&app, &ana, 75, 600, "h-2").await;
    let all = id_of(&all, "hold_id");
    let p = settle(&app, &all, Some(json!({})), "p-3").await;
    assert_eq!(p.status, 200, "{p}");
    assert_eq!(p.json()["posted_amount"], 75);
    assert_eq!(balance(&app, &token).await["available"], 0);
    ledger_balances(&app).await;
}
both!(a_hold_reserves_credits_and_a_partial_post_releases_the_rest);

async fn a_void_gives_everything_back_and_a_hold_needs_available_credits(app: TestApp) {
    let (ana, token) = credited(&app, 100).await;
    let first = id_of(&hold(&app, &ana, 70, 600, "h-1").await, "hold_id");
    // 30 left available: a hold of 31 is refused, the credits held elsewhere do not count.
    hold(&app, &ana, 31, 600, "h-2")
        .await
        .assert_error(409, "insufficient_funds");
    let v = settle(&app, &first, None, "v-1").await;
    assert_eq!(v.status, 200, "{v}");
    assert_eq!(v.json()["status"], "voided");
    assert_eq!(
        v.json()["balance"],
        json!({"available": 100, "pending": 0, "currency": "credits"})
    );
    assert_eq!(balance(&app, &token).await["available"], 100);
    settle(&app, &first, Some(json!({})), "p-1")
        .await
        .assert_error(409, "pending_transfer_already_voided");
    settle(&app, &first, None, "v-2")
        .await
        .assert_error(409, "pending_transfer_already_voided");
    assert_eq!(get_hold(&app, &first).await.json()["status"], "voided");
    // The refused key stored nothing: now there is room, it holds.
    assert_eq!(hold(&app, &ana, 31, 600, "h-2").await.status, 201);
    ledger_balances(&app).await;
}
both!(a_void_gives_everything_back_and_a_hold_needs_available_credits);

async fn an_expired_hold_cannot_be_settled_and_the_job_gives_it_back(app: TestApp) {
    let (ana, token) = credited(&app, 50).await;
    let short = id_of(&hold(&app, &ana, 20, 1, "h-1").await, "hold_id");
    let long = id_of(&hold(&app, &ana, 5, 600, "h-2").await, "hold_id");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Past its end it reads as expired and refuses a post or void at once.
    assert_eq!(get_hold(&app, &short).await.json()["status"], "expired");
    settle(&app, &short, Some(json!({})), "p-1")
        .await
        .assert_error(409, "pending_transfer_expired");
    settle(&app, &short, None, "v-1")
        .await
        .assert_error(409, "pending_transfer_expired");
    // The scheduled job (every few seconds; asked to run now) gives the credits back.
    faro_store::scheduler::schedule_once(
        &app.core.db,
        faro_wallet::expiry::JOB,
        faro_store::unix_now_ms(),
    )
    .await
    .expect("scheduled");
    let mut b = Value::Null;
    for _ in 0..100 {
        b = balance(&app, &token).await;
        if b["pending"] == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        b,
        json!({"available": 45, "pending": 5, "currency": "credits"})
    );
    assert_eq!(
        app.scalar_where(
            "SELECT COUNT(*) FROM wallet_transfers WHERE id = $1 AND hold_state = 'expired'",
            &short
        )
        .await,
        1
    );
    // Nothing more is due; running it again changes nothing.
    let now = faro_store::unix_now();
    let again = faro_wallet::expiry::expire_due(&app.core.db, now)
        .await
        .expect("the job runs");
    assert_eq!(again, 0);
    assert_eq!(get_hold(&app, &long).await.json()["status"], "pending");
    assert_eq!(get_hold(&app, &short).await.json()["status"], "expired");
    settle(&app, &short, None, "v-2")
        .await
        .assert_error(409, "pending_transfer_expired");
    ledger_balances(&app).await;
}
both!(an_expired_hold_cannot_be_settled_and_the_job_gives_it_back);

async fn bad_hold_and_reversal_input_is_refused_with_its_code(app: TestApp) {
    let (ana, _) = credited(&app, 100).await;
    let r = app
        .send(
            app.admin(Method::POST, "/api/v1/admin/wallet/holds")
                .await
                .header("idempotency-key", "bad")
                .json(&json!({"user": "a b", "amount": 0, "reason": " ", "timeout_secs": 0})),
        )
        .await;
    r.assert_error(422, "validation_failed");
    let paths: Vec<String> = r.problems().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["user", "amount", "reason", "timeout_secs"]);
    hold(&app, &ana, 5, 30 * 86_400 + 1, "long")
        .await
        .assert_error(422, "validation_failed");
    assert_eq!(
        hold(&app, &ana, 5, 30 * 86_400, "longest").await.status,
        201
    );
    let r = app
        .send(
            app.admin(Method::POST, "/api/v1/admin/wallet/holds")
                .await
                .header("idempotency-key", "extra")
                .json(&json!({"user": ana, "amount": 1, "reason": "r", "timeout_secs": 9, "x": 1})),
        )
        .await;
    r.assert_error(422, "invalid_body");

    // No key: 400 on every write.
    let id = id_of(&hold(&app, &ana, 10, 600, "h-1").await, "hold_id");
    for (path, body) in [
        (
            "/api/v1/admin/wallet/holds".to_owned(),
            json!({"user": ana, "amount": 1, "reason": "r", "timeout_secs": 9}),
        ),
        (format!("/api/v1/admin/wallet/holds/{id}/post"), json!({})),
        (format!("/api/v1/admin/wallet/holds/{id}/void"), json!({})),
        (
            format!("/api/v1/admin/wallet/transfers/{id}/reverse"),
            json!({"reason": "r"}),
        ),
    ] {
        let r = app
            .send(app.admin(Method::POST, &path).await.json(&body))
            .await;
        r.assert_error(400, "missing_idempotency_key");
    }

    // Posting nothing or more than is held; unknown holds; a grant is not a hold.
    let r = settle(&app, &id, Some(json!({"amount": 0})), "p-0").await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.problems()[0].0, "amount");
    settle(&app, &id, Some(json!({"amount": 11})), "p-11")
        .await
        .assert_error(409, "exceeds_pending_amount");
    settle(&app, &id, Some(json!({"amount": "all"})), "p-x")
        .await
        .assert_error(422, "invalid_body");
    let grant_id: String =
        sqlx::query_scalar("SELECT id FROM wallet_transfers WHERE code = 'grant'")
            .fetch_one(app.core.db.reader())
            .await
            .expect("the grant");
    for missing in ["nope", grant_id.as_str()] {
        get_hold(&app, missing).await.assert_error(404, "not_found");
        settle(&app, missing, Some(json!({})), &format!("p-{missing}"))
            .await
            .assert_error(404, "not_found");
        settle(&app, missing, None, &format!("v-{missing}"))
            .await
            .assert_error(404, "not_found");
    }
    // One key, one request: the same key on another hold is a reused key.
    let other = id_of(&hold(&app, &ana, 1, 600, "h-2").await, "hold_id");
    assert_eq!(settle(&app, &id, None, "k").await.status, 200);
    settle(&app, &other, None, "k")
        .await
        .assert_error(409, "idempotency_key_reused");
    let r = app
        .send(
            app.admin(
                Method::POST,
                &format!("/api/v1/admin/wallet/transfers/{grant_id}/reverse"),
            )
            .await
            .header("idempotency-key", "r")
            .json(&json!({"reason": ""})),
        )
        .await;
    r.assert_error(422, "validation_failed");
    assert_eq!(r.problems()[0].0, "reason");

    // Who: anonymous 401; a reading key reads a hold but does not make one.
    for (m, path) in [
        (Method::POST, "/api/v1/admin/wallet/holds".to_owned()),
        (Method::GET, format!("/api/v1/admin/wallet/holds/{id}")),
        (
            Method::POST,
            format!("/api/v1/admin/wallet/holds/{id}/void"),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/wallet/transfers/{grant_id}/reverse"),
        ),
    ] {
        let r = app.send(app.request(m, &path).json(&json!({}))).await;
        r.assert_error(401, "unauthorized");
    }
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
            app.request(Method::GET, &format!("/api/v1/admin/wallet/holds/{id}"))
                .bearer_auth(&key),
        )
        .await;
    assert_eq!(r.status, 200, "{r}");
    app.send(
        app.request(Method::POST, "/api/v1/admin/wallet/holds")
            .bearer_auth(&key)
            .header("idempotency-key", "ro")
            .json(&json!({"user": ana, "amount": 1, "reason": "r", "timeout_secs": 9})),
    )
    .await
    .assert_error(403, "insufficient_scope");
    ledger_balances(&app).await;
}
both!(bad_hold_and_reversal_input_is_refused_with_its_code);
