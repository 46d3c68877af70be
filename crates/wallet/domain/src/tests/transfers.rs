//! Moves, retries, every refusal a move can meet, limits per kind, overflow, reversals, and the
//! refusals' codes.

use super::*;

#[test]
fn a_move_debits_one_account_and_credits_the_other() {
    let mut l = ledger();
    let p = l
        .apply(&mv("g1", "issuance", "alice", 100), T0)
        .expect("grant");
    let Planned::New(e) = p else {
        panic!("a new transfer")
    };
    assert_eq!(e.debit.account, acc("issuance"));
    assert_eq!(e.debit.delta().debits_posted, 100);
    assert_eq!(e.credit.delta().credits_posted, 100);
    assert_eq!(e.hold, None);
    let r = e.record.expect("a record");
    assert_eq!((r.amount, r.at, r.expires_at), (100, T0, None));
    assert_eq!(available(&l, "alice"), 100);
    assert_eq!(available(&l, "issuance"), 100, "outstanding issued credits");
    l.apply(&mv("p1", "alice", "revenue", 30), T0)
        .expect("spend");
    assert_eq!(available(&l, "alice"), 70);
    assert_eq!(available(&l, "revenue"), 30);
    assert!(l.totals().balanced());
}

#[test]
fn a_retry_returns_the_first_result_and_changes_nothing() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    let first = l
        .apply(&mv("p1", "alice", "revenue", 30), T0)
        .expect("spend");
    let before = l.clone();
    let again = l
        .apply(&mv("p1", "alice", "revenue", 30), T0 + 60)
        .expect("a retry");
    assert_eq!(
        again,
        Planned::Exists(first.record().expect("record").clone())
    );
    assert_eq!(l, before);
}

#[test]
fn a_retry_with_other_fields_is_refused() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    l.apply(&mv("p1", "alice", "revenue", 30), T0)
        .expect("spend");
    for other in [
        mv("p1", "alice", "revenue", 31),
        mv("p1", "bob", "revenue", 30),
        hold("p1", "alice", "revenue", 30, 60),
        Transfer {
            code: code("other"),
            ..mv("p1", "alice", "revenue", 30)
        },
    ] {
        assert_eq!(
            refusal(l.apply(&other, T0)),
            Refusal::ExistsWithDifferentFields { id: tid("p1") }
        );
    }
}

#[test]
fn a_retry_is_answered_before_any_other_check() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    l.apply(&mv("p1", "alice", "revenue", 100), T0)
        .expect("spend all");
    // The same spend again would now be short of funds, but it is a retry.
    assert!(matches!(
        l.apply(&mv("p1", "alice", "revenue", 100), T0),
        Ok(Planned::Exists(_))
    ));
}

#[test]
fn spending_more_than_available_is_insufficient_funds() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    assert_eq!(
        refusal(l.apply(&mv("p1", "alice", "revenue", 101), T0)),
        Refusal::InsufficientFunds {
            available: 100,
            amount: 101
        }
    );
    assert_eq!(
        refusal(l.apply(&mv("p2", "bob", "revenue", 1), T0)),
        Refusal::InsufficientFunds {
            available: 0,
            amount: 1
        }
    );
    l.apply(&mv("p3", "alice", "revenue", 100), T0)
        .expect("exactly the balance");
    assert_eq!(available(&l, "alice"), 0);
    assert!(
        l.transfer(&tid("p1")).is_none(),
        "a refusal is not recorded"
    );
}

#[test]
fn taking_back_more_than_was_issued_exceeds_debits() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    // Control has no limit, so only issuance's own rule can refuse this.
    l.apply(&mv("c1", "control", "alice", 50), T0)
        .expect("unlimited control");
    assert_eq!(
        refusal(l.apply(&mv("x1", "alice", "issuance", 101), T0)),
        Refusal::ExceedsDebits {
            available: 100,
            amount: 101
        }
    );
    l.apply(&mv("x2", "alice", "issuance", 100), T0)
        .expect("all of it back");
    assert_eq!(available(&l, "issuance"), 0);
}

#[test]
fn a_control_account_may_go_either_way() {
    let mut l = ledger();
    l.apply(&mv("c1", "control", "alice", 5), T0)
        .expect("control lends");
    assert_eq!(bal(&l, "control").debits_posted, 5);
    assert_eq!(available(&l, "control"), -5, "read on the credit side");
    assert_eq!(bal(&l, "control").posted(Side::Credit), -5);
}

