//! Deterministic scoring (spec/quiz.md section 2).
//!
//! Everything is exact integer arithmetic in `i128`: inputs are bounded integers, so no
//! float rounding can make two servers (or two versions of one) disagree on a result.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::definition::{Definition, QuestionKind};
use crate::flow::SessionState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Normalised weighted score, 0..=100.
    pub score: u8,
    /// Index into `def.profiles` of the profile whose range holds `score`.
    pub profile: usize,
    /// One entry per dimension, in definition order.
    pub dimensions: Vec<DimensionScore>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DimensionScore {
    pub key: String,
    pub label: String,
    /// Normalised against the unweighted bounds of this dimension, 0..=100.
    pub score: u8,
    /// Unweighted points, rule adds included.
    pub raw: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("questions remain to be answered")]
    Incomplete,
    /// Only a draft can get here: publishing requires profiles to cover 0..=100.
    #[error("no profile covers score {score}")]
    NoProfile { score: u8 },
    /// The state does not fit the definition (another version, or a corrupted row).
    #[error("the session state does not match the definition: {0}")]
    StateMismatch(String),
}

/// Per-question or summed `[lo, hi]` bounds.
#[derive(Debug, Clone, Copy, Default)]
struct Bounds {
    lo: i128,
    hi: i128,
}

impl Bounds {
    fn add(&mut self, other: Bounds) {
        self.lo = self.lo.saturating_add(other.lo);
        self.hi = self.hi.saturating_add(other.hi);
    }

    fn of_two(a: i128, b: i128) -> Bounds {
        Bounds {
            lo: a.min(b),
            hi: a.max(b),
        }
    }

    /// Bounds over every selection of `min..=max` values: the extremes of a `k`-selection
    /// are the sums of the `k` smallest and the `k` largest values, so sorting once and
    /// scanning prefix sums is enough, with no enumeration of subsets.
    fn of_selections(values: &[i128], min: usize, max: usize) -> Bounds {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let max = max.min(n);
        let mut prefix = Vec::with_capacity(n + 1);
        let mut sum = 0i128;
        prefix.push(0);
        for v in &sorted {
            sum = sum.saturating_add(*v);
            prefix.push(sum);
        }
        let mut bounds: Option<Bounds> = None;
        for k in min..=max {
            let (Some(smallest), Some(rest)) = (prefix.get(k), prefix.get(n - k)) else {
                continue;
            };
            let largest = sum.saturating_sub(*rest);
            bounds = Some(match bounds {
                None => Bounds {
                    lo: *smallest,
                    hi: largest,
                },
                Some(b) => Bounds {
                    lo: b.lo.min(*smallest),
                    hi: b.hi.max(largest),
                },
            });
        }
        bounds.unwrap_or_default()
    }
}

/// `clamp(round(100 · (x − lo) / (hi − lo)), 0, 100)` with halves rounded away from zero;
/// 0 when the bounds are equal.
///
/// Clamping first leaves only `lo < x < hi`, where the ratio is positive and the rounding is
/// `floor((200·d + den) / (2·den))`. Differences are taken in `u128`, exact for any `i128`
/// inputs; only spans beyond 10^36 (far outside what a valid definition can reach) are
/// scaled down before multiplying.
pub fn normalize(x: i128, lo: i128, hi: i128) -> u8 {
    if hi <= lo || x <= lo {
        return 0;
    }
    if x >= hi {
        return 100;
    }
    let mut d = (x as u128).wrapping_sub(lo as u128);
    let mut den = (hi as u128).wrapping_sub(lo as u128);
    while den > u128::MAX / 400 {
        d >>= 1;
        den >>= 1;
    }
    let rounded = (200 * d + den) / (2 * den);
    u8::try_from(rounded.min(100)).unwrap_or(100)
}

