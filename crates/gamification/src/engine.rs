//! One event applied to what is known of its player, in memory: the streak, each matching
//! rule's award, the streak milestone, the week's challenges, badges and the level, and the
//! rows and outbox events that record it. No I/O: `sheets.rs` reads every player of a batch
//! in a few statements before, and writes what this produced in a few statements after, so an
//! event costs a share of a dozen statements instead of twenty of its own (the per-statement
//! cost, not the work, was what limited throughput: see BENCHMARKS.md).
//!
//! Everything an award depends on is in the [`Sheet`] (the player's row, counts per kind,
//! badges, the awards that caps, once-per-user rules and streak days look at, challenge
//! progress, recent events for bursts), and every write is appended to the sheet too, so
//! the next event of the same player in the batch sees it, exactly as if each event had run
//! alone in its own transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use faro_gamification_domain::badges::Facts;
use faro_gamification_domain::challenges::Progress;
use faro_gamification_domain::levels::reached;
use faro_gamification_domain::rules::{self, Given, Outcome};
use faro_gamification_domain::streaks::Streak;
use faro_gamification_domain::{Event, kind_matches};
use faro_store::outbox::NewEvent;
use faro_store::{StoreError, TenantId};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::challenges::Challenge;
use crate::design::Loaded;
use crate::store::Player;

/// What an event caused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct Outcomes {
    /// The key was seen before: nothing changed (the awards are those of the first time).
    pub duplicate: bool,
    pub awards: Vec<AwardView>,
    /// Badges unlocked by this event.
    pub badges: Vec<String>,
    /// Challenges this event completed (their template keys).
    pub challenges: Vec<String>,
    /// The level reached, when this event raised it.
    pub level_up: Option<u32>,
    /// The player's balance after the event.
    pub balance: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct AwardView {
    /// The rule key, `badge:<key>` or `streak`.
    pub rule: String,
    pub points: i64,
}

/// An award already in the ledger (or written earlier in this batch) that a cap, a
/// once-per-user rule or a streak day looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct Paid {
    pub rule: String,
    pub source: String,
    pub points: i64,
    /// The ledger's `created_at`: the event's time.
    pub at: i64,
}

/// One of the player's events recent enough for a burst badge to count.
#[derive(Clone, Debug, PartialEq)]
pub struct Recent {
    pub kind: String,
    pub at: i64,
    /// Its place in the batch being applied; `None`: committed before it. An event counts
    /// only those before it, as it would alone.
    pub place: Option<usize>,
}

/// A player's progress on one of the week's challenges.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tracked {
    pub progress: Progress,
    pub completed_at: Option<i64>,
}

/// Everything known about one player while a batch is applied.
#[derive(Clone, Debug)]
pub struct Sheet {
    pub player: Player,
    pub counts: HashMap<String, u64>,
    pub badges: HashSet<String>,
    pub paid: Vec<Paid>,
    /// Challenge id → progress.
    pub progress: HashMap<String, Tracked>,
    pub recent: Vec<Recent>,
}

impl Sheet {
    pub fn new(player: Player) -> Sheet {
        Sheet {
            player,
            counts: HashMap::new(),
            badges: HashSet::new(),
            paid: Vec::new(),
            progress: HashMap::new(),
            recent: Vec::new(),
        }
    }

    fn paid(&self, rule: &str, source: &str) -> bool {
        self.paid
            .iter()
            .any(|p| p.rule == rule && p.source == source)
    }

    fn given(
        &self,
        rule: &str,
        window: Option<faro_gamification_domain::calendar::Window>,
    ) -> Given {
        let mut g = Given::default();
        for p in self.paid.iter().filter(|p| p.rule == rule) {
            g.ever = true;
            if window.is_some_and(|w| w.contains(p.at)) {
                g.in_period += p.points;
            }
        }
        g
    }
}

/// A ledger row to write.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAward {
    pub user: String,
    pub rule: String,
    pub source: String,
    pub points: i64,
    pub at: i64,
}

