//! `GET /admin/gamification`: what the design produces (any staff member).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use faro_web::panel::{PageResult, PageUser, Shell, encode_component, render};

use super::{SECTION, Tab, failed, number, percent, tabs, width};
use crate::Gamification;
use crate::stats::{self, DayAwards, Overview};

pub struct Card {
    pub metric: &'static str,
    pub label: &'static str,
    pub value: String,
    /// The raw figure, for tests and scripts (`data-value`).
    pub raw: i64,
    pub hint: &'static str,
}

pub struct DayRow {
    pub day: String,
    pub awards: String,
    pub points: String,
}

/// A drawn column of the awards chart (drawing units).
pub struct Column {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    /// Its tooltip: the day and figures.
    pub label: String,
}

pub struct Tick {
    pub y: String,
    pub label: String,
}

pub struct XLabel {
    pub x: String,
    pub text: String,
}

/// The awards chart at one size (the page draws a wide and a narrow one).
pub struct Chart {
    /// `chart-wide` or `chart-narrow`: which screens show it.
    pub class: &'static str,
    pub width: u32,
    pub height: u32,
    pub font: u32,
    pub left: String,
    pub right: String,
    pub base: String,
    pub label_y: String,
    pub ticks: Vec<Tick>,
    pub columns: Vec<Column>,
    pub labels: Vec<XLabel>,
}

pub struct LevelRow {
    pub number: u32,
    pub title: String,
    pub min_points: String,
    pub players: String,
    pub raw: i64,
    pub share: String,
    pub width: String,
}

pub struct BadgeRow {
    pub key: String,
    pub name: String,
    pub icon: String,
    pub rarity: String,
    pub unlocked: String,
    pub raw: i64,
    pub share: String,
    pub width: String,
    pub in_design: bool,
}

pub struct ChallengeRow {
    pub key: String,
    pub name: String,
    pub points: String,
    pub target: u32,
    pub participants: String,
    pub completed: String,
    pub rate: String,
}

pub struct TopRow {
    pub rank: usize,
    pub name: String,
    pub user: String,
    pub href: String,
    pub points: String,
    pub level: u32,
}

#[derive(Template)]
#[template(path = "gamification/overview.html")]
struct OverviewPage {
    shell: Shell,
    tabs: Vec<Tab>,
    cards: Vec<Card>,
    first_day: String,
    last_day: String,
    chart_title: String,
    charts: Vec<Chart>,
    days: Vec<DayRow>,
    levels: Vec<LevelRow>,
    badges: Vec<BadgeRow>,
    week: String,
    challenges: Vec<ChallengeRow>,
    has_templates: bool,
    top: Vec<TopRow>,
}

/// `GET /admin/gamification`.
pub async fn page(State(g): State<Gamification>, PageUser(user): PageUser) -> PageResult {
    let o = stats::overview(&g, &user.tenant).await.map_err(failed)?;
    Ok(render(StatusCode::OK, &view(user.shell(SECTION), o)))
}

fn view(shell: Shell, o: Overview) -> OverviewPage {
    let players = o.players;
    let day = |d: &DayAwards| d.day.to_string();
    OverviewPage {
        shell,
        tabs: tabs("/admin/gamification"),
        cards: vec![
            Card {
                metric: "players",
                label: "Players",
                value: number(players),
                raw: players,
                hint: "everyone who ever sent an event",
            },
            Card {
                metric: "events",
                label: "Events",
                value: number(o.events),
                raw: o.events,
                hint: "received in the last 30 days",
            },
            Card {
                metric: "awards",
                label: "Awards",
                value: number(o.awards),
                raw: o.awards,
                hint: "in the last 30 days",
            },
            Card {
                metric: "points",
                label: "Points awarded",
                value: number(o.points),
                raw: o.points,
                hint: "in the last 30 days",
            },
        ],
        first_day: o.days.first().map(day).unwrap_or_default(),
        last_day: o.days.last().map(day).unwrap_or_default(),
        chart_title: format!(
            "Points awarded per day: {} points in {} awards over {} days",
            number(o.points),
            number(o.awards),
            o.days.len()
        ),
        charts: vec![
            chart(&o.days, "chart-wide", 1000, 240, 13),
            chart(&o.days, "chart-narrow", 360, 220, 12),
        ],
        days: o
            .days
            .iter()
            .rev()
            .map(|d| DayRow {
                day: day(d),
                awards: number(d.awards),
                points: number(d.points),
            })
            .collect(),
        levels: o
            .levels
            .into_iter()
            .map(|l| LevelRow {
                number: l.number,
                title: l.title,
                min_points: number(l.min_points),
                players: number(l.players),
                raw: l.players,
                share: percent(l.players, players),
                width: width(l.players, players),
            })
            .collect(),
        badges: o
            .badges
            .into_iter()
            .map(|b| BadgeRow {
                share: percent(b.unlocked, players),
                width: width(b.unlocked, players),
                unlocked: number(b.unlocked),
                raw: b.unlocked,
                key: b.key,
                name: b.name,
                icon: b.icon,
                rarity: b.rarity,
                in_design: b.in_design,
            })
            .collect(),
        week: o.week.to_string(),
        challenges: o
            .challenges
            .into_iter()
            .map(|c| ChallengeRow {
                rate: percent(c.completed, c.participants),
                participants: number(c.participants),
                completed: number(c.completed),
                target: c.template.target(),
                points: number(c.template.points),
                key: c.template.key,
                name: c.template.name,
            })
            .collect(),
        has_templates: o.templates > 0,
        top: o
            .top
            .items
            .into_iter()
            .map(|r| {
                let user = r.user.unwrap_or_default();
                TopRow {
                    rank: r.rank,
                    name: r.display_name,
                    href: format!(
                        "/admin/gamification/players?user={}",
                        encode_component(&user)
                    ),
                    user,
                    points: number(r.points),
                    level: r.level,
                }
            })
            .collect(),
    }
}

