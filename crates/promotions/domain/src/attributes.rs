//! Attribute rules: `{"prop": "customer.country", "op": "in", "value": ["ES", "PT"]}`.
//! The same operators as gamification's event filters (eq, in, gt, gte, lt, lte, exists),
//! written again here rather than shared so the two modules can change apart. A rule reads
//! one of two objects, chosen by the path's first name: `customer.` (the customer's
//! attributes) or `cart.` (the cart's); a path naming neither is a configuration problem.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Problem;
use crate::cart::{Cart, Customer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeRule {
    /// `customer.<name>` or `cart.<name>`, deeper names joined by dots (`cart.address.country`).
    pub prop: String,
    pub op: Op,
    /// `eq`: any JSON value; `in`: an array; `gt`, `gte`, `lt`, `lte`: a number; `exists`:
    /// `true` (default) or `false`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub value: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Eq,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    Exists,
}

impl AttributeRule {
    /// Every problem of this rule, paths relative to it.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut parts = self.prop.split('.');
        let root_ok = matches!(parts.next(), Some("customer" | "cart"));
        let rest: Vec<&str> = parts.collect();
        if !root_ok || rest.is_empty() || rest.iter().any(|p| p.is_empty()) || self.prop.len() > 100
        {
            problems.push(Problem::new(
                "prop",
                "customer.<name> or cart.<name> (names joined by dots, at most 100 characters)",
            ));
        }
        let value_problem = match self.op {
            Op::Eq if self.value.is_null() => Some("the value to compare with"),
            Op::In if self.value.as_array().is_none_or(|a| a.is_empty()) => {
                Some("a non-empty array of values")
            }
            Op::Gt | Op::Gte | Op::Lt | Op::Lte if number(&self.value).is_none() => {
                Some("a number")
            }
            Op::Exists if !(self.value.is_null() || self.value.is_boolean()) => {
                Some("true (the attribute is there) or false (it is not)")
            }
            _ => None,
        };
        if let Some(m) = value_problem {
            problems.push(Problem::new("value", m));
        }
        problems
    }

    /// Whether the customer and cart pass. Comparisons need a number on both sides: an
    /// attribute that is missing or not a number fails them. `eq` and `in` compare numbers as
    /// numbers (`10` equals `10.0` and `"10"`), anything else exactly.
    pub fn passes(&self, customer: &Customer, cart: &Cart) -> bool {
        let found = lookup(&self.prop, customer, cart);
        match self.op {
            Op::Exists => found.is_some() == self.value.as_bool().unwrap_or(true),
            Op::Eq => found.is_some_and(|v| same(v, &self.value)),
            Op::In => found.is_some_and(|v| {
                self.value
                    .as_array()
                    .is_some_and(|all| all.iter().any(|w| same(v, w)))
            }),
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
                let (Some(a), Some(b)) = (found.and_then(number), number(&self.value)) else {
                    return false;
                };
                match self.op {
                    Op::Gt => a > b,
                    Op::Gte => a >= b,
                    Op::Lt => a < b,
                    _ => a <= b,
                }
            }
        }
    }

    /// The rule in words, for a reason's message.
    pub fn describe(&self) -> String {
        let op = match self.op {
            Op::Eq => "equal to",
            Op::In => "one of",
            Op::Gt => "more than",
            Op::Gte => "at least",
            Op::Lt => "less than",
            Op::Lte => "at most",
            Op::Exists => {
                return if self.value.as_bool().unwrap_or(true) {
                    format!("{} must be present", self.prop)
                } else {
                    format!("{} must be absent", self.prop)
                };
            }
        };
        format!("{} must be {op} {}", self.prop, self.value)
    }
}

fn lookup<'a>(path: &str, customer: &'a Customer, cart: &'a Cart) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let root: &Map<String, Value> = match parts.next()? {
        "customer" => &customer.attributes,
        "cart" => &cart.attributes,
        _ => return None,
    };
    let mut at = root.get(parts.next()?)?;
    for part in parts {
        at = at.as_object()?.get(part)?;
    }
    (!at.is_null()).then_some(at)
}

/// A JSON number, or a string that parses as a finite one (integrations send `"12.50"`).
fn number(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

fn same(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) if a.is_number() || b.is_number() => x == y,
        _ => a == b,
    }
}

