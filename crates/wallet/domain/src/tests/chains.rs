//! Linked chains: all or nothing, retries, and the points-to-credits redemption.

use super::*;

/// Points to credits: 300 points leave the user for the pool, 3 credits arrive from issuance.
fn redemption(id: &str, points: i64) -> Vec<Transfer> {
    vec![
        mv(
            &format!("{id}:points"),
            "alice_points",
            "points_pool",
            points,
        ),
        mv(&format!("{id}:credits"), "issuance", "alice", points / 100),
    ]
}

fn with_points(points: i64) -> Ledger {
    let mut l = ledger();
    l.apply(&mv("award", "points_pool", "alice_points", points), T0)
        .expect("points awarded");
    l
}

#[test]
fn a_redemption_moves_both_legs() {
    let mut l = with_points(500);
    let planned = l.apply_chain(&redemption("r1", 300), T0).expect("redeem");
    assert_eq!(planned.len(), 2);
    assert!(planned.iter().all(|p| matches!(p, Planned::New(_))));
    assert_eq!(available(&l, "alice_points"), 200);
    assert_eq!(available(&l, "alice"), 3);
    assert!(l.totals().balanced());
}

#[test]
fn a_chain_failing_in_the_middle_applies_nothing() {
    let mut l = with_points(500);
    grant(&mut l, "g1", "alice", 10);
    let before = l.clone();
    let chain = vec![
        mv("c1", "alice", "revenue", 5),
        mv("c2", "alice_points", "points_pool", 100),
        mv("c3", "alice", "revenue", 6), // 5 + 6 > 10
        mv("c4", "issuance", "bob", 1),
    ];
    assert_eq!(
        l.apply_chain(&chain, T0).expect_err("refused"),
        ChainRefusal {
            index: 2,
            refusal: Refusal::InsufficientFunds {
                available: 5,
                amount: 6
            }
        }
    );
    assert_eq!(l, before, "nothing applied");
    assert_eq!(
        l.apply_chain(&redemption("r1", 600), T0)
            .expect_err("short of points"),
        ChainRefusal {
            index: 0,
            refusal: Refusal::InsufficientFunds {
                available: 500,
                amount: 600
            }
        }
    );
    assert_eq!(l, before);
}

#[test]
fn a_later_link_sees_what_earlier_ones_did() {
    let mut l = ledger();
    let chain = vec![
        mv("g", "issuance", "alice", 10),
        hold("h", "alice", "revenue", 10, 60),
        post("p", "h", Some(4)),
    ];
    let planned = l.apply_chain(&chain, T0).expect("grant, hold, post");
    let Planned::New(last) = &planned[2] else {
        panic!("new")
    };
    assert_eq!(
        last.debit.before.debits_pending, 10,
        "the hold's, within the chain"
    );
    assert_eq!(available(&l, "alice"), 6);
    assert_eq!(available(&l, "revenue"), 4);
    assert_eq!(l.hold(&tid("h")), Some(HoldState::Posted { amount: 4 }));
    assert!(l.totals().balanced());
}

#[test]
fn a_retried_chain_returns_the_first_results() {
    let mut l = with_points(500);
    let first = l.apply_chain(&redemption("r1", 300), T0).expect("redeem");
    let before = l.clone();
    let again = l
        .apply_chain(&redemption("r1", 300), T0 + 5)
        .expect("retry");
    assert_eq!(l, before);
    for (a, b) in first.iter().zip(&again) {
        assert!(matches!(b, Planned::Exists(_)));
        assert_eq!(a.record(), b.record());
    }
    assert_eq!(
        l.apply_chain(&redemption("r1", 200), T0)
            .expect_err("other fields"),
        ChainRefusal {
            index: 0,
            refusal: Refusal::ExistsWithDifferentFields {
                id: tid("r1:points")
            }
        }
    );
}

#[test]
fn a_chain_that_partly_exists_is_refused() {
    let mut l = with_points(500);
    l.apply(&mv("r1:points", "alice_points", "points_pool", 300), T0)
        .expect("one leg alone");
    let before = l.clone();
    assert_eq!(
        l.apply_chain(&redemption("r1", 300), T0)
            .expect_err("partly"),
        ChainRefusal {
            index: 1,
            refusal: Refusal::LinkedChainPartlyExists
        }
    );
    let twice = vec![mv("x", "issuance", "bob", 1), mv("x", "issuance", "bob", 1)];
    assert_eq!(
        l.apply_chain(&twice, T0).expect_err("an id twice"),
        ChainRefusal {
            index: 1,
            refusal: Refusal::LinkedChainPartlyExists
        }
    );
    assert_eq!(l, before);
}

#[test]
fn an_empty_chain_does_nothing() {
    let mut l = ledger();
    assert_eq!(l.apply_chain(&[], T0), Ok(vec![]));
}

#[test]
fn a_chain_refusal_reads_well() {
    let r = ChainRefusal {
        index: 1,
        refusal: Refusal::Overflow,
    };
    assert!(
        r.to_string()
            .starts_with("transfer 1 of the linked chain: ")
    );
}
