//! Gamification's points redeemed into wallet credits: the points leave gamification's
//! ledger and the credits arrive on the wallet's, once, however often the redemption is
//! retried.

use reqwest::Method;
use serde_json::json;

use super::ledger_balances;
use crate::both;
use crate::common::{Resp, TestApp};
use crate::gamification::{conversion, send};

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

async fn wallet_credits(app: &TestApp, user: &str, want: i64) -> i64 {
    let mut seen = -1;
    for _ in 0..100 {
        let r = app
            .admin_get(&format!("/api/v1/admin/wallet/users/{user}/balance"))
            .await;
        assert_eq!(r.status, 200, "{r}");
        seen = r.json()["available"].as_i64().expect("available");
        if seen == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    seen
}

async fn redeemed_points_become_wallet_credits_once(app: TestApp) {
    assert_eq!(
        send(&app, conversion("ana", "c-1", json!({}))).await.status,
        201
    );
    let r = redeem(&app, "ana", 300, "k1").await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.json()["credits"], 3);
    assert_eq!(wallet_credits(&app, "ana", 3).await, 3);
    let again = redeem(&app, "ana", 300, "k1").await;
    assert_eq!(again.json()["duplicate"], true);
    let r = redeem(&app, "ana", 200, "k2").await;
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(wallet_credits(&app, "ana", 5).await, 5);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        wallet_credits(&app, "ana", 5).await,
        5,
        "each redemption once"
    );
    let transfers = app
        .scalar("SELECT COUNT(*) FROM wallet_transfers WHERE code = 'redemption'")
        .await;
    assert_eq!(transfers, 2);
    let credited = app
        .scalar("SELECT COUNT(*) FROM events WHERE kind = 'wallet.points_credited'")
        .await;
    assert_eq!(credited, 2);
    ledger_balances(&app).await;
}
both!(redeemed_points_become_wallet_credits_once);
