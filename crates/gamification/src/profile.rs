//! Reading a player: the profile (points, level and progress, streak, badges unlocked and
//! available, statistics) and the leaderboards.

use faro_gamification_domain::calendar::Period;
use faro_gamification_domain::leaderboard::{Board, DEFAULT_LIMIT, MAX_LIMIT};
use faro_gamification_domain::levels::Standing;
use faro_store::{TenantId, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Gamification;
use crate::design;
use crate::error::GamificationError;
use crate::store;

#[derive(Serialize, ToSchema)]
pub struct Profile {
    pub user: String,
    /// The spendable balance.
    pub points: i64,
    /// Points ever earned (what levels and the all-time board count).
    pub lifetime_points: i64,
    pub level: LevelView,
    pub streak: StreakView,
    pub badges: Vec<BadgeView>,
    /// This week's challenges with the user's progress.
    pub challenges: Vec<crate::challenges::ChallengeView>,
    pub statistics: Statistics,
}

#[derive(Serialize, ToSchema)]
pub struct LevelView {
    pub number: u32,
    pub title: String,
    pub min_points: i64,
    /// 0.0 to 100.0, one decimal.
    pub progress_percent: f64,
    pub next: Option<NextView>,
}

#[derive(Serialize, ToSchema)]
pub struct NextView {
    pub number: u32,
    pub title: String,
    pub min_points: i64,
}

#[derive(Serialize, ToSchema)]
pub struct StreakView {
    /// Consecutive days up to today or yesterday (tenant's time zone); 0 once a day is missed.
    pub current: u32,
    pub longest: u32,
    /// `YYYY-MM-DD`, local.
    pub last_day: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BadgeView {
    pub key: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    /// common, uncommon, rare, epic or legendary.
    pub rarity: String,
    pub points: i64,
    pub unlocked: bool,
    /// RFC 3339, when unlocked.
    pub unlocked_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Statistics {
    pub events: i64,
    pub badges_unlocked: usize,
    pub badges_available: usize,
    /// RFC 3339: the player's first event.
    pub member_since: Option<String>,
    /// Place on the all-time board.
    pub rank: Option<i64>,
}

fn level_view(s: Standing) -> LevelView {
    LevelView {
        number: s.number,
        title: s.title,
        min_points: s.min_points,
        progress_percent: s.progress_percent,
        next: s.next.map(|n| NextView {
            number: n.number,
            title: n.title,
            min_points: n.min_points,
        }),
    }
}

/// The profile of `user`; a user who never sent anything has an empty one at level 1.
pub async fn profile(
    g: &Gamification,
    tenant: &TenantId,
    user: &str,
) -> Result<Profile, GamificationError> {
    let loaded = design::load(g, tenant).await?;
    let db = &g.core.db;
    let player = store::player(db, tenant, user).await?;
    let unlocked = match &player {
        Some(_) => store::unlocked(db, tenant, user).await?,
        None => Vec::new(),
    };
    let today = loaded.calendar.day(unix_now());
    let (points, lifetime, level, streak) = match &player {
        Some(p) => {
            let s = faro_gamification_domain::streaks::Streak {
                current: p.streak_current,
                longest: p.streak_longest,
                last_day: p.streak_last_day,
            };
            (p.balance, p.lifetime, p.level, s)
        }
        None => (0, 0, 1, Default::default()),
    };
    let badges = loaded
        .design
        .badges
        .iter()
        .map(|b| {
            let at = unlocked.iter().find(|(k, _)| k == &b.key).map(|(_, t)| *t);
            BadgeView {
                key: b.key.clone(),
                name: b.name.clone(),
                description: b.description.clone(),
                icon: b.icon.clone(),
                rarity: serde_json::to_value(b.rarity)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                points: b.points,
                unlocked: at.is_some(),
                unlocked_at: at.map(faro_http::respond::rfc3339),
            }
        })
        .collect::<Vec<_>>();
    let badges_unlocked = badges.iter().filter(|b| b.unlocked).count();
    let (events, rank) = match &player {
        Some(p) => (
            store::event_count(db, tenant, user).await?,
            Some(crate::ranks::rank(g, tenant, p).await?),
        ),
        None => (0, None),
    };
    Ok(Profile {
        user: user.to_owned(),
        points,
        lifetime_points: lifetime,
        level: level_view(loaded.levels.standing(level, lifetime)),
        streak: StreakView {
            current: streak.current_on(today),
            longest: streak.longest,
            last_day: streak.last_day.map(|d| d.to_string()),
        },
        badges,
        challenges: crate::challenges::views(g, &loaded, tenant, user).await?,
        statistics: Statistics {
            events,
            badges_unlocked,
            badges_available: loaded.design.badges.len(),
            member_since: player
                .as_ref()
                .map(|p| faro_http::respond::rfc3339(p.first_seen_at)),
            rank,
        },
    })
}

#[derive(Serialize, ToSchema)]
pub struct Leaderboard {
    /// all_time, weekly or monthly.
    pub period: String,
    pub items: Vec<Row>,
    /// RFC 3339: the start of the week or month (tenant's time zone); null for all_time.
    pub since: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Row {
    pub rank: usize,
    /// Masked ("María G."), or `#<n>` (the player's number) for a player with no name.
    pub display_name: String,
    pub points: i64,
    /// The level number.
    pub level: u32,
    /// The tenant's user id: only for staff and API keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// The tenant's leaderboard for `period` (`all_time` by default), top `limit` (50 by default,
/// 100 at most); `with_ids` adds the user ids (staff).
pub async fn leaderboard(
    g: &Gamification,
    tenant: &TenantId,
    period: Option<&str>,
    limit: Option<usize>,
    with_ids: bool,
) -> Result<Leaderboard, GamificationError> {
    let name = period.unwrap_or("all_time");
    let board = Board::parse(name)
        .ok_or_else(|| GamificationError::invalid("period", "all_time, weekly or monthly"))?;
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(GamificationError::invalid("limit", "from 1 to 100"));
    }
    let db = &g.core.db;
    let (rows, since) = match board {
        Board::AllTime => (store::top_all_time(db, tenant, limit as i64).await?, None),
        Board::Weekly | Board::Monthly => {
            let loaded = design::load(g, tenant).await?;
            let period = if board == Board::Weekly {
                Period::Week
            } else {
                Period::Month
            };
            let start = loaded.calendar.window(period, unix_now()).start;
            (
                store::top_since(db, tenant, start, limit as i64).await?,
                Some(start),
            )
        }
    };
    Ok(Leaderboard {
        period: name.to_owned(),
        since: since.map(faro_http::respond::rfc3339),
        items: rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| Row {
                rank: i + 1,
                display_name: r.display_name.unwrap_or_else(|| format!("#{}", r.ordinal)),
                points: r.points,
                level: r.level,
                user: with_ids.then_some(r.user),
            })
            .collect(),
    })
}
