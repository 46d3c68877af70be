//! Generic cell rate algorithm, kept free of I/O so the in-process and Redis limiters can be
//! proven to make the same decisions (the Lua script mirrors [`check`] line for line).
//!
//! The whole state of a client is one number, its theoretical arrival time (TAT): when the
//! client's bucket would be full again. That is what makes the algorithm cheap to share through
//! Redis: one key, one integer, one atomic script.
//!
//! Times are integer microseconds on any clock that does not go backwards for the caller. A
//! microsecond (not a millisecond) is the unit because the emission interval `period / count` is
//! rounded to it: at millisecond resolution "1000000/hour" would be 3.6 ms rounded to 3 or 4,
//! a 17–25 % error, while at microsecond resolution every parseable quota with a period of a
//! whole second, minute, hour or day divides exactly unless the count does not divide the
//! period (then the refill is at most 1 µs per interval fast; the burst is still exact).

use std::time::Duration;

use crate::{Decision, Quota};

/// Periods beyond this are clamped, so that `now + tolerance` stays far below 2^53 µs and the
/// Redis script's Lua doubles remain exact integers.
pub const MAX_PERIOD: Duration = Duration::from_secs(10 * 365 * 86_400);

/// The two constants of a quota in the units the algorithm runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Emission interval: one request's worth of refill, `floor(period / count)`.
    pub interval_us: u64,
    /// Burst tolerance, `interval * count`: how far ahead of now the TAT may run. Being an exact
    /// multiple of the interval makes the burst exactly `count`; rounding the interval down
    /// makes it at most the period, so a full burst is always back after `period` of silence.
    pub tolerance_us: u64,
}

/// `None` for the degenerate quotas (`count == 0` or a zero period) that have no GCRA; they can
/// only be built by hand, since [`crate::parse_quota`] rejects them.
pub fn params(quota: Quota) -> Option<Params> {
    let period_us = u64::try_from(quota.period.min(MAX_PERIOD).as_micros()).ok()?;
    let count = u64::from(quota.count);
    if count == 0 || period_us == 0 {
        return None;
    }
    // More than one request per microsecond cannot be represented; the quota then behaves as
    // one per microsecond with a burst of `count`.
    let interval_us = (period_us / count).max(1);
    Some(Params {
        interval_us,
        tolerance_us: interval_us.saturating_mul(count),
    })
}

/// Decides one request at `now_us` for a client whose stored TAT is `tat_us` (`None` if the
/// client is unknown or its entry expired).
///
/// Returns the TAT to store, or `None` when the state must stay as it was: a refused request
/// does not consume anything, so a client hammering a closed limit is not pushed further out.
pub fn check(tat_us: Option<u64>, now_us: u64, quota: Quota) -> (Option<u64>, Decision) {
    check_weighted(tat_us, now_us, quota, 1)
}

/// [`check`] for `weight` requests at once (counted together later, as the shared penalty
/// box does): all are allowed or none. `weight` 0 counts as 1.
pub fn check_weighted(
    tat_us: Option<u64>,
    now_us: u64,
    quota: Quota,
    weight: u32,
) -> (Option<u64>, Decision) {
    match params(quota) {
        Some(p) => decide(tat_us, now_us, quota.count, p, u64::from(weight.max(1))),
        None => degenerate(quota),
    }
}

/// The algorithm proper; `gcra.lua` is its transliteration, so change both together (the test
/// `lua_script_matches_rust_gcra` catches drift).
fn decide(
    tat_us: Option<u64>,
    now_us: u64,
    limit: u32,
    p: Params,
    weight: u64,
) -> (Option<u64>, Decision) {
    // A TAT in the past means the bucket is full; time spent idle earns no extra credit.
    let tat = tat_us.map_or(now_us, |t| t.max(now_us));
    let new_tat = tat.saturating_add(p.interval_us.saturating_mul(weight));
    let horizon = now_us.saturating_add(p.tolerance_us);
    if new_tat > horizon {
        let decision = Decision {
            allowed: false,
            limit,
            remaining: 0,
            reset_after: Duration::from_micros(tat - now_us),
            // Exactly when `new_tat - later <= tolerance` first holds.
            retry_after: Some(Duration::from_micros(new_tat - horizon)),
        };
        return (None, decision);
    }
    let decision = Decision {
        allowed: true,
        limit,
        // How many more intervals fit under the horizon; at most `count - 1`.
        remaining: u32::try_from((horizon - new_tat) / p.interval_us).unwrap_or(limit),
        reset_after: Duration::from_micros(new_tat - now_us),
        retry_after: None,
    };
    (Some(new_tat), decision)
}

