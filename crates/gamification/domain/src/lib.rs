//! Gamification's pure core: what an event is worth under a tenant's rules, levels, badges,
//! streaks, challenges, the points ledger's arithmetic and the leaderboard's order. No I/O, no
//! async, no clock: every function takes the time and the state it needs, so the module crate
//! can call it inside a transaction and tests can walk every edge (time zones included).
//!
//! | file | decides |
//! |---|---|
//! | [`event`] | an event's kind, properties and time; property paths and numbers |
//! | [`filter`] | a rule's conditions on properties (`eq`, `in`, `gt`…`lte`, `exists`) |
//! | [`rules`] | which rules an event triggers and how many points (or which badge) each gives |
//! | [`levels`] | the level of a points total and the progress to the next |
//! | [`streaks`] | consecutive calendar days in the tenant's time zone |
//! | [`badges`] | when a badge unlocks |
//! | [`challenges`] | the week's challenges, their progress and completion |
//! | [`ledger`] | balances, lifetime points and redemption |
//! | [`leaderboard`] | the ranking's total order and masked names |
//! | [`calendar`] | local days, weeks and months |
//! | [`demo`] | the converter's reward design, as the demo tenant's data |

pub mod badges;
pub mod calendar;
pub mod challenges;
pub mod demo;
pub mod event;
pub mod filter;
pub mod leaderboard;
pub mod ledger;
pub mod levels;
pub mod rules;
pub mod streaks;

pub use event::Event;
pub use filter::Filter;

/// One problem of a definition (a rule, a level table, a badge, a template), with the path of
/// the field it is about (`filters[1].value`), as the quiz's validation reports them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same problem under `prefix` (`rules[2]` + `award.points`).
    pub fn under(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() {
            prefix.to_owned()
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        Problem { path, ..self }
    }
}

/// Every problem of a tenant's list of definitions (rules, badges, templates): each one's,
/// under `[i]`; keys used twice; more than `max` of them. `noun` names one ("rule").
pub fn check_list<T>(
    items: &[T],
    max: usize,
    noun: &str,
    key: impl Fn(&T) -> &str,
    check: impl Fn(&T) -> Vec<Problem>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    if items.len() > max {
        problems.push(Problem::new("", format!("at most {max} {noun}s")));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("[{i}]");
        problems.extend(check(item).into_iter().map(|p| p.under(&at)));
        if !seen.insert(key(item)) {
            problems.push(Problem::new("key", format!("used by another {noun}")).under(&at));
        }
    }
    problems
}

/// A key (of a rule, badge, template): 1 to 64 lowercase letters, digits, `_` or `-`.
pub fn check_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err("1 to 64 lowercase letters, digits, '_' or '-'".into())
    }
}

/// An event kind (`quiz.finished`) or, where a pattern is allowed, a prefix ending in `.*`
/// (`quiz.*`) or `*` for every kind.
pub fn check_kind(kind: &str, pattern: bool) -> Result<(), String> {
    if pattern
        && (kind == "*"
            || kind
                .strip_suffix(".*")
                .is_some_and(|p| check_kind(p, false).is_ok()))
    {
        return Ok(());
    }
    let ok = !kind.is_empty()
        && kind.len() <= 100
        && kind.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if ok {
        Ok(())
    } else if pattern {
        Err("an event kind like quiz.finished, a prefix like quiz.*, or *".into())
    } else {
        Err("an event kind like quiz.finished: lowercase words joined by dots".into())
    }
}

/// Whether `kind` matches `pattern` (an exact kind, `prefix.*`, or `*`).
pub fn kind_matches(pattern: &str, kind: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => kind
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => pattern == kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_patterns() {
        assert!(kind_matches("quiz.finished", "quiz.finished"));
        assert!(kind_matches("quiz.*", "quiz.finished"));
        assert!(!kind_matches("quiz.*", "quizzes.finished"));
        assert!(!kind_matches("quiz.*", "quiz"));
        assert!(kind_matches("*", "anything.at_all"));
        assert!(check_kind("quiz.finished", false).is_ok());
        assert!(check_kind("quiz.*", false).is_err());
        assert!(check_kind("quiz.*", true).is_ok());
        assert!(check_kind("*", true).is_ok());
        for bad in ["", "Quiz.done", "quiz..x", "quiz.", "a b", ".x"] {
            assert!(check_kind(bad, true).is_err(), "{bad}");
        }
        assert!(check_key("first_conversion").is_ok());
        assert!(check_key("First").is_err());
        assert!(check_key(&"a".repeat(65)).is_err());
    }

    #[test]
    fn problems_nest() {
        let p = Problem::new("value", "a number").under("filters[1]");
        assert_eq!(p.path, "filters[1].value");
        assert_eq!(Problem::new("", "x").under("rules[0]").path, "rules[0]");
        assert_eq!(Problem::new("[2]", "x").under("filters").path, "filters[2]");
    }
}
