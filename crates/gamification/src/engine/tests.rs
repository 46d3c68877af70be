//! The engine on its own: each rule kind within a batch, and a property over any batch.

use std::collections::HashSet;

use faro_gamification_domain::levels::reached;
use faro_gamification_domain::{Event, demo};
use proptest::prelude::*;
use serde_json::{Map, json};

use super::*;
use crate::design::Design;

const DAY: i64 = 86_400;
/// Monday 2026-12-07 00:00 UTC.
const MONDAY: i64 = 1_796_601_600;

fn loaded() -> Loaded {
    Loaded::new(Design::demo(), 1, "Europe/Madrid")
}

fn player(user: &str, ordinal: u64) -> Player {
    Player {
        user: user.into(),
        balance: 0,
        lifetime: 0,
        level: 1,
        streak_current: 0,
        streak_longest: 0,
        streak_last_day: None,
        credits: 0,
        ordinal,
        display_name: None,
        first_seen_at: MONDAY,
        reached_at_ms: MONDAY * 1000,
    }
}

/// The week's challenges: every demo template, for a week from `MONDAY` (the test's
/// events may fall outside it: those do not move them).
fn week() -> Vec<Challenge> {
    demo::templates()
        .into_iter()
        .map(|t| Challenge {
            id: format!("c-{}", t.key),
            template: t,
            starts_at: MONDAY - 3600,
            ends_at: MONDAY - 3600 + 7 * DAY,
        })
        .collect()
}

fn event(kind: &str, at: i64, props: serde_json::Value) -> Event {
    let props: Map<String, serde_json::Value> = match props {
        serde_json::Value::Object(m) => m,
        _ => Map::new(),
    };
    Event {
        kind: kind.into(),
        props,
        at,
    }
}

/// Applies `events` in order (one batch), each to its player's sheet.
fn run(events: &[(usize, Event)], players: usize) -> (Vec<Sheet>, Writes, Vec<Outcomes>) {
    let l = loaded();
    let week = week();
    let tenant = TenantId::new("t");
    let mut sheets: Vec<Sheet> = (0..players)
        .map(|i| Sheet::new(player(&format!("u{i}"), i as u64 + 1)))
        .collect();
    let mut writes = Writes::default();
    let mut outs = Vec::new();
    for (place, (who, e)) in events.iter().enumerate() {
        let sheet = &mut sheets[*who];
        sheet.recent.push(Recent {
            kind: e.kind.clone(),
            at: e.at,
            place: Some(place),
        });
        let out = apply(
            &l,
            &week,
            &tenant,
            sheet,
            &format!("k{place}"),
            place,
            e,
            1,
            &mut writes,
        )
        .expect("applied");
        outs.push(out);
    }
    (sheets, writes, outs)
}

#[test]
fn a_first_conversion_pays_its_rule_the_once_rule_and_a_badge() {
    let (sheets, writes, outs) = run(
        &[(0, event("conversion.completed", MONDAY + 3600, json!({})))],
        1,
    );
    let rules: Vec<&str> = outs[0].awards.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "conversion",
            "first_conversion",
            "badge:primer_paso",
            "badge:adoptador_temprano"
        ]
    );
    assert_eq!(sheets[0].player.balance, 10 + 50 + 50 + 500);
    assert_eq!(writes.awards.len(), 4);
    assert_eq!(
        writes
            .counts
            .get(&("u0".into(), "conversion.completed".into())),
        Some(&1)
    );
}

#[test]
fn once_per_user_and_caps_hold_within_a_batch() {
    let mut events = Vec::new();
    for i in 0..6 {
        events.push((0, event("conversion.completed", MONDAY + 60 * i, json!({}))));
        events.push((0, event("user.daily_login", MONDAY + 60 * i + 1, json!({}))));
        events.push((0, event("feedback.given", MONDAY + 60 * i + 2, json!({}))));
    }
    let (_, writes, _) = run(&events, 1);
    let sum = |rule: &str| -> i64 {
        writes
            .awards
            .iter()
            .filter(|a| a.rule == rule)
            .map(|a| a.points)
            .sum()
    };
    assert_eq!(sum("first_conversion"), 50);
    assert_eq!(sum("daily_login"), 5, "capped at 5 a day");
    assert_eq!(sum("feedback"), 45, "capped at 45 a day");
    assert_eq!(sum("conversion"), 60);
}

