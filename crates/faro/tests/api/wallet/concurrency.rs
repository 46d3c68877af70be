//! Fifty purchases racing for the same last credits, on one instance and on three sharing
//! one PostgreSQL: exactly one wins, the others are 409 `insufficient_funds`, and the ledger
//! still adds up (Σ debits = Σ credits; the user at 0, never below). Likewise thirty posts and
//! voids racing for one hold: one settles it, the others get the ledger's refusal.

use futures_util::future::join_all;
use serde_json::json;

use super::holds::{credited, hold, id_of, settle};
use super::{balance, buy, grant, item, ledger_balances};
use crate::common::{Resp, TestApp};
use crate::{both, postgres_only};

async fn race(apps: &[&TestApp]) {
    let a = apps[0];
    let (ana, token) = a.register_user("ana@example.com").await;
    item(a, "last", 25).await;
    assert_eq!(grant(a, &ana, 25, "g").await.status, 201);
    let answers = join_all((0..50).map(|i| {
        let app = apps[i % apps.len()];
        let token = token.clone();
        async move { buy(app, &token, "last", &format!("race-{i}")).await }
    }))
    .await;
    let won = answers.iter().filter(|r| r.status == 201).count();
    let refused = answers
        .iter()
        .filter(|r| r.status == 409 && r.error_code() == "insufficient_funds")
        .count();
    assert_eq!(
        (won, refused),
        (1, 49),
        "{:?}",
        answers.iter().find(|r| r.status != 201 && r.status != 409)
    );
    assert_eq!(balance(a, &token).await["available"], 0);
    assert_eq!(a.scalar("SELECT COUNT(*) FROM wallet_orders").await, 1);
    assert_eq!(
        a.scalar("SELECT COUNT(*) FROM events WHERE kind = 'wallet.purchase_completed'")
            .await,
        1
    );
    ledger_balances(a).await;
}

async fn fifty_purchases_race_for_the_last_credits(app: TestApp) {
    race(&[&app]).await;
}
both!(fifty_purchases_race_for_the_last_credits);

async fn fifty_purchases_on_three_instances_race_for_the_last_credits(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    race(&[&a, &b, &c]).await;
}
postgres_only!(fifty_purchases_on_three_instances_race_for_the_last_credits);

/// Thirty posts and voids of one hold, spread over `apps`: one settles it.
async fn settle_race(apps: &[&TestApp]) {
    let a = apps[0];
    let (ana, token) = credited(a, 100).await;
    let id = id_of(&hold(a, &ana, 60, 600, "h").await, "hold_id");
    let answers = join_all((0..30).map(|i| {
        let app = apps[i % apps.len()];
        let id = id.clone();
        async move {
            let body = (i % 2 == 0).then(|| json!({}));
            settle(app, &id, body, &format!("race-{i}")).await
        }
    }))
    .await;
    let won: Vec<&Resp> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_eq!(r.status, 409, "{r}");
        assert!(
            [
                "pending_transfer_already_posted",
                "pending_transfer_already_voided"
            ]
            .contains(&r.error_code().as_str()),
            "{r}"
        );
    }
    let winner = won[0].json();
    let (available, revenue) = if winner["status"] == "posted" {
        (40, 60)
    } else {
        (100, 0)
    };
    assert_eq!(
        balance(a, &token).await,
        json!({"available": available, "pending": 0, "currency": "credits"})
    );
    assert_eq!(
        a.scalar("SELECT credits_posted FROM wallet_accounts WHERE id = 'tenant:revenue'")
            .await,
        revenue
    );
    assert_eq!(
        a.scalar_where(
            "SELECT COUNT(*) FROM wallet_transfers WHERE pending_id = $1",
            &id
        )
        .await,
        1,
        "one settlement recorded"
    );
    ledger_balances(a).await;
}

async fn thirty_posts_and_voids_race_for_one_hold(app: TestApp) {
    settle_race(&[&app]).await;
}
both!(thirty_posts_and_voids_race_for_one_hold);

async fn thirty_posts_and_voids_on_three_instances_race_for_one_hold(a: TestApp) {
    let b = a.sibling(&[]).await;
    let c = a.sibling(&[]).await;
    settle_race(&[&a, &b, &c]).await;
}
postgres_only!(thirty_posts_and_voids_on_three_instances_race_for_one_hold);
