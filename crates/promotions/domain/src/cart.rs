//! What a promotion is judged against: the cart (lines at catalogue prices) and the customer
//! (segments, loyalty tier, order history, free-form attributes). Both come from outside, so
//! [`Cart::check`] bounds every number before any arithmetic: with at most 1,000 lines of at
//! most 10,000 units at most 10^10 cents each, no sum comes near i64's limit.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Problem;

pub const MAX_LINES: usize = 1_000;
pub const MAX_QUANTITY: i64 = 10_000;
pub const MAX_UNIT_PRICE: i64 = 10_000_000_000;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<Line>,
    /// Cart attributes attribute rules can test as `cart.<name>` (channel, country...).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub sku: String,
    pub category: String,
    /// Catalogue price of one unit, cents.
    pub unit_price: i64,
    pub quantity: i64,
}

impl Line {
    pub fn new(sku: &str, category: &str, unit_price: i64, quantity: i64) -> Self {
        Line {
            sku: sku.to_owned(),
            category: category.to_owned(),
            unit_price,
            quantity,
        }
    }

    /// Price × quantity: exact for a checked cart.
    pub fn amount(&self) -> i64 {
        self.unit_price.saturating_mul(self.quantity)
    }
}

impl Cart {
    pub fn new(lines: Vec<Line>) -> Self {
        Cart {
            lines,
            attributes: Map::new(),
        }
    }

    /// The sum of the lines at catalogue prices: what "minimum ticket" compares with.
    pub fn subtotal(&self) -> i64 {
        self.lines
            .iter()
            .fold(0i64, |s, l| s.saturating_add(l.amount()))
    }

    /// Every problem of the cart (paths `lines[i].field`); pricing refuses a cart with any.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.lines.len() > MAX_LINES {
            problems.push(Problem::new("lines", format!("at most {MAX_LINES} lines")));
            return problems;
        }
        for (i, l) in self.lines.iter().enumerate() {
            let at = format!("lines[{i}]");
            if l.sku.trim().is_empty() || l.sku.len() > 100 {
                problems.push(Problem::new("sku", "1 to 100 characters").under(&at));
            }
            if l.category.len() > 100 {
                problems.push(Problem::new("category", "at most 100 characters").under(&at));
            }
            if !(0..=MAX_UNIT_PRICE).contains(&l.unit_price) {
                problems.push(
                    Problem::new("unit_price", format!("cents from 0 to {MAX_UNIT_PRICE}"))
                        .under(&at),
                );
            }
            if !(1..=MAX_QUANTITY).contains(&l.quantity) {
                problems
                    .push(Problem::new("quantity", format!("from 1 to {MAX_QUANTITY}")).under(&at));
            }
        }
        problems
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// The end user's id: per-user budgets and per-user coupons key on it.
    pub id: String,
    #[serde(default)]
    pub segments: Vec<String>,
    /// The customer's loyalty tier and every tier below it, as
    /// [`Tiers::reached`](crate::tiers::Tiers::reached) lists them. "Silver or above" is then
    /// "Silver is in the list", so eligibility needs no tier table.
    #[serde(default)]
    pub tiers_reached: Vec<String>,
    /// Paid orders before this one: 0 is a first purchase.
    #[serde(default)]
    pub previous_orders: u64,
    /// Customer attributes attribute rules can test as `customer.<name>`.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl Customer {
    pub fn new(id: &str) -> Self {
        Customer {
            id: id.to_owned(),
            ..Customer::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtotal_and_problems() {
        let cart = Cart::new(vec![
            Line::new("a", "x", 250, 2),
            Line::new("b", "y", 100, 1),
        ]);
        assert_eq!(cart.subtotal(), 600);
        assert!(cart.check().is_empty());
        let bad = Cart::new(vec![
            Line::new(" ", "x", -1, 0),
            Line::new("b", "y", MAX_UNIT_PRICE + 1, MAX_QUANTITY + 1),
        ]);
        let paths: Vec<String> = bad.check().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "lines[0].sku",
                "lines[0].unit_price",
                "lines[0].quantity",
                "lines[1].unit_price",
                "lines[1].quantity"
            ]
        );
        let many = Cart::new(vec![Line::new("a", "x", 1, 1); MAX_LINES + 1]);
        assert_eq!(many.check().len(), 1);
    }

    #[test]
    fn customers_read_from_json_with_defaults() {
        let c: Customer = serde_json::from_value(serde_json::json!({"id": "u1"})).expect("json");
        assert_eq!(c, Customer::new("u1"));
        assert_eq!(c.previous_orders, 0);
    }
}
