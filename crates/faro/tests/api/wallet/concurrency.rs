//! Fifty purchases racing for the same last credits, on one instance and on three sharing
//! one PostgreSQL: exactly one wins, the others are 409 `insufficient_funds`, and the ledger
//! still adds up (Σ debits = Σ credits; the user at 0, never below).

use futures_util::future::join_all;

use super::{balance, buy, grant, item, ledger_balances};
use crate::common::TestApp;
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
