//! Whether a customer and cart may have a promotion now, and every reason why not. All
//! conditions are checked and every failing one is listed (the window, each condition, each
//! attribute rule, each budget cap, the scope), so the eligibility endpoint can tell a
//! customer "add 20.00 more" and "from tomorrow" in one answer.

use crate::budget::Usage;
use crate::cart::{Cart, Customer};
use crate::promotion::{Conditions, Promotion, Reward, Scope};
use crate::reason::{Code, Eligibility, Reason, cents};
use crate::window::Phase;

/// Every unmet condition of `promotion` for this customer and cart at `now`, with `usage`
/// the promotion's counters (overall and this customer's).
pub fn eligibility(
    promotion: &Promotion,
    customer: &Customer,
    cart: &Cart,
    usage: Usage,
    now: i64,
) -> Eligibility {
    let mut reasons = Vec::new();
    match promotion.window.phase(now) {
        Phase::NotStarted => reasons.push(Reason::new(
            Code::NotStarted,
            format!("the offer starts at {}", promotion.window.starts_at),
        )),
        Phase::Ended => reasons.push(Reason::new(
            Code::Ended,
            format!(
                "the offer ended at {}",
                promotion.window.ends_at.unwrap_or_default()
            ),
        )),
        Phase::Active => {}
    }
    reasons.extend(condition_reasons(&promotion.conditions, customer, cart));
    reasons.extend(promotion.budget.reasons(usage));
    reasons.extend(scope_reasons(&promotion.reward, &promotion.scope, cart));
    Eligibility::from_reasons(reasons)
}

/// The customer's and cart's unmet conditions, in the order they are written.
pub fn condition_reasons(c: &Conditions, customer: &Customer, cart: &Cart) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if let Some(min) = c.min_ticket {
        let subtotal = cart.subtotal();
        if subtotal < min {
            reasons.push(Reason::new(
                Code::BelowMinimumTicket,
                format!(
                    "the cart is {} below the minimum of {}",
                    cents(min - subtotal),
                    cents(min)
                ),
            ));
        }
    }
    if c.first_purchase && customer.previous_orders > 0 {
        reasons.push(Reason::new(
            Code::NotFirstPurchase,
            "only for a customer's first purchase",
        ));
    }
    if !c.segments.is_empty() && !c.segments.iter().any(|s| customer.segments.contains(s)) {
        reasons.push(Reason::new(
            Code::Segment,
            format!("only for customers in: {}", c.segments.join(", ")),
        ));
    }
    if let Some(tier) = &c.min_tier
        && !customer.tiers_reached.contains(tier)
    {
        reasons.push(Reason::new(
            Code::Tier,
            format!("only for loyalty tier {tier} or above"),
        ));
    }
    for rule in &c.attributes {
        if !rule.passes(customer, cart) {
            reasons.push(Reason::new(Code::Attribute, rule.describe()));
        }
    }
    reasons
}

/// Whether the cart has something for the reward to act on: a line in scope, and for
/// buy X get Y at least X + Y units in scope.
pub fn scope_reasons(reward: &Reward, scope: &Scope, cart: &Cart) -> Vec<Reason> {
    let units: i64 = cart
        .lines
        .iter()
        .filter(|l| scope.covers(l))
        .map(|l| l.quantity.max(0))
        .sum();
    if units == 0 {
        return vec![Reason::new(
            Code::NoItemInScope,
            "no item in the cart is part of the offer",
        )];
    }
    if let Reward::BuyXGetY { buy, get } = *reward {
        let needed = i64::from(buy) + i64::from(get);
        if units < needed {
            return vec![Reason::new(
                Code::NotEnoughItems,
                format!(
                    "buy {buy} get {get} needs {needed} items of the offer, the cart has {units}"
                ),
            )];
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::Budget;
    use crate::cart::Line;
    use crate::demo;
    use serde_json::json;

    fn promo(v: serde_json::Value) -> Promotion {
        serde_json::from_value(v).expect("a promotion")
    }

    #[test]
    fn an_eligible_customer_has_no_reasons() {
        let p = demo::welcome();
        let cart = Cart::new(vec![Line::new("a", "x", 2000, 1)]);
        let e = eligibility(&p, &Customer::new("u1"), &cart, Usage::default(), demo::NOW);
        assert!(e.eligible, "{e:?}");
        assert!(e.reasons.is_empty());
    }

    #[test]
    fn every_unmet_condition_is_listed() {
        let mut p = promo(json!({
            "id": "vip",
            "name": "VIP",
            "scope": {"type": "categories", "categories": ["summer"]},
            "conditions": {
                "segments": ["vip", "staff"],
                "min_tier": "Gold",
                "min_ticket": 5000,
                "first_purchase": true,
                "attributes": [
                    {"prop": "customer.country", "op": "eq", "value": "ES"},
                    {"prop": "cart.channel", "op": "eq", "value": "app"}
                ]
            },
            "reward": {"type": "percent_off", "bps": 1000},
            "window": {"starts_at": 1000, "ends_at": 2000},
            "budget": {"max_uses": 10, "max_uses_per_user": 1, "max_spend": 100}
        }));
        let mut customer = Customer::new("u1");
        customer.previous_orders = 2;
        customer.segments = vec!["newsletter".into()];
        customer.tiers_reached = vec!["Bronze".into(), "Silver".into()];
        let cart = Cart::new(vec![Line::new("a", "winter", 2000, 1)]);
        let usage = Usage {
            uses: 10,
            user_uses: 1,
            spent: 100,
        };
        let e = eligibility(&p, &customer, &cart, usage, 999);
        assert!(!e.eligible);
        assert_eq!(
            e.codes(),
            [
                Code::NotStarted,
                Code::BelowMinimumTicket,
                Code::NotFirstPurchase,
                Code::Segment,
                Code::Tier,
                Code::Attribute,
                Code::Attribute,
                Code::GlobalBudgetExhausted,
                Code::UserBudgetExhausted,
                Code::SpendBudgetExhausted,
                Code::NoItemInScope,
            ]
        );
        assert_eq!(
            e.reasons[1].message,
            "the cart is 30.00 below the minimum of 50.00"
        );
        assert_eq!(
            e.reasons[5].message,
            "customer.country must be equal to \"ES\""
        );
        assert_eq!(
            eligibility(&p, &customer, &cart, usage, 2000).codes()[0],
            Code::Ended
        );

        // Meet them all.
        customer.previous_orders = 0;
        customer.segments.push("staff".into());
        customer.tiers_reached.push("Gold".into());
        customer.attributes = json!({"country": "ES"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut cart = Cart::new(vec![Line::new("a", "summer", 5000, 1)]);
        cart.attributes = json!({"channel": "app"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        p.budget = Budget::default();
        let e = eligibility(&p, &customer, &cart, usage, 1000);
        assert!(e.eligible, "{e:?}");
    }

    #[test]
    fn buy_x_get_y_needs_enough_units() {
        let p = demo::summer_two_for_one();
        let one = Cart::new(vec![Line::new("tee", "summer", 1000, 1)]);
        let e = eligibility(
            &p,
            &Customer::new("u"),
            &one,
            Usage::default(),
            demo::SUMMER_DAY,
        );
        assert_eq!(e.codes(), [Code::NotEnoughItems]);
        let two = Cart::new(vec![
            Line::new("tee", "summer", 1000, 1),
            Line::new("hat", "summer", 500, 1),
        ]);
        let e = eligibility(
            &p,
            &Customer::new("u"),
            &two,
            Usage::default(),
            demo::SUMMER_DAY,
        );
        assert!(e.eligible, "{e:?}");
    }
}
