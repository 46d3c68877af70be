//! Checkout pricing: the best combination of the tenant's promotions and the customer's
//! coupons for one cart.
//!
//! 1. Every coupon entered is validated (its own limits and its promotion's conditions);
//!    every automatic promotion (not `requires_coupon`) is checked for eligibility. A
//!    promotion is offered once: a coupon that points at it takes it over (so the coupon's
//!    use is counted), and a second coupon for the same promotion is turned down.
//! 2. Price offers (percent, amount, buy X get Y) compete: every stackable one applies, plus
//!    at most one non-stackable, chosen to give the largest total discount (ties: none at
//!    all, then the higher priority, then the smaller id). They apply in priority order
//!    (higher first, then by id), each on what the ones before left of the lines, each
//!    clamped to its promotion's spend budget ([`crate::budget`]).
//! 3. Bonus-credit offers do not touch prices, so they compete only among themselves by the
//!    same rule: every stackable one, plus the non-stackable one giving most credits.
//!
//! The result is a function of the set of offers, not their order (everything is sorted
//! first), and adding an offer never raises the best total: every candidate combination
//! before is still a candidate, or gains one more monotone step ([`crate::apply`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::apply::discounts;
use crate::budget::Usage;
use crate::cart::{Cart, Customer};
use crate::coupon::Coupon;
use crate::offers::{Offer, collect_offers};
use crate::promotion::{Promotion, Reward, RewardKind};
use crate::reason::{Code, Reason};

/// A code the customer entered, as the module found it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnteredCoupon {
    /// Normalised.
    pub code: String,
    /// `None`: no coupon has this code.
    pub coupon: Option<Coupon>,
    /// The coupon's counters.
    #[serde(default)]
    pub usage: Usage,
}