/// What a penalty-box check writes: the TAT (as [`check`]) and the end of a new box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoxWrite {
    pub tat_us: Option<u64>,
    pub boxed_until_us: Option<u64>,
}

/// [`check`] with a penalty box: the first refusal boxes the client for `penalty_us`, and
/// every request until then is refused (with `Retry-After` the rest of the box) without
/// writing anything, so hammering the box does not lengthen it. `boxed_until_us` is the
/// stored end of the client's box, if any. `penalty_us == 0` is plain [`check`].
///
/// Mirrored by `gcra.lua` when it is given a second key; change both together.
pub fn check_boxed(
    tat_us: Option<u64>,
    boxed_until_us: Option<u64>,
    now_us: u64,
    quota: Quota,
    penalty_us: u64,
) -> (BoxWrite, Decision) {
    check_boxed_weighted(tat_us, boxed_until_us, now_us, quota, penalty_us, 1)
}

/// [`check_boxed`] for `weight` requests at once.
pub fn check_boxed_weighted(
    tat_us: Option<u64>,
    boxed_until_us: Option<u64>,
    now_us: u64,
    quota: Quota,
    penalty_us: u64,
    weight: u32,
) -> (BoxWrite, Decision) {
    let nothing = BoxWrite {
        tat_us: None,
        boxed_until_us: None,
    };
    if let Some(until) = boxed_until_us.filter(|&u| u > now_us) {
        let rest = Duration::from_micros(until - now_us);
        let decision = Decision {
            allowed: false,
            limit: quota.count,
            remaining: 0,
            reset_after: rest,
            retry_after: Some(rest),
        };
        return (nothing, decision);
    }
    let (tat, mut decision) = check_weighted(tat_us, now_us, quota, weight);
    if decision.allowed || penalty_us == 0 || params(quota).is_none() {
        return (
            BoxWrite {
                tat_us: tat,
                boxed_until_us: None,
            },
            decision,
        );
    }
    let penalty = Duration::from_micros(penalty_us);
    decision.reset_after = penalty;
    decision.retry_after = Some(penalty);
    (
        BoxWrite {
            tat_us: None,
            boxed_until_us: Some(now_us.saturating_add(penalty_us)),
        },
        decision,
    )
}