#[test]
fn account_kinds_decide_limits_and_sides() {
    use AccountKind::*;
    for k in [UserCredits, UserPoints, PromotionBudget, Revenue, Breakage] {
        assert_eq!(k.limit(), Limit::DebitsMustNotExceedCredits);
        assert_eq!(k.normal(), Side::Credit);
    }
    for k in [Issuance, PointsPool, PaymentClearing] {
        assert_eq!(k.limit(), Limit::CreditsMustNotExceedDebits);
        assert_eq!(k.normal(), Side::Debit);
    }
    assert_eq!(Control.limit(), Limit::None);
}

#[test]
fn malformed_moves_are_refused_in_order() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    let cases = [
        (
            mv("a", "alice", "revenue", 0),
            Refusal::AmountMustBePositive,
        ),
        (
            mv("b", "alice", "revenue", -5),
            Refusal::AmountMustBePositive,
        ),
        (
            mv("c", "alice", "alice", 5),
            Refusal::AccountsMustBeDifferent,
        ),
        (
            mv("d", "nobody", "revenue", 5),
            Refusal::DebitAccountNotFound,
        ),
        (
            mv("e", "alice", "nobody", 5),
            Refusal::CreditAccountNotFound,
        ),
        (
            mv("f", "alice", "points_pool", 5),
            Refusal::UnitsDiffer {
                debit: Unit::parse("credits").expect("unit"),
                credit: Unit::parse("points").expect("unit"),
            },
        ),
    ];
    let before = l.clone();
    for (t, want) in cases {
        assert_eq!(refusal(l.apply(&t, T0)), want, "{t:?}");
    }
    assert_eq!(l, before);
}

#[test]
fn overflow_is_a_refusal_not_a_panic() {
    let mut l = ledger();
    l.apply(&mv("big", "control", "alice", i64::MAX), T0)
        .expect("the largest");
    assert_eq!(
        refusal(l.apply(&mv("more", "control", "alice", 1), T0)),
        Refusal::Overflow
    );
    // Pending and posted together must fit too.
    assert_eq!(
        refusal(l.apply(&mv("more2", "control", "bob", 1), T0)),
        Refusal::Overflow,
        "control's debits are at the top"
    );
    // Spending far more than one has is insufficient funds, not overflow.
    assert!(matches!(
        refusal(l.apply(&mv("s", "bob", "revenue", i64::MAX), T0)),
        Refusal::InsufficientFunds { .. }
    ));
    let mut l = ledger();
    l.apply(&hold("h", "control", "bob", i64::MAX - 1, 60), T0)
        .expect("held");
    assert_eq!(
        refusal(l.apply(&mv("m", "control", "alice", 2), T0)),
        Refusal::Overflow,
        "pending plus posted past the top"
    );
    assert!(l.totals().balanced());
}

#[test]
fn a_reversal_undoes_a_posted_transfer() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    let spent = l
        .apply(&mv("p1", "alice", "revenue", 30), T0)
        .expect("spend");
    let record = spent.record().expect("record").clone();
    let back = reversal(&record, tid("r1"), code("refund")).expect("a move reverses");
    let Planned::New(undo) = l.apply(&back, T0).expect("reversal") else {
        panic!("new")
    };
    let Planned::New(done) = spent else {
        panic!("new")
    };
    assert_eq!(undo.debit.account, done.credit.account);
    assert_eq!(undo.debit.net_posted(), -done.credit.net_posted());
    assert_eq!(undo.credit.net_posted(), -done.debit.net_posted());
    assert_eq!(available(&l, "alice"), 100);
    assert_eq!(available(&l, "revenue"), 0);
    assert_eq!(l.records().count(), 3, "the history keeps all three");
}

#[test]
fn a_reversal_of_spent_credits_is_refused_not_forced() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    let g = l.transfer(&tid("g1")).expect("grant").clone();
    l.apply(&mv("p1", "alice", "revenue", 80), T0)
        .expect("spend");
    let back = reversal(&g, tid("r1"), code("reversal")).expect("reversal");
    assert_eq!(
        refusal(l.apply(&back, T0)),
        Refusal::InsufficientFunds {
            available: 20,
            amount: 100
        }
    );
}

#[test]
fn holds_and_voids_have_no_reversal() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    let h = l
        .apply(&hold("h1", "alice", "revenue", 10, 60), T0)
        .expect("hold");
    assert_eq!(
        reversal(h.record().expect("record"), tid("r"), code("x")),
        None
    );
    let v = l.apply(&void("v1", "h1"), T0).expect("void");
    assert_eq!(
        reversal(v.record().expect("record"), tid("r"), code("x")),
        None
    );
}

