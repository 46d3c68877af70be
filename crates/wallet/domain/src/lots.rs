//! Credit lots: credits granted with an expiry. A tenant may grant credits that expire (a
//! welcome bonus valid 30 days); bought credits never do. The ledger's balance does not know
//! about lots; the store keeps, per user, the lots and what remains of each, and uses these
//! functions to decide which lots a spend draws on and what an expiry run takes away (as a
//! transfer to the tenant's breakage account, so expiry is in the history like anything).
//!
//! Spending draws the first-expiring lot first, so the user loses as little as possible;
//! lots that never expire go last. Ties keep the order given (grant order). A lot is usable
//! while `now < expires_at`.

use serde::{Deserialize, Serialize};

use crate::ids::TransferId;
use crate::refusal::Refusal;

/// What remains of one grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// The grant's transfer.
    pub id: TransferId,
    pub remaining: i64,
    /// Unix seconds; `None`: never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl Lot {
    pub fn usable_at(&self, now: i64) -> bool {
        self.remaining > 0 && self.expires_at.is_none_or(|at| now < at)
    }
}

/// An amount taken from one lot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub lot: TransferId,
    pub amount: i64,
}

/// The credits usable at `now` (saturating: past `i64::MAX` is more than anything can cost).
pub fn usable(lots: &[Lot], now: i64) -> i64 {
    lots.iter()
        .filter(|l| l.usable_at(now))
        .fold(0i64, |sum, l| sum.saturating_add(l.remaining))
}

/// Which lots pay `amount` at `now`, and how much each: first-expiring first, never-expiring
/// last. Refused with `insufficient_funds` when the unexpired lots have not got it.
pub fn allocate(lots: &[Lot], amount: i64, now: i64) -> Result<Vec<Draw>, Refusal> {
    if amount <= 0 {
        return Err(Refusal::AmountMustBePositive);
    }
    let available = usable(lots, now);
    if available < amount {
        return Err(Refusal::InsufficientFunds { available, amount });
    }
    let mut order: Vec<&Lot> = lots.iter().filter(|l| l.usable_at(now)).collect();
    // Stable: equal expiries keep the order given.
    order.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at));
    let mut left = amount;
    let mut draws = Vec::new();
    for lot in order {
        if left == 0 {
            break;
        }
        let take = lot.remaining.min(left);
        left -= take;
        draws.push(Draw {
            lot: lot.id.clone(),
            amount: take,
        });
    }
    Ok(draws)
}

/// What expires at `now`: the remainder of every lot whose expiry has come.
pub fn expired(lots: &[Lot], now: i64) -> Vec<Draw> {
    lots.iter()
        .filter(|l| l.remaining > 0 && l.expires_at.is_some_and(|at| now >= at))
        .map(|l| Draw {
            lot: l.id.clone(),
            amount: l.remaining,
        })
        .collect()
}

/// The next time something expires after `now`, and how much (for "50 credits expire on …").
pub fn next_expiry(lots: &[Lot], now: i64) -> Option<(i64, i64)> {
    let at = lots
        .iter()
        .filter(|l| l.usable_at(now))
        .filter_map(|l| l.expires_at)
        .min()?;
    let amount = lots
        .iter()
        .filter(|l| l.usable_at(now) && l.expires_at == Some(at))
        .fold(0i64, |sum, l| sum.saturating_add(l.remaining));
    Some((at, amount))
}
