//! Rules: "on event E (with these conditions) award P points, or points per unit of a
//! property, or a badge", optionally once per user, capped per period, and only within a
//! window; plus time-limited multipliers on points. [`evaluate`] is the whole decision for
//! one rule and one event, given what the user already got from it.

use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, Period, Window};
use crate::event::Event;
use crate::filter::{self, Filter};
use crate::{Problem, check_key, check_kind, kind_matches};

/// The most points one award may give (and a cap may allow): a typo guard.
pub const MAX_POINTS: i64 = 1_000_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable name, unique in the tenant (`first_conversion`): awards point at it.
    pub key: String,
    /// What people see in their history ("Primera conversión").
    #[serde(default)]
    pub name: String,
    /// The event kind, a prefix (`quiz.*`) or `*`.
    pub event: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<Filter>,
    pub award: Award,
    /// At most one award ever per user (the converter's first-conversion bonus).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once_per_user: bool,
    /// At most this many points per user per period from this rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Cap>,
    /// Unix seconds: the rule counts events from then on (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_from: Option<i64>,
    /// Unix seconds: and before then (exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_until: Option<i64>,
    /// Switched off rules are kept but award nothing.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Award {
    /// A fixed number of points.
    Points { points: i64 },
    /// `per_unit` points for each unit of a numeric property, rounded down (the converter's
    /// 10 points per EUR: `{"prop": "amount_eur", "per_unit": 10}`); at most `max` if given.
    PointsPer {
        prop: String,
        per_unit: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// A badge (its own points reward comes with it).
    Badge { badge: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cap {
    pub points: i64,
    pub period: Period,
}

/// A time-limited boost: point awards for matching events in `[from, until)` are multiplied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multiplier {
    pub key: String,
    /// The event kind, prefix or `*` it boosts.
    pub event: String,
    /// In hundredths: 200 doubles, 150 adds half.
    pub percent: u32,
    pub from: i64,
    pub until: i64,
}

/// What a user already got from one rule, as the store reads it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Given {
    /// Any award of the rule to the user, ever.
    pub ever: bool,
    /// Points from the rule to the user in the cap's current period.
    pub in_period: i64,
}

/// What one rule gives for one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Points(i64),
    Badge(String),
}

impl Rule {
    /// Every problem of the rule, paths relative to it.
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Err(m) = check_key(&self.key) {
            problems.push(Problem::new("key", m));
        }
        if self.name.chars().count() > 120 {
            problems.push(Problem::new("name", "at most 120 characters"));
        }
        if let Err(m) = check_kind(&self.event, true) {
            problems.push(Problem::new("event", m));
        }
        problems.extend(filter::check_all(&self.filters));
        match &self.award {
            Award::Points { points } if !(1..=MAX_POINTS).contains(points) => {
                problems.push(Problem::new("award.points", "from 1 to 1,000,000"));
            }
            Award::PointsPer {
                prop,
                per_unit,
                max,
            } => {
                if prop.is_empty() || prop.split('.').any(str::is_empty) {
                    problems.push(Problem::new("award.prop", "the numeric property to count"));
                }
                if !(per_unit.is_finite() && *per_unit > 0.0 && *per_unit <= MAX_POINTS as f64) {
                    problems.push(Problem::new(
                        "award.per_unit",
                        "points per unit: more than 0, at most 1,000,000",
                    ));
                }
                if max.is_some_and(|m| !(1..=MAX_POINTS).contains(&m)) {
                    problems.push(Problem::new("award.max", "from 1 to 1,000,000"));
                }
            }
            Award::Badge { badge } => {
                if let Err(m) = check_key(badge) {
                    problems.push(Problem::new("award.badge", m));
                }
            }
            Award::Points { .. } => {}
        }
        if let Some(cap) = self.cap {
            if !(1..=MAX_POINTS).contains(&cap.points) {
                problems.push(Problem::new("cap.points", "from 1 to 1,000,000"));
            }
            if matches!(self.award, Award::Badge { .. }) {
                problems.push(Problem::new(
                    "cap",
                    "a badge is unlocked once: a cap applies to points",
                ));
            }
        }
        if let (Some(from), Some(until)) = (self.active_from, self.active_until)
            && until <= from
        {
            problems.push(Problem::new("active_until", "after active_from"));
        }
        problems
    }

    /// Whether the rule looks at this event at all (kind, filters, window, switch).
    pub fn matches(&self, event: &Event) -> bool {
        self.enabled
            && kind_matches(&self.event, &event.kind)
            && self.active_from.is_none_or(|f| event.at >= f)
            && self.active_until.is_none_or(|u| event.at < u)
            && filter::all_pass(&self.filters, event)
    }

    /// The window of the cap's period around `at`, when the rule has a cap.
    pub fn cap_window(&self, calendar: &Calendar, at: i64) -> Option<Window> {
        self.cap.map(|c| calendar.window(c.period, at))
    }
}

