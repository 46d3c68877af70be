//! Two-phase transfers: hold, post (full and partial), void, expiry, and every refusal of a
//! hold that is not pending any more.

use super::*;

/// Alice with 100 credits and a 40-credit hold `h1` towards revenue, expiring at T0 + 600.
fn held() -> Ledger {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    l.apply(&hold("h1", "alice", "revenue", 40, 600), T0)
        .expect("hold");
    l
}

#[test]
fn a_hold_counts_against_available_at_once() {
    let l = held();
    let a = l.account(&acc("alice")).expect("alice");
    assert_eq!((a.available(), a.pending()), (60, 40));
    assert_eq!(bal(&l, "alice").debits_pending, 40);
    assert_eq!(bal(&l, "revenue").credits_pending, 40);
    assert_eq!(
        available(&l, "revenue"),
        0,
        "incoming holds are not available"
    );
    let h = l.transfer(&tid("h1")).expect("hold record");
    assert_eq!(h.expires_at, Some(T0 + 600));
    assert_eq!(l.hold(&tid("h1")), Some(HoldState::Pending));
    assert!(l.totals().balanced());
}

#[test]
fn a_hold_cannot_promise_what_is_held_elsewhere() {
    let mut l = held();
    assert_eq!(
        refusal(l.apply(&hold("h2", "alice", "revenue", 61, 600), T0)),
        Refusal::InsufficientFunds {
            available: 60,
            amount: 61
        }
    );
    assert_eq!(
        refusal(l.apply(&mv("m", "alice", "revenue", 61), T0)),
        Refusal::InsufficientFunds {
            available: 60,
            amount: 61
        }
    );
    l.apply(&hold("h2", "alice", "revenue", 60, 600), T0)
        .expect("the rest");
}

#[test]
fn a_hold_needs_a_timeout_in_range() {
    let mut l = held();
    for timeout in [0, -1, MAX_TIMEOUT + 1] {
        assert_eq!(
            refusal(l.apply(&hold("h2", "alice", "revenue", 1, timeout), T0)),
            Refusal::TimeoutOutOfRange { max: MAX_TIMEOUT }
        );
    }
    assert_eq!(
        refusal(l.apply(&hold("h3", "alice", "revenue", 1, 60), i64::MAX - 10)),
        Refusal::TimeoutOutOfRange { max: MAX_TIMEOUT },
        "an expiry past the clock's range"
    );
    l.apply(&hold("h4", "alice", "revenue", 1, MAX_TIMEOUT), T0)
        .expect("the longest");
}

#[test]
fn a_full_post_moves_the_held_amount() {
    let mut l = held();
    let Planned::New(e) = l.apply(&post("p1", "h1", None), T0 + 10).expect("post") else {
        panic!("new")
    };
    let r = e.record.expect("record");
    assert_eq!(
        (r.debit.clone(), r.credit.clone(), r.amount),
        (acc("alice"), acc("revenue"), 40)
    );
    assert_eq!(e.hold, Some((tid("h1"), HoldState::Posted { amount: 40 })));
    assert_eq!(
        e.debit.delta(),
        Balance {
            debits_pending: -40,
            debits_posted: 40,
            ..Balance::default()
        }
    );
    assert_eq!(bal(&l, "alice").debits_pending, 0);
    assert_eq!(available(&l, "alice"), 60);
    assert_eq!(available(&l, "revenue"), 40);
    assert!(l.totals().balanced());
}

#[test]
fn a_partial_post_releases_the_rest() {
    let mut l = held();
    l.apply(&post("p1", "h1", Some(25)), T0 + 10)
        .expect("post 25");
    assert_eq!(l.hold(&tid("h1")), Some(HoldState::Posted { amount: 25 }));
    assert_eq!(available(&l, "alice"), 75);
    assert_eq!(bal(&l, "alice").debits_pending, 0);
    assert_eq!(available(&l, "revenue"), 25);
    assert_eq!(bal(&l, "revenue").credits_pending, 0);
    assert!(l.totals().balanced());
}

