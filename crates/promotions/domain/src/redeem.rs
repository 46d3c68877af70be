//! Spending loyalty points on wallet credits at a tenant's rate (the demo's: 100 points = 1
//! credit, at least 100 at a time), as gamification's points do: a whole number of credits,
//! never more points than the balance. Redeeming spends points, it does not lower a tier:
//! tiers count points earned ([`crate::tiers`]), not the balance.

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::reason::{Code, Reason};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

impl Rate {
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !(1..=1_000_000).contains(&self.points_per_credit) {
            problems.push(Problem::new("points_per_credit", "from 1 to 1000000"));
        }
        if self.min_points < 1 || self.min_points % self.points_per_credit.max(1) != 0 {
            problems.push(Problem::new(
                "min_points",
                "at least one credit's worth, a multiple of points_per_credit",
            ));
        }
        problems
    }
}

/// A redemption as it will be written: points taken, credits given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Redemption {
    pub points: i64,
    pub credits: i64,
}

/// Plans spending `points` of `balance` at `rate`, or says why not (`below_minimum`,
/// `not_a_multiple`, `insufficient_points`).
pub fn redeem(balance: i64, points: i64, rate: Rate) -> Result<Redemption, Reason> {
    let min = rate.min_points.max(1);
    let per = rate.points_per_credit.max(1);
    if points < min {
        return Err(Reason::new(
            Code::BelowMinimum,
            format!("at least {min} points at a time"),
        ));
    }
    if points % per != 0 {
        return Err(Reason::new(
            Code::NotAMultiple,
            format!("a multiple of {per} points (one credit each)"),
        ));
    }
    if points > balance {
        return Err(Reason::new(
            Code::InsufficientPoints,
            format!("{points} points asked, {} available", balance.max(0)),
        ));
    }
    Ok(Redemption {
        points,
        credits: points / per,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_credits_from_the_minimum() {
        let rate = Rate::default();
        assert_eq!(
            redeem(1000, 300, rate),
            Ok(Redemption {
                points: 300,
                credits: 3
            })
        );
        assert_eq!(redeem(1000, 1000, rate).map(|r| r.credits), Ok(10));
        let code = |r: Result<Redemption, Reason>| r.map_err(|e| e.code);
        assert_eq!(code(redeem(1000, 50, rate)), Err(Code::BelowMinimum));
        assert_eq!(code(redeem(1000, 0, rate)), Err(Code::BelowMinimum));
        assert_eq!(code(redeem(1000, -100, rate)), Err(Code::BelowMinimum));
        assert_eq!(code(redeem(1000, 150, rate)), Err(Code::NotAMultiple));
        assert_eq!(code(redeem(250, 300, rate)), Err(Code::InsufficientPoints));
        assert_eq!(
            redeem(250, 300, rate).map_err(|e| e.message),
            Err("300 points asked, 250 available".to_owned())
        );
    }

    #[test]
    fn rates_are_checked() {
        assert!(Rate::default().check().is_empty());
        let bad = Rate {
            points_per_credit: 0,
            min_points: 150,
        };
        assert_eq!(bad.check().len(), 1);
        let bad = Rate {
            points_per_credit: 100,
            min_points: 150,
        };
        assert_eq!(bad.check()[0].path, "min_points");
    }
}