impl Multiplier {
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Err(m) = check_key(&self.key) {
            problems.push(Problem::new("key", m));
        }
        if let Err(m) = check_kind(&self.event, true) {
            problems.push(Problem::new("event", m));
        }
        if !(101..=1000).contains(&self.percent) {
            problems.push(Problem::new(
                "percent",
                "from 101 (×1.01) to 1000 (×10), in hundredths",
            ));
        }
        if self.until <= self.from {
            problems.push(Problem::new("until", "after from"));
        }
        problems
    }
}

/// The multiplier for an event: the largest active one that matches (boosts do not stack,
/// so two overlapping campaigns cannot multiply each other), 100 when none does.
pub fn multiplier_for(multipliers: &[Multiplier], event: &Event) -> u32 {
    multipliers
        .iter()
        .filter(|m| kind_matches(&m.event, &event.kind) && m.from <= event.at && event.at < m.until)
        .map(|m| m.percent)
        .max()
        .unwrap_or(100)
}

/// What `rule` gives for `event` (which it [`Rule::matches`]), with `percent` the event's
/// multiplier and `given` what the user already got from the rule. `None`: nothing (a
/// once-per-user rule already given, a cap reached, a property missing or worth under one
/// point).
pub fn evaluate(rule: &Rule, event: &Event, percent: u32, given: Given) -> Option<Outcome> {
    if rule.once_per_user && given.ever {
        return None;
    }
    let base = match &rule.award {
        Award::Badge { badge } => return Some(Outcome::Badge(badge.clone())),
        Award::Points { points } => *points,
        Award::PointsPer {
            prop,
            per_unit,
            max,
        } => {
            let units = event.number(prop)?;
            if units <= 0.0 {
                return None;
            }
            let raw = (units * per_unit).floor().min(MAX_POINTS as f64) as i64;
            max.map_or(raw, |m| raw.min(m))
        }
    };
    let boosted = base.saturating_mul(i64::from(percent)) / 100;
    let points = match rule.cap {
        Some(cap) => boosted.min(cap.points.saturating_sub(given.in_period)),
        None => boosted,
    };
    (points > 0).then_some(Outcome::Points(points))
}

