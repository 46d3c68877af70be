//! Budgets: how often a promotion (or coupon) may be used, overall and per customer, and how
//! much it may give away. The counters are not kept here: the module keeps them as ledger
//! accounts (the wallet's promotion-budget accounts) and passes the current [`Usage`] in; this
//! file says whether one more use fits and how much of an amount it may give.
//!
//! A discount larger than what is left of the spend budget is **clamped** to what is left,
//! not refused: the customer gets the last cents of the budget rather than nothing, and the
//! promotion ends itself cleanly at exactly its cap. Checking here is advice, not the guard:
//! two checkouts may both see room for the last euro (Medusa and Saleor shipped that race),
//! so the store debits the budget account inside the order's transaction and re-prices when
//! the ledger refuses.
//!
//! The spend cap counts the promotion's reward in its own unit: cents of discount for price
//! rewards, credits for bonus-credit rewards.

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::reason::{Code, Reason};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Uses by everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    /// Uses by one customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses_per_user: Option<u64>,
    /// Total given away: cents of discount, or credits for a bonus-credit reward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_spend: Option<i64>,
}

/// The counters as the module's ledger has them now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Uses by everyone so far.
    #[serde(default)]
    pub uses: u64,
    /// Uses by this customer so far.
    #[serde(default)]
    pub user_uses: u64,
    /// Given away so far, in the spend cap's unit.
    #[serde(default)]
    pub spent: i64,
}

/// What is left; `None` where there is no cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Remaining {
    pub uses: Option<u64>,
    pub user_uses: Option<u64>,
    pub spend: Option<i64>,
}

/// A use that fits: the amount it may give (the asked one, or less when clamped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Fit {
    pub granted: i64,
    /// The spend budget cut the amount down.
    pub clamped: bool,
    /// What is left after this use.
    pub remaining_after: Remaining,
}

impl Budget {
    /// Problems, paths relative to the budget: every cap set must be more than 0.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.max_uses == Some(0) {
            problems.push(Problem::new("max_uses", "more than 0, or leave it out"));
        }
        if self.max_uses_per_user == Some(0) {
            problems.push(Problem::new(
                "max_uses_per_user",
                "more than 0, or leave it out",
            ));
        }
        if self.max_spend.is_some_and(|s| s <= 0) {
            problems.push(Problem::new("max_spend", "more than 0, or leave it out"));
        }
        problems
    }

    pub fn remaining(&self, usage: Usage) -> Remaining {
        Remaining {
            uses: self.max_uses.map(|m| m.saturating_sub(usage.uses)),
            user_uses: self
                .max_uses_per_user
                .map(|m| m.saturating_sub(usage.user_uses)),
            spend: self.max_spend.map(|m| m.saturating_sub(usage.spent).max(0)),
        }
    }

    /// Every reason one more use does not fit (any amount): uses or spend at their caps.
    pub fn reasons(&self, usage: Usage) -> Vec<Reason> {
        let left = self.remaining(usage);
        let mut reasons = Vec::new();
        if let (Some(0), Some(max)) = (left.uses, self.max_uses) {
            reasons.push(Reason::new(
                Code::GlobalBudgetExhausted,
                format!("all {max} uses of this offer have been taken"),
            ));
        }
        if let (Some(0), Some(max)) = (left.user_uses, self.max_uses_per_user) {
            reasons.push(Reason::new(
                Code::UserBudgetExhausted,
                format!("this offer can be used {max} time(s) per customer, and you have used it"),
            ));
        }
        if let (Some(0), Some(max)) = (left.spend, self.max_spend) {
            reasons.push(Reason::new(
                Code::SpendBudgetExhausted,
                format!("the offer's budget of {max} has been spent"),
            ));
        }
        reasons
    }

    /// Whether one use giving `amount` (≥ 0) fits: refused with every reason when a cap is
    /// reached, otherwise the amount clamped to the spend left.
    pub fn fit(&self, usage: Usage, amount: i64) -> Result<Fit, Vec<Reason>> {
        let reasons = self.reasons(usage);
        if !reasons.is_empty() {
            return Err(reasons);
        }
        let left = self.remaining(usage);
        let amount = amount.max(0);
        let granted = left.spend.map_or(amount, |s| amount.min(s));
        Ok(Fit {
            granted,
            clamped: granted < amount,
            remaining_after: Remaining {
                uses: left.uses.map(|u| u - 1),
                user_uses: left.user_uses.map(|u| u - 1),
                spend: left.spend.map(|s| s - granted),
            },
        })
    }

    /// The usage after a use that gave `granted`: what the module's ledger records.
    pub fn consume(usage: Usage, granted: i64) -> Usage {
        Usage {
            uses: usage.uses.saturating_add(1),
            user_uses: usage.user_uses.saturating_add(1),
            spent: usage.spent.saturating_add(granted.max(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(uses: u64, user_uses: u64, spent: i64) -> Usage {
        Usage {
            uses,
            user_uses,
            spent,
        }
    }

    #[test]
    fn no_caps_fit_anything() {
        let fit = Budget::default()
            .fit(usage(1_000_000, 50, 1 << 40), 500)
            .expect("fits");
        assert_eq!(fit.granted, 500);
        assert!(!fit.clamped);
        assert_eq!(fit.remaining_after.spend, None);
    }

    #[test]
    fn spend_is_clamped_to_what_is_left() {
        let b = Budget {
            max_spend: Some(1000),
            ..Budget::default()
        };
        let fit = b.fit(usage(3, 0, 900), 250).expect("fits");
        assert_eq!((fit.granted, fit.clamped), (100, true));
        assert_eq!(fit.remaining_after.spend, Some(0));
        let fit = b.fit(usage(3, 0, 100), 250).expect("fits");
        assert_eq!((fit.granted, fit.clamped), (250, false));
        assert_eq!(fit.remaining_after.spend, Some(650));
        let refused = b.fit(usage(3, 0, 1000), 1).expect_err("spent");
        assert_eq!(refused[0].code, Code::SpendBudgetExhausted);
        // Over-spent by a race elsewhere: still exhausted, never negative.
        assert_eq!(b.remaining(usage(0, 0, 1200)).spend, Some(0));
    }

    #[test]
    fn every_cap_reached_is_a_reason() {
        let b = Budget {
            max_uses: Some(10),
            max_uses_per_user: Some(1),
            max_spend: Some(500),
        };
        let codes: Vec<Code> = b
            .fit(usage(10, 1, 500), 1)
            .expect_err("all caps")
            .iter()
            .map(|r| r.code)
            .collect();
        assert_eq!(
            codes,
            [
                Code::GlobalBudgetExhausted,
                Code::UserBudgetExhausted,
                Code::SpendBudgetExhausted
            ]
        );
        let fit = b.fit(usage(9, 0, 0), 100).expect("last use");
        assert_eq!(fit.remaining_after.uses, Some(0));
        assert_eq!(fit.remaining_after.user_uses, Some(0));
        let after = Budget::consume(usage(9, 0, 0), fit.granted);
        assert_eq!(after, usage(10, 1, 100));
        assert!(b.fit(after, 1).is_err());
    }

    #[test]
    fn caps_must_be_positive() {
        let b = Budget {
            max_uses: Some(0),
            max_uses_per_user: Some(0),
            max_spend: Some(-1),
        };
        let paths: Vec<String> = b.check().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["max_uses", "max_uses_per_user", "max_spend"]);
        assert!(Budget::default().check().is_empty());
    }
}