/// A round axis maximum ≥ `max` (1, 2, 5 × 10ⁿ), so gridlines fall on readable numbers.
fn nice_max(max: i64) -> i64 {
    let mut step = 1i64;
    loop {
        for m in [1i64, 2, 5] {
            let candidate = m.saturating_mul(step);
            if candidate >= max {
                return candidate;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Points per day as columns, with gridlines at 0, half and the top, and a date under every
/// 7th day (counted back from today, so today is always labelled). Sizes are the drawing's
/// own units; the page scales it to the column's width.
fn chart(days: &[DayAwards], class: &'static str, width: u32, height: u32, font: u32) -> Chart {
    let (w, h, f) = (f64::from(width), f64::from(height), f64::from(font));
    let max = nice_max(days.iter().map(|d| d.points).max().unwrap_or(0).max(1));
    let left = f * 4.0;
    let right = w - 6.0;
    let top = 8.0;
    let base = h - f * 2.0;
    let plot_h = base - top;
    let slot = (right - left) / days.len().max(1) as f64;
    let y = |v: i64| base - plot_h * (v as f64 / max as f64);
    let mut ticks = vec![
        Tick {
            y: format!("{:.1}", y(max)),
            label: number(max),
        },
        Tick {
            y: format!("{:.1}", y(0)),
            label: "0".into(),
        },
    ];
    if max >= 2 && max % 2 == 0 {
        ticks.insert(
            1,
            Tick {
                y: format!("{:.1}", y(max / 2)),
                label: number(max / 2),
            },
        );
    }
    let n = days.len();
    let columns = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let top_y = y(d.points);
            Column {
                x: format!("{:.1}", left + slot * i as f64 + slot * 0.15),
                y: format!("{top_y:.1}"),
                w: format!("{:.1}", (slot * 0.7).max(1.0)),
                h: format!("{:.1}", (base - top_y).max(0.0)),
                label: format!(
                    "{}: {} points in {} awards",
                    d.day,
                    number(d.points),
                    number(d.awards)
                ),
            }
        })
        .collect();
    let labels = days
        .iter()
        .enumerate()
        .filter(|(i, _)| (n - 1 - i).is_multiple_of(7))
        .map(|(i, d)| {
            let s = d.day.to_string();
            XLabel {
                x: format!("{:.1}", left + slot * i as f64 + slot / 2.0),
                text: s.get(5..).unwrap_or(&s).to_string(),
            }
        })
        .collect();
    Chart {
        class,
        width,
        height,
        font,
        left: format!("{left:.1}"),
        right: format!("{right:.1}"),
        base: format!("{base:.1}"),
        label_y: format!("{:.1}", h - f * 0.5),
        ticks,
        columns,
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_labels_today_and_scales_to_a_round_top() {
        let first: jiff::civil::Date = "2026-11-08".parse().expect("date");
        let days: Vec<DayAwards> = (0..30)
            .map(|i| DayAwards {
                day: faro_gamification_domain::calendar::add_days(first, i),
                awards: i,
                points: i * 10,
            })
            .collect();
        let c = chart(&days, "chart-wide", 720, 220, 12);
        assert_eq!(c.columns.len(), 30);
        assert_eq!(
            c.ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
            ["500", "250", "0"]
        );
        assert_eq!(c.labels.last().map(|l| l.text.as_str()), Some("12-07"));
        assert_eq!(c.labels.len(), 5);
        assert_eq!(c.columns[0].h, "0.0", "an empty day draws nothing");
        assert_eq!(nice_max(1), 1);
        assert_eq!(nice_max(3), 5);
        assert_eq!(nice_max(1001), 2000);
    }
}