/// Every row a batch writes, gathered while its events are applied.
#[derive(Debug, Default)]
pub struct Writes {
    pub awards: Vec<NewAward>,
    /// (user, badge, unlocked_at).
    pub badges: Vec<(String, String, i64)>,
    /// (challenge id, user) → the progress to store (the last wins).
    pub progress: BTreeMap<(String, String), Tracked>,
    /// (user, kind) → events to add to the count.
    pub counts: BTreeMap<(String, String), u64>,
    pub outbox: Vec<NewEvent>,
}

/// What the badge criteria need, from the sheet.
struct Known<'a> {
    sheet: &'a Sheet,
    place: usize,
    level: u32,
}

impl Facts for Known<'_> {
    fn count(&self, pattern: &str) -> u64 {
        self.sheet
            .counts
            .iter()
            .filter(|(k, _)| kind_matches(pattern, k))
            .map(|(_, n)| n)
            .sum()
    }
    fn count_since(&self, pattern: &str, since: i64) -> u64 {
        self.sheet
            .recent
            .iter()
            .filter(|r| r.place.is_none_or(|p| p <= self.place))
            .filter(|r| r.at >= since && kind_matches(pattern, &r.kind))
            .count() as u64
    }
    fn streak(&self) -> u32 {
        self.sheet.player.streak_current
    }
    fn level(&self) -> u32 {
        self.level
    }
    fn ordinal(&self) -> u64 {
        self.sheet.player.ordinal
    }
}

/// Applies one new event (`key`, the batch's `place`-th) to its player's sheet; the week's
/// `challenges` are every challenge of the weeks the batch's events fall in.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    loaded: &Loaded,
    challenges: &[Challenge],
    tenant: &TenantId,
    sheet: &mut Sheet,
    key: &str,
    place: usize,
    event: &Event,
    now_ms: i64,
    writes: &mut Writes,
) -> Result<Outcomes, StoreError> {
    let design = &loaded.design;
    let user = sheet.player.user.clone();
    let mut out = Outcomes::default();
    let mut gained = 0i64;
    let at = event.at;
    // Counts per kind (this event included) and the streak by the tenant's calendar.
    *sheet.counts.entry(event.kind.clone()).or_default() += 1;
    let day = loaded.calendar.day(event.at);
    let p = &sheet.player;
    let before = Streak {
        current: p.streak_current,
        longest: p.streak_longest,
        last_day: p.streak_last_day,
    };
    let (streak, milestone) = before.record(day);
    let p = &mut sheet.player;
    (p.streak_current, p.streak_longest, p.streak_last_day) =
        (streak.current, streak.longest, streak.last_day);

    // Rules.
    let percent = rules::multiplier_for(&design.multipliers, event);
    let mut badge_awards: Vec<String> = Vec::new();
    for rule in design.rules.iter().filter(|r| r.matches(event)) {
        let given = sheet.given(&rule.key, rule.cap_window(&loaded.calendar, event.at));
        match rules::evaluate(rule, event, percent, given) {
            Some(Outcome::Points(points))
                if pay(sheet, writes, &mut out, &rule.key, key, points, at) =>
            {
                gained += points;
            }
            Some(Outcome::Badge(b)) => badge_awards.push(b),
            _ => {}
        }
    }
    if milestone
        && design.streak_bonus > 0
        && pay(
            sheet,
            writes,
            &mut out,
            "streak",
            &day.to_string(),
            design.streak_bonus,
            at,
        )
    {
        gained += design.streak_bonus;
    }

    // Challenges of the event's week: progress, and each goal reached pays once.
    for c in challenges {
        let in_week = c.starts_at <= event.at && event.at < c.ends_at;
        if !(in_week && c.template.concerns(event)) {
            continue;
        }
        let tracked = sheet.progress.entry(c.id.clone()).or_default();
        if tracked.completed_at.is_some() {
            continue;
        }
        let after = c
            .template
            .advance(std::mem::take(&mut tracked.progress), event, day);
        let finished = c.template.done(&after);
        tracked.progress = after;
        tracked.completed_at = finished.then_some(event.at);
        writes
            .progress
            .insert((c.id.clone(), user.clone()), tracked.clone());
        if finished {
            let points = c.template.points;
            let rule = format!("challenge:{}", c.id);
            if pay(sheet, writes, &mut out, &rule, "complete", points, at) {
                gained += points;
                out.challenges.push(c.template.key.clone());
            }
        }
    }

    // Badges: what rules gave, then every criterion, until a pass unlocks nothing new (a
    // badge's points can raise the level, which can unlock a level badge).
    let mut level = reached(
        &loaded.levels,
        sheet.player.level,
        sheet.player.lifetime + gained,
    );
    for _ in 0..4 {
        let known = Known {
            sheet,
            place,
            level,
        };
        let new: Vec<_> = design
            .badges
            .iter()
            .filter(|b| !sheet.badges.contains(&b.key))
            .filter(|b| badge_awards.contains(&b.key) || b.unlocks(event, &known))
            .collect();
        if new.is_empty() {
            break;
        }
        for b in new {
            sheet.badges.insert(b.key.clone());
            writes.badges.push((user.clone(), b.key.clone(), event.at));
            out.badges.push(b.key.clone());
            let rule = format!("badge:{}", b.key);
            if b.points > 0 && pay(sheet, writes, &mut out, &rule, "unlock", b.points, at) {
                gained += b.points;
            }
        }
        level = reached(
            &loaded.levels,
            sheet.player.level,
            sheet.player.lifetime + gained,
        );
    }

    // The player's sums, level and streak, and the events for other modules.
    let p = &mut sheet.player;
    let level_before = p.level;
    p.balance += gained;
    p.lifetime += gained;
    p.level = level;
    if gained > 0 {
        p.reached_at_ms = now_ms;
    }
    out.balance = p.balance;
    if p.level > level_before {
        out.level_up = Some(p.level);
    }
    *writes
        .counts
        .entry((user.clone(), event.kind.clone()))
        .or_default() += 1;
    outbox_events(loaded, tenant, p, key, gained, &out, &mut writes.outbox)?;
    Ok(out)
}

