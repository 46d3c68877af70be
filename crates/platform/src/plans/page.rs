//! The console's plans page (`/platform/plans`, super-admin only): every plan with its quotas
//! as number fields (blank: unlimited), a new-plan form, deletion of unused plans, and the
//! plan names tenants are on that have no quotas. The same use cases as the API.
//!
//! | page | does |
//! |---|---|
//! | `GET /platform/plans` | the plans and the forms |
//! | `POST /platform/plans` | create or save one (`name`, one field per quota) |
//! | `POST /platform/plans/{name}/delete` | delete one no tenant is on |

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_http::{ApiError, Core};
use faro_store::quota::Quota;
use faro_web::panel::{AdminForm, PageError, PageResult, PageUser, PanelUser, Shell, render};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::PlanError;
use crate::tenants::console::super_admin;
use crate::tenants::domain::Problem;

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/platform/plans", get(page).post(save))
        .route("/platform/plans/{name}/delete", post(delete))
        .with_state(core)
}

/// One quota's field.
pub struct QuotaField {
    pub key: &'static str,
    pub label: &'static str,
    /// Blank: unlimited.
    pub value: String,
}

pub struct PlanView {
    pub name: String,
    pub tenants: i64,
    pub updated: String,
    pub fields: Vec<QuotaField>,
}

fn label(q: Quota) -> &'static str {
    match q {
        Quota::Staff => "Staff accounts",
        Quota::EndUsers => "Registered users",
        Quota::ApiKeys => "API keys",
        Quota::Tests => "Tests",
        Quota::StorageMb => "Files (MB)",
        Quota::Webhooks => "Webhooks",
    }
}

fn fields(quotas: &Map<String, Value>) -> Vec<QuotaField> {
    Quota::ALL
        .into_iter()
        .map(|q| QuotaField {
            key: q.key(),
            label: label(q),
            value: quotas
                .get(q.key())
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "platform/plans.html")]
struct PlansPage {
    shell: Shell,
    plans: Vec<PlanView>,
    unlimited: Vec<(String, i64)>,
    new_name: String,
    new_fields: Vec<QuotaField>,
    problems: Vec<Problem>,
    error: Option<String>,
    notice: Option<String>,
}

/// What the page shows besides the plans: an outcome, or the form that was refused.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    problems: Vec<Problem>,
    /// A refused form: its name and typed values, shown again (in the new-plan form when the
    /// plan does not exist yet, else in its own).
    typed: Option<(String, Map<String, Value>)>,
}

async fn show(core: &Core, user: &PanelUser, status: StatusCode, out: Outcome) -> PageResult {
    let rows = super::list(&core.db).await.map_err(ApiError::from)?;
    let unlimited = super::unlimited_in_use(&core.db)
        .await
        .map_err(ApiError::from)?;
    let mut new_name = String::new();
    let mut new_fields = fields(&Map::new());
    let mut plans: Vec<PlanView> = rows
        .into_iter()
        .map(|p| PlanView {
            fields: fields(&p.quotas),
            updated: faro_web::panel::datetime(p.updated_at),
            name: p.name,
            tenants: p.tenants,
        })
        .collect();
    if let Some((name, typed)) = out.typed {
        match plans.iter_mut().find(|p| p.name == name) {
            Some(p) => p.fields = fields(&typed),
            None => {
                new_name = name;
                new_fields = fields(&typed);
            }
        }
    }
    Ok(render(
        status,
        &PlansPage {
            shell: user.shell("console"),
            plans,
            unlimited,
            new_name,
            new_fields,
            problems: out.problems,
            error: out.error,
            notice: out.notice,
        },
    ))
}

#[derive(Deserialize)]
struct MsgQuery {
    saved: Option<String>,
    deleted: Option<String>,
}

/// `GET /platform/plans`.
async fn page(
    State(core): State<Core>,
    PageUser(user): PageUser,
    Query(q): Query<MsgQuery>,
) -> PageResult {
    super_admin(&user)?;
    let notice = match (q.saved, q.deleted) {
        (Some(p), _) => Some(format!(
            "Saved plan {p}: its tenants are held to these quotas from their next create."
        )),
        (None, Some(p)) => Some(format!("Deleted plan {p}.")),
        _ => None,
    };
    show(
        &core,
        &user,
        StatusCode::OK,
        Outcome {
            notice,
            ..Outcome::default()
        },
    )
    .await
}

/// The form's quotas: a blank field is unlimited (left out); anything else goes to the use
/// case's check as typed, so "ten" or "-1" is reported there, with its path.
fn typed_quotas(form: &faro_web::panel::FormData) -> Map<String, Value> {
    let mut quotas = Map::new();
    for q in Quota::ALL {
        let raw = form.text(q.key());
        if raw.is_empty() {
            continue;
        }
        // Only spaces go ("10 000"): "1.000" or "1,5" mean different things in es and en,
        // so they are reported rather than guessed.
        let v = raw
            .replace(' ', "")
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(raw.to_owned()));
        quotas.insert(q.key().to_owned(), v);
    }
    quotas
}

/// `POST /platform/plans`.
async fn save(State(core): State<Core>, AdminForm { user, form }: AdminForm) -> Response {
    if let Err(e) = super_admin(&user) {
        return e.into_response();
    }
    let name = form.text("name").to_owned();
    let quotas = typed_quotas(&form);
    match super::put(
        &core.db,
        &name,
        Value::Object(quotas.clone()),
        &user.actor(),
    )
    .await
    {
        Ok(p) => Redirect::to(&format!("/platform/plans?saved={}", p.name)).into_response(),
        Err(PlanError::Invalid(problems)) => {
            let out = Outcome {
                problems,
                typed: Some((name, quotas)),
                ..Outcome::default()
            };
            show(&core, &user, StatusCode::UNPROCESSABLE_ENTITY, out)
                .await
                .into_response()
        }
        Err(e) => PageError::from(ApiError::from(e)).into_response(),
    }
}

/// `POST /platform/plans/{name}/delete`.
async fn delete(
    State(core): State<Core>,
    Path(name): Path<String>,
    AdminForm { user, form: _ }: AdminForm,
) -> Response {
    if let Err(e) = super_admin(&user) {
        return e.into_response();
    }
    match super::delete(&core.db, &name, &user.actor()).await {
        Ok(()) => Redirect::to(&format!("/platform/plans?deleted={name}")).into_response(),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_server_error() || e.status == StatusCode::NOT_FOUND {
                return PageError::from(e).into_response();
            }
            let out = Outcome {
                error: Some(e.message),
                ..Outcome::default()
            };
            show(&core, &user, e.status, out).await.into_response()
        }
    }
}
