//! The panel's Visitors page: the site's anonymous visitors, most recently seen first, whom
//! each became when they registered, and for owners and admins their data as JSON (the GDPR
//! export, audited) and erasure (the row at once, every module's data through
//! `visitor.deleted`, confirmed in the audit log). A visitor's address is never shown: only a
//! keyed hash of it is kept.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_http::Core;
use faro_store::visitors::list_visitors;
use faro_web::panel::{AdminForm, PageError, PageResult, PageUser, Shell, datetime, ok};
use serde::Deserialize;

pub const NAV: faro_http::NavLink = faro_http::NavLink {
    section: "visitors",
    label: "Visitors",
    href: "/admin/visitors",
    admins_only: false,
};

const PAGE_SIZE: i64 = 50;

pub fn router(core: Core) -> axum::Router {
    axum::Router::new()
        .route("/admin/visitors", get(page))
        .route("/admin/visitors/{id}/delete", post(erase))
        .with_state(core)
}

pub struct VisitorView {
    pub id: String,
    pub first_seen: String,
    pub last_seen: String,
    pub user_id: Option<String>,
}

#[derive(Template)]
#[template(path = "platform/visitors.html")]
struct VisitorsPage {
    shell: Shell,
    visitors: Vec<VisitorView>,
    next_page: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    /// `last_seen_at:id` of the last visitor of the previous page.
    before: Option<String>,
    msg: Option<String>,
}

/// `GET /admin/visitors[?before=at:id]`.
async fn page(
    State(core): State<Core>,
    PageUser(user): PageUser,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let before = match q.before.as_deref().filter(|s| !s.is_empty()) {
        Some(c) => Some(
            c.split_once(':')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| PageError::bad_request("That page link is not one of ours."))?,
        ),
        None => None,
    };
    let mut rows = list_visitors(
        &core.db,
        &user.tenant,
        before.as_ref().map(|(at, id)| (*at, id.as_str())),
        PAGE_SIZE + 1,
    )
    .await
    .map_err(faro_http::ApiError::from)?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next_page = more
        .then(|| {
            rows.last()
                .map(|r| format!("/admin/visitors?before={}:{}", r.last_seen_at, r.id))
        })
        .flatten();
    let notice = match q.msg.as_deref() {
        Some("deleted") => Some(
            "The visitor is erased: their row is gone, and every module erases what it holds about them within seconds. The audit log records it.",
        ),
        _ => None,
    };
    Ok(ok(&VisitorsPage {
        shell: user.shell("visitors"),
        visitors: rows
            .into_iter()
            .map(|r| VisitorView {
                first_seen: datetime(r.first_seen_at),
                last_seen: datetime(r.last_seen_at),
                user_id: r.user_id,
                id: r.id,
            })
            .collect(),
        next_page,
        notice,
    }))
}

/// `POST /admin/visitors/{id}/delete` (owners and admins).
async fn erase(
    State(core): State<Core>,
    Path(id): Path<String>,
    AdminForm { user, .. }: AdminForm,
) -> Response {
    match crate::gdpr::erase_visitor(&core, &user.tenant, &id, &user.actor()).await {
        Ok(true) => Redirect::to("/admin/visitors?msg=deleted").into_response(),
        Ok(false) => {
            PageError::not_found("This site has no visitor with this id (erased already?).")
                .into_response()
        }
        Err(e) => PageError::from(faro_http::ApiError::from(e)).into_response(),
    }
}
