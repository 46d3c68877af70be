//! Accounts and their balances. A balance is four running sums, TigerBeetle's: debits and
//! credits, each pending (held) and posted. They only grow, except that a hold's pending
//! amount leaves when it is posted, voided or expires; nothing else ever lowers them, so a
//! balance row is always the sum of the transfers that touched it and can be rebuilt from
//! them. What an account may do is fixed by its [`AccountKind`]: which side must cover the
//! other.

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, Unit};
use crate::refusal::Refusal;

/// Which side an account's balance grows on (its normal side, as accountants say).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Debit,
    Credit,
}

/// The rule that keeps an account from going below zero (TigerBeetle's two flags; at most one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Debits (pending and posted) never exceed posted credits: you spend what you were given.
    DebitsMustNotExceedCredits,
    /// Credits (pending and posted) never exceed posted debits: you take back no more than
    /// you gave out.
    CreditsMustNotExceedDebits,
    /// No limit either way.
    None,
}

/// What an account is for. The kind decides the [`Limit`]; the store keeps the kind (a word in
/// a TEXT column), never the flags, so one enum says what every account of the wallet may do.
///
/// Value flows from the accounts that hand it out (debit-normal: issuance, payment clearing,
/// the points pool) to those that hold it (credit-normal: users, budgets, revenue, breakage).
/// Both kinds are limited, each on its own side: a user cannot spend credits they do not
/// have, and a grant cannot be taken back from issuance more than it was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// A user's credits: granted and bought into it (credits), spent out of it (debits).
    UserCredits,
    /// A user's points, when points move onto the ledger (the redemption's first leg).
    UserPoints,
    /// A promotion's budget (in credits, money or `uses`): funded first, each use draws on it,
    /// a checkout holds it; it can never be exceeded.
    PromotionBudget,
    /// A tenant's revenue: what users spent on items. Refunds come out of it, never more than
    /// came in.
    Revenue,
    /// Credits that expired unspent land here (breakage), so expiry is a transfer like any.
    Breakage,
    /// Where a tenant's granted credits (and a budget's funding) come from: its balance is
    /// what is outstanding. Debit-normal.
    Issuance,
    /// Where points come from and go back to on redemption: its balance is the points users
    /// hold. Debit-normal.
    PointsPool,
    /// Credits bought with money enter through the payment provider's clearing account.
    /// Debit-normal: a refund can return no more than was paid in.
    PaymentClearing,
    /// An operator's suspense account for corrections that fit nowhere else: no limit.
    Control,
}

impl AccountKind {
    pub fn limit(self) -> Limit {
        use AccountKind::*;
        match self {
            UserCredits | UserPoints | PromotionBudget | Revenue | Breakage => {
                Limit::DebitsMustNotExceedCredits
            }
            Issuance | PointsPool | PaymentClearing => Limit::CreditsMustNotExceedDebits,
            Control => Limit::None,
        }
    }

    /// The side the balance grows on (a control account reads like a holding one).
    pub fn normal(self) -> Side {
        match self.limit() {
            Limit::CreditsMustNotExceedDebits => Side::Debit,
            Limit::DebitsMustNotExceedCredits | Limit::None => Side::Credit,
        }
    }
}

/// An account's four running sums, in the ledger's unit (integer minor units, never below 0).
/// Also used for a [`Change`](crate::Change)'s field-by-field difference, where entries may be
/// negative.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Balance {
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

impl Balance {
    /// `self - other`, field by field (a delta; the fields of two balances never overflow it).
    pub fn minus(&self, other: &Balance) -> Balance {
        Balance {
            debits_pending: self.debits_pending - other.debits_pending,
            debits_posted: self.debits_posted - other.debits_posted,
            credits_pending: self.credits_pending - other.credits_pending,
            credits_posted: self.credits_posted - other.credits_posted,
        }
    }

    /// `debits_pending + debits_posted`, or `None` past `i64::MAX`.
    pub fn debits(&self) -> Option<i64> {
        self.debits_pending.checked_add(self.debits_posted)
    }

    /// `credits_pending + credits_posted`, or `None` past `i64::MAX`.
    pub fn credits(&self) -> Option<i64> {
        self.credits_pending.checked_add(self.credits_posted)
    }

