//! The points ledger's arithmetic. Points are append-only entries (awards, redemptions,
//! reversals, expiries); the balance is their sum, never stored apart from them. Lifetime
//! points (what levels and leaderboards count) are what was earned: awards less their
//! reversals; spending points on credits does not lower a level.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Earned by a rule, a badge, a challenge or a streak milestone (positive).
    Award,
    /// Spent on credits (negative).
    Redemption,
    /// Staff took an award back, with a reason (negative; the award's amount at most).
    Reversal,
    /// Points past the tenant's expiry (negative).
    Expiry,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// Signed: positive for awards, negative for the rest.
    pub points: i64,
}

/// The spendable balance: the sum of every entry.
pub fn balance(entries: &[Entry]) -> i64 {
    entries.iter().map(|e| e.points).sum()
}

/// Points earned: awards less reversals (redemptions and expiries are not taken off).
pub fn lifetime(entries: &[Entry]) -> i64 {
    entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Award | EntryKind::Reversal))
        .map(|e| e.points)
        .sum()
}

/// How points turn into credits (the demo's: 100 points = 1 credit, at least 100 at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub points_per_credit: i64,
    pub min_points: i64,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            points_per_credit: 100,
            min_points: 100,
        }
    }
}

/// A redemption as it will be written: the points taken and the credits given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redemption {
    pub points: i64,
    pub credits: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedeemError {
    /// Under the minimum, or not a whole number of credits.
    BadAmount(String),
    /// More than the balance.
    Insufficient { balance: i64 },
}

/// Redeems `points` of `balance` at `rate`: a whole number of credits, at least the minimum,
/// never more than the balance.
pub fn redeem(balance: i64, points: i64, rate: Rate) -> Result<Redemption, RedeemError> {
    if points < rate.min_points.max(1) {
        return Err(RedeemError::BadAmount(format!(
            "at least {} points",
            rate.min_points.max(1)
        )));
    }
    if points % rate.points_per_credit != 0 {
        return Err(RedeemError::BadAmount(format!(
            "a multiple of {} points (one credit each)",
            rate.points_per_credit
        )));
    }
    if points > balance {
        return Err(RedeemError::Insufficient { balance });
    }
    Ok(Redemption {
        points,
        credits: points / rate.points_per_credit,
    })
}

/// How much of an award of `awarded` points may still be reversed, given the reversals of it
/// so far (`reversed`, negative or zero).
pub fn reversible(awarded: i64, reversed: i64) -> i64 {
    (awarded + reversed).max(0)
}

/// The points a reversal of `asked` points takes back: at most what is left of the award and
/// of the balance, since points already spent on credits stay spent (the balance never goes
/// negative). 0: nothing to take.
pub fn reversal(awarded: i64, reversed: i64, balance: i64, asked: i64) -> i64 {
    asked.min(reversible(awarded, reversed)).min(balance).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redemption_rules() {
        let rate = Rate::default();
        assert_eq!(
            redeem(1000, 300, rate),
            Ok(Redemption {
                points: 300,
                credits: 3
            })
        );
        assert!(matches!(
            redeem(1000, 50, rate),
            Err(RedeemError::BadAmount(_))
        ));
        assert!(matches!(
            redeem(1000, 150, rate),
            Err(RedeemError::BadAmount(_))
        ));
        assert!(matches!(
            redeem(1000, 0, rate),
            Err(RedeemError::BadAmount(_))
        ));
        assert_eq!(
            redeem(250, 300, rate),
            Err(RedeemError::Insufficient { balance: 250 })
        );
        assert_eq!(reversible(50, 0), 50);
        assert_eq!(reversible(50, -50), 0);
        assert_eq!(
            reversal(50, -20, 1000, 100),
            30,
            "what is left of the award"
        );
        assert_eq!(reversal(50, 0, 10, 50), 10, "what is left of the balance");
        assert_eq!(reversal(50, 0, 0, 50), 0);
    }

    #[test]
    fn balance_and_lifetime() {
        let e = |kind, points| Entry { kind, points };
        let entries = [
            e(EntryKind::Award, 500),
            e(EntryKind::Award, 50),
            e(EntryKind::Redemption, -300),
            e(EntryKind::Reversal, -50),
            e(EntryKind::Expiry, -100),
        ];
        assert_eq!(balance(&entries), 100);
        assert_eq!(lifetime(&entries), 500);
    }
}
