//! The admin panel's quiz pages, server-rendered with no script: tests with their status and
//! on/off switch, creating a test from a definition document, editing a draft (whole document
//! or question by question), version history with publish and rollback, a read-only preview,
//! and the analytics dashboard with its CSV export.
//!
//! Every page reads through `PageUser` (signed in: admin or viewer) and every form posts
//! through `AdminForm` (admin, CSRF field checked); the writes themselves are the same
//! `service` functions the JSON admin API calls, and the dashboard's numbers come from the
//! same `analytics::report` as `/api/v1/admin/analytics`.
//!
//! | page | does |
//! |---|---|
//! | `GET /admin`, `GET /admin/tests` | tests with status, served version and on/off switch |
//! | `GET /admin/tests/new`, `POST /admin/tests` | create from a pasted or uploaded document |
//! | `GET /admin/tests/{id}` | versions: publish, serve an older one again, new draft |
//! | `POST /admin/tests/{id}/active` | switch on/off |
//! | `GET /admin/tests/{id}/versions/new`, `POST /admin/tests/{id}/versions` | new draft |
//! | `GET/POST /admin/tests/{id}/versions/{n}` | one version: document editor (drafts) |
//! | `POST .../versions/{n}/publish`, `POST .../versions/{n}/delete` | publish / delete draft |
//! | `GET .../versions/{n}/preview` | the questions as a visitor sees them, jumps shown |
//! | `GET/POST .../versions/{n}/questions/{key}`, `.../add-question` | one question's form |
//! | `GET /admin/tests/{id}/dashboard[.csv]` | analytics by version and date range |

mod dashboard;
mod editor;
pub mod outline;
mod svg;
mod tests;

use axum::Router;
use axum::routing::{get, post};
use faro_store::Db;
use faro_store::TenantId;

use crate::Quiz;
use crate::service::{self, QuizError};
use crate::store;
use faro_web::panel::PageError;

/// The quiz's links in the panel's main navigation.
pub const NAV: &[faro_http::NavLink] = &[
    faro_http::NavLink {
        section: "tests",
        label: "Tests",
        href: "/admin/tests",
        admins_only: false,
    },
    faro_http::NavLink {
        section: "new",
        label: "New test",
        href: "/admin/tests/new",
        admins_only: true,
    },
];

pub fn router(quiz: Quiz) -> Router {
    Router::new()
        .route("/admin", get(tests::list))
        .route("/admin/tests", get(tests::list).post(tests::create))
        .route("/admin/tests/new", get(tests::new_form))
        .route("/admin/tests/{id}", get(tests::detail))
        .route("/admin/tests/{id}/active", post(tests::switch))
        .route(
            "/admin/tests/{id}/versions",
            get(tests::to_detail).post(tests::new_version),
        )
        .route(
            "/admin/tests/{id}/versions/new",
            get(tests::new_version_form),
        )
        .route(
            "/admin/tests/{id}/versions/{n}",
            get(editor::version).post(editor::save_document),
        )
        .route(
            "/admin/tests/{id}/versions/{n}/publish",
            post(tests::publish),
        )
        .route(
            "/admin/tests/{id}/versions/{n}/delete",
            post(tests::delete_draft),
        )
        .route(
            "/admin/tests/{id}/versions/{n}/preview",
            get(editor::preview),
        )
        .route(
            "/admin/tests/{id}/versions/{n}/add-question",
            get(editor::new_question).post(editor::add_question),
        )
        .route(
            "/admin/tests/{id}/versions/{n}/questions/{key}",
            get(editor::question).post(editor::save_question),
        )
        .route(
            "/admin/tests/{id}/versions/{n}/questions/{key}/delete",
            post(editor::delete_question),
        )
        .route("/admin/tests/{id}/dashboard", get(dashboard::page))
        .route("/admin/tests/{id}/dashboard.csv", get(dashboard::csv))
        .with_state(quiz)
}

/// A version number from the URL; anything else is a 404 page.
fn version_number(n: &str) -> Result<i64, PageError> {
    n.parse::<i64>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| PageError::not_found("No such version."))
}

async fn load_test(db: &Db, tenant: &TenantId, id: &str) -> Result<store::TestRow, PageError> {
    service::test_or_404(db, tenant, id)
        .await
        .map_err(|e| match e {
            QuizError::NotFound(_) => PageError::not_found("No such test."),
            other => other.into(),
        })
}

async fn load_version(
    db: &Db,
    tenant: &TenantId,
    test: &store::TestRow,
    n: &str,
) -> Result<store::VersionRow, PageError> {
    let n = version_number(n)?;
    service::version_or_404(db, tenant, &test.id, n)
        .await
        .map_err(|e| match e {
            QuizError::NotFound(_) => PageError::not_found("No such version."),
            other => other.into(),
        })
}

/// `2026-11-22 14:05 UTC`.
fn when(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// The fixed notices a redirect may ask a page to show (`?msg=`): never text from the URL.
fn notice(msg: Option<&str>) -> Option<&'static str> {
    Some(match msg? {
        "created" => "Test created as a draft (version 1). Check it, then publish it.",
        "published" => "Published: this version is now the one visitors get.",
        "served" => "This older version is served again (rolled back).",
        "on" => "The test is switched on: visitors can take it while a version is published.",
        "off" => "The test is switched off: visitors no longer see it.",
        "draft" => "New draft created.",
        "saved" => "Draft saved.",
        "deleted" => "Draft deleted.",
        "question-saved" => "Question saved.",
        "question-deleted" => "Question removed (with the rules naming it).",
        _ => return None,
    })
}
