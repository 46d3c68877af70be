//! Unit tests by area, with the helpers they share.

mod chains;
mod holds;
mod lots_and_history;
mod transfers;

use crate::*;

pub(crate) const T0: i64 = 1_800_000_000;

pub(crate) fn acc(s: &str) -> AccountId {
    AccountId::parse(s).expect("a valid account id")
}

pub(crate) fn tid(s: &str) -> TransferId {
    TransferId::parse(s).expect("a valid transfer id")
}

pub(crate) fn code(s: &str) -> Code {
    Code::parse(s).expect("a valid code")
}

/// A ledger in credits with a user (`alice`, `bob`), revenue, issuance, breakage and a control
/// account, all empty.
pub(crate) fn ledger() -> Ledger {
    let mut l = Ledger::default();
    let credits = Unit::parse("credits").expect("unit");
    for (id, kind) in [
        ("alice", AccountKind::UserCredits),
        ("bob", AccountKind::UserCredits),
        ("revenue", AccountKind::Revenue),
        ("issuance", AccountKind::Issuance),
        ("breakage", AccountKind::Breakage),
        ("control", AccountKind::Control),
    ] {
        l.open(Account::open(acc(id), credits.clone(), kind));
    }
    let points = Unit::parse("points").expect("unit");
    l.open(Account::open(
        acc("alice_points"),
        points.clone(),
        AccountKind::UserPoints,
    ));
    l.open(Account::open(
        acc("points_pool"),
        points,
        AccountKind::PointsPool,
    ));
    l
}

pub(crate) fn mv(id: &str, debit: &str, credit: &str, amount: i64) -> Transfer {
    Transfer {
        id: tid(id),
        code: code("test"),
        action: Action::Move {
            debit: acc(debit),
            credit: acc(credit),
            amount,
        },
    }
}

pub(crate) fn hold(id: &str, debit: &str, credit: &str, amount: i64, timeout: i64) -> Transfer {
    Transfer {
        id: tid(id),
        code: code("test"),
        action: Action::Hold {
            debit: acc(debit),
            credit: acc(credit),
            amount,
            timeout,
        },
    }
}

pub(crate) fn post(id: &str, pending: &str, amount: Option<i64>) -> Transfer {
    Transfer {
        id: tid(id),
        code: code("test"),
        action: Action::Post {
            pending: tid(pending),
            amount,
        },
    }
}

pub(crate) fn void(id: &str, pending: &str) -> Transfer {
    Transfer {
        id: tid(id),
        code: code("test"),
        action: Action::Void {
            pending: tid(pending),
        },
    }
}

/// Grants `amount` credits to `user` from issuance.
pub(crate) fn grant(l: &mut Ledger, id: &str, user: &str, amount: i64) {
    l.apply(&mv(id, "issuance", user, amount), T0)
        .expect("a grant from issuance");
}

pub(crate) fn bal(l: &Ledger, id: &str) -> Balance {
    l.account(&acc(id)).expect("an open account").balance
}

pub(crate) fn available(l: &Ledger, id: &str) -> i64 {
    l.account(&acc(id)).expect("an open account").available()
}

pub(crate) fn refusal<T: std::fmt::Debug>(r: Result<T, Refusal>) -> Refusal {
    r.expect_err("a refusal")
}
