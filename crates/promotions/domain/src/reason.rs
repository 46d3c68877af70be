//! Why a promotion, a coupon or a redemption does not apply. Every unmet condition is a
//! [`Reason`]: a stable snake_case `code` that clients and the HTTP layer match on, and an
//! English `message` for people, naming the numbers involved ("the cart is 30.00 below the
//! minimum of 50.00" reads better than "below minimum"). Reasons are collected, not
//! short-circuited: a customer learns everything that stands between them and the offer.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The activation window has not opened.
    NotStarted,
    /// The activation window has closed.
    Ended,
    BelowMinimumTicket,
    NotFirstPurchase,
    /// The customer is in none of the promotion's segments.
    Segment,
    /// The customer's loyalty tier is below the promotion's.
    Tier,
    /// An attribute rule on the customer or the cart fails.
    Attribute,
    GlobalBudgetExhausted,
    UserBudgetExhausted,
    SpendBudgetExhausted,
    /// No cart line is in the promotion's scope.
    NoItemInScope,
    /// Buy X get Y: fewer than X + Y units in scope.
    NotEnoughItems,
    /// No coupon has this code.
    CouponNotFound,
    /// The code is not in the coupon alphabet or has the wrong length.
    CouponMalformed,
    /// The check character does not match: a typo, caught before any lookup.
    CouponTypo,
    CouponExpired,
    /// A single-use coupon that was used.
    CouponUsed,
    /// A multi-use coupon at its cap.
    CouponExhausted,
    /// The customer used this coupon as often as one customer may.
    CouponUserLimit,
    /// A coupon bound to another customer.
    CouponNotYours,
    /// The promotion a coupon points at is not among the tenant's active ones.
    PromotionNotFound,
    /// Another coupon already brings the same promotion.
    DuplicatePromotion,
    /// Eligible, but a non-stackable offer giving more was chosen.
    BetterOfferApplied,
    /// Eligible, but nothing left to take off (the lines are already at zero).
    NoDiscount,
    /// Loyalty redemption under the minimum.
    BelowMinimum,
    /// Loyalty redemption not a whole number of credits.
    NotAMultiple,
    InsufficientPoints,
}

impl Code {
    /// The code as in the JSON.
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            NotStarted => "not_started",
            Ended => "ended",
            BelowMinimumTicket => "below_minimum_ticket",
            NotFirstPurchase => "not_first_purchase",
            Segment => "segment",
            Tier => "tier",
            Attribute => "attribute",
            GlobalBudgetExhausted => "global_budget_exhausted",
            UserBudgetExhausted => "user_budget_exhausted",
            SpendBudgetExhausted => "spend_budget_exhausted",
            NoItemInScope => "no_item_in_scope",
            NotEnoughItems => "not_enough_items",
            CouponNotFound => "coupon_not_found",
            CouponMalformed => "coupon_malformed",
            CouponTypo => "coupon_typo",
            CouponExpired => "coupon_expired",
            CouponUsed => "coupon_used",
            CouponExhausted => "coupon_exhausted",
            CouponUserLimit => "coupon_user_limit",
            CouponNotYours => "coupon_not_yours",
            PromotionNotFound => "promotion_not_found",
            DuplicatePromotion => "duplicate_promotion",
            BetterOfferApplied => "better_offer_applied",
            NoDiscount => "no_discount",
            BelowMinimum => "below_minimum",
            NotAMultiple => "not_a_multiple",
            InsufficientPoints => "insufficient_points",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: Code,
    pub message: String,
}

impl Reason {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Reason {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The answer of `GET /api/v1/promotions/{id}/eligibility` and of a coupon's validation:
/// eligible exactly when there is no reason against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    pub eligible: bool,
    pub reasons: Vec<Reason>,
}

impl Eligibility {
    pub fn from_reasons(reasons: Vec<Reason>) -> Self {
        Eligibility {
            eligible: reasons.is_empty(),
            reasons,
        }
    }

    /// The codes, for tests and logs.
    pub fn codes(&self) -> Vec<Code> {
        self.reasons.iter().map(|r| r.code).collect()
    }
}

/// Cents as text for messages: `1234` → `12.34`, `-5` → `-0.05`. Currency-free: the tenant's
/// currency is the module's business.
pub fn cents(amount: i64) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let a = amount.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_text() {
        for code in [
            Code::NotStarted,
            Code::SpendBudgetExhausted,
            Code::CouponTypo,
        ] {
            let json = serde_json::to_value(code).expect("json");
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
        }
        let e = Eligibility::from_reasons(vec![Reason::new(Code::Tier, "Gold or above")]);
        assert_eq!(
            serde_json::to_value(&e).expect("json"),
            serde_json::json!({"eligible": false, "reasons": [{"code": "tier", "message": "Gold or above"}]})
        );
        assert!(Eligibility::from_reasons(vec![]).eligible);
    }

    #[test]
    fn cents_read_as_money() {
        assert_eq!(cents(1234), "12.34");
        assert_eq!(cents(5), "0.05");
        assert_eq!(cents(-5), "-0.05");
        assert_eq!(cents(0), "0.00");
        assert_eq!(cents(i64::MIN), "-92233720368547758.08");
    }
}
