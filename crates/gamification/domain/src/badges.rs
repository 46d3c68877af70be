//! Badges: unlocked once per user, with a rarity, an icon and a points reward. What unlocks
//! one is its criterion: N events of a kind (milestone), N days in a row (streak), a level, or
//! something special (a property over a threshold, N events within a time, being among a
//! tenant's first N users); `manual` ones are given by a rule's `badge` award or by staff.

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::rules::MAX_POINTS;
use crate::{Problem, check_key, check_kind, kind_matches};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Badge {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// An emoji or a short text (`🎯`).
    #[serde(default)]
    pub icon: String,
    #[serde(default)]
    pub rarity: Rarity,
    /// Points given when it unlocks (0: none).
    #[serde(default)]
    pub points: i64,
    pub criterion: Criterion,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rarity {
    #[default]
    Common,
    Uncommon,
    Rare,
    Epic,
    Legendary,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Criterion {
    /// `count` events of `event` (a kind, prefix or `*`), ever.
    Milestone { event: String, count: u64 },
    /// `days` consecutive days of activity.
    Streak { days: u32 },
    /// Level `level` reached.
    Level { level: u32 },
    /// One `event` whose `prop` is over `threshold` (a file over 100 MB).
    PropertyOver {
        event: String,
        prop: String,
        threshold: f64,
    },
    /// `count` events of `event` within `within_secs` (5 conversions in an hour).
    Burst {
        event: String,
        count: u64,
        within_secs: i64,
    },
    /// Being among the tenant's first `users` users to earn anything.
    FirstUsers { users: u64 },
    /// Given by a rule (`award: {type: badge}`) or by staff.
    Manual,
}

/// What the store knows about the user when an event arrives (after counting it).
pub trait Facts {
    /// Events of `pattern` the user has sent, this one included.
    fn count(&self, pattern: &str) -> u64;
    /// Events of `pattern` the user sent at or after `since` (unix seconds), this one included.
    fn count_since(&self, pattern: &str, since: i64) -> u64;
    /// The user's current streak in days.
    fn streak(&self) -> u32;
    /// The user's level number.
    fn level(&self) -> u32;
    /// The user's place (from 1) among the tenant's users, by when they first earned anything.
    fn ordinal(&self) -> u64;
}

impl Badge {
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if let Err(m) = check_key(&self.key) {
            problems.push(Problem::new("key", m));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            problems.push(Problem::new("name", "1 to 80 characters"));
        }
        if self.description.chars().count() > 300 {
            problems.push(Problem::new("description", "at most 300 characters"));
        }
        if self.icon.chars().count() > 16 {
            problems.push(Problem::new("icon", "an emoji or up to 16 characters"));
        }
        if !(0..=MAX_POINTS).contains(&self.points) {
            problems.push(Problem::new("points", "from 0 to 1,000,000"));
        }
        let c = "criterion";
        match &self.criterion {
            Criterion::Milestone { event, count } => {
                kind_problem(&mut problems, event);
                if *count == 0 {
                    problems.push(Problem::new(format!("{c}.count"), "at least 1"));
                }
            }
            Criterion::Streak { days } if *days < 2 => {
                problems.push(Problem::new(format!("{c}.days"), "at least 2"));
            }
            Criterion::Level { level } if *level < 2 => {
                problems.push(Problem::new(
                    format!("{c}.level"),
                    "2 or more (everyone has level 1)",
                ));
            }
            Criterion::PropertyOver {
                event,
                prop,
                threshold,
            } => {
                kind_problem(&mut problems, event);
                if prop.is_empty() {
                    problems.push(Problem::new(format!("{c}.prop"), "the numeric property"));
                }
                if !threshold.is_finite() {
                    problems.push(Problem::new(format!("{c}.threshold"), "a number"));
                }
            }
            Criterion::Burst {
                event,
                count,
                within_secs,
            } => {
                kind_problem(&mut problems, event);
                if *count < 2 {
                    problems.push(Problem::new(format!("{c}.count"), "at least 2"));
                }
                if !(1..=31 * 86_400).contains(within_secs) {
                    problems.push(Problem::new(
                        format!("{c}.within_secs"),
                        "from 1 second to 31 days",
                    ));
                }
            }
            Criterion::FirstUsers { users } if *users == 0 => {
                problems.push(Problem::new(format!("{c}.users"), "at least 1"));
            }
            _ => {}
        }
        problems
    }

    /// Whether `event`, with what the store knows (`facts`), unlocks this badge. Manual badges
    /// never unlock by themselves.
    pub fn unlocks(&self, event: &Event, facts: &dyn Facts) -> bool {
        match &self.criterion {
            Criterion::Milestone { event: kind, count } => {
                kind_matches(kind, &event.kind) && facts.count(kind) >= *count
            }
            Criterion::Streak { days } => facts.streak() >= *days,
            Criterion::Level { level } => facts.level() >= *level,
            Criterion::PropertyOver {
                event: kind,
                prop,
                threshold,
            } => {
                kind_matches(kind, &event.kind)
                    && event.number(prop).is_some_and(|v| v > *threshold)
            }
            Criterion::Burst {
                event: kind,
                count,
                within_secs,
            } => {
                kind_matches(kind, &event.kind)
                    && facts.count_since(kind, event.at - within_secs + 1) >= *count
            }
            Criterion::FirstUsers { users } => facts.ordinal() <= *users,
            Criterion::Manual => false,
        }
    }
}

fn kind_problem(problems: &mut Vec<Problem>, kind: &str) {
    if let Err(m) = check_kind(kind, true) {
        problems.push(Problem::new("criterion.event", m));
    }
}

/// Every problem of a tenant's badge list: each badge's, and keys used twice.
pub fn check_badges(badges: &[Badge]) -> Vec<Problem> {
    crate::check_list(badges, 200, "badge", |x| x.key.as_str(), Badge::check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use serde_json::json;

    struct Known {
        count: u64,
        recent: u64,
        streak: u32,
        level: u32,
        ordinal: u64,
    }

    impl Facts for Known {
        fn count(&self, _: &str) -> u64 {
            self.count
        }
        fn count_since(&self, _: &str, _: i64) -> u64 {
            self.recent
        }
        fn streak(&self) -> u32 {
            self.streak
        }
        fn level(&self) -> u32 {
            self.level
        }
        fn ordinal(&self) -> u64 {
            self.ordinal
        }
    }

    const NOBODY: Known = Known {
        count: 1,
        recent: 1,
        streak: 1,
        level: 1,
        ordinal: 1000,
    };

    fn badge(key: &str) -> Badge {
        demo::badges()
            .into_iter()
            .find(|b| b.key == key)
            .unwrap_or_else(|| panic!("demo badge {key}"))
    }

    #[test]
    fn every_criterion() {
        let conv = Event::new("conversion.completed", json!({"size_mb": 120}), 10_000);
        let other = Event::new("quiz.finished", json!({}), 10_000);
        let first = badge("primer_paso");
        assert!(first.unlocks(&conv, &NOBODY));
        assert!(!first.unlocks(&other, &NOBODY), "another kind");
        let ten = badge("veterano_converter");
        assert!(!ten.unlocks(&conv, &Known { count: 9, ..NOBODY }));
        assert!(ten.unlocks(
            &conv,
            &Known {
                count: 10,
                ..NOBODY
            }
        ));
        let week = badge("semana_perfecta");
        assert!(!week.unlocks(
            &other,
            &Known {
                streak: 6,
                ..NOBODY
            }
        ));
        assert!(week.unlocks(
            &other,
            &Known {
                streak: 7,
                ..NOBODY
            }
        ));
        let level = badge("maestro_de_formatos");
        assert!(level.unlocks(&other, &Known { level: 5, ..NOBODY }));
        assert!(!level.unlocks(&other, &Known { level: 4, ..NOBODY }));
        let giant = badge("domador_de_gigantes");
        assert!(giant.unlocks(&conv, &NOBODY));
        let small = Event::new("conversion.completed", json!({"size_mb": 100}), 10_000);
        assert!(!giant.unlocks(&small, &NOBODY), "over, not at");
        let speed = badge("demonio_de_la_velocidad");
        assert!(speed.unlocks(
            &conv,
            &Known {
                recent: 5,
                ..NOBODY
            }
        ));
        assert!(!speed.unlocks(
            &conv,
            &Known {
                recent: 4,
                ..NOBODY
            }
        ));
        let early = badge("adoptador_temprano");
        assert!(early.unlocks(
            &other,
            &Known {
                ordinal: 100,
                ..NOBODY
            }
        ));
        assert!(!early.unlocks(
            &other,
            &Known {
                ordinal: 101,
                ..NOBODY
            }
        ));
        let manual = Badge {
            criterion: Criterion::Manual,
            ..first.clone()
        };
        assert!(!manual.unlocks(
            &conv,
            &Known {
                count: 1000,
                ..NOBODY
            }
        ));
    }

    #[test]
    fn the_demo_badges_are_valid_and_bad_ones_are_explained() {
        assert_eq!(demo::badges().len(), 12);
        assert!(check_badges(&demo::badges()).is_empty());
        let bad: Badge = serde_json::from_value(json!({"key": "x", "name": "", "points": -1,
            "criterion": {"type": "burst", "event": "Nope", "count": 1, "within_secs": 0}}))
        .expect("parses");
        let paths: Vec<String> = bad.check().into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "name",
                "points",
                "criterion.event",
                "criterion.count",
                "criterion.within_secs"
            ]
        );
    }
}