/// Writes an award unless the sheet shows (rule, source) paid already: true when written.
#[allow(clippy::too_many_arguments)]
fn pay(
    sheet: &mut Sheet,
    writes: &mut Writes,
    out: &mut Outcomes,
    rule: &str,
    source: &str,
    points: i64,
    at: i64,
) -> bool {
    if sheet.paid(rule, source) {
        return false;
    }
    sheet.paid.push(Paid {
        rule: rule.to_owned(),
        source: source.to_owned(),
        points,
        at,
    });
    writes.awards.push(NewAward {
        user: sheet.player.user.clone(),
        rule: rule.to_owned(),
        source: source.to_owned(),
        points,
        at,
    });
    out.awards.push(AwardView {
        rule: rule.to_owned(),
        points,
    });
    true
}

fn outbox_events(
    loaded: &Loaded,
    tenant: &TenantId,
    p: &Player,
    key: &str,
    gained: i64,
    out: &Outcomes,
    into: &mut Vec<NewEvent>,
) -> Result<(), StoreError> {
    let new = |kind: &str, payload: Value| NewEvent::new(tenant.as_str(), kind, &p.user, &payload);
    if gained > 0 {
        let by_rule: BTreeMap<&str, i64> = out
            .awards
            .iter()
            .map(|a| (a.rule.as_str(), a.points))
            .collect();
        into.push(new(
            "gamification.points_awarded",
            json!({
                "user": p.user, "points": gained, "balance": p.balance, "lifetime": p.lifetime,
                "rules": by_rule, "source": key,
            }),
        )?);
    }
    for b in &out.badges {
        into.push(new(
            "gamification.badge_unlocked",
            json!({"user": p.user, "badge": b}),
        )?);
    }
    for c in &out.challenges {
        into.push(new(
            "gamification.challenge_completed",
            json!({"user": p.user, "challenge": c}),
        )?);
    }
    if let Some(level) = out.level_up {
        let title = loaded.levels.standing(level, p.lifetime).title;
        into.push(new(
            "gamification.level_reached",
            json!({"user": p.user, "level": level, "title": title}),
        )?);
    }
    Ok(())
}

/// The distinct values a challenge's progress keeps, as stored.
pub fn values_json(values: &BTreeSet<String>) -> Result<String, StoreError> {
    serde_json::to_string(values).map_err(|e| StoreError::Other(e.to_string()))
}

#[cfg(test)]
mod tests;