/// Scores a finished session.
pub fn score(def: &Definition, state: &SessionState) -> Result<Outcome, ScoreError> {
    if !state.is_complete() {
        return Err(ScoreError::Incomplete);
    }
    let dims = &def.dimensions;
    let weights: Vec<i128> = dims.iter().map(|d| i128::from(d.weight)).collect();
    let weighted = |per_dim: &[i128]| -> i128 {
        per_dim.iter().zip(&weights).fold(0i128, |acc, (v, w)| {
            acc.saturating_add(v.saturating_mul(*w))
        })
    };
    // A score map as a vector aligned with `dims`; keys of undeclared dimensions count 0.
    let vector = |scores: &BTreeMap<String, i64>| -> Vec<i128> {
        dims.iter()
            .map(|d| scores.get(&d.key).map_or(0, |v| i128::from(*v)))
            .collect()
    };

    let mut raw = vec![0i128; dims.len()];
    let mut total_bounds = Bounds::default();
    let mut dim_bounds = vec![Bounds::default(); dims.len()];
    let mut last_question: Option<usize> = None;

    for (qi, answer) in state.answered() {
        if last_question.is_some_and(|last| qi <= last) {
            return Err(mismatch(format!("question {qi} answered out of order")));
        }
        last_question = Some(qi);
        let question = def
            .questions
            .get(qi)
            .ok_or_else(|| mismatch(format!("no question {qi}")))?;
        if answer.is_skipped(def) {
            continue;
        }
        match &question.kind {
            QuestionKind::Single { options } | QuestionKind::Multi { options, .. } => {
                let selected = answer.options();
                let (min, max) = match &question.kind {
                    QuestionKind::Multi {
                        min_select,
                        max_select,
                        ..
                    } => (*min_select, *max_select),
                    _ => (1, 1),
                };
                if answer.value().is_some()
                    || selected.len() < min
                    || selected.len() > max
                    || selected.windows(2).any(|w| matches!(w, [a, b] if a >= b))
                {
                    return Err(mismatch(format!("answer to question {qi} is not allowed")));
                }
                let vectors: Vec<Vec<i128>> = options.iter().map(|o| vector(&o.scores)).collect();
                for &o in selected {
                    let v = vectors
                        .get(o)
                        .ok_or_else(|| mismatch(format!("question {qi} has no option {o}")))?;
                    for (r, s) in raw.iter_mut().zip(v) {
                        *r = r.saturating_add(*s);
                    }
                }
                let ws: Vec<i128> = vectors.iter().map(|v| weighted(v)).collect();
                total_bounds.add(Bounds::of_selections(&ws, min, max));
                for (d, bounds) in dim_bounds.iter_mut().enumerate() {
                    let column: Vec<i128> = vectors
                        .iter()
                        .map(|v| v.get(d).copied().unwrap_or(0))
                        .collect();
                    bounds.add(Bounds::of_selections(&column, min, max));
                }
            }
            QuestionKind::Scale {
                min,
                max,
                scores_per_point,
                ..
            } => {
                let value = answer
                    .value()
                    .filter(|v| min <= v && v <= max && answer.options().is_empty())
                    .ok_or_else(|| mismatch(format!("answer to question {qi} is not allowed")))?;
                let per_point = vector(scores_per_point);
                let (value, min, max) = (i128::from(value), i128::from(*min), i128::from(*max));
                for (r, p) in raw.iter_mut().zip(&per_point) {
                    *r = r.saturating_add(value.saturating_mul(*p));
                }
                let w = weighted(&per_point);
                total_bounds.add(Bounds::of_two(min.saturating_mul(w), max.saturating_mul(w)));
                for (bounds, p) in dim_bounds.iter_mut().zip(&per_point) {
                    bounds.add(Bounds::of_two(
                        min.saturating_mul(*p),
                        max.saturating_mul(*p),
                    ));
                }
            }
        }
    }

    let mut seen_rules = BTreeSet::new();
    for &r in state.fired_rules() {
        if !seen_rules.insert(r) {
            return Err(mismatch(format!("rule {r} fired twice")));
        }
        let rule = def
            .rules
            .get(r)
            .ok_or_else(|| mismatch(format!("no rule {r}")))?;
        for (r, add) in raw.iter_mut().zip(vector(&rule.add)) {
            *r = r.saturating_add(add);
        }
    }

    let total = weighted(&raw);
    let score = normalize(total, total_bounds.lo, total_bounds.hi);
    let dimensions = dims
        .iter()
        .zip(&raw)
        .zip(&dim_bounds)
        .map(|((d, raw), bounds)| DimensionScore {
            key: d.key.clone(),
            label: d.label.clone(),
            score: normalize(*raw, bounds.lo, bounds.hi),
            raw: i64::try_from(*raw).unwrap_or(if *raw < 0 { i64::MIN } else { i64::MAX }),
        })
        .collect();
    let profile = def
        .profile_for(score)
        .ok_or(ScoreError::NoProfile { score })?;
    Ok(Outcome {
        score,
        profile,
        dimensions,
    })
}