/// Every problem of a tenant's rule list: each rule's, and keys used twice.
pub fn check_rules(rules: &[Rule]) -> Vec<Problem> {
    crate::check_list(rules, 200, "rule", |x| x.key.as_str(), Rule::check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(v: serde_json::Value) -> Rule {
        serde_json::from_value(v).expect("a rule")
    }

    fn ev(kind: &str, props: serde_json::Value) -> Event {
        Event::new(kind, props, 1_000)
    }

    #[test]
    fn fixed_and_proportional_points() {
        let fixed = rule(json!({"key": "conversion", "event": "conversion.completed",
            "award": {"type": "points", "points": 10}}));
        assert!(fixed.check().is_empty());
        let e = ev("conversion.completed", json!({}));
        assert!(fixed.matches(&e));
        assert_eq!(
            evaluate(&fixed, &e, 100, Given::default()),
            Some(Outcome::Points(10))
        );
        assert!(!fixed.matches(&ev("conversion.failed", json!({}))));

        let per_eur = rule(json!({"key": "payment", "event": "payment.succeeded",
            "award": {"type": "points_per", "prop": "amount_eur", "per_unit": 10}}));
        assert!(per_eur.check().is_empty());
        let paid =
            |amount: serde_json::Value| ev("payment.succeeded", json!({"amount_eur": amount}));
        assert_eq!(
            evaluate(&per_eur, &paid(json!(12.55)), 100, Given::default()),
            Some(Outcome::Points(125))
        );
        assert_eq!(
            evaluate(&per_eur, &paid(json!("3")), 100, Given::default()),
            Some(Outcome::Points(30))
        );
        assert_eq!(
            evaluate(&per_eur, &paid(json!(0.05)), 100, Given::default()),
            None,
            "under a point"
        );
        assert_eq!(
            evaluate(&per_eur, &paid(json!(-5)), 100, Given::default()),
            None
        );
        assert_eq!(
            evaluate(
                &per_eur,
                &ev("payment.succeeded", json!({})),
                100,
                Given::default()
            ),
            None
        );
        let capped = rule(json!({"key": "p", "event": "payment.succeeded",
            "award": {"type": "points_per", "prop": "amount_eur", "per_unit": 10, "max": 500}}));
        assert_eq!(
            evaluate(&capped, &paid(json!(1000)), 100, Given::default()),
            Some(Outcome::Points(500))
        );
    }

    #[test]
    fn once_caps_windows_and_multipliers() {
        let first = rule(
            json!({"key": "first_conversion", "event": "conversion.completed",
            "once_per_user": true, "award": {"type": "points", "points": 50}}),
        );
        let e = ev("conversion.completed", json!({}));
        assert_eq!(
            evaluate(&first, &e, 100, Given::default()),
            Some(Outcome::Points(50))
        );
        assert_eq!(
            evaluate(
                &first,
                &e,
                100,
                Given {
                    ever: true,
                    in_period: 0
                }
            ),
            None
        );

        let daily = rule(json!({"key": "daily_login", "event": "user.daily_login",
            "cap": {"points": 12, "period": "day"}, "award": {"type": "points", "points": 5}}));
        let login = ev("user.daily_login", json!({}));
        let after = |in_period| {
            evaluate(
                &daily,
                &login,
                100,
                Given {
                    ever: true,
                    in_period,
                },
            )
        };
        assert_eq!(after(0), Some(Outcome::Points(5)));
        assert_eq!(after(10), Some(Outcome::Points(2)), "trimmed to the cap");
        assert_eq!(after(12), None);
        assert_eq!(after(40), None);

        let windowed = rule(
            json!({"key": "launch", "event": "quiz.*", "active_from": 1000,
            "active_until": 2000, "award": {"type": "points", "points": 1}}),
        );
        assert!(windowed.matches(&Event::new("quiz.finished", json!({}), 1000)));
        assert!(!windowed.matches(&Event::new("quiz.finished", json!({}), 2000)));
        assert!(!windowed.matches(&Event::new("quiz.finished", json!({}), 999)));

        let boosts = [
            Multiplier {
                key: "x2".into(),
                event: "quiz.*".into(),
                percent: 200,
                from: 0,
                until: 5000,
            },
            Multiplier {
                key: "x3".into(),
                event: "quiz.finished".into(),
                percent: 300,
                from: 1500,
                until: 1600,
            },
        ];
        assert_eq!(
            multiplier_for(&boosts, &Event::new("quiz.finished", json!({}), 1000)),
            200
        );
        assert_eq!(
            multiplier_for(&boosts, &Event::new("quiz.finished", json!({}), 1500)),
            300,
            "the largest, not 600"
        );
        assert_eq!(
            multiplier_for(&boosts, &Event::new("user.daily_login", json!({}), 1500)),
            100
        );
        assert_eq!(
            evaluate(&first, &e, 250, Given::default()),
            Some(Outcome::Points(125))
        );
        assert_eq!(after_boost(&daily, &login), Some(Outcome::Points(10)));
        assert!(boosts.iter().all(|m| m.check().is_empty()));
    }

    fn after_boost(r: &Rule, e: &Event) -> Option<Outcome> {
        evaluate(r, e, 200, Given::default())
    }

    #[test]
    fn filters_and_badges() {
        let big = rule(json!({"key": "big_file", "event": "conversion.completed",
            "filters": [{"prop": "size_mb", "op": "gt", "value": 100}],
            "award": {"type": "badge", "badge": "domador_de_gigantes"}}));
        assert!(big.check().is_empty());
        let small = ev("conversion.completed", json!({"size_mb": 20}));
        let huge = ev("conversion.completed", json!({"size_mb": 120}));
        assert!(!big.matches(&small));
        assert!(big.matches(&huge));
        assert_eq!(
            evaluate(&big, &huge, 300, Given::default()),
            Some(Outcome::Badge("domador_de_gigantes".into()))
        );
        let off = rule(json!({"key": "off", "event": "*", "enabled": false,
            "award": {"type": "points", "points": 1}}));
        assert!(!off.matches(&huge));
    }

    #[test]
    fn bad_rules_list_every_problem() {
        let bad = rule(
            json!({"key": "Bad Key", "event": "Quiz", "name": "x".repeat(121),
            "filters": [{"prop": "a", "op": "gt", "value": "x"}],
            "award": {"type": "points", "points": 0}, "cap": {"points": 0, "period": "week"},
            "active_from": 10, "active_until": 5}),
        );
        let paths: Vec<String> = bad.check().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "key",
                "name",
                "event",
                "filters[0].value",
                "award.points",
                "cap.points",
                "active_until"
            ]
        );
        let per = rule(
            json!({"key": "p", "event": "x", "award": {"type": "points_per", "prop": "", "per_unit": -1, "max": 0}}),
        );
        let paths: Vec<String> = per.check().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["award.prop", "award.per_unit", "award.max"]);
        let badge_cap = rule(
            json!({"key": "b", "event": "x", "cap": {"points": 5, "period": "day"},
            "award": {"type": "badge", "badge": "b"}}),
        );
        assert_eq!(badge_cap.check()[0].path, "cap");
        let twice = check_rules(&[per.clone(), per]);
        assert!(
            twice
                .iter()
                .any(|p| p.path == "[1].key" && p.message.contains("another"))
        );
        let unknown: Result<Rule, _> = serde_json::from_value(json!({"key": "k", "event": "x",
            "award": {"type": "points", "points": 1}, "extra": 1}));
        assert!(unknown.is_err());
    }
}