#[test]
fn a_burst_counts_only_the_events_before_it_in_the_batch() {
    // Five conversions within the hour, the batch holding them out of time order: the
    // badge unlocks with the fifth applied, not before.
    let at = [
        MONDAY + 50,
        MONDAY + 10,
        MONDAY + 40,
        MONDAY + 20,
        MONDAY + 30,
    ];
    let events: Vec<_> = at
        .iter()
        .map(|&t| (0, event("conversion.completed", t, json!({}))))
        .collect();
    let (_, _, outs) = run(&events, 1);
    let burst = |o: &Outcomes| o.badges.contains(&"demonio_de_la_velocidad".to_owned());
    assert!(!outs[..4].iter().any(burst));
    assert!(burst(&outs[4]));
}

#[test]
fn a_challenge_completes_and_pays_once() {
    let events: Vec<_> = (0..12)
        .map(|i| {
            (
                0,
                event("conversion.completed", MONDAY + 100 * i, json!({})),
            )
        })
        .collect();
    let (sheets, writes, outs) = run(&events, 1);
    let done: Vec<usize> = outs
        .iter()
        .enumerate()
        .filter(|(_, o)| o.challenges.contains(&"convertidor_activo".to_owned()))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(done, [9], "the tenth conversion completes it");
    let tracked = &sheets[0].progress["c-convertidor_activo"];
    assert_eq!(tracked.progress.count, 10, "no progress after completion");
    assert_eq!(
        writes.progress[&("c-convertidor_activo".into(), "u0".into())].completed_at,
        Some(MONDAY + 900)
    );
}

#[test]
fn a_ledger_award_already_on_the_sheet_is_not_paid_again() {
    let l = loaded();
    let tenant = TenantId::new("t");
    let mut sheet = Sheet::new(player("u0", 500));
    sheet.paid.push(Paid {
        rule: "first_conversion".into(),
        source: "old".into(),
        points: 50,
        at: MONDAY - DAY,
    });
    sheet.badges.insert("primer_paso".into());
    let mut writes = Writes::default();
    let e = event("conversion.completed", MONDAY, json!({}));
    let out = apply(&l, &[], &tenant, &mut sheet, "k", 0, &e, 1, &mut writes).expect("ok");
    assert_eq!(out.awards.len(), 1);
    assert_eq!(out.balance, 10);
}

fn kinds() -> impl Strategy<Value = (&'static str, serde_json::Value)> {
    prop_oneof![
        Just((
            "conversion.completed",
            json!({"target_format": "pdf", "size_mb": 12})
        )),
        Just((
            "conversion.completed",
            json!({"target_format": "png", "size_mb": 120})
        )),
        Just((
            "conversion.completed",
            json!({"target_format": "webp", "size_mb": 60})
        )),
        Just(("user.daily_login", json!({}))),
        Just(("payment.succeeded", json!({"amount_eur": 3.5}))),
        Just(("feedback.given", json!({}))),
        Just(("content.shared", json!({}))),
        Just(("app.unpaid", json!({}))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the batch: each player's balance is the sum of the awards written for
    /// them, levels follow lifetime points and never go down, no (user, rule, source)
    /// and no badge is written twice, and the counts add up to the events.
    #[test]
    fn a_batch_keeps_the_ledger_and_the_sheets_in_step(
        raw in proptest::collection::vec((0usize..3, kinds(), 0i64..40 * DAY), 1..120)
    ) {
        let events: Vec<(usize, Event)> = raw
            .iter()
            .map(|(who, (kind, props), off)| (*who, event(kind, MONDAY - 10 * DAY + off, props.clone())))
            .collect();
        let (sheets, writes, outs) = run(&events, 3);
        let l = loaded();
        for s in &sheets {
            let paid: i64 = writes.awards.iter().filter(|a| a.user == s.player.user).map(|a| a.points).sum();
            prop_assert_eq!(s.player.balance, paid);
            prop_assert_eq!(s.player.lifetime, paid);
            prop_assert_eq!(s.player.level, reached(&l.levels, 1, paid));
            let counted: u64 = writes.counts.iter().filter(|((u, _), _)| *u == s.player.user).map(|(_, n)| n).sum();
            prop_assert_eq!(counted as usize, events.iter().filter(|(w, _)| format!("u{w}") == s.player.user).count());
        }
        let mut once = HashSet::new();
        for a in &writes.awards {
            prop_assert!(once.insert((&a.user, &a.rule, &a.source)), "paid twice: {:?}", a);
            prop_assert!(a.points > 0);
        }
        let mut badges = HashSet::new();
        for b in &writes.badges {
            prop_assert!(badges.insert((&b.0, &b.1)), "unlocked twice: {:?}", b);
        }
        let mut levels = [1u32; 3];
        for ((who, _), out) in events.iter().zip(&outs) {
            if let Some(l) = out.level_up {
                prop_assert!(l > levels[*who]);
                levels[*who] = l;
            }
        }
    }
}
