//! Properties of the ledger over generated sequences of moves, holds, posts, voids, expiries,
//! linked chains, retries and clock ticks, run on the in-memory [`Ledger`] (the same planning
//! functions the store calls):
//!
//! - over all accounts, debits equal credits, pending and posted separately;
//! - no limited account is ever below zero, counting its outgoing holds;
//! - a refusal changes nothing, and a settled hold never changes state again;
//! - replaying any applied transfer or chain changes nothing and answers the first result;
//! - a posted transfer's effect is the negation of its reversal's;
//! - every account's history runs to its posted balance;
//! - lots pay exactly the amount, first-expiring first, never from an expired lot.

use faro_wallet_domain::history::running;
use faro_wallet_domain::lots::{Lot, allocate, usable};
use faro_wallet_domain::*;
use proptest::prelude::*;

const T0: i64 = 1_800_000_000;

const ACCOUNTS: [(&str, AccountKind); 7] = [
    ("alice", AccountKind::UserCredits),
    ("bob", AccountKind::UserCredits),
    ("budget", AccountKind::PromotionBudget),
    ("revenue", AccountKind::Revenue),
    ("issuance", AccountKind::Issuance),
    ("clearing", AccountKind::PaymentClearing),
    ("control", AccountKind::Control),
];

#[derive(Clone, Debug)]
enum Op {
    Move(usize, usize, i64),
    Hold(usize, usize, i64, i64),
    /// Post the n-th hold so far (modulo), all of it or part.
    Post(usize, Option<i64>),
    Void(usize),
    Expire(usize),
    ExpireDue,
    Tick(i64),
    Chain(Vec<(usize, usize, i64)>),
    /// Send the n-th applied transfer or chain again.
    Replay(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let account = 0..ACCOUNTS.len();
    prop_oneof![
        4 => (account.clone(), account.clone(), 1i64..300).prop_map(|(a, b, n)| Op::Move(a, b, n)),
        3 => (account.clone(), account.clone(), 1i64..300, 1i64..400)
            .prop_map(|(a, b, n, t)| Op::Hold(a, b, n, t)),
        2 => (0usize..50, prop::option::of(1i64..300)).prop_map(|(k, n)| Op::Post(k, n)),
        1 => (0usize..50).prop_map(Op::Void),
        1 => (0usize..50).prop_map(Op::Expire),
        1 => Just(Op::ExpireDue),
        2 => (0i64..200).prop_map(Op::Tick),
        1 => prop::collection::vec((account.clone(), account, 1i64..200), 1..4).prop_map(Op::Chain),
        1 => (0usize..100).prop_map(Op::Replay),
    ]
}

fn acc(i: usize) -> AccountId {
    AccountId::parse(ACCOUNTS[i].0).expect("id")
}

fn tid(s: String) -> TransferId {
    TransferId::parse(s).expect("id")
}

fn code() -> Code {
    Code::parse("test").expect("code")
}

fn opened() -> Ledger {
    let mut l = Ledger::default();
    let unit = Unit::parse("credits").expect("unit");
    for (id, kind) in ACCOUNTS {
        l.open(Account::open(
            AccountId::parse(id).expect("id"),
            unit.clone(),
            kind,
        ));
    }
    l
}

fn invariants(l: &Ledger) -> Result<(), TestCaseError> {
    let totals = l.totals();
    prop_assert!(totals.balanced(), "{totals:?}");
    for a in l.accounts() {
        prop_assert!(a.within_limit(&a.balance), "{a:?}");
        let b = a.balance;
        prop_assert!(b.debits_pending >= 0 && b.debits_posted >= 0);
        prop_assert!(b.credits_pending >= 0 && b.credits_posted >= 0);
        if a.kind.limit() != Limit::None {
            prop_assert!(a.available() >= 0, "{a:?}");
        }
    }
    Ok(())
}

/// After a new move or post: planning its reversal now succeeds and undoes it exactly.
fn reversal_negates(l: &Ledger, planned: &Planned, n: usize) -> Result<(), TestCaseError> {
    let Planned::New(done) = planned else {
        return Ok(());
    };
    let Some(record) = &done.record else {
        return Ok(());
    };
    let Some(back) = reversal(record, tid(format!("rev{n}")), code()) else {
        prop_assert!(record.posted().is_none());
        return Ok(());
    };
    let undo = plan(l, &back, T0);
    prop_assert!(matches!(undo, Ok(Planned::New(_))), "{undo:?}");
    if let Ok(Planned::New(undo)) = undo {
        prop_assert_eq!(&undo.debit.account, &done.credit.account);
        prop_assert_eq!(&undo.credit.account, &done.debit.account);
        prop_assert_eq!(undo.debit.net_posted(), -done.credit.net_posted());
        prop_assert_eq!(undo.credit.net_posted(), -done.debit.net_posted());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_ledger_always_balances_and_never_overdraws(ops in prop::collection::vec(op(), 1..80)) {
        let mut l = opened();
        // Fund the users and the budget so that spends can succeed.
        for (i, to) in [(0, 0), (1, 1), (2, 2)] {
            l.apply(&Transfer {
                id: tid(format!("fund{i}")),
                code: code(),
                action: Action::Move { debit: acc(4), credit: acc(to), amount: 500 },
            }, T0).expect("funding");
        }
        let mut now = T0;
        let mut holds: Vec<TransferId> = Vec::new();
        let mut applied: Vec<Vec<Transfer>> = Vec::new();
        let mut n = 0usize;
        for op in ops {
            n += 1;
            let before = l.clone();
            let states: Vec<Option<HoldState>> = holds.iter().map(|h| l.hold(h)).collect();
            let id = tid(format!("t{n}"));
            let single = |action| Transfer { id: id.clone(), code: code(), action };
            let hold_id = |k: usize| holds.get(k % holds.len().max(1)).cloned();
            let outcome: Option<Result<Vec<Planned>, String>> = match op {
                Op::Move(a, b, amount) => {
                    let t = single(Action::Move { debit: acc(a), credit: acc(b), amount });
                    Some(l.apply(&t, now).map(|p| { applied.push(vec![t]); vec![p] }).map_err(|e| e.to_string()))
                }
                Op::Hold(a, b, amount, timeout) => {
                    let t = single(Action::Hold { debit: acc(a), credit: acc(b), amount, timeout });
                    let r = l.apply(&t, now);
                    if r.is_ok() { holds.push(id.clone()); applied.push(vec![t]); }
                    Some(r.map(|p| vec![p]).map_err(|e| e.to_string()))
                }
                Op::Post(k, amount) => hold_id(k).map(|pending| {
                    let t = single(Action::Post { pending, amount });
                    l.apply(&t, now).map(|p| { applied.push(vec![t]); vec![p] }).map_err(|e| e.to_string())
                }),
                Op::Void(k) => hold_id(k).map(|pending| {
                    let t = single(Action::Void { pending });
                    l.apply(&t, now).map(|p| { applied.push(vec![t]); vec![p] }).map_err(|e| e.to_string())
                }),
                Op::Expire(k) => hold_id(k).map(|pending| {
                    l.expire(&pending, now).map(|()| vec![]).map_err(|e| e.to_string())
                }),
                Op::ExpireDue => {
                    for h in l.expire_due(now) {
                        prop_assert_eq!(l.hold(&h), Some(HoldState::Expired));
                    }
                    None
                }
                Op::Tick(dt) => { now += dt; None }
                Op::Chain(links) => {
                    let chain: Vec<Transfer> = links.iter().enumerate().map(|(i, &(a, b, amount))| Transfer {
                        id: tid(format!("t{n}.{i}")),
                        code: code(),
                        action: Action::Move { debit: acc(a), credit: acc(b), amount },
                    }).collect();
                    let r = l.apply_chain(&chain, now);
                    if r.is_ok() { applied.push(chain); }
                    Some(r.map_err(|e| e.to_string()))
                }
                Op::Replay(k) if !applied.is_empty() => {
                    let group = applied[k % applied.len()].clone();
                    let r = if group.len() == 1 {
                        l.apply(&group[0], now).map(|p| vec![p]).map_err(|e| e.to_string())
                    } else {
                        l.apply_chain(&group, now).map_err(|e| e.to_string())
                    };
                    prop_assert!(r.as_ref().is_ok_and(|ps| ps.iter().all(|p| matches!(p, Planned::Exists(_)))), "{r:?}");
                    prop_assert_eq!(&l, &before, "a replay changes nothing");
                    None
                }
                Op::Replay(_) => None,
            };
            match outcome {
                Some(Err(_)) => prop_assert_eq!(&l, &before, "a refusal changes nothing"),
                Some(Ok(planned)) => {
                    for p in &planned {
                        if let Planned::New(e) = p {
                            for c in [&e.debit, &e.credit] {
                                if planned.len() == 1 {
                                    // A chain's later links start from the earlier ones'.
                                    prop_assert_eq!(before.account(&c.account).map(|a| a.balance), Some(c.before));
                                }
                                prop_assert_eq!(c.delta(), c.after.minus(&c.before));
                            }
                            prop_assert_eq!(
                                e.debit.delta().debits_pending + e.debit.delta().debits_posted,
                                e.credit.delta().credits_pending + e.credit.delta().credits_posted
                            );
                        }
                    }
                    if let [single] = planned.as_slice() {
                        reversal_negates(&l, single, n)?;
                    }
                }
                None => {}
            }
            for (h, old) in holds.iter().zip(states) {
                if let Some(old) = old.filter(|s| *s != HoldState::Pending) {
                    prop_assert_eq!(l.hold(h), Some(old), "a settled hold stays settled");
                }
            }
            invariants(&l)?;
        }
        // Every applied transfer and chain, sent again in order, changes nothing.
        let end = l.clone();
        for group in &applied {
            let replayed = l.apply_chain(group, now + 10_000).expect("a replay");
            prop_assert!(replayed.iter().all(|p| matches!(p, Planned::Exists(_))));
        }
        prop_assert_eq!(&l, &end);
        // Every account's history runs to its posted balance.
        for a in l.accounts() {
            let normal = a.kind.normal();
            let lines = running(0, normal, &l.entries(&a.id)).expect("running");
            let last = lines.last().map_or(0, |line| line.balance);
            prop_assert_eq!(last, a.balance.posted(normal), "{:?}", a.id);
        }
    }

    #[test]
    fn lots_pay_exactly_and_first_expiring_first(
        spec in prop::collection::vec((0i64..100, prop::option::of(0i64..50)), 0..10),
        amount in 1i64..400,
        now in 0i64..50,
    ) {
        let lots: Vec<Lot> = spec.iter().enumerate().map(|(i, &(remaining, expires_at))| Lot {
            id: tid(format!("lot{i}")),
            remaining,
            expires_at,
        }).collect();
        let available = usable(&lots, now);
        match allocate(&lots, amount, now) {
            Err(r) => {
                prop_assert!(available < amount);
                prop_assert_eq!(r, Refusal::InsufficientFunds { available, amount });
            }
            Ok(draws) => {
                prop_assert!(available >= amount);
                prop_assert_eq!(draws.iter().map(|d| d.amount).sum::<i64>(), amount);
                let find = |id: &TransferId| lots.iter().find(|l| &l.id == id).expect("a drawn lot");
                let mut last_key = (false, None);
                for (i, d) in draws.iter().enumerate() {
                    let lot = find(&d.lot);
                    prop_assert!(lot.usable_at(now));
                    prop_assert!(d.amount > 0 && d.amount <= lot.remaining);
                    if i + 1 < draws.len() {
                        prop_assert_eq!(d.amount, lot.remaining, "only the last draw is partial");
                    }
                    let key = (lot.expires_at.is_none(), lot.expires_at);
                    prop_assert!(key >= last_key, "first-expiring first");
                    last_key = key;
                }
                // No usable lot that expires sooner than a drawn one was left untouched.
                for lot in lots.iter().filter(|l| l.usable_at(now)) {
                    let key = (lot.expires_at.is_none(), lot.expires_at);
                    if key < last_key {
                        prop_assert!(draws.iter().any(|d| d.lot == lot.id));
                    }
                }
            }
        }
    }
}
