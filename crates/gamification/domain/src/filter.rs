//! Conditions on an event's properties: `{"prop": "amount", "op": "gte", "value": 10}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Problem;
use crate::event::{Event, number};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// A property name, or names joined by dots (`order.total`).
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

impl Filter {
    /// Every problem of this filter, paths relative to it.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let prop_ok = !self.prop.is_empty()
            && self.prop.len() <= 100
            && self.prop.split('.').all(|p| !p.is_empty());
        if !prop_ok {
            problems.push(Problem::new(
                "prop",
                "a property name, or names joined by dots (order.total)",
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
                Some("true (the property is there) or false (it is not)")
            }
            _ => None,
        };
        if let Some(m) = value_problem {
            problems.push(Problem::new("value", m));
        }
        problems
    }

    /// Whether the event passes. Comparisons need a number on both sides: a property that is
    /// missing or not a number fails them. `eq` and `in` compare numbers as numbers (`10`
    /// equals `10.0` and `"10"`), anything else exactly.
    pub fn passes(&self, event: &Event) -> bool {
        let found = event.prop(&self.prop);
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
}

fn same(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) if a.is_number() || b.is_number() => x == y,
        _ => a == b,
    }
}

/// Every filter passes (no filters: every event).
pub fn all_pass(filters: &[Filter], event: &Event) -> bool {
    filters.iter().all(|f| f.passes(event))
}

/// Every problem of a list of filters, under `filters[i]`.
pub fn check_all(filters: &[Filter]) -> Vec<Problem> {
    if filters.len() > 20 {
        return vec![Problem::new("filters", "at most 20 filters")];
    }
    filters
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            f.check()
                .into_iter()
                .map(move |p| p.under(&format!("filters[{i}]")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(v: Value) -> Filter {
        serde_json::from_value(v).expect("a filter")
    }

    #[test]
    fn every_operator() {
        let e = Event::new(
            "conversion.completed",
            json!({"format": "pdf", "size_mb": 120, "amount": "9.5", "flag": false}),
            0,
        );
        let cases = [
            (json!({"prop": "format", "op": "eq", "value": "pdf"}), true),
            (json!({"prop": "format", "op": "eq", "value": "PDF"}), false),
            (json!({"prop": "size_mb", "op": "eq", "value": 120.0}), true),
            (json!({"prop": "amount", "op": "eq", "value": 9.5}), true),
            (
                json!({"prop": "format", "op": "in", "value": ["doc", "pdf"]}),
                true,
            ),
            (
                json!({"prop": "format", "op": "in", "value": ["doc"]}),
                false,
            ),
            (json!({"prop": "size_mb", "op": "gt", "value": 100}), true),
            (json!({"prop": "size_mb", "op": "gt", "value": 120}), false),
            (json!({"prop": "size_mb", "op": "gte", "value": 120}), true),
            (json!({"prop": "size_mb", "op": "lt", "value": 120}), false),
            (
                json!({"prop": "size_mb", "op": "lte", "value": "120"}),
                true,
            ),
            (json!({"prop": "amount", "op": "gte", "value": 9.5}), true),
            (json!({"prop": "format", "op": "gt", "value": 1}), false),
            (json!({"prop": "missing", "op": "lt", "value": 1}), false),
            (json!({"prop": "flag", "op": "exists"}), true),
            (json!({"prop": "missing", "op": "exists"}), false),
            (
                json!({"prop": "missing", "op": "exists", "value": false}),
                true,
            ),
            (json!({"prop": "flag", "op": "eq", "value": false}), true),
        ];
        for (filter, expected) in cases {
            let filter = f(filter.clone());
            assert!(filter.check().is_empty(), "{filter:?}");
            assert_eq!(filter.passes(&e), expected, "{filter:?}");
        }
    }

    #[test]
    fn bad_filters_say_which_field() {
        let problems = check_all(&[
            f(json!({"prop": "a", "op": "gt", "value": "x"})),
            f(json!({"prop": "", "op": "in", "value": []})),
            f(json!({"prop": "a", "op": "exists", "value": 3})),
            f(json!({"prop": "a", "op": "eq"})),
        ]);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "filters[0].value",
                "filters[1].prop",
                "filters[1].value",
                "filters[2].value",
                "filters[3].value"
            ]
        );
        let unknown: Result<Filter, _> =
            serde_json::from_value(json!({"prop": "a", "op": "like", "value": 1}));
        assert!(unknown.is_err());
    }
}
