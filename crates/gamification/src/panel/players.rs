//! `GET /admin/gamification/players` (any staff member): the top players, or with `?user=`
//! one player's profile and points history; `POST /admin/gamification/players/reversals`
//! (admins): takes an award back through `spend::reverse` (audited, with a reason).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use faro_gamification_domain::Problem;
use faro_web::panel::{
    AdminForm, PageResult, PageUser, PanelUser, Shell, datetime, encode_component, render,
};
use serde::Deserialize;

use super::{ProblemView, SECTION, Tab, failed, number, problem_views, tabs};
use crate::error::GamificationError;
use crate::profile::{self, Profile};
use crate::{Gamification, spend, stats};

/// Ledger entries shown for a player.
const HISTORY: i64 = 50;
/// Players listed without a search.
const TOP: usize = 50;

pub struct TopRow {
    pub rank: usize,
    pub name: String,
    pub user: String,
    pub href: String,
    pub points: String,
    pub level: u32,
}

pub struct BadgeChip {
    pub key: String,
    pub name: String,
    pub icon: String,
    pub rarity: String,
    pub when: String,
}

pub struct ChallengeRow {
    pub name: String,
    pub progress: u32,
    pub target: u32,
    pub completed: bool,
}

pub struct EntryRow {
    pub id: String,
    pub kind: String,
    /// The badge's class: awards green, reversals red, the rest plain.
    pub badge: &'static str,
    pub rule: String,
    pub source: String,
    pub points: String,
    pub actor: String,
    pub reason: String,
    pub when: String,
}

/// An award the reversal form offers.
pub struct AwardOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

pub struct PlayerView {
    pub user: String,
    pub balance: String,
    pub lifetime: String,
    pub level: String,
    pub progress: String,
    pub streak: String,
    pub rank: String,
    pub events: String,
    /// The day the first event arrived (`YYYY-MM-DD`, UTC).
    pub first_seen: String,
    pub badges: Vec<BadgeChip>,
    pub badges_available: usize,
    pub challenges: Vec<ChallengeRow>,
    pub entries: Vec<EntryRow>,
    pub awards: Vec<AwardOption>,
}

#[derive(Template)]
#[template(path = "gamification/players.html")]
struct PlayersPage {
    shell: Shell,
    tabs: Vec<Tab>,
    notice: Option<&'static str>,
    query: String,
    /// The search found nobody by that id.
    missing: bool,
    player: Option<PlayerView>,
    top: Vec<TopRow>,
    problems_title: &'static str,
    problems: Vec<ProblemView>,
    form_points: String,
    form_reason: String,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    user: Option<String>,
    msg: Option<String>,
}

/// The reversal form as typed, shown again when it is refused.
#[derive(Default)]
struct Typed {
    entry: String,
    points: String,
    reason: String,
}

fn here(user: &str) -> String {
    format!(
        "/admin/gamification/players?user={}",
        encode_component(user)
    )
}

fn player_view(p: Profile, entries: Vec<stats::LedgerEntry>, entry: &str) -> PlayerView {
    let level = match &p.level.next {
        Some(n) => format!(
            "{}. {} ({} points to {}. {})",
            p.level.number,
            p.level.title,
            number(n.min_points - p.lifetime_points),
            n.number,
            n.title
        ),
        None => format!("{}. {} (the top level)", p.level.number, p.level.title),
    };
    let awards = entries
        .iter()
        .filter(|e| e.kind == "award")
        .map(|e| AwardOption {
            id: e.id.clone(),
            label: format!(
                "{} · {} · {} points · {}",
                e.rule,
                e.source,
                number(e.points),
                datetime(e.created_at)
            ),
            selected: e.id == entry,
        })
        .collect();
    PlayerView {
        balance: number(p.points),
        lifetime: number(p.lifetime_points),
        progress: format!("{:.1}%", p.level.progress_percent),
        level,
        streak: format!(
            "{} days (longest {}{})",
            p.streak.current,
            p.streak.longest,
            p.streak
                .last_day
                .as_deref()
                .map_or(String::new(), |d| format!(", last active {d}"))
        ),
        rank: p.statistics.rank.map_or("—".into(), number),
        events: number(p.statistics.events),
        first_seen: p
            .statistics
            .member_since
            .as_deref()
            .map(|t| t.chars().take(10).collect())
            .unwrap_or_default(),
        badges_available: p.statistics.badges_available,
        badges: p
            .badges
            .into_iter()
            .filter(|b| b.unlocked)
            .map(|b| BadgeChip {
                when: b
                    .unlocked_at
                    .as_deref()
                    .map(faro_web::panel::readable_time)
                    .unwrap_or_default(),
                key: b.key,
                name: b.name,
                icon: b.icon,
                rarity: b.rarity,
            })
            .collect(),
        challenges: p
            .challenges
            .into_iter()
            .map(|c| ChallengeRow {
                name: c.name,
                progress: c.progress,
                target: c.target,
                completed: c.completed,
            })
            .collect(),
        entries: entries
            .into_iter()
            .map(|e| EntryRow {
                badge: match e.kind.as_str() {
                    "award" => "on",
                    "reversal" => "off",
                    _ => "",
                },
                points: if e.points > 0 {
                    format!("+{}", number(e.points))
                } else {
                    number(e.points)
                },
                actor: e.actor.unwrap_or_else(|| "rules".into()),
                reason: e.reason.unwrap_or_default(),
                when: datetime(e.created_at),
                id: e.id,
                kind: e.kind,
                rule: e.rule,
                source: e.source,
            })
            .collect(),
        awards,
        user: p.user,
    }
}

