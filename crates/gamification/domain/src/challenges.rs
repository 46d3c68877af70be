//! Weekly challenges: every Monday a job picks a few of the tenant's templates (3 by default)
//! for that Monday–Sunday in the tenant's time zone. The pick is a function of the tenant and
//! the week, so every instance that runs the job picks the same ones. A user's progress is a
//! count and a set of values (distinct property values, or the local days with activity);
//! reaching the goal completes the challenge and gives its points, once.

use std::collections::BTreeSet;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{add_days, days_between};
use crate::event::Event;
use crate::filter::{self, Filter};
use crate::rules::MAX_POINTS;
use crate::{Problem, check_key, check_kind, kind_matches};

/// How many templates a week gets unless the tenant says otherwise.
pub const DEFAULT_PER_WEEK: usize = 3;
/// The largest goal: a distinct-values set is kept per user, so it stays small.
pub const MAX_GOAL: u32 = 1000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Points on completion.
    pub points: i64,
    pub goal: Goal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Goal {
    /// `count` matching events in the week.
    Count {
        event: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        filters: Vec<Filter>,
        count: u32,
    },
    /// `count` different values of `prop` among the week's `event`s (5 formats).
    Distinct {
        event: String,
        prop: String,
        count: u32,
    },
    /// `days` consecutive days with any activity within the week.
    Streak { days: u32 },
    /// `count` `event`s whose `prop` is over `threshold` (3 files over 50 MB).
    CountOver {
        event: String,
        prop: String,
        threshold: f64,
        count: u32,
    },
}

/// A user's progress on one challenge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub count: u32,
    /// Distinct values seen, or the local days (`2026-03-09`) with activity.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub values: BTreeSet<String>,
}

impl Template {
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Err(m) = check_key(&self.key) {
            problems.push(Problem::new("key", m));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            problems.push(Problem::new("name", "1 to 80 characters"));
        }
        if !(1..=MAX_POINTS).contains(&self.points) {
            problems.push(Problem::new("points", "from 1 to 1,000,000"));
        }
        let mut kind = |event: &str| {
            if let Err(m) = check_kind(event, true) {
                problems.push(Problem::new("goal.event", m));
            }
        };
        let (target, prop, max) = match &self.goal {
            Goal::Count {
                event,
                filters,
                count,
            } => {
                kind(event);
                problems.extend(
                    filter::check_all(filters)
                        .into_iter()
                        .map(|p| p.under("goal")),
                );
                (*count, None, MAX_GOAL)
            }
            Goal::Distinct { event, prop, count } => {
                kind(event);
                (*count, Some(prop), MAX_GOAL)
            }
            Goal::Streak { days } => (*days, None, 7),
            Goal::CountOver {
                event,
                prop,
                threshold,
                count,
            } => {
                kind(event);
                if !threshold.is_finite() {
                    problems.push(Problem::new("goal.threshold", "a number"));
                }
                (*count, Some(prop), MAX_GOAL)
            }
        };
        if prop.is_some_and(|p| p.is_empty()) {
            problems.push(Problem::new("goal.prop", "the property to look at"));
        }
        if !(1..=max).contains(&target) {
            let field = if matches!(self.goal, Goal::Streak { .. }) {
                "goal.days"
            } else {
                "goal.count"
            };
            problems.push(Problem::new(
                field,
                format!("from 1 to {max} (a week has 7 days)"),
            ));
        }
        problems
    }

    /// The goal's number (10 conversions, 5 formats, 7 days).
    pub fn target(&self) -> u32 {
        match &self.goal {
            Goal::Count { count, .. }
            | Goal::Distinct { count, .. }
            | Goal::CountOver { count, .. } => *count,
            Goal::Streak { days } => *days,
        }
    }

    /// Whether an event (on local day `day`) can move this challenge.
    pub fn concerns(&self, event: &Event) -> bool {
        match &self.goal {
            Goal::Count {
                event: k, filters, ..
            } => kind_matches(k, &event.kind) && filter::all_pass(filters, event),
            Goal::Distinct { event: k, prop, .. } => {
                kind_matches(k, &event.kind) && event.text(prop).is_some()
            }
            Goal::CountOver {
                event: k,
                prop,
                threshold,
                ..
            } => kind_matches(k, &event.kind) && event.number(prop).is_some_and(|v| v > *threshold),
            Goal::Streak { .. } => true,
        }
    }

    /// The progress after `event` on local `day` (which it [`Template::concerns`]).
    pub fn advance(&self, mut p: Progress, event: &Event, day: Date) -> Progress {
        match &self.goal {
            Goal::Count { .. } | Goal::CountOver { .. } => p.count = p.count.saturating_add(1),
            Goal::Distinct { prop, count, .. } => {
                if let Some(v) = event.text(prop)
                    && p.values.len() < *count as usize
                {
                    p.values.insert(v.chars().take(100).collect());
                }
                p.count = p.values.len() as u32;
            }
            Goal::Streak { .. } => {
                p.values.insert(day.to_string());
                p.count = longest_run(&p.values);
            }
        }
        p
    }

    /// Whether `p` reaches the goal.
    pub fn done(&self, p: &Progress) -> bool {
        p.count >= self.target()
    }
}

