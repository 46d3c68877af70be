//! Coupons: a code a customer enters to get an offer. A coupon either points at one of the
//! tenant's promotions (and brings that promotion's scope, conditions, reward, budget and
//! stacking) or carries its own reward and scope with no further conditions. Its kind says
//! how often it may be used; an expiry ends it whatever the promotion's window says.
//!
//! Uses are counted by the module (ledger accounts, like promotion budgets) and passed in as
//! a [`Usage`]; a coupon pointing at a promotion uses up both the coupon and the promotion.

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::budget::{Budget, Usage};
use crate::cart::{Cart, Customer};
use crate::code::{CodeFormat, Shape};
use crate::eligibility::{eligibility, scope_reasons};
use crate::promotion::{Promotion, Reward, Scope, is_id};
use crate::reason::{Code, Eligibility, Reason};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coupon {
    /// Normalised ([`crate::code::normalize`]).
    pub code: String,
    pub kind: CouponKind,
    /// Unix seconds; the coupon works before this second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub target: Target,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CouponKind {
    /// Once, by anyone.
    SingleUse,
    /// By anyone, up to the caps (none: unlimited).
    MultiUse {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_uses: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_uses_per_user: Option<u64>,
    },
    /// Only by one customer (a goodwill gesture, a referral reward), `max_uses` times.
    PerUser {
        user_id: String,
        #[serde(default = "one")]
        max_uses: u64,
    },
}

fn one() -> u64 {
    1
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    Promotion {
        promotion_id: String,
    },
    /// The coupon's own offer: no conditions beyond the coupon's.
    Reward {
        reward: Reward,
        #[serde(default)]
        scope: Scope,
        #[serde(default)]
        stackable: bool,
        #[serde(default)]
        priority: i32,
    },
}

impl Coupon {
    /// The coupon's use caps as a budget (no spend cap: a coupon's spending is its
    /// promotion's).
    pub fn budget(&self) -> Budget {
        match &self.kind {
            CouponKind::SingleUse => Budget {
                max_uses: Some(1),
                ..Budget::default()
            },
            CouponKind::MultiUse {
                max_uses,
                max_uses_per_user,
            } => Budget {
                max_uses: *max_uses,
                max_uses_per_user: *max_uses_per_user,
                max_spend: None,
            },
            CouponKind::PerUser { max_uses, .. } => Budget {
                max_uses: Some(*max_uses),
                ..Budget::default()
            },
        }
    }

    /// Why the coupon itself cannot be used now by this customer (not its promotion).
    pub fn reasons(&self, customer: &Customer, usage: Usage, now: i64) -> Vec<Reason> {
        let mut reasons = Vec::new();
        if let Some(at) = self.expires_at.filter(|&at| now >= at) {
            reasons.push(Reason::new(
                Code::CouponExpired,
                format!("this coupon expired at {at}"),
            ));
        }
        match &self.kind {
            CouponKind::SingleUse if usage.uses >= 1 => reasons.push(Reason::new(
                Code::CouponUsed,
                "this coupon has already been used",
            )),
            CouponKind::MultiUse {
                max_uses,
                max_uses_per_user,
            } => {
                if let Some(max) = max_uses.filter(|&m| usage.uses >= m) {
                    reasons.push(Reason::new(
                        Code::CouponExhausted,
                        format!("all {max} uses of this coupon have been taken"),
                    ));
                }
                if let Some(max) = max_uses_per_user.filter(|&m| usage.user_uses >= m) {
                    reasons.push(Reason::new(
                        Code::CouponUserLimit,
                        format!("this coupon can be used {max} time(s) per customer"),
                    ));
                }
            }
            CouponKind::PerUser { user_id, max_uses } => {
                if *user_id != customer.id {
                    reasons.push(Reason::new(
                        Code::CouponNotYours,
                        "this coupon belongs to another customer",
                    ));
                } else if usage.uses >= *max_uses {
                    reasons.push(Reason::new(
                        Code::CouponUsed,
                        "you have already used this coupon",
                    ));
                }
            }
            CouponKind::SingleUse => {}
        }
        reasons
    }