fn mismatch(message: String) -> ScoreError {
    ScoreError::StateMismatch(message)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::{Bounds, normalize};

    /// Reference: enumerate every subset of size `min..=max`.
    fn brute_force(values: &[i128], min: usize, max: usize) -> (i128, i128) {
        let n = values.len();
        let mut lo = None::<i128>;
        let mut hi = None::<i128>;
        for mask in 0u32..(1 << n) {
            let k = mask.count_ones() as usize;
            if k < min || k > max {
                continue;
            }
            let sum: i128 = (0..n)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| values[i])
                .sum();
            lo = Some(lo.map_or(sum, |l| l.min(sum)));
            hi = Some(hi.map_or(sum, |h| h.max(sum)));
        }
        (lo.unwrap_or(0), hi.unwrap_or(0))
    }

    proptest! {
        #[test]
        fn selection_bounds_match_enumeration(
            values in proptest::collection::vec(-50i128..50, 1..10),
            a in 0usize..10,
            b in 0usize..10,
        ) {
            let (min, max) = (a.min(b).min(values.len()), a.max(b).min(values.len()));
            let bounds = Bounds::of_selections(&values, min, max);
            prop_assert_eq!((bounds.lo, bounds.hi), brute_force(&values, min, max));
        }

        #[test]
        fn normalize_matches_exact_rational_rounding(x in -1000i128..1000, lo in -500i128..500, span in 1i128..700) {
            let hi = lo + span;
            // 100·(x − lo)/span rounded half away from zero, via floor of (2·num + den)/(2·den)
            // on the absolute value, computed independently with Euclidean division.
            let num = 100 * (x - lo);
            let magnitude = (2 * num.abs() + span).div_euclid(2 * span);
            let expected = (num.signum() * magnitude).clamp(0, 100);
            prop_assert_eq!(i128::from(normalize(x, lo, hi)), expected);
        }
    }

    #[test]
    fn single_selection_bounds_are_min_and_max() {
        let b = Bounds::of_selections(&[4, -2, 9], 1, 1);
        assert_eq!((b.lo, b.hi), (-2, 9));
    }

    #[test]
    fn empty_or_impossible_selections_have_zero_bounds() {
        let b = Bounds::of_selections(&[], 0, 0);
        assert_eq!((b.lo, b.hi), (0, 0));
        let b = Bounds::of_selections(&[1, 2], 3, 2);
        assert_eq!((b.lo, b.hi), (0, 0));
    }

    #[test]
    fn normalize_rounds_halves_up_and_clamps() {
        assert_eq!(normalize(1, 0, 8), 13); // 12.5
        assert_eq!(normalize(-1, 0, 8), 0);
        assert_eq!(normalize(9, 0, 8), 100);
        assert_eq!(normalize(0, 3, 3), 0);
        assert_eq!(normalize(i128::MAX, i128::MIN, i128::MAX), 100);
    }
}
