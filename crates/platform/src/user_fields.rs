//! Custom fields of a tenant's end users: the tenant defines them in its settings
//! (`user_fields`: name, type, required, label), and registration and `PATCH /me` fill them,
//! checked and normalised here. Pure.
//!
//! ```json
//! {"user_fields": [
//!   {"name": "phone", "type": "phone", "required": true, "label": "Teléfono"},
//!   {"name": "kitchen_m2", "type": "number"},
//!   {"name": "newsletter", "type": "boolean"}]}
//! ```

use serde_json::{Map, Value};

use crate::tenants::domain::Problem;

pub const MAX_FIELDS: usize = 30;
pub const MAX_TEXT_CHARS: usize = 500;
const TYPES: &[&str] = &["text", "number", "boolean", "date", "email", "phone"];

/// One field as the tenant defined it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDef {
    pub name: String,
    pub kind: String,
    pub required: bool,
}

fn name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every problem of the settings' `user_fields` (at `path`).
pub fn check_defs(v: &Value, path: &str) -> Vec<Problem> {
    let mut p = Vec::new();
    let Some(list) = v.as_array() else {
        p.push(Problem::new(path, "a list of fields"));
        return p;
    };
    if list.len() > MAX_FIELDS {
        p.push(Problem::new(path, format!("at most {MAX_FIELDS} fields")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, f) in list.iter().enumerate() {
        let at = format!("{path}[{i}]");
        let Some(f) = f.as_object() else {
            p.push(Problem::new(at, "a field: {name, type, required, label}"));
            continue;
        };
        for k in f.keys() {
            if !["name", "type", "required", "label"].contains(&k.as_str()) {
                p.push(Problem::new(
                    format!("{at}.{k}"),
                    "not a field setting (name, type, required, label)",
                ));
            }
        }
        match f.get("name").and_then(Value::as_str) {
            Some(n) if name_ok(n) => {
                if !seen.insert(n.to_owned()) {
                    p.push(Problem::new(format!("{at}.name"), format!("\"{n}\" twice")));
                }
            }
            _ => p.push(Problem::new(
                format!("{at}.name"),
                "a name like phone or kitchen_m2 (a-z, 0-9, _; a letter first; up to 40)",
            )),
        }
        if !f
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| TYPES.contains(&t))
        {
            p.push(Problem::new(
                format!("{at}.type"),
                format!("one of {}", TYPES.join(", ")),
            ));
        }
        if f.get("required").is_some_and(|r| !r.is_boolean()) {
            p.push(Problem::new(format!("{at}.required"), "true or false"));
        }
        if f.get("label")
            .is_some_and(|l| l.as_str().is_none_or(|s| s.chars().count() > 100))
        {
            p.push(Problem::new(
                format!("{at}.label"),
                "a text of at most 100 characters",
            ));
        }
    }
    p
}

/// The definitions of a checked settings document.
pub fn defs(doc: &Value) -> Vec<FieldDef> {
    doc["user_fields"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            Some(FieldDef {
                name: f["name"].as_str()?.to_owned(),
                kind: f["type"].as_str()?.to_owned(),
                required: f["required"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

/// A valid calendar date `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// A phone number as `+` and 7 to 15 digits (spaces, dots, dashes and brackets dropped), or
/// `None`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let s = s.trim();
    let plus = s.starts_with('+');
    let body = if plus { &s[1..] } else { s };
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || " .-()".contains(c))
    {
        return None;
    }
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    (7..=15)
        .contains(&digits.len())
        .then(|| format!("{}{digits}", if plus { "+" } else { "" }))
}

/// The value normalised for its type, or why it does not fit.
fn normalize(kind: &str, v: &Value) -> Result<Value, String> {
    match kind {
        "text" => match v.as_str() {
            Some(s) if s.trim().chars().count() <= MAX_TEXT_CHARS => Ok(Value::from(s.trim())),
            _ => Err(format!("a text of at most {MAX_TEXT_CHARS} characters")),
        },
        "number" => match v.as_f64() {
            Some(n) if n.is_finite() => Ok(v.clone()),
            _ => Err("a number".into()),
        },
        "boolean" => v
            .as_bool()
            .map(Value::from)
            .ok_or_else(|| "true or false".into()),
        "date" => match v.as_str() {
            Some(s) if is_date(s.trim()) => Ok(Value::from(s.trim())),
            _ => Err("a date like 2026-12-07".into()),
        },
        "email" => match v.as_str() {
            Some(s) if crate::email::check_email(s).is_ok() => {
                Ok(Value::from(crate::email::normalize_email(s)))
            }
            _ => Err("an email address".into()),
        },
        "phone" => v
            .as_str()
            .and_then(normalize_phone)
            .map(Value::from)
            .ok_or_else(|| "a phone number like +34 600 111 222".into()),
        other => Err(format!("an unknown type {other}")),
    }
}

/// `given` on top of `current`, checked against `defs`: unknown names, values of the wrong
/// type and (after the merge) missing required fields are problems at `fields.<name>`. A
/// `null` removes a field. The merged, normalised values, or every problem.
pub fn apply(
    defs: &[FieldDef],
    current: &Map<String, Value>,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut out: Map<String, Value> = current
        .iter()
        .filter(|(k, _)| defs.iter().any(|d| &d.name == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut problems = Vec::new();
    for (k, v) in given {
        let at = format!("fields.{k}");
        let Some(def) = defs.iter().find(|d| &d.name == k) else {
            problems.push(Problem::new(at, "this site has no such field"));
            continue;
        };
        if v.is_null() {
            out.remove(k);
            continue;
        }
        match normalize(&def.kind, v) {
            Ok(n) => {
                out.insert(k.clone(), n);
            }
            Err(m) => problems.push(Problem::new(at, m)),
        }
    }
    for d in defs.iter().filter(|d| d.required) {
        let missing = out
            .get(&d.name)
            .is_none_or(|v| v.as_str().is_some_and(str::is_empty));
        if missing
            && !problems
                .iter()
                .any(|p| p.path == format!("fields.{}", d.name))
        {
            problems.push(Problem::new(format!("fields.{}", d.name), "required"));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"user_fields": [
            {"name": "phone", "type": "phone", "required": true, "label": "Teléfono"},
            {"name": "kitchen_m2", "type": "number"},
            {"name": "newsletter", "type": "boolean"},
            {"name": "visit", "type": "date"},
            {"name": "note", "type": "text"},
            {"name": "work_email", "type": "email"}]})
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn paths(p: &[Problem]) -> Vec<&str> {
        p.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn definitions_are_checked_with_their_paths() {
        assert!(check_defs(&doc()["user_fields"], "doc.user_fields").is_empty());
        let bad = json!([{"name": "Phone", "type": "tel"}, {"name": "a", "type": "text", "required": "yes", "x": 1},
                         {"name": "a", "type": "text"}, 3]);
        assert_eq!(
            paths(&check_defs(&bad, "doc.user_fields")),
            [
                "doc.user_fields[0].name",
                "doc.user_fields[0].type",
                "doc.user_fields[1].x",
                "doc.user_fields[1].required",
                "doc.user_fields[2].name",
                "doc.user_fields[3]"
            ]
        );
        assert_eq!(paths(&check_defs(&json!({}), "u")), ["u"]);
    }

    #[test]
    fn values_are_normalised_for_their_type() {
        let d = defs(&doc());
        let got = apply(
            &d,
            &Map::new(),
            &obj(json!({"phone": "+34 600-111 (222)", "kitchen_m2": 20.5, "newsletter": true,
                        "visit": "2024-02-29", "note": "  cocina en L  ", "work_email": " Ana@Example.COM "})),
        )
        .expect("valid");
        assert_eq!(
            Value::Object(got),
            json!({"phone": "+34600111222", "kitchen_m2": 20.5, "newsletter": true,
                   "visit": "2024-02-29", "note": "cocina en L", "work_email": "ana@example.com"})
        );
    }

    #[test]
    fn every_bad_value_and_missing_required_field_is_reported() {
        let d = defs(&doc());
        let problems = apply(
            &d,
            &Map::new(),
            &obj(
                json!({"kitchen_m2": "veinte", "newsletter": "yes", "visit": "2023-02-29",
                        "work_email": "nope", "shoe_size": 42}),
            ),
        )
        .expect_err("bad");
        assert_eq!(
            paths(&problems),
            [
                "fields.kitchen_m2",
                "fields.newsletter",
                "fields.shoe_size",
                "fields.visit",
                "fields.work_email",
                "fields.phone"
            ]
        );
    }

    #[test]
    fn a_patch_merges_and_null_removes_but_not_a_required_field() {
        let d = defs(&doc());
        let current = obj(json!({"phone": "+34600111222", "note": "x", "gone_field": 1}));
        let merged = apply(
            &d,
            &current,
            &obj(json!({"note": null, "newsletter": false})),
        )
        .expect("valid");
        assert_eq!(
            Value::Object(merged),
            json!({"phone": "+34600111222", "newsletter": false})
        );
        let problems = apply(&d, &current, &obj(json!({"phone": null}))).expect_err("required");
        assert_eq!(paths(&problems), ["fields.phone"]);
    }

    #[test]
    fn phones_and_dates() {
        assert_eq!(normalize_phone("600 11 12 22"), Some("600111222".into()));
        assert_eq!(
            normalize_phone("+1 (555) 010-9999"),
            Some("+15550109999".into())
        );
        for bad in ["12345", "+34 600 abc", "1234567890123456", "", "+"] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
        for ok in ["2026-12-07", "2000-02-29", "1999-12-31"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "1900-02-29",
            "2026-1-01",
            "2026/01/01",
            "26-01-01x",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn applying_twice_changes_nothing(phone in "[+]?[0-9 ]{7,20}", m2 in -1e6f64..1e6, note in "\\PC{0,50}") {
            let d = defs(&doc());
            let given = obj(json!({"phone": phone, "kitchen_m2": m2, "note": note}));
            if let Ok(once) = apply(&d, &Map::new(), &given) {
                let twice = apply(&d, &once, &once).expect("a normalised value stays valid");
                prop_assert_eq!(once, twice);
            }
        }
    }
}