    /// Every problem of the coupon's configuration. `format`: the tenant's generated-code
    /// format (a code of its shape must check); `promotions`: the tenant's promotion ids.
    pub fn check(&self, format: &CodeFormat, promotion_ids: &[&str]) -> Vec<Problem> {
        let mut problems = match format.shape(&self.code) {
            Shape::Generated => Vec::new(),
            Shape::Typo => vec![Problem::new(
                "code",
                "has the shape of a generated code but its check character is wrong",
            )],
            Shape::Other => format.check_manual(&self.code),
        };
        match &self.kind {
            CouponKind::MultiUse {
                max_uses,
                max_uses_per_user,
            } => {
                if *max_uses == Some(0) {
                    problems.push(Problem::new(
                        "kind.max_uses",
                        "more than 0, or leave it out",
                    ));
                }
                if *max_uses_per_user == Some(0) {
                    problems.push(Problem::new(
                        "kind.max_uses_per_user",
                        "more than 0, or leave it out",
                    ));
                }
            }
            CouponKind::PerUser { user_id, max_uses } => {
                if user_id.trim().is_empty() || user_id.len() > 100 {
                    problems.push(Problem::new("kind.user_id", "the customer's id"));
                }
                if *max_uses == 0 {
                    problems.push(Problem::new("kind.max_uses", "more than 0"));
                }
            }
            CouponKind::SingleUse => {}
        }
        match &self.target {
            Target::Promotion { promotion_id } => {
                if !is_id(promotion_id) || !promotion_ids.contains(&promotion_id.as_str()) {
                    problems.push(Problem::new(
                        "target.promotion_id",
                        "one of the tenant's promotions",
                    ));
                }
            }
            Target::Reward { reward, scope, .. } => {
                problems.extend(reward.check().into_iter().map(|p| p.under("target.reward")));
                problems.extend(scope.check().into_iter().map(|p| p.under("target.scope")));
            }
        }
        problems
    }
}

