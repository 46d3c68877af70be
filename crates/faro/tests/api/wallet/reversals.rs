//! Reversals and past balances over HTTP, on both databases: a posted transfer is undone once
//! by a transfer the other way (never what the user already spent, never a correction), and a
//! user's balance at a past moment comes from the running balances of their history.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::holds::{hold, id_of, settle};
use super::{balance, buy, grant, item, ledger_balances};
use crate::both;
use crate::common::{Resp, TestApp};

pub async fn reverse(app: &TestApp, id: &str, key: &str) -> Resp {
    let req = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/wallet/transfers/{id}/reverse"),
        )
        .await
        .header("idempotency-key", key)
        .json(&json!({"reason": "a mistake"}));
    app.send(req).await
}

async fn a_transfer_is_reversed_once_and_spent_credits_are_not_taken(app: TestApp) {
    let (ana, token) = app.register_user("ana@example.com").await;
    let g = grant(&app, &ana, 50, "g-1").await;
    let granted = id_of(&g, "transfer_id");
    let r = reverse(&app, &granted, "r-1").await;
    assert_eq!(r.status, 201, "{r}");
    let body = r.json();
    assert_eq!(body["reverses"], granted.as_str());
    assert_eq!(body["code"], "reversal");
    assert_eq!(body["amount"], 50);
    assert_eq!(body["user"], ana.as_str());
    assert_eq!(body["balance"]["available"], 0);
    assert_eq!(body["debit_account"], format!("user:{ana}:credits"));
    let replay = reverse(&app, &granted, "r-1").await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.json(), body);
    reverse(&app, &granted, "r-2")
        .await
        .assert_error(409, "already_reversed");
    let reversal = id_of(&r, "transfer_id");
    reverse(&app, &reversal, "r-3")
        .await
        .assert_error(409, "correction_not_reversible");
    assert_eq!(balance(&app, &token).await["available"], 0);

    // Spent credits stay spent: the grant cannot be undone until the purchase is.
    item(&app, "pack", 20).await;
    let g2 = id_of(&grant(&app, &ana, 30, "g-2").await, "transfer_id");
    let bought = id_of(&buy(&app, &token, "pack", "b-1").await, "transfer_id");
    reverse(&app, &g2, "r-4")
        .await
        .assert_error(409, "insufficient_funds");
    let back = reverse(&app, &bought, "r-5").await;
    assert_eq!(back.status, 201, "{back}");
    assert_eq!(back.json()["balance"]["available"], 30);
    assert_eq!(reverse(&app, &g2, "r-4").await.status, 201);
    assert_eq!(balance(&app, &token).await["available"], 0);

    // A hold and its void posted nothing; a hold's post is undone like any move.
    assert_eq!(grant(&app, &ana, 10, "g-3").await.status, 201);
    let h = id_of(&hold(&app, &ana, 4, 600, "h-1").await, "hold_id");
    reverse(&app, &h, "r-6")
        .await
        .assert_error(409, "nothing_to_reverse");
    let v = settle(&app, &h, None, "v-1").await;
    reverse(&app, &id_of(&v, "settled_by"), "r-7")
        .await
        .assert_error(409, "nothing_to_reverse");
    let h2 = id_of(&hold(&app, &ana, 6, 600, "h-2").await, "hold_id");
    let p = settle(&app, &h2, Some(json!({})), "p-1").await;
    assert_eq!(balance(&app, &token).await["available"], 4);
    let undo = reverse(&app, &id_of(&p, "settled_by"), "r-8").await;
    assert_eq!(undo.status, 201, "{undo}");
    assert_eq!(balance(&app, &token).await["available"], 10);
    reverse(&app, "no-such-transfer", "r-9")
        .await
        .assert_error(404, "not_found");
    ledger_balances(&app).await;
}
both!(a_transfer_is_reversed_once_and_spent_credits_are_not_taken);

async fn the_balance_at_a_past_time_comes_from_the_history(app: TestApp) {
    let (ana, token) = app.register_user("ana@example.com").await;
    let at = |t: i64| format!("/api/v1/admin/wallet/users/{ana}/balance?at={t}");
    let before = faro_store::unix_now() - 5;
    item(&app, "pack", 30).await;
    assert_eq!(grant(&app, &ana, 100, "g-1").await.status, 201);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let granted = faro_store::unix_now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(buy(&app, &token, "pack", "b-1").await.status, 201);
    // A hold is not in the history: the balance then is what was posted.
    assert_eq!(hold(&app, &ana, 10, 600, "h-1").await.status, 201);
    let now = faro_store::unix_now();
    for (t, posted) in [(before, 0), (granted, 100), (now, 70)] {
        let r = app.admin_get(&at(t)).await;
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(
            r.json(),
            json!({"at": t, "posted": posted, "currency": "credits"}),
            "at {t}"
        );
    }
    let r = app
        .admin_get(&format!("/api/v1/admin/wallet/users/{ana}/balance"))
        .await;
    assert_eq!(
        r.json(),
        json!({"available": 60, "pending": 10, "currency": "credits"})
    );
    for bad in ["soon".to_owned(), "-1".to_owned(), (now + 3600).to_string()] {
        let r = app
            .admin_get(&format!(
                "/api/v1/admin/wallet/users/{ana}/balance?at={bad}"
            ))
            .await;
        r.assert_error(422, "validation_failed");
        assert_eq!(r.problems()[0].0, "at", "{bad}");
    }
}
both!(the_balance_at_a_past_time_comes_from_the_history);
