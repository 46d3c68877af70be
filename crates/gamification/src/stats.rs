//! What a tenant's design produces, for the panel: players, events and points of the last 30
//! days (by the tenant's calendar), awards per local day, players per level, badge unlock
//! rates, the week's challenges with their completion, and a player's recent ledger entries.
//!
//! Every statement is portable (SQLite and PostgreSQL through `sqlx::Any`) and reads ranges
//! of indexes that exist, so the panel adds no index (and no cost) to event ingestion:
//!
//! | read | index |
//! |---|---|
//! | awards of the window | `gamification_ledger_time (tenant_id, created_at)` |
//! | events of the window | the events' primary key: ids are UUIDv7, ordered by insertion time |
//! | players per level, badges unlocked | the tenant's prefix of the primary keys (one scan of the tenant's rows) |
//! | the week's challenges | `gamification_challenges_week`, then each one's `gamification_progress` rows |
//! | a player's ledger | `gamification_ledger_once (tenant_id, user_id, …)` |

use faro_gamification_domain::calendar::{add_days, monday_of};
use faro_gamification_domain::challenges::Template;
use faro_store::{Db, StoreError, TenantId, unix_now};
use jiff::civil::Date;
use sqlx::Row;

use crate::design::{self, Loaded};
use crate::error::GamificationError;
use crate::profile::{self, Leaderboard};
use crate::{Gamification, store};

/// The days the overview looks back over, today included.
pub const DAYS: i64 = 30;

/// Awards are summed per quarter of an hour, then put in the local day holding the quarter:
/// every time zone in use is a whole number of quarters from UTC, so no quarter straddles a
/// local midnight, and the database needs no time zone functions (SQLite has none).
const QUARTER: i64 = 900;

/// One local day of awards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayAwards {
    pub day: Date,
    pub awards: i64,
    pub points: i64,
}

/// Players who reached a level (and are not past it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelCount {
    pub number: u32,
    pub title: String,
    pub min_points: i64,
    pub players: i64,
}

/// A badge of the design (or one unlocked before the design dropped it).
#[derive(Clone, Debug, PartialEq)]
pub struct BadgeRate {
    pub key: String,
    pub name: String,
    pub icon: String,
    /// common, uncommon, rare, epic or legendary ("" for a badge the design no longer has).
    pub rarity: String,
    pub points: i64,
    pub unlocked: i64,
    /// False for a badge unlocked once but no longer in the design.
    pub in_design: bool,
}

/// One of the week's challenges with how far players got.
#[derive(Clone, Debug, PartialEq)]
pub struct ChallengeStats {
    pub template: Template,
    /// Players with any progress on it.
    pub participants: i64,
    pub completed: i64,
}

/// The overview page's figures.
pub struct Overview {
    pub players: i64,
    /// The window: the start of the local day `DAYS - 1` days ago, to now.
    pub since: i64,
    pub events: i64,
    pub awards: i64,
    pub points: i64,
    /// `DAYS` days, oldest first, empty days included.
    pub days: Vec<DayAwards>,
    pub levels: Vec<LevelCount>,
    pub badges: Vec<BadgeRate>,
    /// The Monday of the current local week.
    pub week: Date,
    pub challenges: Vec<ChallengeStats>,
    /// How many challenge templates the design has (none: no weekly challenges at all).
    pub templates: usize,
    pub top: Leaderboard,
}

/// Everything the overview shows, for the tenant's current design and calendar.
pub async fn overview(g: &Gamification, tenant: &TenantId) -> Result<Overview, GamificationError> {
    let loaded = design::load(g, tenant).await?;
    let db = &g.core.db;
    let now = unix_now();
    let today = loaded.calendar.day(now);
    let first = add_days(today, -(DAYS - 1));
    let since = loaded.calendar.start_of(first);
    let days = per_day(&loaded, first, &awards_by_quarter(db, tenant, since).await?);
    let levels = level_counts(&loaded, &players_by_level(db, tenant).await?);
    let players = levels.iter().map(|l| l.players).sum();
    let badges = badge_rates(&loaded, badges_unlocked(db, tenant).await?);
    let week = monday_of(today);
    Ok(Overview {
        players,
        since,
        events: events_since(db, tenant, since).await?,
        awards: days.iter().map(|d| d.awards).sum(),
        points: days.iter().map(|d| d.points).sum(),
        days,
        levels,
        badges,
        week,
        challenges: week_challenges(db, tenant, &week.to_string()).await?,
        templates: loaded.design.templates.len(),
        top: profile::leaderboard(g, tenant, None, Some(10), true).await?,
    })
}

