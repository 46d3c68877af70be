use std::collections::BTreeMap;

use serde_json::json;

use crate::budget::Usage;
use crate::cart::{Cart, Customer, Line};
use crate::checkout::{Checkout, CheckoutInput, EnteredCoupon, price};
use crate::coupon::Coupon;
use crate::demo;
use crate::promotion::{Promotion, RewardKind};
use crate::reason::Code;

fn promo(v: serde_json::Value) -> Promotion {
    let mut base = json!({"name": "Test", "window": {"starts_at": 0}});
    if let (Some(b), Some(o)) = (base.as_object_mut(), v.as_object()) {
        b.extend(o.clone());
    }
    serde_json::from_value(base).expect("a promotion")
}

fn entered(coupon: Coupon) -> EnteredCoupon {
    EnteredCoupon {
        code: coupon.code.clone(),
        coupon: Some(coupon),
        usage: Usage::default(),
    }
}

fn run(
    cart: &Cart,
    customer: &Customer,
    promotions: &[Promotion],
    usage: &BTreeMap<String, Usage>,
    coupons: &[EnteredCoupon],
    now: i64,
) -> Checkout {
    price(&CheckoutInput {
        cart,
        customer,
        promotions,
        usage,
        coupons,
        now,
    })
    .expect("a valid cart")
}

fn applied(c: &Checkout) -> Vec<(String, i64, i64)> {
    c.applied_benefits
        .iter()
        .map(|a| {
            (
                a.promotion_id
                    .clone()
                    .or(a.coupon.clone())
                    .unwrap_or_default(),
                a.amount,
                a.bonus_credits,
            )
        })
        .collect()
}

fn not_applied(c: &Checkout) -> Vec<(String, Vec<Code>)> {
    c.not_applied
        .iter()
        .map(|n| {
            (
                n.coupon
                    .clone()
                    .or(n.promotion_id.clone())
                    .unwrap_or_default(),
                n.reasons.iter().map(|r| r.code).collect(),
            )
        })
        .collect()
}

#[test]
fn welcome_coupon_on_a_first_purchase() {
    let cart = Cart::new(vec![
        Line::new("tee", "summer", 1999, 2),
        Line::new("mug", "home", 1250, 1),
    ]);
    let none = BTreeMap::new();
    let promos = demo::promotions();
    let new = Customer::new("ana");
    // Without the coupon, only the bonus credits (the cart is over 30.00).
    let c = run(&cart, &new, &promos, &none, &[], demo::NOW);
    assert_eq!((c.subtotal, c.discount, c.total), (5248, 0, 5248));
    assert_eq!(applied(&c), [("bonus-200".to_owned(), 0, 200)]);
    assert_eq!(c.bonus_credits, 200);
    // With it: 10 % of each line, half up: 399.8 → 400, 125.
    let c = run(
        &cart,
        &new,
        &promos,
        &none,
        &[entered(demo::welcome_coupon())],
        demo::NOW,
    );
    assert_eq!((c.subtotal, c.discount, c.total), (5248, 525, 4723));
    assert_eq!(
        applied(&c),
        [
            ("welcome".to_owned(), 525, 0),
            ("bonus-200".to_owned(), 0, 200)
        ]
    );
    let w = &c.applied_benefits[0];
    assert_eq!(w.coupon.as_deref(), Some("WELCOME10"));
    assert_eq!(w.kind, RewardKind::PercentOff);
    assert_eq!(
        w.lines
            .iter()
            .map(|l| (l.line, l.amount))
            .collect::<Vec<_>>(),
        [(0, 400), (1, 125)]
    );
    assert_eq!(c.lines[0].total, 3598);
    // A returning customer is told why.
    let mut back = new.clone();
    back.previous_orders = 3;
    let c = run(
        &cart,
        &back,
        &promos,
        &none,
        &[entered(demo::welcome_coupon())],
        demo::NOW,
    );
    assert_eq!(c.discount, 0);
    assert_eq!(
        not_applied(&c),
        [("WELCOME10".to_owned(), vec![Code::NotFirstPurchase])]
    );
}

#[test]
fn summer_two_for_one_then_gold_on_what_is_left() {
    let cart = Cart::new(vec![
        Line::new("tee", "summer", 2000, 1),
        Line::new("hat", "summer", 1000, 1),
        Line::new("mug", "home", 1000, 1),
    ]);
    let mut gold = Customer::new("g");
    gold.previous_orders = 5;
    gold.tiers_reached = demo::tiers().reached(2500);
    let c = run(
        &cart,
        &gold,
        &demo::promotions(),
        &BTreeMap::new(),
        &[],
        demo::SUMMER_DAY,
    );
    // 2×1 (priority 10): the hat is free, 10.00. Gold (priority 5): 5 % of 20.00 and 10.00.
    assert_eq!(
        applied(&c),
        [
            ("summer-2x1".to_owned(), 1000, 0),
            ("gold-5".to_owned(), 150, 0),
            ("bonus-200".to_owned(), 0, 200)
        ]
    );
    assert_eq!((c.subtotal, c.discount, c.total), (4000, 1150, 2850));
    assert_eq!(c.lines[1].total, 0);
    // Before summer, no 2×1: Gold alone.
    let c = run(
        &cart,
        &gold,
        &demo::promotions(),
        &BTreeMap::new(),
        &[],
        demo::NOW,
    );
    assert_eq!(c.discount, 200);
}

