//! The panel's gamification pages, server-rendered with no script: what the tenant's design
//! produces, the design itself (readable, and editable by admins), and the players with their
//! points history (and, for admins, taking an award back). Reads go through `PageUser`,
//! writes through `AdminForm` (admin, CSRF field checked); both call the same use cases as
//! the JSON API (`design::save`, `spend::reverse`, `profile`, `stats`).
//!
//! | page | does |
//! |---|---|
//! | `GET /admin/gamification` | players, events and points of 30 days, awards per day, levels, badges, the week's challenges, the top 10 |
//! | `GET /admin/gamification/design` | rules, multipliers, levels, badges, templates and settings; the edit form for admins |
//! | `POST /admin/gamification/design` | save it (the version read; 409 when stale, 422 with every problem) |
//! | `GET /admin/gamification/players` | the top players, or `?user=` one player's profile and history |
//! | `POST /admin/gamification/players/reversals` | take an award back, with a reason (audited) |

mod describe;
mod design;
mod design_form;
mod overview;
mod players;

use axum::Router;
use axum::routing::{get, post};
use faro_gamification_domain::Problem;
use faro_web::panel::PageError;

use crate::Gamification;
use crate::error::GamificationError;

/// The module's link in the panel's navigation.
pub const NAV: &[faro_http::NavLink] = &[faro_http::NavLink {
    section: "gamification",
    label: "Gamification",
    href: "/admin/gamification",
    admins_only: false,
}];

/// The section the shell marks as current.
const SECTION: &str = "gamification";

pub fn router(g: Gamification) -> Router {
    Router::new()
        .route("/admin/gamification", get(overview::page))
        .route(
            "/admin/gamification/design",
            get(design::page).post(design::save),
        )
        .route("/admin/gamification/players", get(players::page))
        .route(
            "/admin/gamification/players/reversals",
            post(players::reverse),
        )
        .with_state(g)
}

/// A link of the module's own navigation (overview, design, players).
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

fn tabs(current: &str) -> Vec<Tab> {
    [
        ("/admin/gamification", "Overview"),
        ("/admin/gamification/design", "Design"),
        ("/admin/gamification/players", "Players"),
    ]
    .into_iter()
    .map(|(href, label)| Tab {
        href,
        label,
        current: href == current,
    })
    .collect()
}

/// A use case's error as an error page (the API's status and message).
fn failed(e: impl Into<GamificationError>) -> PageError {
    faro_http::ApiError::from(e.into()).into()
}

/// Every problem's path and message, as the pages list them.
pub struct ProblemView {
    pub path: String,
    pub message: String,
}

fn problem_views(problems: Vec<Problem>) -> Vec<ProblemView> {
    problems
        .into_iter()
        .map(|p| ProblemView {
            path: p.path,
            message: p.message,
        })
        .collect()
}

/// `12,345` (and `-1,200`).
fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `part` of `whole` in percent with one decimal (`45.5%`), rounded down; "—" of nothing.
fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".into();
    }
    let tenths = part.max(0).saturating_mul(1000) / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// A bar's width in a 0-100 drawing, at least a sliver for anything above zero.
fn width(part: i64, whole: i64) -> String {
    if whole <= 0 || part <= 0 {
        return "0".into();
    }
    let w = (part as f64 / whole as f64 * 100.0).clamp(0.8, 100.0);
    format!("{w:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_like_figures() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(-1_234_567), "-1,234,567");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(2, 2), "100.0%");
        assert_eq!(percent(1, 0), "—");
        assert_eq!(width(0, 10), "0");
        assert_eq!(width(1, 1000), "0.8");
        assert_eq!(width(5, 10), "50.0");
    }
}