/// The longest run of consecutive days in a set of `YYYY-MM-DD` days.
fn longest_run(days: &BTreeSet<String>) -> u32 {
    let days: Vec<Date> = days.iter().filter_map(|d| d.parse().ok()).collect();
    let mut best = 0;
    let mut run = 0;
    let mut prev: Option<Date> = None;
    for d in days {
        run = match prev {
            Some(p) if days_between(p, d) == 1 => run + 1,
            _ => 1,
        };
        best = best.max(run);
        prev = Some(d);
    }
    best
}

/// A stable seed for a tenant's week (FNV-1a over the tenant id and the Monday).
pub fn seed(tenant: &str, monday: Date) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tenant.bytes().chain(monday.to_string().into_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `n` of the templates for the week of `seed`, in a random-looking but repeatable order
/// (splitmix64 driving a Fisher–Yates shuffle); all of them when there are `n` or fewer.
pub fn pick(templates: &[Template], n: usize, seed: u64) -> Vec<&Template> {
    let mut order: Vec<&Template> = templates.iter().collect();
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for i in (1..order.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order.truncate(n);
    order
}

/// The Monday–Sunday week starting on `monday`, as its first and last days.
pub fn week(monday: Date) -> (Date, Date) {
    (monday, add_days(monday, 6))
}

/// Every problem of a tenant's template list: each template's, and keys used twice.
pub fn check_templates(templates: &[Template]) -> Vec<Problem> {
    crate::check_list(
        templates,
        100,
        "template",
        |x| x.key.as_str(),
        Template::check,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use jiff::civil::date;
    use serde_json::json;

    fn template(key: &str) -> Template {
        demo::templates()
            .into_iter()
            .find(|t| t.key == key)
            .unwrap_or_else(|| panic!("template {key}"))
    }

    fn run(t: &Template, events: &[(Event, Date)]) -> Progress {
        events.iter().fold(Progress::default(), |p, (e, d)| {
            if t.concerns(e) {
                t.advance(p, e, *d)
            } else {
                p
            }
        })
    }

    #[test]
    fn every_goal() {
        let monday = date(2026, 3, 9);
        let conv = |props| (Event::new("conversion.completed", props, 0), monday);
        let active = template("convertidor_activo");
        let p = run(&active, &vec![conv(json!({})); 9]);
        assert!(!active.done(&p));
        let p = run(&active, &vec![conv(json!({})); 10]);
        assert!(active.done(&p));

        let formats = template("explorador_de_formatos");
        let p = run(
            &formats,
            &["pdf", "doc", "pdf", "png", "jpg"].map(|f| conv(json!({"target_format": f}))),
        );
        assert_eq!(p.count, 4, "pdf twice counts once");
        assert!(!formats.done(&p));
        let p = formats.advance(
            p,
            &Event::new("conversion.completed", json!({"target_format": "svg"}), 0),
            monday,
        );
        assert!(formats.done(&p));

        let big = template("archivos_grandes");
        let p = run(
            &big,
            &[
                conv(json!({"size_mb": 60})),
                conv(json!({"size_mb": 50})),
                conv(json!({"size_mb": 70})),
            ],
        );
        assert_eq!(p.count, 2, "50 is not over 50");

        let streak = template("racha_semanal");
        let any = |d| (Event::new("user.daily_login", json!({}), 0), d);
        let days: Vec<(Event, Date)> = (0..7)
            .filter(|i| *i != 3)
            .map(|i| any(add_days(monday, i)))
            .collect();
        let p = run(&streak, &days);
        assert_eq!(p.count, 3, "a gap on Thursday: the longest run is Fri–Sun");
        let p = streak.advance(p, &any(add_days(monday, 3)).0, add_days(monday, 3));
        assert!(streak.done(&p));
    }

    #[test]
    fn the_weekly_pick_is_repeatable() {
        let all = demo::templates();
        assert!(check_templates(&all).is_empty());
        let monday = date(2026, 3, 9);
        let a: Vec<&str> = pick(&all, 3, seed("t1", monday))
            .iter()
            .map(|t| t.key.as_str())
            .collect();
        let b: Vec<&str> = pick(&all, 3, seed("t1", monday))
            .iter()
            .map(|t| t.key.as_str())
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        let distinct: BTreeSet<&str> = a.iter().copied().collect();
        assert_eq!(distinct.len(), 3);
        // Over many weeks every template comes up.
        let mut seen = BTreeSet::new();
        for w in 0..20 {
            for t in pick(&all, 3, seed("t1", add_days(monday, 7 * w))) {
                seen.insert(t.key.clone());
            }
        }
        assert_eq!(seen.len(), all.len());
        assert_eq!(pick(&all[..2], 3, 1).len(), 2);
        assert_eq!(week(monday), (monday, date(2026, 3, 15)));
    }

    #[test]
    fn bad_templates() {
        let t: Template = serde_json::from_value(json!({"key": "k", "name": "", "points": 0,
            "goal": {"type": "streak", "days": 8}}))
        .expect("parses");
        let paths: Vec<String> = t.check().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["name", "points", "goal.days"]);
    }
}
