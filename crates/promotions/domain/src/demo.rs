//! The demo tenant's offers and loyalty table, as data: a first-purchase coupon, a summer
//! 2×1, bonus credits on larger orders with a spend budget, a Gold members' discount, and
//! Bronze / Silver / Gold over 365 days. The tests use them; a new tenant starts from them.

use serde_json::json;

use crate::code::CodeFormat;
use crate::coupon::Coupon;
use crate::promotion::Promotion;
use crate::redeem::Rate;
use crate::tiers::{TierConfig, Tiers};

/// 2026-03-01T00:00:00Z: the welcome, bonus and Gold offers run, the summer one has not started.
pub const NOW: i64 = 1_772_323_200;
/// 2026-07-15T00:00:00Z: inside the summer 2×1.
pub const SUMMER_DAY: i64 = 1_784_073_600;
/// 2026-06-21T00:00:00Z and 2026-09-23T00:00:00Z.
pub const SUMMER_STARTS: i64 = 1_782_000_000;
pub const SUMMER_ENDS: i64 = 1_790_121_600;
/// 2026-01-01T00:00:00Z.
pub const YEAR_STARTS: i64 = 1_767_225_600;

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    // The data below is ours and fixed: a failure is a bug caught by the tests.
    serde_json::from_value(v).unwrap_or_else(|e| panic!("demo data: {e}"))
}

/// 10 % off a customer's first purchase, through the coupon WELCOME10.
pub fn welcome() -> Promotion {
    parse(json!({
        "id": "welcome",
        "name": "Welcome: 10 % off your first order",
        "conditions": {"first_purchase": true},
        "reward": {"type": "percent_off", "bps": 1000},
        "window": {"starts_at": YEAR_STARTS},
        "budget": {"max_uses_per_user": 1},
        "requires_coupon": true
    }))
}

/// The code for [`welcome`]: anyone, once each.
pub fn welcome_coupon() -> Coupon {
    parse(json!({
        "code": "WELCOME10",
        "kind": {"type": "multi_use", "max_uses_per_user": 1},
        "target": {"type": "promotion", "promotion_id": "welcome"}
    }))
}

/// Summer 2×1 on the summer category: of every two items, the cheaper is free.
pub fn summer_two_for_one() -> Promotion {
    parse(json!({
        "id": "summer-2x1",
        "name": "Summer 2x1",
        "scope": {"type": "categories", "categories": ["summer"]},
        "reward": {"type": "buy_x_get_y", "buy": 1, "get": 1},
        "window": {"starts_at": SUMMER_STARTS, "ends_at": SUMMER_ENDS},
        "priority": 10
    }))
}

/// 200 bonus credits on orders from 30.00, up to 100,000 credits in all.
pub fn bonus_credits() -> Promotion {
    parse(json!({
        "id": "bonus-200",
        "name": "200 bonus credits on orders from 30.00",
        "conditions": {"min_ticket": 3000},
        "reward": {"type": "bonus_credits", "credits": 200},
        "window": {"starts_at": YEAR_STARTS},
        "budget": {"max_spend": 100_000},
        "stackable": true
    }))
}

/// Gold members: 5 % off everything, at most 20.00 an order, on top of other offers.
pub fn gold_members() -> Promotion {
    parse(json!({
        "id": "gold-5",
        "name": "Gold members: 5 % off",
        "conditions": {"min_tier": "Gold"},
        "reward": {"type": "percent_off", "bps": 500, "max_discount": 2000},
        "window": {"starts_at": YEAR_STARTS},
        "stackable": true,
        "priority": 5
    }))
}

pub fn promotions() -> Vec<Promotion> {
    vec![
        welcome(),
        summer_two_for_one(),
        bonus_credits(),
        gold_members(),
    ]
}

pub fn coupons() -> Vec<Coupon> {
    vec![welcome_coupon()]
}

/// Generated codes: `FARO` and 8 characters plus the check character.
pub fn code_format() -> CodeFormat {
    CodeFormat {
        prefix: "FARO".into(),
        length: 8,
    }
}

/// Bronze from 0, Silver from 500, Gold from 2,000 points earned in the last 365 days.
pub fn tiers() -> Tiers {
    let config: TierConfig = parse(json!({
        "window_days": 365,
        "tiers": [
            {"name": "Bronze", "min_points": 0, "perks": ["Member prices"]},
            {"name": "Silver", "min_points": 500, "perks": ["Member prices", "Free shipping"]},
            {"name": "Gold", "min_points": 2000,
             "perks": ["Member prices", "Free shipping", "5 % off every order"],
             "discount_bps": 500}
        ]
    }));
    Tiers::new(config).unwrap_or_else(|p| panic!("demo tiers: {p:?}"))
}

/// 100 points = 1 credit, at least 100 points at a time.
pub fn rate() -> Rate {
    Rate::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promotion::check_all;

    #[test]
    fn the_demo_data_is_valid() {
        let tiers = tiers();
        assert_eq!(check_all(&promotions(), &tiers.names()), []);
        let all = promotions();
        let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
        for c in coupons() {
            assert_eq!(c.check(&code_format(), &ids), []);
        }
        assert!(code_format().check().is_empty());
        assert!(rate().check().is_empty());
    }

    #[test]
    fn the_windows_are_where_the_tests_expect() {
        assert!(welcome().window.is_active(NOW));
        assert!(!summer_two_for_one().window.is_active(NOW));
        assert!(summer_two_for_one().window.is_active(SUMMER_DAY));
    }
}
