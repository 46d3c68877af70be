//! The installation's console (`/platform`), for its super-admin only: every tenant with its
//! use (see [`super::usage`]), the jobs' health and the newest server errors, a form to create a
//! tenant, and per tenant a page
//! to edit it, pause or resume it, switch maintenance and modules, read its latest audit
//! entries and step into its panel with a 15-minute, audited owner's session. The same use
//! cases as `/api/v1/platform/tenants`. A tenant's staff (and an impersonation session) get a
//! 403 page: the console is never reachable with tenant credentials.
//!
//! | page | does |
//! |---|---|
//! | `GET /platform` | tenants, use, health; the create form |
//! | `POST /platform/tenants` | create one |
//! | `GET /platform/tenants/{slug}` | one tenant: edit form, actions, audit |
//! | `POST /platform/tenants/{slug}` | save the edit form |
//! | `POST /platform/tenants/{slug}/{pause,resume,maintenance-on,maintenance-off}` | switch |
//! | `POST /platform/tenants/{slug}/impersonate` | open its panel as an owner, 15 minutes |
//! | `POST /platform/tenants/{slug}/purge` | delete a paused tenant for good (`confirm`: its slug) |

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_http::{ApiError, Core};
use faro_store::{Db, StoreError};
use faro_web::panel::{AdminForm, PageError, PageResult, PageUser, PanelUser, Shell, render};
use serde::Deserialize;
use sqlx::Row;

use super::domain::{LANGUAGES, Problem, Status};
use super::store::TenantRow;
use super::usage::{Usage, usage};
use super::{NewTenant, Patch, TenantError};
use crate::audit;

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/platform", get(home))
        .route("/platform/tenants", post(create))
        .route("/platform/tenants/{slug}", get(tenant_page).post(save))
        .route("/platform/tenants/{slug}/{action}", post(act))
        .with_state(core)
}

/// The console's pages (tenants and plans) refuse everyone but the super-admin's own sign-in.
pub(crate) fn super_admin(user: &PanelUser) -> Result<(), PageError> {
    if user.super_admin {
        Ok(())
    } else {
        Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Console only",
            "This is the installation's console: it needs the super-admin's own sign-in (a site's staff, and an impersonation session, never reach it).",
        ))
    }
}

pub struct TenantView {
    pub slug: String,
    pub name: String,
    pub hosts: String,
    pub plan: String,
    pub status: &'static str,
    pub maintenance: bool,
    pub modules: String,
    pub usage: Usage,
}

fn view(t: TenantRow, usage: &HashMap<String, Usage>) -> TenantView {
    TenantView {
        usage: usage.get(&t.id).cloned().unwrap_or_default(),
        hosts: if t.hosts.is_empty() {
            "—".into()
        } else {
            t.hosts.join(", ")
        },
        modules: t
            .modules
            .map(|m| {
                if m.is_empty() {
                    "none".into()
                } else {
                    m.join(", ")
                }
            })
            .unwrap_or_else(|| "all".into()),
        status: t.status.as_str(),
        maintenance: t.maintenance,
        slug: t.slug,
        name: t.name,
        plan: t.plan,
    }
}

pub struct ErrorView {
    pub when: String,
    pub tenant: String,
    pub request: String,
    pub request_id: String,
    pub status: i64,
    pub cause: String,
}

