//! Transfers: what a caller asks for ([`Transfer`]) and what the ledger keeps of it
//! ([`Record`]). A transfer moves an amount from one account (debit) to another (credit) at
//! once, or holds it for a while (a pending transfer, TigerBeetle's two-phase transfer) until a
//! later transfer posts or voids the hold, or its timeout passes. Records are never edited or
//! deleted: a mistake is corrected by a [reversal](crate::reversal::reversal), so the history stays what
//! happened and every balance can be rebuilt from it.

use serde::{Deserialize, Serialize};

use crate::account::Side;
use crate::ids::{AccountId, Code, TransferId};

/// The longest hold (seconds): a year. Holds always expire, so a forgotten checkout cannot lock
/// a user's credits or a promotion's budget for ever.
pub const MAX_TIMEOUT: i64 = 366 * 86_400;

/// A transfer as the caller sends it. The id is the caller's: sending the same transfer again
/// (a retry after a lost answer) returns the first result instead of moving value twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: TransferId,
    pub code: Code,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Moves `amount` at once (posted).
    Move {
        debit: AccountId,
        credit: AccountId,
        amount: i64,
    },
    /// Holds `amount` for `timeout` seconds: it leaves the debit account's available balance
    /// now and arrives in the credit account only when posted.
    Hold {
        debit: AccountId,
        credit: AccountId,
        amount: i64,
        timeout: i64,
    },
    /// Posts the hold `pending`: all of it (`amount: None`), or part, releasing the rest.
    Post {
        pending: TransferId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
    },
    /// Releases the hold `pending` entirely.
    Void { pending: TransferId },
}

impl Transfer {
    /// The accounts a move or hold names (a post or void takes them from its hold).
    pub fn accounts(&self) -> Option<(&AccountId, &AccountId)> {
        match &self.action {
            Action::Move { debit, credit, .. } | Action::Hold { debit, credit, .. } => {
                Some((debit, credit))
            }
            Action::Post { .. } | Action::Void { .. } => None,
        }
    }

    /// The hold a post or void names.
    pub fn pending(&self) -> Option<&TransferId> {
        match &self.action {
            Action::Post { pending, .. } | Action::Void { pending } => Some(pending),
            Action::Move { .. } | Action::Hold { .. } => None,
        }
    }
}

/// A transfer as the ledger keeps it: the request as sent (what a retry is compared with) and
/// what it resolved to. For a post or void, `debit` and `credit` are the hold's accounts and
/// `amount` what was posted or released.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub transfer: Transfer,
    pub debit: AccountId,
    pub credit: AccountId,
    pub amount: i64,
    /// When it was applied (unix seconds, the `now` it was planned with).
    pub at: i64,
    /// A hold's end: `at + timeout`; usable while `now < expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl Record {
    pub fn id(&self) -> &TransferId {
        &self.transfer.id
    }

    pub fn is_hold(&self) -> bool {
        matches!(self.transfer.action, Action::Hold { .. })
    }

    /// The amount this record posted (a move's or a post's), if it posted anything: holds and
    /// voids touch pending sums only and are not in the posted history.
    pub fn posted(&self) -> Option<i64> {
        match self.transfer.action {
            Action::Move { .. } | Action::Post { .. } => Some(self.amount),
            Action::Hold { .. } | Action::Void { .. } => None,
        }
    }

    /// This record's line in `account`'s posted history, if it posted to that account.
    pub fn entry(&self, account: &AccountId) -> Option<Entry> {
        let amount = self.posted()?;
        let side = if *account == self.debit {
            Side::Debit
        } else if *account == self.credit {
            Side::Credit
        } else {
            return None;
        };
        Some(Entry {
            transfer: self.id().clone(),
            code: self.transfer.code.clone(),
            at: self.at,
            side,
            amount,
        })
    }
}

/// Where a hold stands. Kept beside the hold's record (its one mutable field in the store):
/// only `Pending` may move, and only once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HoldState {
    Pending,
    /// Posted for `amount` (at most the hold's; the rest went back).
    Posted {
        amount: i64,
    },
    Voided,
    Expired,
}

impl HoldState {
    /// The state as a caller sees it at `now`: a pending hold past its `expires_at` can no
    /// longer be posted or voided, so it reads as `Expired` before the expiry job has written
    /// it (until then its amount still counts as held).
    pub fn seen_at(self, expires_at: Option<i64>, now: i64) -> HoldState {
        match (self, expires_at) {
            (HoldState::Pending, Some(end)) if now >= end => HoldState::Expired,
            (state, _) => state,
        }
    }
}

/// One posted line of an account's history: `amount` on `side` of the account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub transfer: TransferId,
    pub code: Code,
    pub at: i64,
    pub side: Side,
    pub amount: i64,
}

impl Entry {
    /// The signed change to a balance read on the `normal` side.
    pub fn delta(&self, normal: Side) -> i64 {
        if self.side == normal {
            self.amount
        } else {
            -self.amount
        }
    }
}
