//! An event as the rules see it: its kind, its properties (JSON) and when it happened.

use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// `quiz.finished`, `payment.succeeded`, a tenant's own `app.level_completed`.
    pub kind: String,
    pub props: Map<String, Value>,
    /// Unix seconds.
    pub at: i64,
}

impl Event {
    pub fn new(kind: &str, props: Value, at: i64) -> Self {
        Event {
            kind: kind.to_owned(),
            props: match props {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            at,
        }
    }

    /// The property at `path`: a name, or names joined by dots for nested objects
    /// (`order.total`). `None` when absent or `null`.
    pub fn prop(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut at = self.props.get(parts.next()?)?;
        for part in parts {
            at = at.as_object()?.get(part)?;
        }
        (!at.is_null()).then_some(at)
    }

    /// The property as a number: a JSON number, or a string holding one (`"12.50"`), as
    /// integrations often send amounts.
    pub fn number(&self, path: &str) -> Option<f64> {
        number(self.prop(path)?)
    }

    /// The property as text for counting distinct values (`"pdf"`, `12`, `true`).
    pub fn text(&self, path: &str) -> Option<String> {
        match self.prop(path)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// A JSON number, or a string that parses as a finite one.
pub fn number(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_by_path() {
        let e = Event::new(
            "payment.succeeded",
            json!({"amount": "12.50", "order": {"total": 3, "lines": [1]}, "none": null, "ok": true}),
            0,
        );
        assert_eq!(e.number("amount"), Some(12.5));
        assert_eq!(e.number("order.total"), Some(3.0));
        assert_eq!(e.prop("order.lines.x"), None);
        assert_eq!(e.prop("none"), None);
        assert_eq!(e.prop("missing"), None);
        assert_eq!(e.text("ok").as_deref(), Some("true"));
        assert_eq!(e.text("order"), None);
        assert_eq!(number(&json!("NaN")), None);
        assert_eq!(number(&json!("abc")), None);
        assert!(Event::new("x", json!([1]), 0).props.is_empty());
    }
}
