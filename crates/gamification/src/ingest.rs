//! Taking in one event: record it once, then apply the tenant's design to it in the same
//! transaction: the player's streak and kind counts, each matching rule's award, the streak
//! milestone, badges, the level, and the outbox events that tell other modules.
//!
//! Exactly once per `(tenant, key)`: the event row is inserted first with `ON CONFLICT DO
//! NOTHING`, so a second delivery of the key (retried, or concurrent on another instance)
//! finds it, changes nothing and answers `duplicate`. Awards are also unique per (tenant,
//! user, rule, source) in the ledger, a second lock on the same promise. Different events of
//! one player are serialised by the player's row (locked on PostgreSQL; SQLite has one writer),
//! so caps and once-per-user rules see every earlier award.

use std::collections::{BTreeMap, HashMap, HashSet};

use faro_gamification_domain::badges::{Criterion, Facts};
use faro_gamification_domain::levels::reached;
use faro_gamification_domain::rules::{self, Outcome};
use faro_gamification_domain::streaks::Streak;
use faro_gamification_domain::{Event, kind_matches};
use faro_store::outbox::NewEvent;
use faro_store::{Backend, StoreError, TenantId, unix_now, unix_now_ms};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::Gamification;
use crate::design::{self, Loaded};
use crate::error::GamificationError;
use crate::store::{self, Player, Tx};

/// One event as a caller sends it.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub user: String,
    pub kind: String,
    /// Unique per tenant: the same key again changes nothing.
    pub key: String,
    pub props: Map<String, Value>,
    /// Unix seconds; `None`: now.
    pub occurred_at: Option<i64>,
    /// The name to show on the leaderboard (masked before it is stored).
    pub display_name: Option<String>,
}

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

/// How far in the past an event may say it happened (older ones are refused: they would
/// rewrite streaks and caps long closed), and how far in the future (clock skew).
pub const MAX_AGE_SECS: i64 = 30 * 86_400;
pub const MAX_SKEW_SECS: i64 = 300;

