//! When a promotion is on: the half-open window `[starts_at, ends_at)` in unix seconds, no end
//! meaning "until switched off". Half-open so that back-to-back promotions (one ends at the
//! second the next starts) never overlap and never leave a gap.
//!
//! [`transitions`] turns two readings of the clock into the `promotion.started` and
//! `promotion.ended` events in between. It counts a boundary when `previous < boundary ≤ now`,
//! so a scheduler that passes each run's `now` as the next run's `previous` sees every
//! boundary exactly once, however late or often it runs; a missed tick delays an event,
//! never loses or repeats it.

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::promotion::Promotion;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub starts_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
}

/// Where `now` stands against a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    NotStarted,
    Active,
    Ended,
}

impl Window {
    pub fn phase(&self, now: i64) -> Phase {
        if now < self.starts_at {
            Phase::NotStarted
        } else if self.ends_at.is_some_and(|end| now >= end) {
            Phase::Ended
        } else {
            Phase::Active
        }
    }

    pub fn is_active(&self, now: i64) -> bool {
        self.phase(now) == Phase::Active
    }

    /// Problems, paths relative to the window.
    pub fn check(&self) -> Vec<Problem> {
        match self.ends_at {
            Some(end) if end <= self.starts_at => {
                vec![Problem::new("ends_at", "after starts_at")]
            }
            _ => Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// `promotion.started`
    Started,
    /// `promotion.ended`
    Ended,
}

impl Boundary {
    /// The event kind the module emits.
    pub fn event(self) -> &'static str {
        match self {
            Boundary::Started => "promotion.started",
            Boundary::Ended => "promotion.ended",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub promotion_id: String,
    pub boundary: Boundary,
    /// The boundary's own time (not `now`): the event says when it really happened.
    pub at: i64,
}

/// The boundaries crossed in `(previous, now]`, in time order (then ended before started at
/// the same second, so a promotion handing over to the next reads in order; then by id).
/// Nothing when `now ≤ previous` (a clock that went back replays nothing).
pub fn transitions<'a>(
    promotions: impl IntoIterator<Item = &'a Promotion>,
    previous: i64,
    now: i64,
) -> Vec<Transition> {
    let mut out = Vec::new();
    if now <= previous {
        return out;
    }
    let crossed = |t: i64| previous < t && t <= now;
    for p in promotions {
        let w = p.window;
        if crossed(w.starts_at) {
            out.push(Transition {
                promotion_id: p.id.clone(),
                boundary: Boundary::Started,
                at: w.starts_at,
            });
        }
        if let Some(end) = w.ends_at.filter(|&e| crossed(e)) {
            out.push(Transition {
                promotion_id: p.id.clone(),
                boundary: Boundary::Ended,
                at: end,
            });
        }
    }
    out.sort_by(|a, b| {
        (a.at, std::cmp::Reverse(a.boundary), &a.promotion_id).cmp(&(
            b.at,
            std::cmp::Reverse(b.boundary),
            &b.promotion_id,
        ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    fn w(starts_at: i64, ends_at: Option<i64>) -> Window {
        Window { starts_at, ends_at }
    }

    #[test]
    fn half_open() {
        let win = w(100, Some(200));
        assert_eq!(win.phase(99), Phase::NotStarted);
        assert_eq!(win.phase(100), Phase::Active);
        assert_eq!(win.phase(199), Phase::Active);
        assert_eq!(win.phase(200), Phase::Ended);
        assert!(w(100, None).is_active(i64::MAX));
        assert!(w(100, Some(100)).check().len() == 1);
        assert!(w(100, Some(101)).check().is_empty());
    }

    #[test]
    fn boundaries_in_between_once() {
        let mut a = demo::welcome();
        a.id = "a".into();
        a.window = w(100, Some(200));
        let mut b = demo::welcome();
        b.id = "b".into();
        b.window = w(200, None);
        let all = [a, b];
        assert!(transitions(&all, 0, 99).is_empty());
        let t = transitions(&all, 99, 100);
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].promotion_id.as_str(), t[0].boundary),
            ("a", Boundary::Started)
        );
        assert!(transitions(&all, 100, 199).is_empty());
        let t = transitions(&all, 150, 250);
        let seen: Vec<(&str, Boundary, i64)> = t
            .iter()
            .map(|t| (t.promotion_id.as_str(), t.boundary, t.at))
            .collect();
        assert_eq!(
            seen,
            [("a", Boundary::Ended, 200), ("b", Boundary::Started, 200)]
        );
        assert_eq!(transitions(&all, 0, 1000).len(), 3);
        assert!(transitions(&all, 1000, 0).is_empty());
        assert_eq!(Boundary::Ended.event(), "promotion.ended");
    }
}