#[test]
fn the_best_non_stackable_wins_and_ties_go_by_priority_then_id() {
    let cart = Cart::new(vec![Line::new("a", "x", 10_000, 1)]);
    let u = Customer::new("u");
    let none = BTreeMap::new();
    let ten = promo(json!({"id": "ten", "reward": {"type": "percent_off", "bps": 1000}}));
    let five_eur = promo(json!({"id": "five", "reward": {"type": "amount_off", "amount": 500}}));
    let c = run(&cart, &u, &[five_eur.clone(), ten.clone()], &none, &[], 0);
    assert_eq!(applied(&c), [("ten".to_owned(), 1000, 0)]);
    assert_eq!(
        not_applied(&c),
        [("five".to_owned(), vec![Code::BetterOfferApplied])]
    );
    // Equal discounts: higher priority, then smaller id.
    let a = promo(json!({"id": "a", "reward": {"type": "amount_off", "amount": 1000}}));
    let b =
        promo(json!({"id": "b", "reward": {"type": "amount_off", "amount": 1000}, "priority": 1}));
    let c = run(&cart, &u, &[a.clone(), ten.clone(), b], &none, &[], 0);
    assert_eq!(applied(&c), [("b".to_owned(), 1000, 0)]);
    let c = run(&cart, &u, &[ten, a], &none, &[], 0);
    assert_eq!(applied(&c), [("a".to_owned(), 1000, 0)]);
}

#[test]
fn stackables_apply_in_priority_order_on_what_is_left() {
    let cart = Cart::new(vec![Line::new("a", "x", 10_000, 1)]);
    let first = promo(
        json!({"id": "half", "reward": {"type": "percent_off", "bps": 5000},
        "stackable": true, "priority": 2}),
    );
    let second = promo(
        json!({"id": "minus", "reward": {"type": "amount_off", "amount": 1000},
        "stackable": true, "priority": 1}),
    );
    let c = run(
        &cart,
        &Customer::new("u"),
        &[second, first],
        &BTreeMap::new(),
        &[],
        0,
    );
    assert_eq!(
        applied(&c),
        [("half".to_owned(), 5000, 0), ("minus".to_owned(), 1000, 0)]
    );
    assert_eq!(c.total, 4000);
}

#[test]
fn amounts_off_never_take_a_line_below_zero() {
    let cart = Cart::new(vec![
        Line::new("a", "x", 300, 1),
        Line::new("b", "y", 200, 1),
    ]);
    let big = promo(
        json!({"id": "big", "reward": {"type": "amount_off", "amount": 10_000},
        "stackable": true}),
    );
    let more = promo(
        json!({"id": "more", "reward": {"type": "percent_off", "bps": 5000},
        "stackable": true}),
    );
    let c = run(
        &cart,
        &Customer::new("u"),
        &[big, more],
        &BTreeMap::new(),
        &[],
        0,
    );
    assert_eq!((c.discount, c.total), (500, 0));
    assert_eq!(applied(&c), [("big".to_owned(), 500, 0)]);
    assert_eq!(
        not_applied(&c),
        [("more".to_owned(), vec![Code::NoDiscount])]
    );
}

#[test]
fn spend_budgets_clamp_the_last_use() {
    let cart = Cart::new(vec![Line::new("a", "x", 10_000, 1)]);
    let p = promo(
        json!({"id": "p", "reward": {"type": "percent_off", "bps": 2000},
        "budget": {"max_spend": 50_000}}),
    );
    let mut usage = BTreeMap::new();
    usage.insert(
        "p".to_owned(),
        Usage {
            uses: 40,
            user_uses: 0,
            spent: 49_700,
        },
    );
    let c = run(
        &cart,
        &Customer::new("u"),
        std::slice::from_ref(&p),
        &usage,
        &[],
        0,
    );
    assert_eq!(c.discount, 300);
    assert!(c.applied_benefits[0].clamped);
    usage.insert(
        "p".to_owned(),
        Usage {
            uses: 41,
            user_uses: 0,
            spent: 50_000,
        },
    );
    let c = run(
        &cart,
        &Customer::new("u"),
        std::slice::from_ref(&p),
        &usage,
        &[],
        0,
    );
    assert_eq!(c.discount, 0);
    assert!(c.applied_benefits.is_empty());
    // Bonus credits clamp the same way, in credits.
    let mut usage = BTreeMap::new();
    usage.insert(
        "bonus-200".to_owned(),
        Usage {
            uses: 499,
            user_uses: 0,
            spent: 99_950,
        },
    );
    let c = run(
        &cart,
        &Customer::new("u"),
        &[demo::bonus_credits()],
        &usage,
        &[],
        demo::NOW,
    );
    assert_eq!(c.bonus_credits, 50);
    assert!(c.applied_benefits[0].clamped);
}

