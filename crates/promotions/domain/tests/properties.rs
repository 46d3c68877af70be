//! Properties of the promotions core over generated carts, offers, clocks and codes:
//!
//! - checkout: total = subtotal − discount, 0 ≤ discount ≤ subtotal, no line below zero, the
//!   lines and the applied benefits add up to the discount;
//! - adding a promotion never makes the best total worse;
//! - the result does not depend on the order promotions or coupons are given in;
//! - every window boundary is reported exactly once, however the clock is sampled;
//! - a budget never grants more than asked or more than is left;
//! - generated codes check, survive normalising, and catch every single typo;
//! - a tier is a non-decreasing function of points, and tiers are earned over the window.

use std::collections::{BTreeMap, HashSet};

use faro_promotions_domain::code::{ALPHABET, Shape};
use faro_promotions_domain::tiers::DAY;
use faro_promotions_domain::*;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

const SKUS: [&str; 5] = ["tee", "hat", "mug", "cap", "pen"];
const CATEGORIES: [&str; 3] = ["summer", "home", "office"];

fn line() -> impl Strategy<Value = Line> {
    (0..SKUS.len(), 0..CATEGORIES.len(), 0i64..20_000, 1i64..6)
        .prop_map(|(s, c, price, q)| Line::new(SKUS[s], CATEGORIES[c], price, q))
}

fn cart() -> impl Strategy<Value = Cart> {
    prop::collection::vec(line(), 0..6).prop_map(Cart::new)
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        2 => Just(Scope::All),
        1 => prop::sample::subsequence(CATEGORIES.to_vec(), 1..3).prop_map(|c| Scope::Categories {
            categories: c.into_iter().map(str::to_owned).collect()
        }),
        1 => prop::sample::subsequence(SKUS.to_vec(), 1..4).prop_map(|s| Scope::Items {
            skus: s.into_iter().map(str::to_owned).collect()
        }),
    ]
}

fn reward() -> impl Strategy<Value = Reward> {
    prop_oneof![
        3 => (1u32..=10_000, prop::option::of(1i64..5_000))
            .prop_map(|(bps, max_discount)| Reward::PercentOff { bps, max_discount }),
        2 => (1i64..20_000).prop_map(|amount| Reward::AmountOff { amount }),
        2 => (1u32..4, 1u32..3).prop_map(|(buy, get)| Reward::BuyXGetY { buy, get }),
        1 => (1i64..500).prop_map(|credits| Reward::BonusCredits { credits }),
    ]
}

/// A promotion without its id (given by position, so ids are unique).
#[derive(Clone, Debug)]
struct Spec {
    scope: Scope,
    reward: Reward,
    stackable: bool,
    priority: i32,
    max_spend: Option<i64>,
    spent: i64,
    min_ticket: Option<i64>,
    id_tag: u8,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        scope(),
        reward(),
        any::<bool>(),
        -2i32..3,
        prop::option::of(1i64..3_000),
        0i64..3_000,
        prop::option::of(1i64..30_000),
        any::<u8>(),
    )
        .prop_map(
            |(scope, reward, stackable, priority, max_spend, spent, min_ticket, id_tag)| Spec {
                scope,
                reward,
                stackable,
                priority,
                max_spend,
                spent,
                min_ticket,
                id_tag,
            },
        )
}

fn build(specs: &[Spec]) -> (Vec<Promotion>, BTreeMap<String, Usage>) {
    let mut usage = BTreeMap::new();
    let promotions = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // Ids unique, but not in position order, so order-independence is tested.
            let id = format!("p{:03}-{i}", s.id_tag);
            usage.insert(
                id.clone(),
                Usage {
                    uses: 0,
                    user_uses: 0,
                    spent: s.spent,
                },
            );
            Promotion {
                id,
                name: "generated".into(),
                scope: s.scope.clone(),
                conditions: Conditions {
                    min_ticket: s.min_ticket,
                    ..Conditions::default()
                },
                reward: s.reward.clone(),
                window: Window {
                    starts_at: 0,
                    ends_at: None,
                },
                budget: Budget {
                    max_spend: s.max_spend,
                    ..Budget::default()
                },
                stackable: s.stackable,
                priority: s.priority,
                requires_coupon: false,
            }
        })
        .collect();
    (promotions, usage)
}