/// The newest server errors of every tenant (each tenant keeps its own newest).
async fn recent_errors(db: &Db) -> Result<Vec<ErrorView>, StoreError> {
    let rows = sqlx::query(
        "SELECT tenant_id, request_id, method, route, status, cause, created_at \
         FROM request_errors ORDER BY created_at DESC, id DESC LIMIT 10",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let method: String = r.try_get("method")?;
            let route: String = r.try_get("route")?;
            let tenant: String = r.try_get("tenant_id")?;
            Ok(ErrorView {
                when: when(Some(r.try_get::<i64, _>("created_at")? * 1000)),
                tenant: if tenant.is_empty() {
                    "(before its tenant was known)".into()
                } else {
                    tenant
                },
                request: format!("{method} {route}"),
                request_id: r.try_get("request_id")?,
                status: r.try_get("status")?,
                cause: r.try_get("cause")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

pub struct JobView {
    pub name: String,
    pub last_run: String,
    pub failures: i64,
    pub last_error: Option<String>,
}

#[derive(Template)]
#[template(path = "platform/console.html")]
struct ConsolePage {
    shell: Shell,
    tenants: Vec<TenantView>,
    jobs: Vec<JobView>,
    errors: Vec<ErrorView>,
    languages: [&'static str; 4],
    form: NewForm,
    problems: Vec<Problem>,
    error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Clone, Default)]
struct NewForm {
    slug: String,
    name: String,
    hosts: String,
    language: String,
    time_zone: String,
    plan: String,
    owner: String,
}

fn when(ms: Option<i64>) -> String {
    ms.map(|ms| faro_web::panel::datetime(ms / 1000))
        .unwrap_or_else(|| "never".into())
}

/// What the console's home shows besides the tenants: an outcome, or the create form again.
#[derive(Default)]
struct Home {
    notice: Option<&'static str>,
    form: NewForm,
    problems: Vec<Problem>,
    error: Option<String>,
}

async fn show_home(core: &Core, user: &PanelUser, status: StatusCode, home: Home) -> PageResult {
    let Home {
        notice,
        form,
        problems,
        error,
    } = home;
    let rows = super::store::list(&core.db, None, 1000)
        .await
        .map_err(ApiError::from)?;
    let usage = usage(&core.db, None).await.map_err(ApiError::from)?;
    let jobs = faro_store::scheduler::list_jobs(&core.db)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|j| JobView {
            last_run: when(j.last_finished_at),
            failures: j.failures,
            last_error: j.last_error,
            name: j.name,
        })
        .collect();
    let errors = recent_errors(&core.db).await.map_err(ApiError::from)?;
    Ok(render(
        status,
        &ConsolePage {
            shell: user.shell("console"),
            tenants: rows.into_iter().map(|t| view(t, &usage)).collect(),
            jobs,
            errors,
            languages: LANGUAGES,
            form: NewForm {
                language: if form.language.is_empty() {
                    "es".into()
                } else {
                    form.language.clone()
                },
                time_zone: if form.time_zone.is_empty() {
                    "Europe/Madrid".into()
                } else {
                    form.time_zone.clone()
                },
                plan: if form.plan.is_empty() {
                    "free".into()
                } else {
                    form.plan.clone()
                },
                ..form
            },
            problems,
            error,
            notice,
        },
    ))
}

/// `GET /platform`.
async fn home(
    State(core): State<Core>,
    PageUser(user): PageUser,
    Query(q): Query<MsgQuery>,
) -> PageResult {
    super_admin(&user)?;
    let notice = (q.msg.as_deref() == Some("purged"))
        .then_some("Purged: the tenant and everything it held are gone. The default tenant's audit log records it.");
    show_home(
        &core,
        &user,
        StatusCode::OK,
        Home {
            notice,
            ..Home::default()
        },
    )
    .await
}

fn lines(s: &str) -> Vec<String> {
    s.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `POST /platform/tenants`.
async fn create(State(core): State<Core>, AdminForm { user, form }: AdminForm) -> Response {
    if let Err(e) = super_admin(&user) {
        return e.into_response();
    }
    let typed = NewForm {
        slug: form.text("slug").trim().to_owned(),
        name: form.text("name").to_owned(),
        hosts: form.text("hosts").to_owned(),
        language: form.text("language").to_owned(),
        time_zone: form.text("time_zone").trim().to_owned(),
        plan: form.text("plan").trim().to_owned(),
        owner: form.text("owner").trim().to_owned(),
    };
    let owner_password = form.text("owner_password");
    let new = NewTenant {
        slug: typed.slug.clone(),
        name: typed.name.clone(),
        hosts: lines(&typed.hosts),
        language: Some(typed.language.clone()).filter(|s| !s.is_empty()),
        time_zone: Some(typed.time_zone.clone()).filter(|s| !s.is_empty()),
        plan: Some(typed.plan.clone()).filter(|s| !s.is_empty()),
        modules: None,
        owner: (!typed.owner.is_empty()).then(|| (typed.owner.clone(), owner_password.to_owned())),
    };
    match super::create(&core.db, &core.modules, new, &user.actor()).await {
        Ok(row) => {
            core.tenants.invalidate();
            Redirect::to(&format!("/platform/tenants/{}?msg=created", row.slug)).into_response()
        }
        Err(TenantError::Invalid(problems)) => show_home(
            &core,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Home {
                form: typed,
                problems,
                ..Home::default()
            },
        )
        .await
        .into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() {
                return PageError::from(e).into_response();
            }
            let home = Home {
                form: typed,
                error: Some(e.message),
                ..Home::default()
            };
            show_home(&core, &user, e.status, home)
                .await
                .into_response()
        }
    }
}

pub struct AuditLine {
    pub when: String,
    pub actor: String,
    pub action: String,
}

pub struct ModuleBox {
    pub name: &'static str,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "platform/console_tenant.html")]
struct TenantPage {
    shell: Shell,
    t: TenantView,
    id: String,
    name: String,
    hosts: String,
    language: String,
    time_zone: String,
    all_modules: bool,
    modules: Vec<ModuleBox>,
    languages: [&'static str; 4],
    audit: Vec<AuditLine>,
    notice: Option<&'static str>,
    error: Option<String>,
    problems: Vec<Problem>,
}

#[derive(Deserialize, Default)]
pub struct MsgQuery {
    msg: Option<String>,
}

async fn show_tenant(
    core: &Core,
    user: &PanelUser,
    slug: &str,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    problems: Vec<Problem>,
) -> PageResult {
    let row = super::store::get(&core.db, slug)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| PageError::not_found("No tenant has this slug."))?;
    let usage = usage(&core.db, Some(&row.id))
        .await
        .map_err(ApiError::from)?;
    let tenant_id = faro_store::TenantId::new(row.id.as_str());
    let audit = audit::list(&core.db, Some(&tenant_id), None, 10)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|e| AuditLine {
            when: faro_web::panel::readable_time(&e.at),
            actor: match e.impersonator {
                Some(_) => format!("{} (super-admin, impersonating)", e.actor),
                None => e.actor,
            },
            action: e.action,
        })
        .collect();
    let on: Option<Vec<String>> = row.modules.clone();
    let modules = core
        .modules
        .iter()
        .map(|m| ModuleBox {
            name: m,
            on: on.as_ref().is_none_or(|list| list.iter().any(|x| x == m)),
        })
        .collect();
    Ok(render(
        status,
        &TenantPage {
            shell: user.shell("console"),
            id: row.id.clone(),
            name: row.name.clone(),
            hosts: row.hosts.join("\n"),
            language: row.language.clone(),
            time_zone: row.time_zone.clone(),
            all_modules: on.is_none(),
            modules,
            languages: LANGUAGES,
            t: view(row, &usage),
            audit,
            notice,
            error,
            problems,
        },
    ))
}

/// `GET /platform/tenants/{slug}`.
async fn tenant_page(
    State(core): State<Core>,
    PageUser(user): PageUser,
    Path(slug): Path<String>,
    Query(q): Query<MsgQuery>,
) -> PageResult {
    super_admin(&user)?;
    let notice = match q.msg.as_deref() {
        Some("created") => Some("Tenant created. Point its host names at this installation."),
        Some("saved") => Some("Saved. Every instance serves the change within 5 seconds."),
        Some("pause") => Some(
            "Paused: its public pages answer 503 and its staff cannot sign in. Nothing is deleted.",
        ),
        Some("resume") => Some("Active again."),
        Some("maintenance-on") => {
            Some("In maintenance: its public pages answer 503; its staff can still sign in.")
        }
        Some("maintenance-off") => Some("Maintenance is over."),
        _ => None,
    };
    show_tenant(
        &core,
        &user,
        &slug,
        StatusCode::OK,
        notice,
        None,
        Vec::new(),
    )
    .await
}

async fn refused(core: &Core, user: &PanelUser, slug: &str, e: TenantError) -> Response {
    match e {
        TenantError::Invalid(problems) => show_tenant(
            core,
            user,
            slug,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            None,
            problems,
        )
        .await
        .into_response(),
        other => {
            let e = ApiError::from(other);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                return PageError::from(e).into_response();
            }
            show_tenant(
                core,
                user,
                slug,
                e.status,
                None,
                Some(e.message),
                Vec::new(),
            )
            .await
            .into_response()
        }
    }
}

/// `POST /platform/tenants/{slug}`: name, hosts, language, time zone, plan, modules.
async fn save(
    State(core): State<Core>,
    Path(slug): Path<String>,
    AdminForm { user, form }: AdminForm,
) -> Response {
    if let Err(e) = super_admin(&user) {
        return e.into_response();
    }
    let modules = if form.has("all_modules") {
        None
    } else {
        Some(form.all("module").map(str::to_owned).collect())
    };
    let patch = Patch {
        name: Some(form.text("name").to_owned()),
        hosts: Some(lines(form.text("hosts"))),
        language: Some(form.text("language").to_owned()),
        time_zone: Some(form.text("time_zone").trim().to_owned()),
        plan: Some(form.text("plan").trim().to_owned()),
        modules: Some(modules),
        ..Patch::default()
    };
    match super::update(&core.db, &core.modules, &slug, patch, &user.actor()).await {
        Ok(row) => {
            core.tenants.invalidate();
            Redirect::to(&format!("/platform/tenants/{}?msg=saved", row.slug)).into_response()
        }
        Err(e) => refused(&core, &user, &slug, e).await,
    }
}

/// `POST /platform/tenants/{slug}/{action}`.
async fn act(
    State(core): State<Core>,
    Path((slug, action)): Path<(String, String)>,
    AdminForm { user, form }: AdminForm,
) -> Response {
    if let Err(e) = super_admin(&user) {
        return e.into_response();
    }
    let patch = match action.as_str() {
        "pause" => Patch {
            status: Some(Status::Paused),
            ..Patch::default()
        },
        "resume" => Patch {
            status: Some(Status::Active),
            ..Patch::default()
        },
        "maintenance-on" | "maintenance-off" => Patch {
            maintenance: Some(action == "maintenance-on"),
            ..Patch::default()
        },
        "impersonate" => return impersonate(&core, &user, &slug).await,
        "purge" => {
            return match super::purge::purge(&core.db, &slug, form.text("confirm"), &user.actor())
                .await
            {
                Ok(_) => {
                    core.tenants.invalidate();
                    core.wake.notify();
                    Redirect::to("/platform?msg=purged").into_response()
                }
                Err(e) => refused(&core, &user, &slug, e).await,
            };
        }
        _ => return PageError::not_found("No such action on a tenant.").into_response(),
    };
    match super::update(&core.db, &core.modules, &slug, patch, &user.actor()).await {
        Ok(row) => {
            core.tenants.invalidate();
            Redirect::to(&format!("/platform/tenants/{}?msg={action}", row.slug)).into_response()
        }
        Err(e) => refused(&core, &user, &slug, e).await,
    }
}

/// Replaces this browser's panel session with a 15-minute owner's session of the tenant
/// (audited); the super-admin signs in again to come back.
async fn impersonate(core: &Core, user: &PanelUser, slug: &str) -> Response {
    let row = match super::store::get(&core.db, slug).await {
        Ok(Some(row)) => row,
        Ok(None) => return PageError::not_found("No tenant has this slug.").into_response(),
        Err(e) => return PageError::from(ApiError::from(e)).into_response(),
    };
    let token = match super::api::impersonation_token(core, &row, &user.actor()).await {
        Ok(t) => t,
        Err(e) => return PageError::from(e).into_response(),
    };
    let session = crate::accounts::SignedIn {
        token,
        csrf: faro_auth::password::generate(),
        ttl: super::api::IMPERSONATION_TTL,
        refresh: None,
        device: None,
    };
    (
        crate::accounts::session_cookies(core, Some(&session)),
        Redirect::to("/admin"),
    )
        .into_response()
}
