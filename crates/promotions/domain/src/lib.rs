//! The promotions module's pure core: promotions and their eligibility, coupons and their
//! codes, budgets, the checkout's best combination of offers, and loyalty tiers. No I/O, no
//! async, no clock, no randomness of its own: every function takes the time (unix seconds),
//! the counters (the module keeps them as ledger accounts) and, to generate codes, the
//! caller's RNG, so the module crate can call it inside a transaction and tests can walk
//! every edge.
//!
//! Money is integer cents (i64), percentages basis points (12.5 % is 1,250); every division
//! rounds once, half up ([`money`]). Refusals are [`Reason`]s with stable snake_case codes;
//! configuration problems are [`Problem`]s with field paths (`reward.bps`,
//! `tiers[1].min_points`), every one listed at once.
//!
//! | file | decides |
//! |---|---|
//! | [`money`] | basis points of cents, rounded half up |
//! | [`cart`] | the cart and customer an offer is judged against, and the cart's bounds |
//! | [`attributes`] | attribute rules (eq, in, gt, gte, lt, lte, exists) on the customer and cart |
//! | [`promotion`] | a promotion's scope, conditions, reward, stacking, and every problem of one |
//! | [`window`] | when a promotion is on, and which started or ended between two clock readings |
//! | [`budget`] | whether one more use fits the caps, and how much of an amount it may give |
//! | [`reason`] | every reason an offer does not apply, with a code and a message |
//! | [`eligibility`](mod@eligibility) | every unmet condition of a promotion for a customer and cart |
//! | [`apply`] | the cents one reward takes off each line of what is left |
//! | `offers` | the offers a checkout chooses from: coupons that apply, eligible promotions |
//! | [`checkout`] | the best combination of offers for a cart, and its totals |
//! | [`code`] | coupon codes: alphabet, check character, normalising input, typos |
//! | [`batch`] | bulk generation of unique codes from the caller's RNG |
//! | [`coupon`] | coupon kinds, expiry and targets, and why one cannot be used |
//! | [`tiers`] | loyalty tiers over a rolling window, and upgrades and downgrades |
//! | [`redeem`](mod@redeem) | spending loyalty points on credits |
//! | [`demo`] | the demo tenant's offers, coupon, code format and tiers |

pub mod apply;
pub mod attributes;
pub mod batch;
pub mod budget;
pub mod cart;
pub mod checkout;
pub mod code;
pub mod coupon;
pub mod demo;
pub mod eligibility;
pub mod money;
mod offers;
pub mod promotion;
pub mod reason;
pub mod redeem;
pub mod tiers;
pub mod window;

pub use attributes::AttributeRule;
pub use batch::{GenerateError, MAX_BATCH, generate};
pub use budget::{Budget, Fit, Remaining, Usage};
pub use cart::{Cart, Customer, Line};
pub use checkout::{Applied, Checkout, CheckoutInput, EnteredCoupon, NotApplied, price};
pub use code::{CodeFormat, Shape, normalize};
pub use coupon::{Coupon, CouponKind, Target, validate};
pub use eligibility::eligibility;
pub use promotion::{Conditions, Promotion, Reward, RewardKind, Scope};
pub use reason::{Code, Eligibility, Reason};
pub use redeem::{Rate, Redemption, redeem};
pub use tiers::{Change, Earning, Standing, Tier, TierConfig, Tiers};
pub use window::{Boundary, Transition, Window, transitions};

/// One problem of a configuration, with the path of the field it is about
/// (`reward.bps`, `tiers[1].min_points`), as the other modules' validations report them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same problem under `prefix` (`tiers[2]` + `min_points`).
    pub fn under(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() {
            prefix.to_owned()
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        Problem { path, ..self }
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod problem_tests {
    use super::*;

    #[test]
    fn problems_nest() {
        let p = Problem::new("min_points", "more than 0").under("tiers[1]");
        assert_eq!(p.path, "tiers[1].min_points");
        assert_eq!(Problem::new("", "x").under("window").path, "window");
        assert_eq!(
            Problem::new("[2]", "x").under("attributes").path,
            "attributes[2]"
        );
    }
}
