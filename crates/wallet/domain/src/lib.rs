//! The wallet's pure core: the double-entry credits ledger (transfers, holds, balances),
//! credit lots that expire, and the arithmetic the wallet's store and use cases call inside
//! their transactions. No I/O, no async, no clock: every function takes the rows it reads and
//! an explicit `now` (unix seconds), so the store can call it between its reads and writes in
//! one transaction, and tests can walk every edge.
//!
//! The shape is TigerBeetle's. Every movement is a transfer from one account (debit) to
//! another (credit) in one unit, in integer minor units, so value is never created or lost:
//! over all accounts, debits equal credits. Balances are four running sums per account
//! (debits and credits, pending and posted), derived from the append-only transfers and never
//! set by hand; an account kind decides which side may not exceed the other, so a user's
//! credits never go below zero. Arithmetic is checked: an overflow is a refusal, never a panic
//! or a wrap. Transfer ids come from the caller, so a retry returns the first result.
//!
//! | file | decides |
//! |---|---|
//! | [`ids`] | account, transfer, unit and code names, checked once |
//! | [`account`] | account kinds and their limits; balances, available and pending |
//! | [`transfer`] | what a caller asks (move, hold, post, void) and what is kept (records, hold states, entries) |
//! | [`book`] | what planning reads ([`Book`], [`Rows`]) and writes ([`Effects`], [`Change`]) |
//! | [`plan`](mod@plan) | one transfer or one expiry: refused, a retry, or exactly what to write |
//! | [`chain`] | linked transfers, all or nothing |
//! | [`reversal`](mod@reversal) | corrections as transfers the other way, never edits |
//! | [`lots`] | expiring credits: which lots pay, what expires |
//! | [`history`] | running balances and the balance at a past time |
//! | [`refusal`] | every refusal, with a stable code and a message |
//! | [`ledger`] | the in-memory ledger the property tests run: the same functions over maps |

pub mod account;
pub mod book;
pub mod chain;
pub mod history;
pub mod ids;
pub mod ledger;
pub mod lots;
pub mod plan;
pub mod refusal;
pub mod reversal;
pub mod transfer;

pub use account::{Account, AccountKind, Balance, Limit, Side};
pub use book::{Book, Change, Effects, Planned, Rows};
pub use chain::plan_chain;
pub use ids::{AccountId, Code, TransferId, Unit};
pub use ledger::{Ledger, Totals};
pub use plan::{plan, plan_expiry};
pub use refusal::{ChainRefusal, Refusal};
pub use reversal::{CORRECTIONS, checked_reversal, reversal};
pub use transfer::{Action, Entry, HoldState, MAX_TIMEOUT, Record, Transfer};

#[cfg(test)]
mod tests;