fn checkout(
    cart: &Cart,
    promotions: &[Promotion],
    usage: &BTreeMap<String, Usage>,
    coupons: &[EnteredCoupon],
) -> Checkout {
    price(&CheckoutInput {
        cart,
        customer: &Customer::new("u"),
        promotions,
        usage,
        coupons,
        now: 10,
    })
    .expect("generated carts are valid")
}

fn own_coupon(code: &str, reward: Reward, stackable: bool) -> EnteredCoupon {
    EnteredCoupon {
        code: code.to_owned(),
        coupon: Some(Coupon {
            code: code.to_owned(),
            kind: CouponKind::SingleUse,
            expires_at: None,
            target: Target::Reward {
                reward,
                scope: Scope::All,
                stackable,
                priority: 0,
            },
        }),
        usage: Usage::default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn totals_add_up_and_never_go_below_zero(
        cart in cart(),
        specs in prop::collection::vec(spec(), 0..7),
    ) {
        let (promotions, usage) = build(&specs);
        let c = checkout(&cart, &promotions, &usage, &[]);
        prop_assert_eq!(c.subtotal, cart.subtotal());
        prop_assert_eq!(c.total, c.subtotal - c.discount);
        prop_assert!(0 <= c.discount && c.discount <= c.subtotal);
        prop_assert!(c.lines.iter().all(|l| l.total >= 0 && l.discount >= 0));
        prop_assert_eq!(c.lines.iter().map(|l| l.discount).sum::<i64>(), c.discount);
        prop_assert_eq!(c.lines.iter().map(|l| l.total).sum::<i64>(), c.total);
        prop_assert_eq!(c.applied_benefits.iter().map(|a| a.amount).sum::<i64>(), c.discount);
        prop_assert_eq!(
            c.applied_benefits.iter().map(|a| a.bonus_credits).sum::<i64>(),
            c.bonus_credits
        );
        for a in &c.applied_benefits {
            prop_assert_eq!(a.lines.iter().map(|l| l.amount).sum::<i64>(), a.amount);
            // Never past the promotion's spend budget.
            if let Some(p) = promotions.iter().find(|p| Some(&p.id) == a.promotion_id.as_ref()) {
                let left = p.budget.remaining(usage[&p.id]).spend;
                prop_assert!(left.is_none_or(|l| a.amount.max(a.bonus_credits) <= l));
            }
        }
        // At most one non-stackable price offer and one non-stackable credit offer.
        let exclusive = |credits: bool| c.applied_benefits.iter().filter(|a| {
            let p = promotions.iter().find(|p| Some(&p.id) == a.promotion_id.as_ref());
            p.is_some_and(|p| !p.stackable) && (a.kind == RewardKind::BonusCredits) == credits
        }).count();
        prop_assert!(exclusive(false) <= 1);
        prop_assert!(exclusive(true) <= 1);
    }

    #[test]
    fn adding_a_promotion_never_makes_the_total_worse(
        cart in cart(),
        specs in prop::collection::vec(spec(), 0..6),
        extra in spec(),
    ) {
        let (before, usage) = build(&specs);
        let mut all = specs.clone();
        all.push(extra);
        let (after, usage_after) = build(&all);
        let b = checkout(&cart, &before, &usage, &[]);
        let a = checkout(&cart, &after, &usage_after, &[]);
        prop_assert!(a.total <= b.total, "before {} after {}", b.total, a.total);
    }

    #[test]
    fn the_order_of_promotions_and_coupons_does_not_matter(
        cart in cart(),
        (specs, shuffled) in prop::collection::vec(spec(), 0..7)
            .prop_flat_map(|s| (Just(s.clone()), Just(s).prop_shuffle())),
        coupon_rewards in prop::collection::vec((reward(), any::<bool>()), 0..3),
    ) {
        let (promotions, usage) = build(&specs);
        // Rebuild the shuffled list with the same ids.
        let mut reordered = Vec::new();
        let mut used = vec![false; specs.len()];
        for s in &shuffled {
            let i = (0..specs.len())
                .find(|&i| !used[i] && format!("{s:?}") == format!("{:?}", specs[i]))
                .expect("a permutation");
            used[i] = true;
            reordered.push(promotions[i].clone());
        }
        let coupons: Vec<EnteredCoupon> = coupon_rewards
            .iter()
            .enumerate()
            .map(|(i, (r, stack))| own_coupon(&format!("C{i}"), r.clone(), *stack))
            .collect();
        let mut coupons_reversed = coupons.clone();
        coupons_reversed.reverse();
        let one = checkout(&cart, &promotions, &usage, &coupons);
        let two = checkout(&cart, &reordered, &usage, &coupons_reversed);
        prop_assert_eq!(one, two);
    }

    #[test]
    fn every_boundary_is_reported_exactly_once(
        windows in prop::collection::vec((0i64..1_000, prop::option::of(1i64..1_000)), 1..6),
        mut ticks in prop::collection::vec(-10i64..1_200, 1..30),
    ) {
        let promotions: Vec<Promotion> = windows
            .iter()
            .enumerate()
            .map(|(i, &(start, len))| Promotion {
                id: format!("w{i}"),
                name: "w".into(),
                scope: Scope::All,
                conditions: Conditions::default(),
                reward: Reward::AmountOff { amount: 1 },
                window: Window { starts_at: start, ends_at: len.map(|l| start + l) },
                budget: Budget::default(),
                stackable: false,
                priority: 0,
                requires_coupon: false,
            })
            .collect();
        ticks.sort_unstable();
        let mut seen = Vec::new();
        let mut previous = -20;
        for &now in &ticks {
            let t = transitions(&promotions, previous, now);
            prop_assert!(t.windows(2).all(|w| w[0].at <= w[1].at));
            for tr in &t {
                prop_assert!(previous < tr.at && tr.at <= now);
            }
            seen.extend(t);
            previous = previous.max(now);
        }
        let last = previous;
        for p in &promotions {
            let started = seen.iter().filter(|t| t.promotion_id == p.id && t.boundary == Boundary::Started).count();
            let ended = seen.iter().filter(|t| t.promotion_id == p.id && t.boundary == Boundary::Ended).count();
            prop_assert_eq!(started, usize::from(p.window.starts_at <= last));
            prop_assert_eq!(ended, usize::from(p.window.ends_at.is_some_and(|e| e <= last)));
            // Reported as started exactly when it is active or has ended by then.
            prop_assert_eq!(started == 1, p.window.phase(last) != window::Phase::NotStarted);
        }
    }

    #[test]
    fn budgets_never_grant_more_than_asked_or_left(
        max_uses in prop::option::of(1u64..10),
        max_spend in prop::option::of(1i64..10_000),
        uses in 0u64..12,
        spent in 0i64..12_000,
        amount in 0i64..5_000,
    ) {
        let b = Budget { max_uses, max_uses_per_user: None, max_spend };
        let usage = Usage { uses, user_uses: 0, spent };
        match b.fit(usage, amount) {
            Ok(fit) => {
                prop_assert!(0 <= fit.granted && fit.granted <= amount);
                if let Some(m) = max_spend {
                    prop_assert!(spent + fit.granted <= m);
                    prop_assert_eq!(fit.clamped, fit.granted < amount);
                }
                prop_assert!(max_uses.is_none_or(|m| uses < m));
                let after = Budget::consume(usage, fit.granted);
                prop_assert_eq!(after.uses, uses + 1);
            }
            Err(reasons) => {
                prop_assert!(!reasons.is_empty());
                prop_assert!(
                    max_uses.is_some_and(|m| uses >= m) || max_spend.is_some_and(|m| spent >= m)
                );
            }
        }
    }

    #[test]
    fn generated_codes_check_and_catch_every_single_typo(
        seed in any::<u64>(),
        prefix in "[A-Z0-9]{0,6}",
        length in 4usize..12,
        at in any::<prop::sample::Index>(),
        replacement in 0usize..32,
    ) {
        let format = CodeFormat { prefix: prefix.clone(), length };
        let mut rng = StdRng::seed_from_u64(seed);
        let codes = generate(&format, 20, &mut rng, &HashSet::new()).expect("codes");
        prop_assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 20);
        for code in &codes {
            prop_assert_eq!(format.shape(code), Shape::Generated);
            // Printed in groups, typed in lower case: still the same code.
            let typed: String = code
                .to_lowercase()
                .chars()
                .collect::<Vec<_>>()
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join(" - ");
            prop_assert_eq!(format.precheck(&typed), Ok(code.clone()));
            prop_assert_eq!(normalize(&normalize(&typed)), normalize(&typed));
            // One character of the body or the check character changed: a typo.
            let mut bytes = code.clone().into_bytes();
            let i = prefix.len() + at.index(length + 1);
            let new = ALPHABET[replacement];
            if bytes[i] != new {
                bytes[i] = new;
                let typo = String::from_utf8(bytes).expect("ascii");
                prop_assert_eq!(format.shape(&typo), Shape::Typo);
                prop_assert_eq!(format.precheck(&typo).map_err(|r| r.code), Err(Code::CouponTypo));
            }
        }
    }

    #[test]
    fn tiers_rise_with_points_and_count_only_the_window(
        earnings in prop::collection::vec((0i64..800, -50i64..1_500), 0..20),
        now_day in 0i64..1_000,
    ) {
        let tiers = demo::tiers();
        let earnings: Vec<Earning> = earnings
            .iter()
            .map(|&(day, points)| Earning { at: day * DAY, points })
            .collect();
        let now = now_day * DAY;
        let s = tiers.standing(&earnings, now);
        let expected: i64 = earnings
            .iter()
            .filter(|e| e.at > now - 365 * DAY && e.at <= now)
            .map(|e| e.points)
            .sum();
        prop_assert_eq!(s.points, expected.max(0));
        prop_assert_eq!(s.reached.last(), Some(&s.tier));
        prop_assert!(s.next.as_ref().is_none_or(|n| n.points_to_go > 0));
        // Non-decreasing in points.
        let mut last = 0;
        for p in (0..3_000).step_by(50) {
            let i = tiers.index_for(p);
            prop_assert!(i >= last);
            last = i;
        }
        // The tier holds until holds_until, earning nothing more.
        if let Some(until) = s.holds_until {
            prop_assert!(until > now);
            let rank = |name: &str| tiers.all().iter().position(|t| t.name == name);
            let past: Vec<Earning> = earnings.iter().filter(|e| e.at <= now).copied().collect();
            prop_assert!(rank(&tiers.standing(&past, until - 1).tier) >= rank(&s.tier));
            prop_assert!(rank(&tiers.standing(&past, until).tier) < rank(&s.tier));
        }
    }

    #[test]
    fn promotions_survive_json(specs in prop::collection::vec(spec(), 1..4)) {
        let (promotions, _) = build(&specs);
        let json = serde_json::to_string(&promotions).expect("json");
        let back: Vec<Promotion> = serde_json::from_str(&json).expect("parses");
        prop_assert_eq!(back, promotions.clone());
        let tiers = demo::tiers().names();
        for p in &promotions {
            prop_assert_eq!(p.check(&tiers), vec![]);
        }
    }
}