fn degenerate(quota: Quota) -> (Option<u64>, Decision) {
    let decision = if quota.count == 0 {
        // Nothing is ever allowed; pointing at the period gives well-behaved clients a
        // reasonable back-off instead of a hot retry loop.
        Decision {
            allowed: false,
            limit: 0,
            remaining: 0,
            reset_after: Duration::ZERO,
            retry_after: Some(quota.period.max(Duration::from_secs(1))),
        }
    } else {
        // A zero period refills instantly: nothing to limit, nothing to store.
        Decision {
            allowed: true,
            limit: quota.count,
            remaining: quota.count,
            reset_after: Duration::ZERO,
            retry_after: None,
        }
    };
    (None, decision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Replays `times` through [`check_boxed`], returning each decision.
    fn replay_boxed(quota: Quota, penalty_us: u64, times: &[u64]) -> Vec<Decision> {
        let (mut tat, mut boxed) = (None, None);
        times
            .iter()
            .map(|&at| {
                let (write, d) = check_boxed(tat, boxed, at, quota, penalty_us);
                tat = write.tat_us.or(tat);
                boxed = write.boxed_until_us.or(boxed);
                d
            })
            .collect()
    }

    #[test]
    fn the_box_closes_at_the_first_refusal_for_exactly_the_penalty() {
        let quota = quota_us(400, 600_000_000);
        let penalty = 600_000_000;
        // 401 requests in one instant: the 401st is refused and boxes the client.
        let mut times = vec![0u64; 401];
        // Hammering the box changes nothing; the last microsecond is still refused.
        times.extend([1, 300_000_000, penalty - 1]);
        // Out of the box: the bucket refilled meanwhile (ten minutes of silence).
        times.push(penalty);
        let d = replay_boxed(quota, penalty, &times);
        assert!(d[..400].iter().all(|d| d.allowed));
        assert!(!d[400].allowed);
        assert_eq!(d[400].retry_after, Some(Duration::from_micros(penalty)));
        assert_eq!(d[401].retry_after, Some(Duration::from_micros(penalty - 1)));
        assert_eq!(d[403].retry_after, Some(Duration::from_micros(1)));
        assert!(!d[401].allowed && !d[402].allowed && !d[403].allowed);
        assert!(d[404].allowed, "{:?}", d[404]);
    }

    proptest! {
        /// Without a penalty the box variant is exactly [`check`]; with one, a refusal is
        /// always followed by `penalty` of refusals and nothing is allowed in the box.
        #[test]
        fn a_box_refuses_everything_for_the_penalty_and_nothing_else(
            count in 1u32..20,
            period_s in 1u64..120,
            penalty_s in 0u64..300,
            gaps in prop::collection::vec(prop_oneof![3 => Just(0u64), 2 => 0u64..2_000_000, 1 => 0u64..400_000_000], 1..80),
        ) {
            let quota = quota_us(count, period_s * 1_000_000);
            let penalty = penalty_s * 1_000_000;
            let mut now = 0u64;
            let times: Vec<u64> = gaps.iter().map(|g| { now += g; now }).collect();
            let boxed = replay_boxed(quota, penalty, &times);
            if penalty == 0 {
                let plain: Vec<Decision> = replay(quota, &times).iter().map(|s| s.decision).collect();
                prop_assert_eq!(boxed, plain);
                return Ok(());
            }
            let mut box_until: Option<u64> = None;
            for (d, &at) in boxed.iter().zip(&times) {
                let inside = box_until.is_some_and(|u| at < u);
                if inside {
                    prop_assert!(!d.allowed, "allowed in the box at {}", at);
                    prop_assert_eq!(d.retry_after, box_until.map(|u| Duration::from_micros(u - at)));
                } else if !d.allowed {
                    prop_assert_eq!(d.retry_after, Some(Duration::from_micros(penalty)));
                    box_until = Some(at + penalty);
                }
            }
        }
    }

    fn quota_us(count: u32, period_us: u64) -> Quota {
        Quota {
            count,
            period: Duration::from_micros(period_us),
        }
    }

    fn us(d: Duration) -> u64 {
        u64::try_from(d.as_micros()).expect("fits")
    }

    fn params_of(quota: Quota) -> Params {
        params(quota).expect("non-degenerate quota")
    }

    /// One request of a replayed timeline.
    #[derive(Clone, Copy, Debug)]
    struct Step {
        at: u64,
        tat_before: Option<u64>,
        tat_after: Option<u64>,
        decision: Decision,
    }

    fn replay(quota: Quota, times: &[u64]) -> Vec<Step> {
        let mut tat = None;
        times
            .iter()
            .map(|&at| {
                let (new_tat, decision) = check(tat, at, quota);
                let before = tat;
                if new_tat.is_some() {
                    tat = new_tat;
                }
                Step {
                    at,
                    tat_before: before,
                    tat_after: tat,
                    decision,
                }
            })
            .collect()
    }

    /// The textbook "continuous-state leaky bucket" form of GCRA (ITU-T I.371), written
    /// independently of `check`'s virtual-scheduling form: a credit of at most `tolerance`
    /// microseconds that refills with elapsed time and pays `interval` per request.
    struct Bucket {
        credit: u64,
        last: u64,
    }

    impl Bucket {
        fn decide(&mut self, now: u64, p: Params) -> (bool, u64, u64, Option<u64>) {
            self.credit = (self.credit + (now - self.last)).min(p.tolerance_us);
            self.last = now;
            if self.credit >= p.interval_us {
                self.credit -= p.interval_us;
                let remaining = self.credit / p.interval_us;
                (true, remaining, p.tolerance_us - self.credit, None)
            } else {
                let retry = p.interval_us - self.credit;
                (false, 0, p.tolerance_us - self.credit, Some(retry))
            }
        }
    }

    /// Every property the limiter promises, checked on one timeline (times non-decreasing).
    fn assert_properties(quota: Quota, times: &[u64]) -> Result<(), TestCaseError> {
        let p = params_of(quota);
        let count = u64::from(quota.count);
        let period = us(quota.period);
        let steps = replay(quota, times);

        // The interval is the period shared out as evenly as microseconds allow.
        prop_assert!(p.interval_us * count <= period);
        prop_assert!((p.interval_us + 1) * count > period);
        prop_assert_eq!(p.tolerance_us, p.interval_us * count);

        // Same decisions as the independent leaky-bucket model.
        let mut bucket = Bucket {
            credit: p.tolerance_us,
            last: times.first().copied().unwrap_or(0),
        };
        for s in &steps {
            let (allowed, remaining, reset, retry) = bucket.decide(s.at, p);
            prop_assert_eq!(s.decision.allowed, allowed, "at {}", s.at);
            prop_assert_eq!(u64::from(s.decision.remaining), remaining, "at {}", s.at);
            prop_assert_eq!(us(s.decision.reset_after), reset, "at {}", s.at);
            prop_assert_eq!(s.decision.retry_after.map(us), retry, "at {}", s.at);
            prop_assert_eq!(s.decision.limit, quota.count);
        }

        // Rate bound: k allowed requests spanning d µs need k * interval <= d + tolerance, i.e.
        // at most `count + floor(d / interval)`; so never more than `count` within one interval.
        let allowed: Vec<u64> = steps
            .iter()
            .filter(|s| s.decision.allowed)
            .map(|s| s.at)
            .collect();
        for i in 0..allowed.len() {
            for j in i..allowed.len() {
                let k = (j - i + 1) as u64;
                let d = allowed[j] - allowed[i];
                prop_assert!(k <= count + d / p.interval_us, "{k} allowed within {d} µs");
                if d < p.interval_us {
                    prop_assert!(k <= count);
                }
            }
        }

        for s in &steps {
            if s.decision.allowed {
                // Remaining counts down by one per allowed request, and is exactly how many
                // more requests this instant would let through.
                let mut tat = s.tat_after;
                for n in (0..s.decision.remaining).rev() {
                    let (next, d) = check(tat, s.at, quota);
                    prop_assert!(d.allowed);
                    prop_assert_eq!(d.remaining, n);
                    tat = next;
                }
                let (next, d) = check(tat, s.at, quota);
                prop_assert!(!d.allowed);
                prop_assert_eq!(next, None);
                // After reset_after of silence the bucket is full, and not a microsecond sooner.
                let reset_at = s.at + us(s.decision.reset_after);
                prop_assert_eq!(
                    check(s.tat_after, reset_at, quota).1.remaining,
                    quota.count - 1
                );
                if quota.count >= 2 {
                    prop_assert!(
                        check(s.tat_after, reset_at - 1, quota).1.remaining < quota.count - 1
                    );
                }
                prop_assert!(s.decision.reset_after <= quota.period);
            } else {
                // A refusal stores nothing and its Retry-After is exact in both directions.
                prop_assert_eq!(s.tat_after, s.tat_before);
                let retry = us(s.decision.retry_after.expect("refusals carry retry_after"));
                prop_assert!(retry >= 1 && retry <= p.interval_us);
                prop_assert!(check(s.tat_before, s.at + retry, quota).1.allowed);
                prop_assert!(!check(s.tat_before, s.at + retry - 1, quota).1.allowed);
            }
        }

        // Refused requests consume nothing: dropping them changes no other decision.
        let kept: Vec<u64> = steps
            .iter()
            .filter(|s| s.decision.allowed)
            .map(|s| s.at)
            .collect();
        let again = replay(quota, &kept);
        let before: Vec<Decision> = steps
            .iter()
            .filter(|s| s.decision.allowed)
            .map(|s| s.decision)
            .collect();
        let after: Vec<Decision> = again.iter().map(|s| s.decision).collect();
        prop_assert_eq!(before, after);

        // After a period of silence the full burst is back.
        let last_tat = steps.last().and_then(|s| s.tat_after);
        let quiet = times.last().copied().unwrap_or(0) + period;
        let mut tat = last_tat;
        for n in (0..quota.count).rev() {
            let (next, d) = check(tat, quiet, quota);
            prop_assert!(d.allowed, "burst not back after a period of silence");
            prop_assert_eq!(d.remaining, n);
            tat = next;
        }
        prop_assert!(!check(tat, quiet, quota).1.allowed);
        Ok(())
    }

    fn times_from_gaps(start: u64, gaps: &[u64]) -> Vec<u64> {
        gaps.iter()
            .scan(start, |t, g| {
                *t += g;
                Some(*t)
            })
            .collect()
    }

    #[test]
    fn exhaustive_small_quotas_and_timelines() {
        // Every timeline of five requests, with every gap from "same instant" to "more than a
        // period", for every small quota, including counts that do not divide the period.
        const LEN: u32 = 5;
        let mut timelines = 0u64;
        for period in 1..=7u64 {
            for count in 1..=period.min(4) {
                let quota = quota_us(u32::try_from(count).expect("small"), period);
                let gaps = period + 2;
                for code in 0..gaps.pow(LEN) {
                    let mut c = code;
                    let mut g = Vec::with_capacity(LEN as usize);
                    for _ in 0..LEN {
                        g.push(c % gaps);
                        c /= gaps;
                    }
                    let times = times_from_gaps(1_000, &g);
                    assert_properties(quota, &times)
                        .map_err(|e| format!("{quota:?} {times:?}: {e}"))
                        .expect("properties hold");
                    timelines += 1;
                }
            }
        }
        assert!(timelines > 100_000);
    }

    #[test]
    fn thirty_an_hour() {
        let quota = quota_us(30, 3_600_000_000);
        let now = 5_000_000;
        let mut tat = None;
        for n in (0..30).rev() {
            let (next, d) = check(tat, now, quota);
            assert!(d.allowed);
            assert_eq!(d.remaining, n);
            assert_eq!(d.limit, 30);
            tat = next;
        }
        let (next, d) = check(tat, now, quota);
        assert_eq!(next, None);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Some(Duration::from_secs(120)));
        assert_eq!(d.reset_after, Duration::from_secs(3600));
        // 119.999999 s later still refused, at 120 s exactly one more.
        assert!(!check(tat, now + 119_999_999, quota).1.allowed);
        let (_, d) = check(tat, now + 120_000_000, quota);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
    }

    #[test]
    fn first_request_reports_one_interval_to_reset() {
        let quota = quota_us(5, 60_000_000);
        let (tat, d) = check(None, 42, quota);
        assert_eq!(tat, Some(42 + 12_000_000));
        assert_eq!(d.remaining, 4);
        assert_eq!(d.reset_after, Duration::from_secs(12));
        assert_eq!(d.retry_after, None);
        // An expired TAT is the same as none.
        assert_eq!(check(Some(1), 42, quota), (tat, d));
    }

    #[test]
    fn degenerate_quotas_do_not_panic() {
        let zero_count = quota_us(0, 1_000_000);
        let (tat, d) = check(Some(7), 10, zero_count);
        assert_eq!(tat, None);
        assert!(!d.allowed);
        assert!(d.retry_after.is_some());

        let zero_period = quota_us(3, 0);
        let (tat, d) = check(None, 10, zero_period);
        assert_eq!(tat, None);
        assert!(d.allowed);
        assert_eq!(d.remaining, 3);

        let huge = Quota {
            count: u32::MAX,
            period: Duration::MAX,
        };
        for now in [0, 1, u64::MAX - 1, u64::MAX] {
            let _ = check(None, now, huge);
            let _ = check(Some(u64::MAX), now, huge);
            let _ = check(Some(u64::MAX), now, quota_us(1, 1));
        }
        let tiny = quota_us(u32::MAX, 1);
        assert_eq!(params(tiny).map(|p| p.interval_us), Some(1));
    }

    #[test]
    fn common_quotas_divide_exactly_and_others_lose_under_a_microsecond_per_interval() {
        for s in [
            "30/hour",
            "120/hour",
            "5/minute",
            "10/second",
            "1000000/second",
            "1000000/hour",
        ] {
            let quota = crate::parse_quota(s).ok().flatten().expect("valid");
            let p = params_of(quota);
            assert_eq!(p.tolerance_us, us(quota.period), "{s}");
        }
        let quota = crate::parse_quota("7/day").ok().flatten().expect("valid");
        let p = params_of(quota);
        assert_eq!(p.interval_us, 12_342_857_142);
        assert!(us(quota.period) - p.tolerance_us < 7);
    }

    fn quota_strategy() -> impl Strategy<Value = Quota> {
        prop_oneof![
            // Real-world shapes.
            (
                1u32..=200,
                prop::sample::select(vec![1u64, 60, 3600, 86_400])
            )
                .prop_map(|(c, s)| quota_us(c, s * 1_000_000)),
            // Awkward ones: counts that do not divide the period, tiny periods.
            (1u64..=5_000_000).prop_flat_map(|period| {
                (1..=u32::try_from(period.min(64)).expect("small"))
                    .prop_map(move |count| quota_us(count, period))
            }),
        ]
    }

    fn timeline_strategy() -> impl Strategy<Value = (Quota, Vec<u64>)> {
        quota_strategy().prop_flat_map(|quota| {
            let period = us(quota.period);
            let interval = params_of(quota).interval_us;
            let gap = prop_oneof![
                3 => Just(0u64),
                3 => 0..=interval.saturating_mul(2),
                1 => 0..=period.saturating_mul(2),
            ];
            (Just(quota), prop::collection::vec(gap, 1..80))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn properties_hold_on_random_timelines((quota, gaps) in timeline_strategy(), start in 0u64..1u64 << 50) {
            assert_properties(quota, &times_from_gaps(start, &gaps))?;
        }
    }
}