/// `DAYS` local days from `first`, each with the quarters that fall in it.
fn per_day(loaded: &Loaded, first: Date, quarters: &[(i64, i64, i64)]) -> Vec<DayAwards> {
    let mut days: Vec<DayAwards> = (0..DAYS)
        .map(|i| DayAwards {
            day: add_days(first, i),
            awards: 0,
            points: 0,
        })
        .collect();
    for &(quarter, awards, points) in quarters {
        let day = loaded.calendar.day(quarter * QUARTER);
        if let Some(d) = days.iter_mut().find(|d| d.day == day) {
            d.awards += awards;
            d.points += points;
        }
    }
    days
}

/// Every level of the table with its players; a level number past the table (the table was
/// shortened since) counts as its top level.
fn level_counts(loaded: &Loaded, counts: &[(i64, i64)]) -> Vec<LevelCount> {
    let table = loaded.levels.all();
    let mut out: Vec<LevelCount> = table
        .iter()
        .enumerate()
        .map(|(i, l)| LevelCount {
            number: i as u32 + 1,
            title: l.title.clone(),
            min_points: l.min_points,
            players: 0,
        })
        .collect();
    for &(level, players) in counts {
        let index = (level.max(1) as usize - 1).min(out.len().saturating_sub(1));
        if let Some(l) = out.get_mut(index) {
            l.players += players;
        }
    }
    out
}

/// The design's badges in its order with their unlocks, then any badge unlocked but since
/// dropped from the design.
fn badge_rates(loaded: &Loaded, mut unlocked: Vec<(String, i64)>) -> Vec<BadgeRate> {
    let mut out: Vec<BadgeRate> = loaded
        .design
        .badges
        .iter()
        .map(|b| {
            let n = unlocked
                .iter()
                .position(|(k, _)| k == &b.key)
                .map_or(0, |i| unlocked.swap_remove(i).1);
            BadgeRate {
                key: b.key.clone(),
                name: b.name.clone(),
                icon: b.icon.clone(),
                rarity: serde_json::to_value(b.rarity)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                points: b.points,
                unlocked: n,
                in_design: true,
            }
        })
        .collect();
    unlocked.sort();
    out.extend(unlocked.into_iter().map(|(key, n)| BadgeRate {
        name: key.clone(),
        key,
        icon: String::new(),
        rarity: String::new(),
        points: 0,
        unlocked: n,
        in_design: false,
    }));
    out
}

/// Awards (count, points) per quarter hour since `since`, as (quarter number, awards, points).
async fn awards_by_quarter(
    db: &Db,
    tenant: &TenantId,
    since: i64,
) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT created_at / 900, COUNT(*), CAST(COALESCE(SUM(points), 0) AS BIGINT) \
         FROM gamification_ledger WHERE tenant_id = $1 AND created_at >= $2 AND kind = 'award' \
         GROUP BY created_at / 900",
    )
    .bind(tenant.as_str())
    .bind(since)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

/// The smallest UUIDv7 (as text) of an id made at or after the unix second `at`: ids of the
/// module's rows are UUIDv7 (`new_id`), whose text sorts by the millisecond they were made.
fn first_id_at(at: i64) -> String {
    let ms = at.max(0).saturating_mul(1000) as u64;
    format!(
        "{:08x}-{:04x}-0000-0000-000000000000",
        (ms >> 16) & 0xffff_ffff,
        ms & 0xffff
    )
}

/// Events received since `since`: a range of the primary key (see [`first_id_at`]), so the
/// count reads the window's rows only, with no index of its own on the events table.
async fn events_since(db: &Db, tenant: &TenantId, since: i64) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM gamification_events WHERE id >= $1 AND tenant_id = $2 \
         AND created_at >= $3",
    )
    .bind(first_id_at(since))
    .bind(tenant.as_str())
    .bind(since)
    .fetch_one(db.reader())
    .await?)
}

/// (level number, players) for every level someone is at.
async fn players_by_level(db: &Db, tenant: &TenantId) -> Result<Vec<(i64, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT level, COUNT(*) FROM gamification_players WHERE tenant_id = $1 \
         GROUP BY level ORDER BY level",
    )
    .bind(tenant.as_str())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// (badge key, players who unlocked it).
async fn badges_unlocked(db: &Db, tenant: &TenantId) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT badge, COUNT(*) FROM gamification_badges WHERE tenant_id = $1 GROUP BY badge",
    )
    .bind(tenant.as_str())
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// The challenges of the week starting `monday` (`YYYY-MM-DD`) with their participants and
/// completions. Read only: a week whose challenges nobody needed yet has none here (the
/// weekly job creates them within 15 minutes of Monday 00:00).
async fn week_challenges(
    db: &Db,
    tenant: &TenantId,
    monday: &str,
) -> Result<Vec<ChallengeStats>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.template, COUNT(p.user_id), COUNT(p.completed_at) \
         FROM gamification_challenges c LEFT JOIN gamification_progress p ON p.challenge_id = c.id \
         WHERE c.tenant_id = $1 AND c.week_start = $2 \
         GROUP BY c.id, c.template_key, c.template ORDER BY c.template_key",
    )
    .bind(tenant.as_str())
    .bind(monday)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get(0)?;
            Ok(ChallengeStats {
                template: serde_json::from_str(&text)
                    .map_err(|e| StoreError::corrupt(format!("challenge template: {e}")))?,
                participants: r.try_get(1)?,
                completed: r.try_get(2)?,
            })
        })
        .collect()
}

