//! `GET /admin/gamification/design` (any staff member) and `POST` (admins): the design as
//! tables, and the form that replaces it through `design::save` with the version read.
//!
//! Levels and the settings are form fields; rules, multipliers, badges and challenge
//! templates are JSON lists, one text area each, pre-filled pretty-printed. Without script,
//! level rows are added by filling one of the blank rows and removed by ticking "remove".
//! A refused save answers the form again with what was typed: 422 with every problem and
//! its path (`rules[2].award.points`, `levels[1].min_points`), or 409 when someone saved
//! meanwhile.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use faro_gamification_domain::Problem;
use faro_web::panel::{AdminForm, PageError, PageResult, PageUser, PanelUser, Shell, render};
use serde::Deserialize;

use super::describe;
use super::design_form::{Typed, part_of};
use super::{ProblemView, SECTION, Tab, failed, number, problem_views, tabs};
use crate::Gamification;
use crate::design as doc;
use crate::error::GamificationError;

/// Blank level rows offered for new levels.
const BLANK_LEVELS: usize = 2;

/// The JSON sections: field name, and the path their problems start with.
const LISTS: [&str; 4] = ["rules", "multipliers", "badges", "templates"];

pub struct RuleRow {
    pub key: String,
    pub name: String,
    pub event: String,
    pub award: String,
    pub conditions: String,
    pub enabled: bool,
}

pub struct MultiplierRow {
    pub key: String,
    pub event: String,
    pub percent: u32,
    pub from: String,
    pub until: String,
}

pub struct LevelRow {
    pub number: usize,
    pub title: String,
    pub min_points: String,
}

pub struct BadgeRow {
    pub key: String,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub rarity: String,
    pub points: String,
    pub criterion: String,
}

pub struct TemplateRow {
    pub key: String,
    pub name: String,
    pub points: String,
    pub goal: String,
}

/// One level row of the form, as typed.
pub struct LevelInput {
    pub index: usize,
    pub title: String,
    pub min: String,
    pub bad_title: bool,
    pub bad_min: bool,
}

/// A JSON list's text area.
pub struct ListInput {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub text: String,
    pub rows: usize,
    pub bad: bool,
}

#[derive(Template)]
#[template(path = "gamification/design.html")]
struct DesignPage {
    shell: Shell,
    tabs: Vec<Tab>,
    notice: Option<String>,
    conflict: Option<String>,
    problems_title: &'static str,
    problems: Vec<ProblemView>,
    version: i64,
    rules: Vec<RuleRow>,
    multipliers: Vec<MultiplierRow>,
    levels: Vec<LevelRow>,
    badges: Vec<BadgeRow>,
    templates: Vec<TemplateRow>,
    streak_bonus: String,
    points_per_credit: String,
    min_points: String,
    user_events: Vec<String>,
    // The form.
    form_version: i64,
    form_levels: Vec<LevelInput>,
    lists: Vec<ListInput>,
    form_streak_bonus: String,
    form_points_per_credit: String,
    form_min_points: String,
    form_user_events: String,
    bad_levels: bool,
    bad_streak_bonus: bool,
    bad_points_per_credit: bool,
    bad_min_points: bool,
    bad_user_events: bool,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    msg: Option<String>,
    v: Option<i64>,
}

/// What a form answer shows besides the stored design.
struct Shown {
    typed: Typed,
    version: i64,
    problems: Vec<Problem>,
    notice: Option<String>,
    conflict: Option<String>,
}