#[test]
fn posting_more_than_held_or_nothing_is_refused() {
    let mut l = held();
    assert_eq!(
        refusal(l.apply(&post("p1", "h1", Some(41)), T0)),
        Refusal::ExceedsPendingAmount {
            pending: tid("h1"),
            held: 40,
            amount: 41
        }
    );
    assert_eq!(
        refusal(l.apply(&post("p1", "h1", Some(0)), T0)),
        Refusal::AmountMustBePositive
    );
    assert_eq!(l.hold(&tid("h1")), Some(HoldState::Pending));
}

#[test]
fn a_void_releases_everything() {
    let mut l = held();
    let Planned::New(e) = l.apply(&void("v1", "h1"), T0 + 10).expect("void") else {
        panic!("new")
    };
    assert_eq!(e.record.expect("record").amount, 40, "what was released");
    assert_eq!(l.hold(&tid("h1")), Some(HoldState::Voided));
    assert_eq!(bal(&l, "alice"), bal(&ledger_with_grant(), "alice"));
    assert_eq!(bal(&l, "revenue"), Balance::default());
    assert!(l.totals().balanced());
}

fn ledger_with_grant() -> Ledger {
    let mut l = ledger();
    grant(&mut l, "g1", "alice", 100);
    l
}

#[test]
fn an_expired_hold_goes_back_and_cannot_be_posted_or_voided() {
    let mut l = held();
    let at = T0 + 600;
    assert_eq!(
        refusal(l.expire(&tid("h1"), at - 1)),
        Refusal::PendingTransferNotExpired {
            pending: tid("h1"),
            expires_at: at
        }
    );
    // Past its time but not yet expired by the job: already unpostable.
    let expired = Refusal::PendingTransferExpired {
        pending: tid("h1"),
        expired_at: at,
    };
    assert_eq!(refusal(l.apply(&post("p1", "h1", None), at)), expired);
    assert_eq!(refusal(l.apply(&void("v1", "h1"), at)), expired);
    assert_eq!(available(&l, "alice"), 60, "still held until it is expired");
    assert_eq!(l.expire_due(at - 1), Vec::<TransferId>::new());
    assert_eq!(l.expire_due(at), vec![tid("h1")]);
    assert_eq!(l.hold(&tid("h1")), Some(HoldState::Expired));
    assert_eq!(available(&l, "alice"), 100);
    assert_eq!(bal(&l, "revenue"), Balance::default());
    assert_eq!(refusal(l.apply(&post("p2", "h1", None), at + 5)), expired);
    assert_eq!(refusal(l.expire(&tid("h1"), at + 5)), expired);
    assert_eq!(l.expire_due(at + 5), Vec::<TransferId>::new());
    assert!(l.totals().balanced());
}

#[test]
fn a_hold_settles_once() {
    let mut l = held();
    l.apply(&post("p1", "h1", Some(10)), T0).expect("post");
    let posted = Refusal::PendingTransferAlreadyPosted { pending: tid("h1") };
    assert_eq!(refusal(l.apply(&post("p2", "h1", None), T0)), posted);
    assert_eq!(refusal(l.apply(&void("v1", "h1"), T0)), posted);
    assert_eq!(refusal(l.expire(&tid("h1"), T0 + 601)), posted);
    // Retrying the post itself is fine.
    assert!(matches!(
        l.apply(&post("p1", "h1", Some(10)), T0),
        Ok(Planned::Exists(_))
    ));

    let mut l = held();
    l.apply(&void("v1", "h1"), T0).expect("void");
    let voided = Refusal::PendingTransferAlreadyVoided { pending: tid("h1") };
    assert_eq!(refusal(l.apply(&void("v2", "h1"), T0)), voided);
    assert_eq!(refusal(l.apply(&post("p1", "h1", None), T0)), voided);
    assert_eq!(refusal(l.expire(&tid("h1"), T0 + 601)), voided);
    assert!(l.totals().balanced());
}

