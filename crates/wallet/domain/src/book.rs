//! What planning reads: the rows a transfer touches. The store loads them inside its
//! transaction (locking the account rows) into [`Rows`], or implements [`Book`] over its own
//! structs; the in-memory [`Ledger`](crate::Ledger) is a `Rows` holding everything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::account::{Account, Balance};
use crate::ids::{AccountId, TransferId};
use crate::transfer::{HoldState, Record};

/// Read access to accounts, transfers and holds' states. Planning a transfer reads its two
/// accounts and the record with its id; a post, void or expiry reads the hold's record and
/// state and then the hold's accounts.
pub trait Book {
    fn account(&self, id: &AccountId) -> Option<&Account>;
    fn transfer(&self, id: &TransferId) -> Option<&Record>;
    /// A hold's state; `None` for a transfer that is not a hold (or does not exist).
    fn hold(&self, id: &TransferId) -> Option<HoldState>;
}

/// One account's balance before and after a transfer: exactly the fields the store writes
/// (`after`, under the row lock it took to read `before`, or as the [`delta`](Change::delta)
/// added in SQL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub account: AccountId,
    pub before: Balance,
    pub after: Balance,
}

impl Change {
    /// `after - before`, field by field.
    pub fn delta(&self) -> Balance {
        self.after.minus(&self.before)
    }

    /// The change to the posted balance read on the credit side (`credits - debits`):
    /// a reversal's is the opposite of the original's.
    pub fn net_posted(&self) -> i64 {
        let d = self.delta();
        d.credits_posted - d.debits_posted
    }
}

/// Everything one transfer (or one expiry) writes: the record to append (none for an expiry,
/// which only changes the hold's state), both accounts' balances, and a hold's new state (a
/// new hold's `Pending`, or what a post, void or expiry made of it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effects {
    pub record: Option<Record>,
    pub debit: Change,
    pub credit: Change,
    pub hold: Option<(TransferId, HoldState)>,
}

/// What planning a transfer found: something new to write, or the first result of a retry
/// (nothing to write).
// One per transfer, returned and consumed at once: boxing the larger variant would cost an
// allocation on every transfer to save a few hundred bytes of stack.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Planned {
    New(Effects),
    Exists(Record),
}

impl Planned {
    /// The transfer's record: the new one, or the first.
    pub fn record(&self) -> Option<&Record> {
        match self {
            Planned::New(e) => e.record.as_ref(),
            Planned::Exists(r) => Some(r),
        }
    }
}

/// Rows by id: what the store loaded for one transaction, or the whole in-memory ledger.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rows {
    pub accounts: BTreeMap<AccountId, Account>,
    pub transfers: BTreeMap<TransferId, Record>,
    pub holds: BTreeMap<TransferId, HoldState>,
}

impl Rows {
    /// Writes `effects` as the store would: appends the record, sets both balances, sets the
    /// hold's state. Effects planned against these rows always name accounts they hold.
    pub fn write(&mut self, effects: &Effects) {
        if let Some(record) = &effects.record {
            self.transfers.insert(record.id().clone(), record.clone());
        }
        for change in [&effects.debit, &effects.credit] {
            if let Some(account) = self.accounts.get_mut(&change.account) {
                account.balance = change.after;
            }
        }
        if let Some((id, state)) = &effects.hold {
            self.holds.insert(id.clone(), *state);
        }
    }
}

impl Book for Rows {
    fn account(&self, id: &AccountId) -> Option<&Account> {
        self.accounts.get(id)
    }

    fn transfer(&self, id: &TransferId) -> Option<&Record> {
        self.transfers.get(id)
    }

    fn hold(&self, id: &TransferId) -> Option<HoldState> {
        self.holds.get(id).copied()
    }
}
