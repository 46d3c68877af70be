//! The load factor: a surcharge for a busy converter, a clamped straight line of the queue's
//! depth (conversions waiting plus those being processed):
//!
//! ```text
//! factor(depth) = clamp(min + per_queued_job × depth, min, max),   1.0 ≤ min ≤ max ≤ 1.5
//! ```
//!
//! The demo's line is 1.0 + 0.02 per job, up to 1.5 (reached at 25 jobs). It is our reading
//! of the seed, which gives no formula but two points that fit it: its queue example (5
//! pending + 2 processing = 7 jobs) and its estimate example at load 1.14 = 1.0 + 7 × 0.02;
//! "carga media" (1.1) is then 5 jobs.
//!
//! The range is the issue's: a busy queue may add up to half the price, never lower it. Staff
//! may price a what-if quote at an explicit factor, which must lie in the same range.

use serde::{Deserialize, Serialize};

use crate::Problem;
use crate::decimal::Factor;

/// The lowest a load factor may be: load never lowers a price.
pub const FLOOR: Factor = Factor::ONE;
/// The highest a load factor may be.
pub const CEILING: Factor = Factor::from_ten_thousandths(15_000);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadCurve {
    /// The factor of an empty queue.
    pub min: Factor,
    /// The factor of a full queue: the line stops rising here.
    pub max: Factor,
    /// What each queued or running conversion adds.
    pub per_queued_job: Factor,
}

impl LoadCurve {
    /// The factor at `depth` jobs.
    pub fn factor(&self, depth: u64) -> Factor {
        let rise = i128::from(self.per_queued_job.ten_thousandths()) * i128::from(depth);
        let raw = i128::from(self.min.ten_thousandths()).saturating_add(rise);
        let clamped = raw.clamp(
            i128::from(self.min.ten_thousandths()),
            i128::from(self.max.ten_thousandths()),
        );
        // Between min and max, both i64.
        Factor::from_ten_thousandths(i64::try_from(clamped).unwrap_or(self.max.ten_thousandths()))
    }

    /// Whether a what-if factor lies on the curve's range.
    pub fn allows(&self, factor: Factor) -> bool {
        self.min <= factor && factor <= self.max
    }

    /// Every problem of the curve (paths `min`, `max`, `per_queued_job`).
    pub fn check(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let range = format!("from {FLOOR} to {CEILING}");
        if self.min < FLOOR || self.min > CEILING {
            problems.push(Problem::new("min", range.clone()));
        }
        if self.max < FLOOR || self.max > CEILING {
            problems.push(Problem::new("max", range));
        } else if self.max < self.min {
            problems.push(Problem::new("max", "at least min"));
        }
        if self.per_queued_job.ten_thousandths() < 0 || self.per_queued_job > CEILING {
            problems.push(Problem::new(
                "per_queued_job",
                format!("from 0.0 to {CEILING}"),
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str) -> Factor {
        Factor::parse(text).expect("a factor")
    }

    fn demo() -> LoadCurve {
        LoadCurve {
            min: f("1.0"),
            max: f("1.5"),
            per_queued_job: f("0.02"),
        }
    }

    #[test]
    fn a_straight_line_clamped_to_the_range() {
        let c = demo();
        assert_eq!(c.factor(0), f("1.0"));
        assert_eq!(c.factor(5), f("1.1"));
        assert_eq!(c.factor(7), f("1.14"));
        assert_eq!(c.factor(25), f("1.5"));
        assert_eq!(c.factor(26), f("1.5"));
        assert_eq!(c.factor(u64::MAX), f("1.5"));
        assert!(c.check().is_empty());
        assert!(c.allows(f("1.14")) && !c.allows(f("1.51")) && !c.allows(f("0.9")));
    }

    #[test]
    fn bounds_out_of_range_are_problems() {
        let c = LoadCurve {
            min: f("0.9"),
            max: f("1.6"),
            per_queued_job: f("-0.1"),
        };
        let paths: Vec<_> = c.check().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["min", "max", "per_queued_job"]);
        let c = LoadCurve {
            min: f("1.4"),
            max: f("1.2"),
            ..demo()
        };
        assert_eq!(c.check(), [Problem::new("max", "at least min")]);
    }
}