/// Every problem of a list of rules, under `attributes[i]`.
pub fn check_all(rules: &[AttributeRule]) -> Vec<Problem> {
    if rules.len() > 20 {
        return vec![Problem::new("", "at most 20 attribute rules")];
    }
    rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.check()
                .into_iter()
                .map(move |p| p.under(&format!("[{i}]")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(v: Value) -> AttributeRule {
        serde_json::from_value(v).expect("a rule")
    }

    #[test]
    fn every_operator_on_customer_and_cart() {
        let mut customer = Customer::new("u1");
        customer.attributes = json!({"country": "ES", "age": 30, "score": "9.5", "vip": false,
            "address": {"city": "Bilbao"}})
        .as_object()
        .cloned()
        .unwrap_or_default();
        let mut cart = Cart::new(Vec::new());
        cart.attributes = json!({"channel": "app"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let cases = [
            (
                json!({"prop": "customer.country", "op": "eq", "value": "ES"}),
                true,
            ),
            (
                json!({"prop": "customer.country", "op": "eq", "value": "es"}),
                false,
            ),
            (
                json!({"prop": "customer.age", "op": "eq", "value": 30.0}),
                true,
            ),
            (
                json!({"prop": "customer.age", "op": "eq", "value": "30"}),
                true,
            ),
            (
                json!({"prop": "customer.country", "op": "in", "value": ["PT", "ES"]}),
                true,
            ),
            (
                json!({"prop": "customer.country", "op": "in", "value": ["PT"]}),
                false,
            ),
            (
                json!({"prop": "customer.age", "op": "gt", "value": 29}),
                true,
            ),
            (
                json!({"prop": "customer.age", "op": "gt", "value": 30}),
                false,
            ),
            (
                json!({"prop": "customer.age", "op": "gte", "value": 30}),
                true,
            ),
            (
                json!({"prop": "customer.age", "op": "lt", "value": 30}),
                false,
            ),
            (
                json!({"prop": "customer.age", "op": "lte", "value": "30"}),
                true,
            ),
            (
                json!({"prop": "customer.score", "op": "gte", "value": 9.5}),
                true,
            ),
            (
                json!({"prop": "customer.country", "op": "gt", "value": 1}),
                false,
            ),
            (
                json!({"prop": "customer.missing", "op": "lt", "value": 1}),
                false,
            ),
            (json!({"prop": "customer.vip", "op": "exists"}), true),
            (
                json!({"prop": "customer.vip", "op": "eq", "value": false}),
                true,
            ),
            (json!({"prop": "customer.missing", "op": "exists"}), false),
            (
                json!({"prop": "customer.missing", "op": "exists", "value": false}),
                true,
            ),
            (
                json!({"prop": "customer.address.city", "op": "eq", "value": "Bilbao"}),
                true,
            ),
            (
                json!({"prop": "customer.address.city.x", "op": "exists"}),
                false,
            ),
            (
                json!({"prop": "cart.channel", "op": "eq", "value": "app"}),
                true,
            ),
            (json!({"prop": "cart.country", "op": "exists"}), false),
        ];
        for (r, expected) in cases {
            let r = rule(r);
            assert!(r.check().is_empty(), "{r:?}");
            assert_eq!(r.passes(&customer, &cart), expected, "{r:?}");
        }
    }

    #[test]
    fn bad_rules_say_which_field() {
        let problems = check_all(&[
            rule(json!({"prop": "customer.a", "op": "gt", "value": "x"})),
            rule(json!({"prop": "order.total", "op": "in", "value": []})),
            rule(json!({"prop": "customer", "op": "exists", "value": 3})),
            rule(json!({"prop": "cart..a", "op": "eq"})),
        ]);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "[0].value",
                "[1].prop",
                "[1].value",
                "[2].prop",
                "[2].value",
                "[3].prop",
                "[3].value"
            ]
        );
        let unknown: Result<AttributeRule, _> =
            serde_json::from_value(json!({"prop": "cart.a", "op": "like", "value": 1}));
        assert!(unknown.is_err());
        assert_eq!(
            check_all(&vec![rule(json!({"prop": "cart.a", "op": "exists"})); 21]).len(),
            1
        );
    }

    #[test]
    fn descriptions_name_the_rule() {
        let r = rule(json!({"prop": "customer.age", "op": "gte", "value": 18}));
        assert_eq!(r.describe(), "customer.age must be at least 18");
        let r = rule(json!({"prop": "cart.coupon", "op": "exists", "value": false}));
        assert_eq!(r.describe(), "cart.coupon must be absent");
    }
}
