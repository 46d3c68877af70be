//! The offers a checkout chooses from: the coupons entered that apply and the automatic
//! promotions the customer and cart are eligible for, each at most once. Everything is
//! visited in a fixed order (coupons by code, promotions by id), so which coupon claims a
//! promotion never depends on the order they were typed or stored in.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use crate::budget::Usage;
use crate::checkout::{CheckoutInput, EnteredCoupon, NotApplied};
use crate::coupon::{Target, validate};
use crate::eligibility::eligibility;
use crate::promotion::{Promotion, Reward, Scope};
use crate::reason::{Code, Reason};

/// An eligible offer, from a promotion or a coupon.
#[derive(Clone, Debug)]
pub(crate) struct Offer<'a> {
    pub(crate) promotion_id: Option<&'a str>,
    pub(crate) coupon: Option<&'a str>,
    pub(crate) reward: &'a Reward,
    pub(crate) scope: &'a Scope,
    pub(crate) stackable: bool,
    pub(crate) priority: i32,
    /// Spend budget left.
    pub(crate) limit: Option<i64>,
}

impl Offer<'_> {
    /// Application order and tie-break: higher priority, then smaller id.
    pub(crate) fn key(&self) -> (Reverse<i32>, &str, &str) {
        (
            Reverse(self.priority),
            self.promotion_id.or(self.coupon).unwrap_or(""),
            self.coupon.unwrap_or(""),
        )
    }

    pub(crate) fn not_applied(&self, code: Code, message: &str) -> NotApplied {
        NotApplied {
            promotion_id: self.promotion_id.map(str::to_owned),
            coupon: self.coupon.map(str::to_owned),
            reasons: vec![Reason::new(code, message)],
        }
    }
}

/// The eligible offers; coupons that do not apply go to `rejected`.
pub(crate) fn collect_offers<'a>(
    input: &CheckoutInput<'a>,
    rejected: &mut Vec<NotApplied>,
) -> Vec<Offer<'a>> {
    let usage_of = |id: &str| input.usage.get(id).copied().unwrap_or_default();
    let mut offers = Vec::new();
    let mut claimed: BTreeSet<&str> = BTreeSet::new();

    let mut coupons: Vec<&EnteredCoupon> = input.coupons.iter().collect();
    coupons.sort_by(|a, b| a.code.cmp(&b.code));
    coupons.dedup_by(|a, b| a.code == b.code);
    for entered in coupons {
        let reject = |reasons: Vec<Reason>| NotApplied {
            promotion_id: None,
            coupon: Some(entered.code.clone()),
            reasons,
        };
        let Some(coupon) = &entered.coupon else {
            rejected.push(reject(vec![Reason::new(
                Code::CouponNotFound,
                "there is no coupon with this code",
            )]));
            continue;
        };
        let promotion_usage = match &coupon.target {
            Target::Promotion { promotion_id } => usage_of(promotion_id),
            Target::Reward { .. } => Usage::default(),
        };
        let mut check = validate(
            coupon,
            input.promotions,
            input.customer,
            input.cart,
            entered.usage,
            promotion_usage,
            input.now,
        );
        let offer = match &coupon.target {
            Target::Promotion { promotion_id } => {
                if claimed.contains(promotion_id.as_str()) {
                    check.reasons.push(Reason::new(
                        Code::DuplicatePromotion,
                        "another coupon entered already brings this offer",
                    ));
                }
                input
                    .promotions
                    .iter()
                    .find(|p| p.id == *promotion_id)
                    .map(|p| promotion_offer(p, Some(&coupon.code), promotion_usage))
            }
            Target::Reward {
                reward,
                scope,
                stackable,
                priority,
            } => Some(Offer {
                promotion_id: None,
                coupon: Some(&coupon.code),
                reward,
                scope,
                stackable: *stackable,
                priority: *priority,
                limit: None,
            }),
        };
        match offer {
            Some(o) if check.reasons.is_empty() => {
                if let Some(id) = o.promotion_id {
                    claimed.insert(id);
                }
                offers.push(o);
            }
            _ => rejected.push(NotApplied {
                promotion_id: match &coupon.target {
                    Target::Promotion { promotion_id } => Some(promotion_id.clone()),
                    Target::Reward { .. } => None,
                },
                ..reject(check.reasons)
            }),
        }
    }

    let mut promotions: Vec<&Promotion> = input.promotions.iter().collect();
    promotions.sort_by(|a, b| a.id.cmp(&b.id));
    for p in promotions {
        if p.requires_coupon || claimed.contains(p.id.as_str()) {
            continue;
        }
        let usage = usage_of(&p.id);
        if eligibility(p, input.customer, input.cart, usage, input.now).eligible {
            claimed.insert(&p.id);
            offers.push(promotion_offer(p, None, usage));
        }
    }
    offers
}

fn promotion_offer<'a>(p: &'a Promotion, coupon: Option<&'a str>, usage: Usage) -> Offer<'a> {
    Offer {
        promotion_id: Some(&p.id),
        coupon,
        reward: &p.reward,
        scope: &p.scope,
        stackable: p.stackable,
        priority: p.priority,
        limit: p.budget.remaining(usage).spend,
    }
}
