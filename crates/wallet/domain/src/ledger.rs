//! The in-memory ledger: [`Rows`] holding every account, transfer and hold, written only
//! through the same [`plan`], [`plan_chain`] and [`plan_expiry`] the store calls. It is the
//! model the property tests run against, and a reference for what the store must do.

use serde::{Deserialize, Serialize};

use crate::account::{Account, Side};
use crate::book::{Book, Planned, Rows};
use crate::chain::plan_chain;
use crate::ids::{AccountId, TransferId};
use crate::plan::{plan, plan_expiry};
use crate::refusal::{ChainRefusal, Refusal};
use crate::transfer::{Entry, HoldState, Record, Transfer};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    rows: Rows,
    /// Record ids in the order they were applied (what a history is ordered by).
    log: Vec<TransferId>,
}

/// The four sums over every account. Double entry means the debits equal the credits, pending
/// and posted separately. Wide, since many accounts' sums can pass one account's range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub debits_pending: i128,
    pub debits_posted: i128,
    pub credits_pending: i128,
    pub credits_posted: i128,
}

impl Totals {
    pub fn balanced(&self) -> bool {
        self.debits_pending == self.credits_pending && self.debits_posted == self.credits_posted
    }
}

impl Ledger {
    /// Opens `account` (with the balance it carries). `false`, changing nothing, if one with
    /// its id exists.
    pub fn open(&mut self, account: Account) -> bool {
        if self.rows.accounts.contains_key(&account.id) {
            return false;
        }
        self.rows.accounts.insert(account.id.clone(), account);
        true
    }

    /// Plans and writes one transfer.
    pub fn apply(&mut self, transfer: &Transfer, now: i64) -> Result<Planned, Refusal> {
        let planned = plan(&self.rows, transfer, now)?;
        self.write(&planned);
        Ok(planned)
    }

    /// Plans and writes a linked chain: all of it, or nothing.
    pub fn apply_chain(
        &mut self,
        chain: &[Transfer],
        now: i64,
    ) -> Result<Vec<Planned>, ChainRefusal> {
        let planned = plan_chain(&self.rows, chain, now)?;
        for p in &planned {
            self.write(p);
        }
        Ok(planned)
    }

    /// Expires the hold `pending` (its timeout must have passed).
    pub fn expire(&mut self, pending: &TransferId, now: i64) -> Result<(), Refusal> {
        let effects = plan_expiry(&self.rows, pending, now)?;
        self.rows.write(&effects);
        Ok(())
    }

    /// Expires every hold whose timeout has passed, as the store's job does; their ids.
    pub fn expire_due(&mut self, now: i64) -> Vec<TransferId> {
        let due: Vec<TransferId> = self
            .rows
            .holds
            .iter()
            .filter(|(id, state)| {
                **state == HoldState::Pending
                    && self
                        .rows
                        .transfers
                        .get(*id)
                        .and_then(|r| r.expires_at)
                        .is_some_and(|at| now >= at)
            })
            .map(|(id, _)| id.clone())
            .collect();
        due.into_iter()
            .filter(|id| self.expire(id, now).is_ok())
            .collect()
    }

    fn write(&mut self, planned: &Planned) {
        if let Planned::New(effects) = planned {
            if let Some(record) = &effects.record {
                self.log.push(record.id().clone());
            }
            self.rows.write(effects);
        }
    }

    pub fn account(&self, id: &AccountId) -> Option<&Account> {
        self.rows.accounts.get(id)
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.rows.accounts.values()
    }

    /// Every record, in the order applied.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.log.iter().filter_map(|id| self.rows.transfers.get(id))
    }

    /// `account`'s posted entries, in the order applied.
    pub fn entries(&self, account: &AccountId) -> Vec<Entry> {
        self.records().filter_map(|r| r.entry(account)).collect()
    }

    /// The side `account`'s balance is read on.
    pub fn normal(&self, account: &AccountId) -> Option<Side> {
        self.account(account).map(|a| a.kind.normal())
    }

    pub fn totals(&self) -> Totals {
        self.accounts().fold(Totals::default(), |t, a| Totals {
            debits_pending: t.debits_pending + i128::from(a.balance.debits_pending),
            debits_posted: t.debits_posted + i128::from(a.balance.debits_posted),
            credits_pending: t.credits_pending + i128::from(a.balance.credits_pending),
            credits_posted: t.credits_posted + i128::from(a.balance.credits_posted),
        })
    }

    /// The rows, for planning against them directly.
    pub fn rows(&self) -> &Rows {
        &self.rows
    }
}

impl Book for Ledger {
    fn account(&self, id: &AccountId) -> Option<&Account> {
        self.rows.account(id)
    }

    fn transfer(&self, id: &TransferId) -> Option<&Record> {
        self.rows.transfer(id)
    }

    fn hold(&self, id: &TransferId) -> Option<HoldState> {
        self.rows.hold(id)
    }
}
