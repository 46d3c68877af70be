//! Kept 5xx causes for staff: `GET /api/v1/admin/errors` and the panel's `/admin/errors`, per
//! tenant, newest first. The request middleware writes them; a job trims each tenant to the
//! newest `KEEP_PER_TENANT`. Admins only: a cause can name internals (a constraint, a table).

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use faro_http::auth::AdminUser;
use faro_http::respond::{PageQuery as ApiPageQuery, next_page, rfc3339};
use faro_http::{ApiResult, Core, Json, Query};
use faro_store::Job;
use faro_store::request_errors::{self, KEEP_PER_TENANT, RequestErrorRow};
use faro_web::panel::{PageAdmin, PageResult, Shell, ok};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct KeptError {
    pub id: String,
    /// The `x-request-id` of the failed request.
    pub request_id: String,
    pub method: String,
    /// The matched route template (`/api/v1/sessions/{session_id}/answer`).
    pub route: String,
    pub status: i64,
    pub cause: String,
    pub occurred_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeptErrorList {
    pub items: Vec<KeptError>,
    pub next_cursor: Option<String>,
}

fn view(r: RequestErrorRow) -> KeptError {
    KeptError {
        id: r.id,
        request_id: r.request_id,
        method: r.method,
        route: r.route,
        status: r.status,
        cause: r.cause,
        occurred_at: rfc3339(r.created_at),
    }
}

/// This tenant's kept server errors, newest first.
#[utoipa::path(get, path = "/api/v1/admin/errors", tag = "platform", security(("bearer" = [])),
    params(ApiPageQuery),
    responses((status = 200, body = KeptErrorList), (status = 400, body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody), (status = 403, body = faro_http::ErrorBody)))]
pub async fn list_errors(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    Query(q): Query<ApiPageQuery>,
) -> ApiResult<Json<KeptErrorList>> {
    let (limit, before) = q.page()?;
    let mut rows =
        request_errors::list(&core.db, &staff.tenant, before.as_deref(), limit as i64 + 1).await?;
    let next_cursor = next_page(&mut rows, limit, |r| &r.id);
    Ok(Json(KeptErrorList {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    before: Option<String>,
}

struct ErrorItem {
    when: String,
    method: String,
    route: String,
    request_id: String,
    status: i64,
    cause: String,
}

#[derive(Template)]
#[template(path = "platform/errors.html")]
struct ErrorsPage {
    shell: Shell,
    errors: Vec<ErrorItem>,
    keep: i64,
    next_page: Option<String>,
}

const PAGE_SIZE: i64 = 50;

/// `GET /admin/errors`: the same list as a panel page.
pub async fn page(
    State(core): State<Core>,
    PageAdmin(user): PageAdmin,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> PageResult {
    let before = q.before.as_deref().filter(|s| !s.is_empty());
    let mut rows = request_errors::list(&core.db, &user.tenant, before, PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next_page = more
        .then(|| {
            rows.last()
                .map(|r| format!("/admin/errors?before={}", r.id))
        })
        .flatten();
    let errors = rows
        .into_iter()
        .map(|r| ErrorItem {
            when: faro_web::panel::datetime(r.created_at),
            method: r.method,
            route: r.route,
            request_id: r.request_id,
            status: r.status,
            cause: r.cause,
        })
        .collect();
    Ok(ok(&ErrorsPage {
        shell: user.shell("errors"),
        errors,
        keep: KEEP_PER_TENANT,
        next_page,
    }))
}

/// Hourly: each tenant keeps its newest causes only.
pub fn trim_job() -> Job {
    Job::new(
        "platform.trim_request_errors",
        Duration::from_secs(3600),
        |db| async move { request_errors::trim_all_tenants(&db).await.map(drop) },
    )
}