#[derive(Clone, Copy, Debug)]
pub struct CheckoutInput<'a> {
    pub cart: &'a Cart,
    pub customer: &'a Customer,
    /// The tenant's promotions that are switched on (their windows are checked here).
    pub promotions: &'a [Promotion],
    /// Each promotion's counters by id (overall and this customer's); missing: unused.
    pub usage: &'a BTreeMap<String, Usage>,
    pub coupons: &'a [EnteredCoupon],
    pub now: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checkout {
    /// At catalogue prices.
    pub subtotal: i64,
    pub discount: i64,
    /// `subtotal - discount`, never below 0.
    pub total: i64,
    /// Credits to award once paid.
    pub bonus_credits: i64,
    pub lines: Vec<PricedLine>,
    /// In the order they applied.
    pub applied_benefits: Vec<Applied>,
    /// Coupons entered that do not apply, and eligible offers that lost to a better one.
    pub not_applied: Vec<NotApplied>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PricedLine {
    pub sku: String,
    pub amount: i64,
    pub discount: i64,
    pub total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The promotion whose budget this use counts against (`None`: a coupon's own reward).
    pub promotion_id: Option<String>,
    /// The coupon this use counts against.
    pub coupon: Option<String>,
    pub kind: RewardKind,
    /// Cents off (0 for bonus credits).
    pub amount: i64,
    pub bonus_credits: i64,
    /// The lines it took cents off (index in the cart and cents).
    pub lines: Vec<LineDiscount>,
    /// The spend budget cut the reward down to what was left of it.
    pub clamped: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineDiscount {
    pub line: usize,
    pub sku: String,
    pub amount: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotApplied {
    pub promotion_id: Option<String>,
    pub coupon: Option<String>,
    pub reasons: Vec<Reason>,
}

/// The best price for the cart, or the cart's problems.
pub fn price(input: &CheckoutInput<'_>) -> Result<Checkout, Vec<Problem>> {
    let problems = input.cart.check();
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut not_applied = Vec::new();
    let mut offers = collect_offers(input, &mut not_applied);
    offers.sort_by(|a, b| a.key().cmp(&b.key()));
    let (credit_offers, price_offers): (Vec<Offer>, Vec<Offer>) = offers
        .into_iter()
        .partition(|o| matches!(o.reward, Reward::BonusCredits { .. }));

    let lines = &input.cart.lines;
    let amounts: Vec<i64> = lines.iter().map(|l| l.amount()).collect();

    // Price offers: every stackable one plus at most one non-stackable.
    let mut best: Option<(i64, Vec<Step>)> = None;
    let choices = std::iter::once(None).chain(
        price_offers
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.stackable)
            .map(|(i, _)| Some(i)),
    );
    for choice in choices {
        let steps = run(&price_offers, choice, input.cart, &amounts);
        let total: i64 = steps.iter().map(|s| s.amount).sum();
        if best.as_ref().is_none_or(|(t, _)| total > *t) {
            best = Some((total, steps));
        }
    }
    let steps = best.map(|(_, s)| s).unwrap_or_default();

    let mut line_discount = vec![0i64; lines.len()];
    let mut applied = Vec::new();
    let used: BTreeSet<usize> = steps.iter().map(|s| s.offer).collect();
    for (i, o) in price_offers.iter().enumerate() {
        if !used.contains(&i) {
            not_applied.push(o.not_applied(
                Code::BetterOfferApplied,
                "another offer that cannot be combined with this one gives more",
            ));
        }
    }
    for step in steps {
        let o = &price_offers[step.offer];
        if step.amount == 0 {
            not_applied.push(o.not_applied(Code::NoDiscount, "nothing left to take off"));
            continue;
        }
        let mut affected = Vec::new();
        for (i, &d) in step.per_line.iter().enumerate() {
            if d > 0 {
                line_discount[i] += d;
                affected.push(LineDiscount {
                    line: i,
                    sku: lines[i].sku.clone(),
                    amount: d,
                });
            }
        }
        applied.push(Applied {
            promotion_id: o.promotion_id.map(str::to_owned),
            coupon: o.coupon.map(str::to_owned),
            kind: o.reward.kind(),
            amount: step.amount,
            bonus_credits: 0,
            lines: affected,
            clamped: step.clamped,
        });
    }

    // Bonus credits: every stackable one plus the non-stackable one giving most.
    let granted = |o: &Offer| match *o.reward {
        Reward::BonusCredits { credits } => o.limit.map_or(credits, |l| credits.min(l)).max(0),
        _ => 0,
    };
    let best_single = credit_offers
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.stackable)
        .fold(None::<(usize, i64)>, |best, (i, o)| match best {
            Some((_, g)) if g >= granted(o) => best,
            _ => Some((i, granted(o))),
        })
        .map(|(i, _)| i);
    let mut bonus_credits = 0i64;
    for (i, o) in credit_offers.iter().enumerate() {
        if !o.stackable && Some(i) != best_single {
            not_applied.push(o.not_applied(
                Code::BetterOfferApplied,
                "another offer that cannot be combined with this one gives more credits",
            ));
            continue;
        }
        let credits = granted(o);
        bonus_credits = bonus_credits.saturating_add(credits);
        applied.push(Applied {
            promotion_id: o.promotion_id.map(str::to_owned),
            coupon: o.coupon.map(str::to_owned),
            kind: RewardKind::BonusCredits,
            amount: 0,
            bonus_credits: credits,
            lines: Vec::new(),
            clamped: matches!(*o.reward, Reward::BonusCredits { credits: c } if c > credits),
        });
    }

    let priced: Vec<PricedLine> = lines
        .iter()
        .zip(&line_discount)
        .map(|(l, &d)| PricedLine {
            sku: l.sku.clone(),
            amount: l.amount(),
            discount: d,
            total: l.amount() - d,
        })
        .collect();
    let subtotal = input.cart.subtotal();
    let discount: i64 = line_discount.iter().sum();
    Ok(Checkout {
        subtotal,
        discount,
        total: subtotal - discount,
        bonus_credits,
        lines: priced,
        applied_benefits: applied,
        not_applied,
    })
}

/// One offer's part in a combination.
#[derive(Clone, Debug, Default)]
struct Step {
    offer: usize,
    per_line: Vec<i64>,
    amount: i64,
    clamped: bool,
}

/// The stackable offers plus `choice`, in order, each on what the ones before left.
fn run(offers: &[Offer], choice: Option<usize>, cart: &Cart, amounts: &[i64]) -> Vec<Step> {
    let mut left = amounts.to_vec();
    let mut steps = Vec::new();
    for (i, o) in offers.iter().enumerate() {
        if !(o.stackable || Some(i) == choice) {
            continue;
        }
        let (per_line, clamped) = discounts(o.reward, o.scope, &cart.lines, &left, o.limit);
        for (l, d) in left.iter_mut().zip(&per_line) {
            *l -= d;
        }
        steps.push(Step {
            offer: i,
            amount: per_line.iter().sum(),
            per_line,
            clamped,
        });
    }
    steps
}
