//! Properties of the pure core over generated inputs: the ledger's balance is the sum of its
//! entries and never negative under the operations the module allows; levels are monotone in
//! lifetime points and never go down; the leaderboard's order is total; streaks count runs;
//! caps and once-per-user rules never give more than they say.

use faro_gamification_domain::calendar::add_days;
use faro_gamification_domain::challenges::{self, Template};
use faro_gamification_domain::leaderboard::{Score, order};
use faro_gamification_domain::ledger::{self, Entry, EntryKind, Rate, RedeemError};
use faro_gamification_domain::levels::{Level, Levels, reached};
use faro_gamification_domain::rules::{Given, Outcome, Rule, evaluate};
use faro_gamification_domain::streaks::Streak;
use faro_gamification_domain::{Event, demo};
use jiff::civil::{Date, date};
use proptest::prelude::*;
use serde_json::json;

#[derive(Clone, Debug)]
enum Op {
    Award(i64),
    Redeem(i64),
    /// Reverse part of the n-th award so far.
    Reverse(usize, i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1i64..500).prop_map(Op::Award),
        (0i64..12).prop_map(|n| Op::Redeem(n * 100)),
        (0usize..20, 1i64..500).prop_map(|(i, p)| Op::Reverse(i, p)),
    ]
}

fn table() -> impl Strategy<Value = Levels> {
    prop::collection::btree_set(1i64..20_000, 0..12).prop_map(|mins| {
        let levels = std::iter::once(0)
            .chain(mins)
            .enumerate()
            .map(|(i, min_points)| Level {
                title: format!("L{i}"),
                min_points,
            })
            .collect();
        Levels::new(levels).expect("a valid table")
    })
}

proptest! {
    #[test]
    fn the_balance_is_the_sum_and_never_negative(ops in prop::collection::vec(op(), 0..60)) {
        let mut entries: Vec<Entry> = Vec::new();
        // Each award with what has been reversed of it so far.
        let mut awards: Vec<(i64, i64)> = Vec::new();
        let levels = demo::levels();
        let mut level = 1;
        for op in ops {
            match op {
                Op::Award(p) => {
                    entries.push(Entry { kind: EntryKind::Award, points: p });
                    awards.push((p, 0));
                }
                Op::Redeem(p) => match ledger::redeem(ledger::balance(&entries), p, Rate::default()) {
                    Ok(r) => entries.push(Entry { kind: EntryKind::Redemption, points: -r.points }),
                    Err(RedeemError::Insufficient { balance }) => prop_assert!(p > balance),
                    Err(RedeemError::BadAmount(_)) => prop_assert!(p < 100),
                },
                Op::Reverse(i, p) => {
                    if let Some((awarded, reversed)) = awards.get_mut(i) {
                        let take = ledger::reversal(*awarded, *reversed, ledger::balance(&entries), p);
                        if take > 0 {
                            entries.push(Entry { kind: EntryKind::Reversal, points: -take });
                            *reversed -= take;
                        }
                    }
                }
            }
            let balance = ledger::balance(&entries);
            prop_assert_eq!(balance, entries.iter().map(|e| e.points).sum::<i64>());
            prop_assert!(balance >= 0);
            let lifetime = ledger::lifetime(&entries);
            prop_assert!(lifetime >= balance);
            let next = reached(&levels, level, lifetime);
            prop_assert!(next >= level, "a level never goes down");
            level = next;
        }
    }

    #[test]
    fn levels_are_monotone_in_lifetime_points(levels in table(), a in -100i64..30_000, b in -100i64..30_000) {
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(levels.number_for(lo) <= levels.number_for(hi));
        let s = levels.standing(levels.number_for(hi), hi);
        prop_assert!((0.0..=100.0).contains(&s.progress_percent));
        prop_assert!(s.min_points <= hi.max(0));
        if let Some(next) = &s.next {
            prop_assert!(next.min_points > hi);
        }
    }

    #[test]
    fn the_leaderboard_is_a_total_order(
        rows in prop::collection::vec((0u8..20, 0i64..50, 0i64..10), 0..40)
    ) {
        let mut scores: Vec<Score> = rows
            .iter()
            .enumerate()
            .map(|(i, (u, p, t))| Score { user: format!("u{u}-{i}"), points: *p, reached_at: *t })
            .collect();
        scores.sort_by(order);
        for w in scores.windows(2) {
            prop_assert_eq!(order(&w[0], &w[1]), std::cmp::Ordering::Less, "strictly ordered");
            prop_assert!(w[0].points >= w[1].points);
        }
        for a in &scores {
            for b in &scores {
                prop_assert_eq!(order(a, b), order(b, a).reverse());
                prop_assert_eq!(order(a, b) == std::cmp::Ordering::Equal, a.user == b.user);
            }
        }
    }

    #[test]
    fn streaks_count_runs_of_days(offsets in prop::collection::btree_set(0i64..60, 0..40)) {
        let start = date(2026, 1, 1);
        let days: Vec<Date> = offsets.iter().map(|o| add_days(start, *o)).collect();
        let mut s = Streak::default();
        let mut milestones = 0;
        for d in &days {
            let (next, m) = s.record(*d);
            s = next;
            milestones += u32::from(m);
        }
        // The longest run and the trailing run, counted directly.
        let mut best = 0;
        let mut run = 0;
        let mut prev: Option<i64> = None;
        let mut expected_milestones = 0;
        for o in &offsets {
            run = if prev == Some(o - 1) { run + 1 } else { 1 };
            best = best.max(run);
            expected_milestones += u32::from(run % 7 == 0);
            prev = Some(*o);
        }
        prop_assert_eq!(s.current, run);
        prop_assert_eq!(s.longest, best);
        prop_assert!(s.current <= s.longest);
        prop_assert_eq!(milestones, expected_milestones);
    }

    #[test]
    fn caps_and_once_never_give_more(amounts in prop::collection::vec(1i64..40, 1..50), cap in 1i64..200) {
        let capped: Rule = serde_json::from_value(json!({"key": "c", "event": "x.y",
            "cap": {"points": cap, "period": "day"},
            "award": {"type": "points_per", "prop": "n", "per_unit": 1}})).expect("rule");
        let once: Rule = serde_json::from_value(json!({"key": "o", "event": "x.y",
            "once_per_user": true, "award": {"type": "points", "points": 7}})).expect("rule");
        let (mut given_capped, mut given_once) = (Given::default(), Given::default());
        let mut once_count = 0;
        for n in amounts {
            let e = Event::new("x.y", json!({"n": n}), 0);
            if let Some(Outcome::Points(p)) = evaluate(&capped, &e, 200, given_capped) {
                prop_assert!(p > 0);
                given_capped = Given { ever: true, in_period: given_capped.in_period + p };
            }
            if let Some(Outcome::Points(_)) = evaluate(&once, &e, 100, given_once) {
                once_count += 1;
                given_once.ever = true;
            }
            prop_assert!(given_capped.in_period <= cap);
        }
        prop_assert_eq!(once_count, 1);
    }

    #[test]
    fn a_pick_is_distinct_and_sized(n in 0usize..8, seed in any::<u64>()) {
        let all: Vec<Template> = demo::templates();
        let picked = challenges::pick(&all, n, seed);
        prop_assert_eq!(picked.len(), n.min(all.len()));
        let keys: std::collections::BTreeSet<&str> = picked.iter().map(|t| t.key.as_str()).collect();
        prop_assert_eq!(keys.len(), picked.len());
    }
}