    /// Posted only, on the normal side (`credits_posted - debits_posted` for a credit-normal
    /// account): what the history's running balance ends at.
    pub fn posted(&self, normal: Side) -> i64 {
        match normal {
            Side::Credit => self.credits_posted.saturating_sub(self.debits_posted),
            Side::Debit => self.debits_posted.saturating_sub(self.credits_posted),
        }
    }

    /// What can still be spent: posted, less the holds going out. Holds count at once so
    /// that two checkouts cannot both promise the same last credits; incoming holds do not
    /// count until posted, since they may still be voided.
    pub fn available(&self, normal: Side) -> i64 {
        self.posted(normal)
            .saturating_sub(self.outgoing_pending(normal))
    }

    /// The holds going out (what the wallet shows as `pending`).
    pub fn outgoing_pending(&self, normal: Side) -> i64 {
        match normal {
            Side::Credit => self.debits_pending,
            Side::Debit => self.credits_pending,
        }
    }
}

/// One account row: what the store loads (and locks) before planning a transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub unit: Unit,
    pub kind: AccountKind,
    #[serde(flatten)]
    pub balance: Balance,
}

impl Account {
    /// A new account, all sums zero.
    pub fn open(id: AccountId, unit: Unit, kind: AccountKind) -> Account {
        Account {
            id,
            unit,
            kind,
            balance: Balance::default(),
        }
    }

    pub fn available(&self) -> i64 {
        self.balance.available(self.kind.normal())
    }

    pub fn pending(&self) -> i64 {
        self.balance.outgoing_pending(self.kind.normal())
    }

    /// Whether `balance` keeps this account's limit, counting pendings: the invariant every
    /// new debit or credit is checked against before it is written.
    pub fn within_limit(&self, balance: &Balance) -> bool {
        match self.kind.limit() {
            Limit::DebitsMustNotExceedCredits => balance
                .debits()
                .is_some_and(|d| d <= balance.credits_posted),
            Limit::CreditsMustNotExceedDebits => balance
                .credits()
                .is_some_and(|c| c <= balance.debits_posted),
            Limit::None => true,
        }
    }

    /// Refuses adding `amount` on `side` if that breaks the limit of that side, as
    /// TigerBeetle does: a debit is checked against `debits_must_not_exceed_credits`, a credit
    /// against the reverse, pendings included. Only movements that add are checked: posting,
    /// voiding or expiring a hold only ever bring an account back towards its limit, so they
    /// are never refused for it. Checked before overflow, so that spending far too much reads
    /// as `insufficient_funds`, not as an overflow.
    pub(crate) fn check_limit(&self, side: Side, amount: i64) -> Result<(), Refusal> {
        let b = &self.balance;
        let available = self.available();
        match (side, self.kind.limit()) {
            (Side::Debit, Limit::DebitsMustNotExceedCredits)
                if b.debits().is_none_or(|d| amount > b.credits_posted - d) =>
            {
                Err(Refusal::InsufficientFunds { available, amount })
            }
            (Side::Credit, Limit::CreditsMustNotExceedDebits)
                if b.credits().is_none_or(|c| amount > b.debits_posted - c) =>
            {
                Err(Refusal::ExceedsDebits { available, amount })
            }
            _ => Ok(()),
        }
    }
}

/// Adds signed `pending` and `posted` to one side of `b`, refusing a sum past `i64::MAX` (or
/// below zero, which a correct plan never asks for) and keeping `pending + posted` within
/// range on that side, so no later read of the account can overflow either.
pub(crate) fn shift(b: Balance, side: Side, pending: i64, posted: i64) -> Result<Balance, Refusal> {
    let add = |v: i64, d: i64| {
        v.checked_add(d)
            .filter(|n| *n >= 0)
            .ok_or(Refusal::Overflow)
    };
    let mut out = b;
    match side {
        Side::Debit => {
            out.debits_pending = add(b.debits_pending, pending)?;
            out.debits_posted = add(b.debits_posted, posted)?;
            out.debits().ok_or(Refusal::Overflow)?;
        }
        Side::Credit => {
            out.credits_pending = add(b.credits_pending, pending)?;
            out.credits_posted = add(b.credits_posted, posted)?;
            out.credits().ok_or(Refusal::Overflow)?;
        }
    }
    Ok(out)
}