/// One entry of a player's points history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: String,
    /// award, redemption, reversal or expiry.
    pub kind: String,
    pub rule: String,
    pub source: String,
    pub points: i64,
    pub reason: Option<String>,
    /// Who wrote it by hand (`staff:<name>`, `user:<id>`); none for rules.
    pub actor: Option<String>,
    pub created_at: i64,
}

/// The player's latest `limit` ledger entries, newest first.
pub async fn ledger(
    db: &Db,
    tenant: &TenantId,
    user: &str,
    limit: i64,
) -> Result<Vec<LedgerEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, rule, source, points, reason, actor, created_at FROM gamification_ledger \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(user)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LedgerEntry {
                id: r.try_get(0)?,
                kind: r.try_get(1)?,
                rule: r.try_get(2)?,
                source: r.try_get(3)?,
                points: r.try_get(4)?,
                reason: r.try_get(5)?,
                actor: r.try_get(6)?,
                created_at: r.try_get(7)?,
            })
        })
        .collect()
}

/// The (rule, source) of the player's award entry `id`, if it is one.
pub async fn award(
    db: &Db,
    tenant: &TenantId,
    user: &str,
    id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT rule, source FROM gamification_ledger WHERE id = $1 AND tenant_id = $2 \
         AND user_id = $3 AND kind = 'award'",
    )
    .bind(id)
    .bind(tenant.as_str())
    .bind(user)
    .fetch_optional(db.reader())
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

/// Whether `user` ever played (has a player row).
pub async fn known(g: &Gamification, tenant: &TenantId, user: &str) -> Result<bool, StoreError> {
    Ok(store::player(&g.core.db, tenant, user).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_id_of_a_second_sorts_before_every_id_made_from_it() {
        let at = 1_796_000_000;
        let bound = first_id_at(at);
        let ms = at as u64 * 1000;
        let made = uuid_v7_text(ms, 0xfff, 0x3fff_ffff_ffff_ffff);
        let before = uuid_v7_text(ms - 1, 0xfff, 0x3fff_ffff_ffff_ffff);
        let first = uuid_v7_text(ms, 0, 0);
        assert!(bound.as_str() <= first.as_str(), "{bound} {first}");
        assert!(bound.as_str() <= made.as_str());
        assert!(before.as_str() < bound.as_str(), "{before} {bound}");
        assert_eq!(bound.len(), 36);
    }

    /// A UUIDv7's text as RFC 9562 lays it out.
    fn uuid_v7_text(ms: u64, rand_a: u16, rand_b: u64) -> String {
        format!(
            "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
            (ms >> 16) & 0xffff_ffff,
            ms & 0xffff,
            rand_a & 0xfff,
            0x8000 | ((rand_b >> 48) & 0x3fff),
            rand_b & 0xffff_ffff_ffff
        )
    }

    #[test]
    fn quarters_fall_in_the_tenants_local_days() {
        let design = crate::design::Design::default();
        let mut loaded = Loaded {
            levels: faro_gamification_domain::levels::Levels::new(design.levels.clone())
                .expect("levels"),
            design,
            version: 0,
            calendar: faro_gamification_domain::calendar::Calendar::new("Asia/Kolkata")
                .expect("tz"),
        };
        let first: Date = "2026-12-01".parse().expect("date");
        // 2026-12-01T18:30:00Z is midnight of the 2nd in India (UTC+5:30).
        let midnight = loaded
            .calendar
            .start_of("2026-12-02".parse().expect("date"));
        let q = midnight / QUARTER;
        let days = per_day(&loaded, first, &[(q - 1, 1, 10), (q, 2, 5)]);
        assert_eq!((days[0].awards, days[0].points), (1, 10));
        assert_eq!((days[1].awards, days[1].points), (2, 5));
        assert_eq!(days.len(), DAYS as usize);
        loaded.design.levels.truncate(2);
        loaded.levels = faro_gamification_domain::levels::Levels::new(loaded.design.levels.clone())
            .expect("levels");
        let levels = level_counts(&loaded, &[(1, 3), (2, 1), (7, 2)]);
        assert_eq!(
            levels.iter().map(|l| l.players).collect::<Vec<_>>(),
            [3, 3],
            "a level past a shortened table counts as its top"
        );
    }
}
