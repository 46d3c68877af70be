//! Expiring credit lots, running balances and balances at a past time.

use super::*;
use crate::history::{Line, balance_at, running};
use crate::lots::{Draw, Lot, allocate, expired, next_expiry, usable};

fn lot(id: &str, remaining: i64, expires_at: Option<i64>) -> Lot {
    Lot {
        id: tid(id),
        remaining,
        expires_at,
    }
}

fn draw(id: &str, amount: i64) -> Draw {
    Draw {
        lot: tid(id),
        amount,
    }
}

fn lots() -> Vec<Lot> {
    vec![
        lot("bought", 100, None),
        lot("late", 30, Some(T0 + 200)),
        lot("soon", 20, Some(T0 + 100)),
        lot("gone", 50, Some(T0)),
        lot("empty", 0, Some(T0 + 50)),
        lot("soon2", 5, Some(T0 + 100)),
    ]
}

#[test]
fn spending_draws_the_first_expiring_lots_first() {
    assert_eq!(usable(&lots(), T0), 155);
    assert_eq!(allocate(&lots(), 10, T0), Ok(vec![draw("soon", 10)]));
    assert_eq!(
        allocate(&lots(), 60, T0),
        Ok(vec![
            draw("soon", 20),
            draw("soon2", 5),
            draw("late", 30),
            draw("bought", 5)
        ])
    );
    assert_eq!(
        allocate(&lots(), 155, T0).expect("all").last(),
        Some(&draw("bought", 100))
    );
}

#[test]
fn expired_lots_do_not_pay() {
    assert_eq!(
        allocate(&lots(), 156, T0),
        Err(Refusal::InsufficientFunds {
            available: 155,
            amount: 156
        })
    );
    // At T0 + 100 "soon" and "soon2" have expired too.
    assert_eq!(usable(&lots(), T0 + 100), 130);
    assert_eq!(
        allocate(&lots(), 31, T0 + 100),
        Ok(vec![draw("late", 30), draw("bought", 1)])
    );
    assert_eq!(allocate(&lots(), 0, T0), Err(Refusal::AmountMustBePositive));
    assert_eq!(
        allocate(&[], 1, T0),
        Err(Refusal::InsufficientFunds {
            available: 0,
            amount: 1
        })
    );
}

#[test]
fn what_expires_at_a_time() {
    assert_eq!(expired(&lots(), T0 - 1), vec![]);
    assert_eq!(expired(&lots(), T0), vec![draw("gone", 50)]);
    assert_eq!(
        expired(&lots(), T0 + 100),
        vec![draw("soon", 20), draw("gone", 50), draw("soon2", 5)]
    );
    assert_eq!(next_expiry(&lots(), T0), Some((T0 + 100, 25)));
    assert_eq!(next_expiry(&lots(), T0 + 150), Some((T0 + 200, 30)));
    assert_eq!(next_expiry(&lots(), T0 + 200), None);
}

#[test]
fn huge_lots_saturate_instead_of_overflowing() {
    let big = vec![lot("a", i64::MAX, None), lot("b", i64::MAX, Some(T0 + 1))];
    assert_eq!(usable(&big, T0), i64::MAX);
    assert_eq!(allocate(&big, i64::MAX, T0), Ok(vec![draw("b", i64::MAX)]));
}

#[test]
fn history_has_running_balances() {
    let mut l = ledger();
    l.apply(&mv("g1", "issuance", "alice", 100), T0)
        .expect("grant");
    l.apply(&hold("h1", "alice", "revenue", 30, 600), T0 + 10)
        .expect("hold");
    l.apply(&mv("p1", "alice", "revenue", 20), T0 + 20)
        .expect("spend");
    l.apply(&post("h1p", "h1", Some(25)), T0 + 30)
        .expect("post");
    l.apply(&mv("g2", "issuance", "alice", 5), T0 + 40)
        .expect("grant");
    let entries = l.entries(&acc("alice"));
    let ids: Vec<&str> = entries.iter().map(|e| e.transfer.as_str()).collect();
    assert_eq!(
        ids,
        ["g1", "p1", "h1p", "g2"],
        "holds are not posted history"
    );
    let lines = running(0, Side::Credit, &entries).expect("running");
    let balances: Vec<i64> = lines.iter().map(|l: &Line| l.balance).collect();
    assert_eq!(balances, [100, 80, 55, 60]);
    assert_eq!(
        balances.last().copied(),
        Some(bal(&l, "alice").posted(Side::Credit))
    );
    // A later page starts from the balance before it.
    let page = running(80, Side::Credit, &entries[2..]).expect("page");
    assert_eq!(page[0].balance, 55);
    // Issuance reads on the debit side.
    let issued = running(0, Side::Debit, &l.entries(&acc("issuance"))).expect("running");
    assert_eq!(issued.last().map(|l| l.balance), Some(105));
}

#[test]
fn balance_at_a_past_time() {
    let mut l = ledger();
    l.apply(&mv("g1", "issuance", "alice", 100), T0)
        .expect("grant");
    l.apply(&mv("p1", "alice", "revenue", 20), T0 + 20)
        .expect("spend");
    l.apply(&mv("g2", "issuance", "alice", 5), T0 + 40)
        .expect("grant");
    let e = l.entries(&acc("alice"));
    assert_eq!(balance_at(Side::Credit, &e, T0 - 1), Ok(0));
    assert_eq!(balance_at(Side::Credit, &e, T0), Ok(100));
    assert_eq!(balance_at(Side::Credit, &e, T0 + 39), Ok(80));
    assert_eq!(balance_at(Side::Credit, &e, T0 + 40), Ok(85));
}

#[test]
fn history_overflow_is_a_refusal() {
    let e = Entry {
        transfer: tid("x"),
        code: code("test"),
        at: T0,
        side: Side::Credit,
        amount: 1,
    };
    assert_eq!(
        running(i64::MAX, Side::Credit, std::slice::from_ref(&e)),
        Err(Refusal::Overflow)
    );
    assert_eq!(
        balance_at(
            Side::Credit,
            &[
                Entry {
                    amount: i64::MAX,
                    ..e.clone()
                },
                e
            ],
            T0
        ),
        Err(Refusal::Overflow)
    );
}