#[test]
fn a_checked_reversal_refuses_holds_voids_and_corrections() {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    let g = l.transfer(&tid("g1")).expect("grant").clone();
    let back = checked_reversal(&g, tid("r1"), code("reversal")).expect("a grant reverses");
    assert_eq!(
        Some(back.clone()),
        reversal(&g, tid("r1"), code("reversal"))
    );
    l.apply(&back, T0).expect("reversed");
    let r = l.transfer(&tid("r1")).expect("the reversal").clone();
    assert_eq!(
        refusal(checked_reversal(&r, tid("r2"), code("reversal"))),
        Refusal::CorrectionNotReversible { id: tid("r1") }
    );
    grant(&mut l, "g2", "alice", 10);
    l.apply(&mv("f1", "alice", "issuance", 5), T0)
        .expect("a move");
    let mut refund = l.transfer(&tid("f1")).expect("move").clone();
    refund.transfer.code = code("refund");
    assert_eq!(
        refusal(checked_reversal(&refund, tid("r3"), code("reversal"))).code(),
        "correction_not_reversible"
    );
    let h = l
        .apply(&hold("h1", "alice", "revenue", 1, 60), T0)
        .expect("hold");
    let h = h.record().expect("record").clone();
    assert_eq!(
        refusal(checked_reversal(&h, tid("r4"), code("reversal"))),
        Refusal::NothingToReverse { id: tid("h1") }
    );
    let v = l.apply(&void("v1", "h1"), T0).expect("void");
    let v = v.record().expect("record").clone();
    assert_eq!(
        refusal(checked_reversal(&v, tid("r5"), code("reversal"))).code(),
        "nothing_to_reverse"
    );
}

#[test]
fn refusals_have_stable_codes_and_messages() {
    let all = [
        Refusal::AmountMustBePositive,
        Refusal::TimeoutOutOfRange { max: MAX_TIMEOUT },
        Refusal::AccountsMustBeDifferent,
        Refusal::DebitAccountNotFound,
        Refusal::CreditAccountNotFound,
        Refusal::UnitsDiffer {
            debit: Unit::parse("credits").expect("unit"),
            credit: Unit::parse("points").expect("unit"),
        },
        Refusal::ExistsWithDifferentFields { id: tid("t") },
        Refusal::InsufficientFunds {
            available: 1,
            amount: 2,
        },
        Refusal::ExceedsDebits {
            available: 1,
            amount: 2,
        },
        Refusal::Overflow,
        Refusal::PendingTransferNotFound { pending: tid("h") },
        Refusal::PendingTransferNotPending { pending: tid("h") },
        Refusal::PendingTransferAlreadyPosted { pending: tid("h") },
        Refusal::PendingTransferAlreadyVoided { pending: tid("h") },
        Refusal::PendingTransferExpired {
            pending: tid("h"),
            expired_at: 5,
        },
        Refusal::PendingTransferNotExpired {
            pending: tid("h"),
            expires_at: 5,
        },
        Refusal::ExceedsPendingAmount {
            pending: tid("h"),
            held: 1,
            amount: 2,
        },
        Refusal::LinkedChainPartlyExists,
        Refusal::NothingToReverse { id: tid("h") },
        Refusal::CorrectionNotReversible { id: tid("r") },
        Refusal::AlreadyReversed {
            id: tid("g"),
            reversal: tid("r"),
        },
    ];
    let mut codes = std::collections::HashSet::new();
    for r in all {
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["code"], r.code(), "{r:?}");
        assert!(codes.insert(r.code()));
        assert!(!r.to_string().is_empty());
        let back: Refusal = serde_json::from_value(json).expect("round trip");
        assert_eq!(back, r);
    }
    assert_eq!(
        serde_json::to_value(Refusal::InsufficientFunds {
            available: 3,
            amount: 5
        })
        .expect("json"),
        serde_json::json!({"code": "insufficient_funds", "available": 3, "amount": 5})
    );
    assert_eq!(
        Refusal::InsufficientFunds {
            available: 3,
            amount: 5
        }
        .to_string(),
        "not enough funds: 5 needed, 3 available"
    );
}

#[test]
fn transfers_read_and_write_as_json() {
    let t: Transfer = serde_json::from_value(serde_json::json!({
        "id": "buy-1", "code": "purchase", "action": "move",
        "debit": "alice", "credit": "revenue", "amount": 30
    }))
    .expect("a move");
    assert_eq!(
        t,
        Transfer {
            code: code("purchase"),
            ..mv("buy-1", "alice", "revenue", 30)
        }
    );
    let p: Transfer = serde_json::from_value(serde_json::json!({
        "id": "p", "code": "purchase", "action": "post", "pending": "h"
    }))
    .expect("a full post");
    assert_eq!(p.pending(), Some(&tid("h")));
    assert_eq!(p.accounts(), None);
    assert!(
        serde_json::from_value::<Transfer>(serde_json::json!({
            "id": "", "code": "purchase", "action": "void", "pending": "h"
        }))
        .is_err(),
        "an empty id never gets in"
    );
}