/// Whether `coupon` can be used on this cart now, with every reason why not: the coupon's
/// own (expiry, uses, owner) and those of the promotion it points at (looked up among the
/// tenant's active `promotions`, with `promotion_usage` its counters).
pub fn validate(
    coupon: &Coupon,
    promotions: &[Promotion],
    customer: &Customer,
    cart: &Cart,
    coupon_usage: Usage,
    promotion_usage: Usage,
    now: i64,
) -> Eligibility {
    let mut reasons = coupon.reasons(customer, coupon_usage, now);
    match &coupon.target {
        Target::Promotion { promotion_id } => {
            match promotions.iter().find(|p| p.id == *promotion_id) {
                Some(p) => {
                    reasons.extend(eligibility(p, customer, cart, promotion_usage, now).reasons)
                }
                None => reasons.push(Reason::new(
                    Code::PromotionNotFound,
                    "the offer of this coupon is not running",
                )),
            }
        }
        Target::Reward { reward, scope, .. } => reasons.extend(scope_reasons(reward, scope, cart)),
    }
    Eligibility::from_reasons(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::Line;
    use crate::demo;
    use serde_json::json;

    fn coupon(v: serde_json::Value) -> Coupon {
        serde_json::from_value(v).expect("a coupon")
    }

    fn cart() -> Cart {
        Cart::new(vec![Line::new("tee", "summer", 2000, 1)])
    }

    fn used(uses: u64, user_uses: u64) -> Usage {
        Usage {
            uses,
            user_uses,
            spent: 0,
        }
    }

    #[test]
    fn single_use() {
        let c = coupon(json!({"code": "THANKS5", "kind": {"type": "single_use"},
            "target": {"type": "reward", "reward": {"type": "amount_off", "amount": 500}}}));
        let u = Customer::new("u1");
        let ok = validate(&c, &[], &u, &cart(), used(0, 0), Usage::default(), 0);
        assert!(ok.eligible, "{ok:?}");
        let e = validate(&c, &[], &u, &cart(), used(1, 0), Usage::default(), 0);
        assert_eq!(e.codes(), [Code::CouponUsed]);
        assert_eq!(c.budget().max_uses, Some(1));
    }

    #[test]
    fn multi_use_caps_and_expiry() {
        let c = coupon(json!({"code": "SPRING", "expires_at": 100,
            "kind": {"type": "multi_use", "max_uses": 3, "max_uses_per_user": 1},
            "target": {"type": "reward", "reward": {"type": "percent_off", "bps": 500},
                       "scope": {"type": "items", "skus": ["mug"]}}}));
        let e = validate(
            &c,
            &[],
            &Customer::new("u"),
            &cart(),
            used(3, 1),
            Usage::default(),
            100,
        );
        assert_eq!(
            e.codes(),
            [
                Code::CouponExpired,
                Code::CouponExhausted,
                Code::CouponUserLimit,
                Code::NoItemInScope
            ]
        );
        let mut mug = cart();
        mug.lines.push(Line::new("mug", "home", 900, 1));
        let e = validate(
            &c,
            &[],
            &Customer::new("u"),
            &mug,
            used(2, 0),
            Usage::default(),
            99,
        );
        assert!(e.eligible, "{e:?}");
    }

    #[test]
    fn per_user_coupons_belong_to_one_customer() {
        let c = coupon(
            json!({"code": "SORRYANA", "kind": {"type": "per_user", "user_id": "ana"},
            "target": {"type": "reward", "reward": {"type": "bonus_credits", "credits": 50}}}),
        );
        let e = validate(
            &c,
            &[],
            &Customer::new("bob"),
            &cart(),
            used(0, 0),
            Usage::default(),
            0,
        );
        assert_eq!(e.codes(), [Code::CouponNotYours]);
        let ana = Customer::new("ana");
        assert!(validate(&c, &[], &ana, &cart(), used(0, 0), Usage::default(), 0).eligible);
        let e = validate(&c, &[], &ana, &cart(), used(1, 1), Usage::default(), 0);
        assert_eq!(e.codes(), [Code::CouponUsed]);
    }

    #[test]
    fn a_coupon_brings_its_promotions_conditions() {
        let c = demo::welcome_coupon();
        let mut returning = Customer::new("u1");
        returning.previous_orders = 1;
        let promos = demo::promotions();
        let e = validate(
            &c,
            &promos,
            &returning,
            &cart(),
            used(0, 0),
            Usage::default(),
            demo::NOW,
        );
        assert_eq!(e.codes(), [Code::NotFirstPurchase]);
        let e = validate(
            &c,
            &promos,
            &Customer::new("u2"),
            &cart(),
            used(0, 0),
            Usage::default(),
            demo::NOW,
        );
        assert!(e.eligible, "{e:?}");
        let e = validate(
            &c,
            &[],
            &Customer::new("u2"),
            &cart(),
            used(0, 0),
            Usage::default(),
            demo::NOW,
        );
        assert_eq!(e.codes(), [Code::PromotionNotFound]);
    }

    #[test]
    fn configuration_problems() {
        let f = demo::code_format();
        let ids = ["welcome"];
        assert_eq!(demo::welcome_coupon().check(&f, &ids), []);
        let c = coupon(
            json!({"code": "ab", "kind": {"type": "multi_use", "max_uses": 0,
            "max_uses_per_user": 0}, "target": {"type": "promotion", "promotion_id": "nope"}}),
        );
        let paths: Vec<String> = c.check(&f, &ids).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "code",
                "kind.max_uses",
                "kind.max_uses_per_user",
                "target.promotion_id"
            ]
        );
        let c = coupon(
            json!({"code": "OKCODE", "kind": {"type": "per_user", "user_id": " ", "max_uses": 0},
            "target": {"type": "reward", "reward": {"type": "percent_off", "bps": 0},
                       "scope": {"type": "categories", "categories": []}}}),
        );
        let paths: Vec<String> = c.check(&f, &ids).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "kind.user_id",
                "kind.max_uses",
                "target.reward.bps",
                "target.scope.categories"
            ]
        );
        // A generated code with a wrong check character.
        let good = f.assemble(b"ABCDEFGH");
        let mut bad = good.clone().into_bytes();
        bad[12] = if bad[12] == b'2' { b'3' } else { b'2' };
        let mut c = demo::welcome_coupon();
        c.code = String::from_utf8(bad).expect("ascii");
        assert_eq!(c.check(&f, &ids).len(), 1);
        c.code = good;
        assert_eq!(c.check(&f, &ids), []);
    }
}
