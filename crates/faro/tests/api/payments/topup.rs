//! Buying credits: an intent for credits × the credit price, paid through the test provider,
//! credited by the wallet from the outbox exactly once — however often the success is
//! reported, and with three instances taking reports and consuming the outbox at once.

use futures_util::future::join_all;
use serde_json::json;

use super::{configure, confirm, credits_when, topup, unconfigure};
use crate::common::TestApp;
use crate::{both, postgres_only};

async fn a_topup_credits_the_wallet_once(app: TestApp) {
    let (_, ana) = app.register_user("ana@example.com").await;
    unconfigure(&app).await;
    topup(&app, &ana, 100, "t-0")
        .await
        .assert_error(409, "payments_not_configured");
    configure(&app).await;

    let r = topup(&app, &ana, 100, "t-1").await;
    assert_eq!(r.status, 201, "{r}");
    let intent = r.json();
    assert_eq!(intent["amount_cents"], 1000);
    assert_eq!(intent["amount"], "10.00");
    assert_eq!(intent["currency"], "EUR");
    assert_eq!(intent["purpose"], "wallet_topup");
    assert_eq!(intent["reference"], "100");
    assert_eq!(intent["provider"], "test");
    let id = intent["id"].as_str().expect("id").to_owned();
    assert!(intent["client_secret"].as_str().is_some());

    let replay = topup(&app, &ana, 100, "t-1").await;
    assert_eq!(replay.json()["id"], id.as_str());
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    topup(&app, &ana, 200, "t-1")
        .await
        .assert_error(409, "idempotency_key_reused");
    for credits in [0, 9, 10_001] {
        let r = topup(&app, &ana, credits, &format!("t-bad-{credits}")).await;
        r.assert_error(422, "validation_failed");
        assert_eq!(r.problems()[0].0, "credits");
    }

    // Nothing is credited before the payment succeeds.
    let r = confirm(&app, &ana, &id, "require_action").await;
    assert_eq!(r.json()["status"], "requires_action");
    let r = confirm(&app, &ana, &id, "process").await;
    assert_eq!(r.json()["status"], "processing");
    assert_eq!(credits_when(&app, &ana, 0).await, 0);
    let r = confirm(&app, &ana, &id, "succeed").await;
    assert_eq!(r.json()["status"], "succeeded", "{r}");
    assert_eq!(credits_when(&app, &ana, 100).await, 100);

    // Reported again: still 100, one transfer, one completion event.
    for _ in 0..3 {
        assert_eq!(confirm(&app, &ana, &id, "succeed").await.status, 200);
    }
    for _ in 0..30 {
        if completed(&app).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(completed(&app).await, 1);
    assert_eq!(credits_when(&app, &ana, 100).await, 100);
    let transfers = app
        .scalar("SELECT COUNT(*) FROM wallet_transfers WHERE code = 'topup'")
        .await;
    assert_eq!(transfers, 1);
    crate::wallet::ledger_balances(&app).await;
    let history = app
        .send(
            app.request(reqwest::Method::GET, "/api/v1/wallet/transactions")
                .bearer_auth(&ana),
        )
        .await
        .json();
    assert_eq!(history["items"][0]["amount"], 100, "{history}");

    // A second top-up is a second credit.
    let second = topup(&app, &ana, 10, "t-2").await.json();
    let second = second["id"].as_str().expect("id").to_owned();
    confirm(&app, &ana, &second, "succeed").await;
    assert_eq!(credits_when(&app, &ana, 110).await, 110);

    // The test provider switched off: nobody can make payments succeed.
    let mut off = serde_json::to_value(faro_payments::settings::demo()).expect("demo");
    off["test_provider"] = json!(false);
    let r = app.admin_put("/api/v1/admin/payments/settings", &off).await;
    assert_eq!(r.status, 200, "{r}");
    confirm(&app, &ana, &second, "succeed")
        .await
        .assert_error(409, "payments_not_configured");
    topup(&app, &ana, 10, "t-3")
        .await
        .assert_error(409, "payments_not_configured");
}
both!(a_topup_credits_the_wallet_once);

async fn completed(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) FROM events WHERE kind = 'wallet.topup_completed'")
        .await
}

/// Three instances on one PostgreSQL: twenty reports of the same success race (as duplicate
/// webhooks would), and every instance's wallet consumer runs; the credits arrive once.
async fn racing_successes_across_instances_credit_once(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    configure(&a).await;
    let (_, ana) = a.register_user("ana@example.com").await;
    let id = topup(&a, &ana, 50, "race").await.json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let apps = [&a, &b, &c];
    let replies = join_all((0..20).map(|i| confirm(apps[i % 3], &ana, &id, "succeed"))).await;
    for r in &replies {
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(r.json()["status"], "succeeded");
    }
    assert_eq!(credits_when(&b, &ana, 50).await, 50);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(credits_when(&c, &ana, 50).await, 50);
    let fulfilled = a
        .scalar("SELECT COUNT(*) FROM events WHERE kind = 'payments.intent_succeeded'")
        .await;
    assert_eq!(fulfilled, 1);
    let transfers = a
        .scalar("SELECT COUNT(*) FROM wallet_transfers WHERE code = 'topup'")
        .await;
    assert_eq!(transfers, 1);
    crate::wallet::ledger_balances(&a).await;
}
postgres_only!(racing_successes_across_instances_credit_once);