async fn show(g: &Gamification, user: &PanelUser, status: StatusCode, s: Shown) -> PageResult {
    let loaded = doc::load(g, &user.tenant).await.map_err(failed)?;
    let d = &loaded.design;
    let paths: Vec<String> = s.problems.iter().map(|p| p.path.clone()).collect();
    let bad = |part: &str| paths.iter().any(|p| part_of(p) == part);
    let t = s.typed;
    let list = |name, label, hint, text: String| ListInput {
        rows: text.lines().count().clamp(4, 24),
        bad: bad(name),
        name,
        label,
        hint,
        text,
    };
    let lists = vec![
        list(
            LISTS[0],
            "Rules",
            "what each event is worth: {key, name, event, filters, award, once_per_user, cap, active_from, active_until, enabled}",
            t.rules,
        ),
        list(
            LISTS[1],
            "Multipliers",
            "boosts in a time window: {key, event, percent, from, until} (unix seconds)",
            t.multipliers,
        ),
        list(
            LISTS[2],
            "Badges",
            "{key, name, description, icon, rarity, points, criterion}",
            t.badges,
        ),
        list(
            LISTS[3],
            "Challenge templates",
            "{key, name, description, points, goal}: up to 3 are picked each week",
            t.templates,
        ),
    ];
    let mut form_levels: Vec<LevelInput> = t
        .levels
        .into_iter()
        .enumerate()
        .map(|(index, (title, min))| LevelInput {
            bad_title: paths.contains(&format!("levels[{index}].title")),
            bad_min: paths.contains(&format!("levels[{index}].min_points")),
            index,
            title,
            min,
        })
        .collect();
    let n = form_levels.len();
    form_levels.extend((n..n + BLANK_LEVELS).map(|index| LevelInput {
        index,
        title: String::new(),
        min: String::new(),
        bad_title: false,
        bad_min: false,
    }));
    let page = DesignPage {
        shell: user.shell(SECTION),
        tabs: tabs("/admin/gamification/design"),
        notice: s.notice,
        conflict: s.conflict,
        problems_title: "The design was not saved:",
        problems: problem_views(s.problems),
        version: loaded.version,
        rules: d
            .rules
            .iter()
            .map(|r| RuleRow {
                key: r.key.clone(),
                name: r.name.clone(),
                event: r.event.clone(),
                award: describe::award(&r.award),
                conditions: describe::conditions(r),
                enabled: r.enabled,
            })
            .collect(),
        multipliers: d
            .multipliers
            .iter()
            .map(|m| MultiplierRow {
                key: m.key.clone(),
                event: m.event.clone(),
                percent: m.percent,
                from: faro_web::panel::datetime(m.from),
                until: faro_web::panel::datetime(m.until),
            })
            .collect(),
        levels: d
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| LevelRow {
                number: i + 1,
                title: l.title.clone(),
                min_points: number(l.min_points),
            })
            .collect(),
        badges: d
            .badges
            .iter()
            .map(|b| BadgeRow {
                key: b.key.clone(),
                name: b.name.clone(),
                description: b.description.clone(),
                icon: b.icon.clone(),
                rarity: describe::name_of(&b.rarity),
                points: number(b.points),
                criterion: describe::criterion(&b.criterion),
            })
            .collect(),
        templates: d
            .templates
            .iter()
            .map(|t| TemplateRow {
                key: t.key.clone(),
                name: t.name.clone(),
                points: number(t.points),
                goal: describe::goal(&t.goal),
            })
            .collect(),
        streak_bonus: number(d.streak_bonus),
        points_per_credit: number(d.redemption.points_per_credit),
        min_points: number(d.redemption.min_points),
        user_events: d.user_events.clone(),
        form_version: s.version,
        form_levels,
        lists,
        form_streak_bonus: t.streak_bonus,
        form_points_per_credit: t.points_per_credit,
        form_min_points: t.min_points,
        form_user_events: t.user_events,
        bad_levels: bad("levels"),
        bad_streak_bonus: bad("streak_bonus"),
        bad_points_per_credit: bad("redemption.points_per_credit"),
        bad_min_points: bad("redemption.min_points"),
        bad_user_events: bad("user_events"),
    };
    Ok(render(status, &page))
}

/// `GET /admin/gamification/design`.
pub async fn page(
    State(g): State<Gamification>,
    PageUser(user): PageUser,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let loaded = doc::load(&g, &user.tenant).await.map_err(failed)?;
    let notice = match (q.msg.as_deref(), q.v) {
        (Some("saved"), Some(v)) => Some(format!("Design saved as version {v}.")),
        _ => None,
    };
    show(
        &g,
        &user,
        StatusCode::OK,
        Shown {
            typed: Typed::of(&loaded.design),
            version: loaded.version,
            problems: Vec::new(),
            notice,
            conflict: None,
        },
    )
    .await
}

/// `POST /admin/gamification/design`: saves the design and goes back to the page, or answers
/// the form again as typed with every problem (422) or the conflict (409).
pub async fn save(
    State(g): State<Gamification>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    let Ok(version) = form.text("version").parse::<i64>() else {
        return Err(PageError::bad_request(
            "The form does not say which version of the design it changes: reload the page \
             and make the change again.",
        ));
    };
    let typed = Typed::read(&form);
    let stored = doc::load(&g, &user.tenant).await.map_err(failed)?;
    let (design, problems) = typed.parse(&stored.design);
    let refused = |problems, conflict| Shown {
        typed: typed.clone(),
        version,
        problems,
        notice: None,
        conflict,
    };
    if !problems.is_empty() {
        let shown = refused(problems, None);
        return show(&g, &user, StatusCode::UNPROCESSABLE_ENTITY, shown).await;
    }
    match doc::save(&g, &user.tenant, &design, version, &user.actor()).await {
        Ok(v) => Ok(
            Redirect::to(&format!("/admin/gamification/design?msg=saved&v={v}")).into_response(),
        ),
        Err(GamificationError::Invalid(problems)) => {
            let shown = refused(problems, None);
            show(&g, &user, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        Err(GamificationError::Stale(now)) => {
            let conflict = format!(
                "Someone saved the design while you edited it (it is now version {now}; you \
                 started from version {version}). Nothing was saved. Your changes are kept in \
                 the form below: copy what you need, open the current design, and make them \
                 there again."
            );
            let shown = refused(Vec::new(), Some(conflict));
            show(&g, &user, StatusCode::CONFLICT, shown).await
        }
        Err(e) => Err(failed(e)),
    }
}