#[test]
fn coupons_that_do_not_apply_say_why() {
    let cart = Cart::new(vec![Line::new("a", "x", 1000, 1)]);
    let promos = demo::promotions();
    let mut other_welcome = demo::welcome_coupon();
    other_welcome.code = "HELLO".into();
    let single: Coupon =
        serde_json::from_value(json!({"code": "ONCE", "kind": {"type": "single_use"},
        "target": {"type": "reward", "reward": {"type": "amount_off", "amount": 100}}}))
        .expect("coupon");
    let mut used = entered(single);
    used.usage.uses = 1;
    let coupons = [
        entered(demo::welcome_coupon()),
        entered(other_welcome),
        used,
        EnteredCoupon {
            code: "NOPE".into(),
            coupon: None,
            usage: Usage::default(),
        },
    ];
    let c = run(
        &cart,
        &Customer::new("u"),
        &promos,
        &BTreeMap::new(),
        &coupons,
        demo::NOW,
    );
    // Codes in order: HELLO claims the welcome offer first, so WELCOME10 is a duplicate.
    assert_eq!(applied(&c), [("welcome".to_owned(), 100, 0)]);
    assert_eq!(c.applied_benefits[0].coupon.as_deref(), Some("HELLO"));
    assert_eq!(
        not_applied(&c),
        [
            ("NOPE".to_owned(), vec![Code::CouponNotFound]),
            ("ONCE".to_owned(), vec![Code::CouponUsed]),
            ("WELCOME10".to_owned(), vec![Code::DuplicatePromotion]),
        ]
    );
}

#[test]
fn coupon_only_promotions_do_not_apply_by_themselves() {
    let cart = Cart::new(vec![Line::new("a", "x", 1000, 1)]);
    let c = run(
        &cart,
        &Customer::new("u"),
        &[demo::welcome()],
        &BTreeMap::new(),
        &[],
        demo::NOW,
    );
    assert!(c.applied_benefits.is_empty());
    assert!(c.not_applied.is_empty());
}

#[test]
fn non_stackable_bonus_credits_compete_among_themselves() {
    let cart = Cart::new(vec![Line::new("a", "x", 1000, 1)]);
    let small = promo(json!({"id": "small", "reward": {"type": "bonus_credits", "credits": 10}}));
    let large = promo(json!({"id": "large", "reward": {"type": "bonus_credits", "credits": 30}}));
    let off = promo(json!({"id": "off", "reward": {"type": "percent_off", "bps": 1000}}));
    let c = run(
        &cart,
        &Customer::new("u"),
        &[small, large, off],
        &BTreeMap::new(),
        &[],
        0,
    );
    assert_eq!(
        applied(&c),
        [("off".to_owned(), 100, 0), ("large".to_owned(), 0, 30)]
    );
    assert_eq!(
        not_applied(&c),
        [("small".to_owned(), vec![Code::BetterOfferApplied])]
    );
}

#[test]
fn a_bad_cart_is_refused_with_its_problems() {
    let cart = Cart::new(vec![Line::new("a", "x", -1, 1)]);
    let err = price(&CheckoutInput {
        cart: &cart,
        customer: &Customer::new("u"),
        promotions: &[],
        usage: &BTreeMap::new(),
        coupons: &[],
        now: 0,
    })
    .expect_err("negative price");
    assert_eq!(err[0].path, "lines[0].unit_price");
}

#[test]
fn the_result_serialises_for_the_api() {
    let cart = Cart::new(vec![Line::new("a", "x", 1000, 1)]);
    let p = promo(json!({"id": "p", "reward": {"type": "amount_off", "amount": 250}}));
    let c = run(&cart, &Customer::new("u"), &[p], &BTreeMap::new(), &[], 0);
    assert_eq!(
        serde_json::to_value(&c).expect("json"),
        json!({
            "subtotal": 1000, "discount": 250, "total": 750, "bonus_credits": 0,
            "lines": [{"sku": "a", "amount": 1000, "discount": 250, "total": 750}],
            "applied_benefits": [{"promotion_id": "p", "coupon": null, "kind": "amount_off",
                "amount": 250, "bonus_credits": 0,
                "lines": [{"line": 0, "sku": "a", "amount": 250}], "clamped": false}],
            "not_applied": []
        })
    );
}

#[test]
fn unchecked_rewards_still_never_take_a_line_below_zero() {
    let cart = Cart::new(vec![Line::new("a", "x", 1000, 1)]);
    let wild = promo(json!({"id": "wild", "reward": {"type": "percent_off", "bps": 30000}}));
    let c = run(
        &cart,
        &Customer::new("u"),
        &[wild],
        &BTreeMap::new(),
        &[],
        0,
    );
    assert_eq!((c.discount, c.total), (1000, 0));
}
