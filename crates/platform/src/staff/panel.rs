//! The panel's Staff page (owners and admins), server-rendered with no script: who works on
//! this site, with the role names the tenant chose, a form to add someone, and per account a
//! role change, a password reset and disable / enable. Same use cases and rules as
//! `/api/v1/admin/staff`: a refusal (a role above yours, the last owner, your own account) is
//! shown on the page with its reason.
//!
//! | page | does |
//! |---|---|
//! | `GET /admin/staff` | the staff |
//! | `POST /admin/staff` | add someone |
//! | `POST /admin/staff/{id}/role` | change their role |
//! | `POST /admin/staff/{id}/password` | set a new password |
//! | `POST /admin/staff/{id}/disable`, `…/enable` | stop or restore their sign-in |

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_auth::Role;
use faro_http::{ApiError, Core};
use faro_web::panel::{AdminForm, PageAdmin, PageError, PageResult, PanelUser, Shell, render};
use serde::Deserialize;

use super::store::StaffRow;
use super::{ActingAs, Change, StaffError};
use crate::settings::domain::role_name;
use crate::tenants::domain::Problem;

pub const NAV: faro_http::NavLink = faro_http::NavLink {
    section: "staff",
    label: "Staff",
    href: "/admin/staff",
    admins_only: true,
};

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/admin/staff", get(page).post(create))
        .route("/admin/staff/{id}/{what}", post(change))
        .with_state(core)
}

pub struct RoleOption {
    pub key: &'static str,
    pub name: String,
}

pub struct MemberView {
    pub id: String,
    pub username: String,
    pub role: &'static str,
    pub role_name: String,
    pub disabled: bool,
    pub is_you: bool,
    /// Whether you may change this account at all (its role is not above yours).
    pub changeable: bool,
    pub since: String,
}

#[derive(Template)]
#[template(path = "platform/staff.html")]
struct StaffPage {
    shell: Shell,
    members: Vec<MemberView>,
    /// The roles you may grant, most trusted first.
    grantable: Vec<RoleOption>,
    notice: Option<&'static str>,
    error: Option<String>,
    problems: Vec<Problem>,
    form_username: String,
    form_role: String,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    msg: Option<String>,
}

/// What a form left to show again: its outcome and the fields typed.
#[derive(Default)]
struct Shown {
    notice: Option<&'static str>,
    error: Option<String>,
    problems: Vec<Problem>,
    form_username: String,
    form_role: String,
}

async fn show(core: &Core, user: &PanelUser, status: StatusCode, shown: Shown) -> PageResult {
    let rows = super::store::list(&core.db, &user.tenant)
        .await
        .map_err(ApiError::from)?;
    let doc = crate::settings::current(&core.db, &user.tenant)
        .await
        .map_err(ApiError::from)?
        .doc;
    let members = rows
        .into_iter()
        .map(|r: StaffRow| MemberView {
            role: r.role.as_str(),
            role_name: role_name(&doc, r.role),
            disabled: r.disabled,
            is_you: r.id == user.id,
            changeable: r.role <= user.role,
            since: faro_web::panel::day(r.created_at),
            id: r.id,
            username: r.username,
        })
        .collect();
    let grantable = Role::ALL
        .into_iter()
        .filter(|r| *r <= user.role)
        .map(|r| RoleOption {
            key: r.as_str(),
            name: role_name(&doc, r),
        })
        .collect();
    Ok(render(
        status,
        &StaffPage {
            shell: user.shell("staff"),
            members,
            grantable,
            notice: shown.notice,
            error: shown.error,
            problems: shown.problems,
            form_username: shown.form_username,
            form_role: if shown.form_role.is_empty() {
                "viewer".into()
            } else {
                shown.form_role
            },
        },
    ))
}

/// The page again with what went wrong: a list of problems (422) or a refusal's reason.
async fn refused(core: &Core, user: &PanelUser, e: StaffError, mut shown: Shown) -> PageResult {
    match e {
        StaffError::Invalid(problems) => {
            shown.problems = problems;
            show(core, user, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        StaffError::Hash(_) | StaffError::Store(_) => Err(ApiError::from(e).into()),
        other => {
            let e = ApiError::from(other);
            shown.error = Some(e.message);
            show(core, user, e.status, shown).await
        }
    }
}

/// `GET /admin/staff`.
async fn page(
    State(core): State<Core>,
    PageAdmin(user): PageAdmin,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.msg.as_deref() {
        Some("added") => Some("Added: they can sign in now."),
        Some("role") => Some(
            "Role changed. Their sessions signed in before the change are refused (within 5 seconds on every instance): they sign in again.",
        ),
        Some("password") => Some("Password set: tell them through a channel you trust."),
        Some("disable") => Some("Disabled: they cannot sign in, and their sessions are refused."),
        Some("enable") => Some("Enabled: they can sign in again."),
        _ => None,
    };
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    show(&core, &user, StatusCode::OK, shown).await
}

/// `POST /admin/staff`: `username`, `password`, `role`.
async fn create(State(core): State<Core>, AdminForm { user, form }: AdminForm) -> Response {
    let actor = user.actor();
    let by = ActingAs {
        id: &user.id,
        role: user.role,
        actor: &actor,
    };
    let (username, role) = (form.text("username").trim(), form.text("role"));
    let made = super::create(
        &core.db,
        &user.tenant,
        &by,
        username,
        form.text("password"),
        role,
    )
    .await;
    match made {
        Ok(_) => Redirect::to("/admin/staff?msg=added").into_response(),
        Err(e) => {
            let shown = Shown {
                form_username: username.to_owned(),
                form_role: role.to_owned(),
                ..Shown::default()
            };
            refused(&core, &user, e, shown).await.into_response()
        }
    }
}

/// `POST /admin/staff/{id}/{role|password|disable|enable}`.
async fn change(
    State(core): State<Core>,
    Path((id, what)): Path<(String, String)>,
    AdminForm { user, form }: AdminForm,
) -> Response {
    let change = match what.as_str() {
        "role" => Change {
            role: Some(form.text("role").to_owned()),
            ..Change::default()
        },
        "password" => Change {
            password: Some(form.text("password").to_owned()),
            ..Change::default()
        },
        "disable" | "enable" => Change {
            disabled: Some(what == "disable"),
            ..Change::default()
        },
        _ => return PageError::not_found("No such change of a staff member.").into_response(),
    };
    let actor = user.actor();
    let by = ActingAs {
        id: &user.id,
        role: user.role,
        actor: &actor,
    };
    match super::update(&core.db, &user.tenant, &by, &id, change).await {
        Ok(row) => {
            core.staff_tokens.forget(&row.id);
            Redirect::to(&format!("/admin/staff?msg={what}")).into_response()
        }
        Err(e) => refused(&core, &user, e, Shown::default())
            .await
            .into_response(),
    }
}
