//! An account's posted history with a running balance, and its balance at a past time. The
//! store pages through entries (a move's or a post's side on this account, in the order they
//! were applied); the page starts from the balance before its first entry, so every page's
//! running balance is exact without reading the whole history.

use serde::{Deserialize, Serialize};

use crate::account::Side;
use crate::refusal::Refusal;
use crate::transfer::Entry;

/// One entry and the balance just after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    #[serde(flatten)]
    pub entry: Entry,
    pub balance: i64,
}

/// Running balances of `entries` (in order), starting from `opening` and read on the
/// account's `normal` side. `overflow` if a balance leaves the range (only corrupt input can).
pub fn running(opening: i64, normal: Side, entries: &[Entry]) -> Result<Vec<Line>, Refusal> {
    let mut balance = opening;
    entries
        .iter()
        .map(|entry| {
            balance = balance
                .checked_add(entry.delta(normal))
                .ok_or(Refusal::Overflow)?;
            Ok(Line {
                entry: entry.clone(),
                balance,
            })
        })
        .collect()
}

/// The posted balance at the end of second `at` (entries at or before it count).
pub fn balance_at(normal: Side, entries: &[Entry], at: i64) -> Result<i64, Refusal> {
    entries
        .iter()
        .filter(|e| e.at <= at)
        .try_fold(0i64, |sum, e| {
            sum.checked_add(e.delta(normal)).ok_or(Refusal::Overflow)
        })
}