struct Shown {
    query: String,
    notice: Option<&'static str>,
    problems: Vec<Problem>,
    typed: Typed,
}

async fn show(g: &Gamification, user: &PanelUser, status: StatusCode, s: Shown) -> PageResult {
    let tenant = &user.tenant;
    let query = s.query.trim().to_owned();
    let (player, missing, top) = if query.is_empty() {
        let board = profile::leaderboard(g, tenant, None, Some(TOP), true)
            .await
            .map_err(failed)?;
        let top = board
            .items
            .into_iter()
            .map(|r| {
                let id = r.user.unwrap_or_default();
                TopRow {
                    rank: r.rank,
                    name: r.display_name,
                    href: here(&id),
                    user: id,
                    points: number(r.points),
                    level: r.level,
                }
            })
            .collect();
        (None, false, top)
    } else if stats::known(g, tenant, &query).await.map_err(failed)? {
        let p = profile::profile(g, tenant, &query).await.map_err(failed)?;
        let entries = stats::ledger(&g.core.db, tenant, &query, HISTORY)
            .await
            .map_err(failed)?;
        (
            Some(player_view(p, entries, &s.typed.entry)),
            false,
            Vec::new(),
        )
    } else {
        (None, true, Vec::new())
    };
    let page = PlayersPage {
        shell: user.shell(SECTION),
        tabs: tabs("/admin/gamification/players"),
        notice: s.notice,
        query,
        missing,
        player,
        top,
        problems_title: "Nothing was taken back:",
        problems: problem_views(s.problems),
        form_points: s.typed.points,
        form_reason: s.typed.reason,
    };
    Ok(render(status, &page))
}

/// `GET /admin/gamification/players[?user=]`.
pub async fn page(
    State(g): State<Gamification>,
    PageUser(user): PageUser,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.msg.as_deref() {
        Some("reversed") => Some(
            "The award was taken back: the reversal is at the top of the history, and in the \
             audit log.",
        ),
        _ => None,
    };
    let shown = Shown {
        query: q.user.unwrap_or_default(),
        notice,
        problems: Vec::new(),
        typed: Typed::default(),
    };
    show(&g, &user, StatusCode::OK, shown).await
}

/// `POST /admin/gamification/players/reversals` with `user`, `entry` (an award's ledger id),
/// `points` (blank: all that is left) and `reason`.
pub async fn reverse(
    State(g): State<Gamification>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    let player = form.text("user").to_owned();
    let typed = Typed {
        entry: form.text("entry").to_owned(),
        points: form.text("points").to_owned(),
        reason: form.get("reason").unwrap_or_default().to_owned(),
    };
    let mut problems = Vec::new();
    let points = match typed.points.as_str() {
        "" => None,
        p => match p.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(Problem::new(
                    "points",
                    "a whole number of points, or blank for all that is left",
                ));
                None
            }
        },
    };
    let award = stats::award(&g.core.db, &user.tenant, &player, &typed.entry)
        .await
        .map_err(failed)?;
    if award.is_none() {
        problems.push(Problem::new("entry", "choose one of the player's awards"));
    }
    let refuse = |status, problems, typed| {
        let shown = Shown {
            query: player.clone(),
            notice: None,
            problems,
            typed,
        };
        show(&g, &user, status, shown)
    };
    let Some((rule, source)) = award.filter(|_| problems.is_empty()) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, problems, typed).await;
    };
    let done = spend::reverse(
        &g,
        &user.tenant,
        &player,
        &rule,
        &source,
        points,
        &typed.reason,
        &user.actor(),
    )
    .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("{}&msg=reversed", here(&player))).into_response()),
        Err(GamificationError::Invalid(problems)) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, problems, typed).await
        }
        Err(e @ GamificationError::Conflict(_)) => {
            let problems = vec![Problem::new("", e.to_string())];
            refuse(StatusCode::CONFLICT, problems, typed).await
        }
        Err(e) => Err(failed(e)),
    }
}