/// Checks an incoming event; every problem at once.
pub fn check(inc: &Incoming, now: i64) -> Result<(), GamificationError> {
    let mut problems = Vec::new();
    let user = inc.user.trim();
    if user.is_empty() || user.len() > 128 || user.chars().any(char::is_control) {
        problems.push(faro_gamification_domain::Problem::new(
            "user",
            "the user's id: 1 to 128 characters",
        ));
    }
    if let Err(m) = faro_gamification_domain::check_kind(&inc.kind, false) {
        problems.push(faro_gamification_domain::Problem::new("type", m));
    }
    if inc.key.is_empty() || inc.key.len() > 200 || inc.key.chars().any(char::is_control) {
        problems.push(faro_gamification_domain::Problem::new(
            "key",
            "1 to 200 characters, unique per event",
        ));
    }
    if serde_json::to_string(&inc.props).map_or(0, |s| s.len()) > 8 * 1024 {
        problems.push(faro_gamification_domain::Problem::new(
            "props",
            "at most 8 KB of JSON",
        ));
    }
    if let Some(at) = inc.occurred_at
        && !(now - MAX_AGE_SECS..=now + MAX_SKEW_SECS).contains(&at)
    {
        problems.push(faro_gamification_domain::Problem::new(
            "occurred_at",
            "within the last 30 days (and not in the future)",
        ));
    }
    if inc
        .display_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 80)
    {
        problems.push(faro_gamification_domain::Problem::new(
            "display_name",
            "at most 80 characters",
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(GamificationError::Invalid(problems))
    }
}

/// An event a signed-in end user reports about themselves: only a kind the tenant's design
/// lists in `user_events`, dated when it arrives (no backdating into a streak), under a key
/// of the user's own (`me:{user}:{key}`), so no one can take a key a server's event needs.
pub async fn ingest_own(
    g: &Gamification,
    tenant: &TenantId,
    user: &str,
    kind: String,
    key: String,
    props: Map<String, Value>,
) -> Result<Outcomes, GamificationError> {
    let loaded = design::load(g, tenant).await?;
    if !loaded.design.user_events.contains(&kind) {
        return Err(GamificationError::NotForUsers(kind));
    }
    if key.is_empty() || key.len() > 100 || key.chars().any(char::is_control) {
        return Err(GamificationError::invalid(
            "key",
            "1 to 100 characters, unique per event",
        ));
    }
    ingest(
        g,
        tenant,
        Incoming {
            user: user.to_owned(),
            kind,
            key: format!("me:{user}:{key}"),
            props,
            occurred_at: None,
            display_name: None,
        },
    )
    .await
}

/// Takes in one event for `tenant`.
pub async fn ingest(
    g: &Gamification,
    tenant: &TenantId,
    inc: Incoming,
) -> Result<Outcomes, GamificationError> {
    let now = unix_now();
    check(&inc, now)?;
    let loaded = design::load(g, tenant).await?;
    let event = Event {
        kind: inc.kind.clone(),
        props: inc.props.clone(),
        at: inc.occurred_at.unwrap_or(now).min(now),
    };
    let db = &g.core.db;
    let user = inc.user.trim().to_owned();
    // A new player is numbered in a short transaction of its own: the tenant row's lock that
    // keeps the numbers exact is then held for one insert, not for the whole event.
    if store::player(db, tenant, &user).await?.is_none() {
        let mut first = db.begin_write().await?;
        store::lock_player(&mut first, db.backend(), tenant, &user, None, now).await?;
        first.commit().await?;
    }
    let mut tx = db.begin_write().await?;
    if !store::insert_event(&mut tx, tenant, &inc.key, &user, &event, now).await? {
        drop(tx);
        let awards = store::awards_of(db, tenant, &user, &inc.key)
            .await?
            .into_iter()
            .map(|(rule, points)| AwardView { rule, points })
            .collect();
        let balance = store::player(db, tenant, &user)
            .await?
            .map_or(0, |p| p.balance);
        return Ok(Outcomes {
            duplicate: true,
            awards,
            balance,
            ..Outcomes::default()
        });
    }
    let masked = inc
        .display_name
        .as_deref()
        .and_then(faro_gamification_domain::leaderboard::mask);
    let player = store::lock_player(&mut tx, db.backend(), tenant, &user, masked, now).await?;
    let outcomes = apply(
        &mut tx,
        db.backend(),
        &loaded,
        tenant,
        player,
        &inc.key,
        &event,
    )
    .await?;
    tx.commit().await?;
    g.core.wake.notify();
    Ok(outcomes)
}

/// What the badge criteria need to know, read before they are judged.
struct Known {
    counts: HashMap<String, u64>,
    recent: HashMap<String, u64>,
    streak: u32,
    level: u32,
    ordinal: u64,
}

impl Facts for Known {
    fn count(&self, pattern: &str) -> u64 {
        self.counts
            .iter()
            .filter(|(k, _)| kind_matches(pattern, k))
            .map(|(_, n)| n)
            .sum()
    }
    fn count_since(&self, pattern: &str, _since: i64) -> u64 {
        self.recent.get(pattern).copied().unwrap_or(0)
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

pub(crate) async fn apply(
    tx: &mut Tx,
    backend: Backend,
    loaded: &Loaded,
    tenant: &TenantId,
    mut p: Player,
    key: &str,
    event: &Event,
) -> Result<Outcomes, GamificationError> {
    let design = &loaded.design;
    let mut out = Outcomes::default();
    let mut gained = 0i64;

    // Counts per kind (this event included) and the streak by the tenant's calendar.
    let counts = store::bump_kind(tx, tenant, &p.user, &event.kind).await?;
    let day = loaded.calendar.day(event.at);
    let before = Streak {
        current: p.streak_current,
        longest: p.streak_longest,
        last_day: p.streak_last_day,
    };
    let (streak, milestone) = before.record(day);
    (p.streak_current, p.streak_longest, p.streak_last_day) =
        (streak.current, streak.longest, streak.last_day);

    // Rules.
    let percent = rules::multiplier_for(&design.multipliers, event);
    let mut badge_awards: Vec<String> = Vec::new();
    for rule in design.rules.iter().filter(|r| r.matches(event)) {
        let window = rule.cap_window(&loaded.calendar, event.at);
        let given = store::given(tx, tenant, &p.user, &rule.key, window).await?;
        match rules::evaluate(rule, event, percent, given) {
            Some(Outcome::Points(points))
                if store::award(tx, tenant, &p.user, &rule.key, key, points, event.at).await? =>
            {
                gained += points;
                out.awards.push(AwardView {
                    rule: rule.key.clone(),
                    points,
                });
            }
            Some(Outcome::Badge(b)) => badge_awards.push(b),
            _ => {}
        }
    }
    if milestone && design.streak_bonus > 0 {
        let source = day.to_string();
        if store::award(
            tx,
            tenant,
            &p.user,
            "streak",
            &source,
            design.streak_bonus,
            event.at,
        )
        .await?
        {
            gained += design.streak_bonus;
            out.awards.push(AwardView {
                rule: "streak".into(),
                points: design.streak_bonus,
            });
        }
    }

    // Challenges of the event's week: progress, and each goal reached pays once.
    let mut completed = Vec::new();
    for c in crate::challenges::advance(tx, loaded, tenant, &p.user, event).await? {
        let rule = format!("challenge:{}", c.id);
        let points = c.template.points;
        if store::award(tx, tenant, &p.user, &rule, "complete", points, event.at).await? {
            gained += points;
            out.awards.push(AwardView { rule, points });
            completed.push(c.template.key.clone());
        }
    }
    out.challenges = completed;

    // Badges: what rules gave, then every criterion, until a pass unlocks nothing new (a
    // badge's points can raise the level, which can unlock a level badge).
    let mut unlocked: HashSet<String> = store::badges_of(tx, tenant, &p.user).await?;
    let mut recent = HashMap::new();
    for b in &design.badges {
        if let Criterion::Burst {
            event: pattern,
            within_secs,
            ..
        } = &b.criterion
            && !unlocked.contains(&b.key)
            && kind_matches(pattern, &event.kind)
        {
            let n = store::count_since(tx, tenant, &p.user, pattern, event.at - within_secs + 1)
                .await?;
            recent.insert(pattern.clone(), n);
        }
    }
    let mut known = Known {
        counts: counts.into_iter().collect(),
        recent,
        streak: p.streak_current,
        level: reached(&loaded.levels, p.level, p.lifetime + gained),
        ordinal: p.ordinal,
    };
    for _ in 0..4 {
        let mut new = Vec::new();
        for b in &design.badges {
            if unlocked.contains(&b.key) {
                continue;
            }
            if badge_awards.contains(&b.key) || b.unlocks(event, &known) {
                new.push(b);
            }
        }
        if new.is_empty() {
            break;
        }
        for b in new {
            if !store::unlock(tx, tenant, &p.user, &b.key, event.at).await? {
                unlocked.insert(b.key.clone());
                continue;
            }
            unlocked.insert(b.key.clone());
            out.badges.push(b.key.clone());
            if b.points > 0 {
                let rule = format!("badge:{}", b.key);
                if store::award(tx, tenant, &p.user, &rule, "unlock", b.points, event.at).await? {
                    gained += b.points;
                    out.awards.push(AwardView {
                        rule,
                        points: b.points,
                    });
                }
            }
        }
        known.level = reached(&loaded.levels, p.level, p.lifetime + gained);
    }

    // The player's sums, level and streak, and the events for other modules.
    let level_before = p.level;
    p.balance += gained;
    p.lifetime += gained;
    p.level = known.level;
    if gained > 0 {
        p.reached_at_ms = unix_now_ms();
    }
    store::save_player(tx, tenant, &p).await?;
    out.balance = p.balance;
    if p.level > level_before {
        out.level_up = Some(p.level);
    }
    let mut events = Vec::new();
    if gained > 0 {
        let by_rule: BTreeMap<&str, i64> = out
            .awards
            .iter()
            .map(|a| (a.rule.as_str(), a.points))
            .collect();
        events.push(new_event(
            tenant,
            "gamification.points_awarded",
            &p.user,
            &json!({
                "user": p.user, "points": gained, "balance": p.balance, "lifetime": p.lifetime,
                "rules": by_rule, "source": key,
            }),
        )?);
    }
    for b in &out.badges {
        events.push(new_event(
            tenant,
            "gamification.badge_unlocked",
            &p.user,
            &json!({
                "user": p.user, "badge": b,
            }),
        )?);
    }
    for c in &out.challenges {
        events.push(new_event(
            tenant,
            "gamification.challenge_completed",
            &p.user,
            &json!({"user": p.user, "challenge": c}),
        )?);
    }
    if let Some(level) = out.level_up {
        let title = loaded.levels.standing(level, p.lifetime).title;
        events.push(new_event(
            tenant,
            "gamification.level_reached",
            &p.user,
            &json!({
                "user": p.user, "level": level, "title": title,
            }),
        )?);
    }
    if !events.is_empty() {
        faro_store::outbox::append(tx, backend, &events).await?;
    }
    Ok(out)
}

fn new_event(
    tenant: &TenantId,
    kind: &str,
    subject: &str,
    payload: &Value,
) -> Result<NewEvent, StoreError> {
    NewEvent::new(tenant.as_str(), kind, subject, payload)
}