#[test]
fn posting_or_voiding_what_is_not_a_hold_is_refused() {
    let mut l = held();
    assert_eq!(
        refusal(l.apply(&post("p1", "nope", None), T0)),
        Refusal::PendingTransferNotFound {
            pending: tid("nope")
        }
    );
    assert_eq!(
        refusal(l.apply(&void("v1", "nope"), T0)),
        Refusal::PendingTransferNotFound {
            pending: tid("nope")
        }
    );
    assert_eq!(
        refusal(l.expire(&tid("nope"), T0)),
        Refusal::PendingTransferNotFound {
            pending: tid("nope")
        }
    );
    assert_eq!(
        refusal(l.apply(&post("p1", "g1", None), T0)),
        Refusal::PendingTransferNotPending { pending: tid("g1") }
    );
    assert_eq!(
        refusal(l.expire(&tid("g1"), T0)),
        Refusal::PendingTransferNotPending { pending: tid("g1") }
    );
}

#[test]
fn a_hold_record_without_its_state_row_is_not_found() {
    let l = held();
    let mut rows = l.rows().clone();
    rows.holds.clear();
    assert_eq!(
        refusal(plan(&rows, &post("p1", "h1", None), T0)),
        Refusal::PendingTransferNotFound { pending: tid("h1") }
    );
}

#[test]
fn a_hold_retried_after_posting_returns_the_hold() {
    let mut l = held();
    l.apply(&post("p1", "h1", None), T0).expect("post");
    let again = l
        .apply(&hold("h1", "alice", "revenue", 40, 600), T0 + 5)
        .expect("retry");
    let Planned::Exists(r) = again else {
        panic!("a retry")
    };
    assert_eq!((r.at, r.expires_at), (T0, Some(T0 + 600)));
}

#[test]
fn the_store_plans_against_just_the_rows_it_loaded() {
    let l = held();
    // What a store would load for posting h1: the hold, its state, its two accounts.
    let mut rows = Rows::default();
    for id in ["alice", "revenue"] {
        let a = l.account(&acc(id)).expect("account").clone();
        rows.accounts.insert(a.id.clone(), a);
    }
    let h = l.transfer(&tid("h1")).expect("hold").clone();
    rows.transfers.insert(tid("h1"), h);
    rows.holds.insert(tid("h1"), HoldState::Pending);
    let from_rows = plan(&rows, &post("p1", "h1", Some(5)), T0).expect("plan");
    let from_ledger = plan(&l, &post("p1", "h1", Some(5)), T0).expect("plan");
    assert_eq!(from_rows, from_ledger);
    let Planned::New(e) = from_rows else {
        panic!("new")
    };
    rows.write(&e);
    assert_eq!(rows.accounts[&acc("alice")].available(), 95);
}

#[test]
fn plans_and_records_round_trip_through_json() {
    let mut l = held();
    let planned = l.apply(&post("p1", "h1", Some(5)), T0).expect("post");
    let json = serde_json::to_value(&planned).expect("json");
    assert_eq!(json["outcome"], "new");
    assert_eq!(json["record"]["transfer"]["action"], "post");
    assert_eq!(json["hold"][1]["state"], "posted");
    assert_eq!(
        serde_json::from_value::<Planned>(json).expect("back"),
        planned
    );
    let record = l.transfer(&tid("h1")).expect("hold").clone();
    let json = serde_json::to_value(Planned::Exists(record.clone())).expect("json");
    assert_eq!(json["outcome"], "exists");
    assert_eq!(json["expires_at"], T0 + 600);
    assert_eq!(
        serde_json::from_value::<Planned>(json).expect("back"),
        Planned::Exists(record)
    );
    let alice = l.account(&acc("alice")).expect("alice").clone();
    let json = serde_json::to_value(&alice).expect("json");
    assert_eq!(json["kind"], "user_credits");
    assert_eq!(json["debits_posted"], 5);
    assert_eq!(
        serde_json::from_value::<Account>(json).expect("back"),
        alice
    );
}

#[test]
fn a_pending_hold_reads_as_expired_from_its_end() {
    let end = Some(T0 + 60);
    assert_eq!(HoldState::Pending.seen_at(end, T0 + 59), HoldState::Pending);
    assert_eq!(HoldState::Pending.seen_at(end, T0 + 60), HoldState::Expired);
    assert_eq!(HoldState::Pending.seen_at(None, T0), HoldState::Pending);
    let posted = HoldState::Posted { amount: 3 };
    assert_eq!(posted.seen_at(end, T0 + 100), posted);
    assert_eq!(HoldState::Voided.seen_at(end, T0 + 100), HoldState::Voided);
}
