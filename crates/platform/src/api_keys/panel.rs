//! The panel's API keys page (owners and admins), server-rendered with no script: the
//! tenant's keys with their scopes and last use, a form to make one (the key shown once, on
//! the page that answers the form) and a button to revoke each. Same use cases as
//! `/api/v1/admin/api-keys`.
//!
//! | page | does |
//! |---|---|
//! | `GET /admin/api-keys` | the keys |
//! | `POST /admin/api-keys` | make a key (shows it once) |
//! | `POST /admin/api-keys/{id}/revoke` | revoke it |

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_http::Core;
use faro_store::api_keys::ApiKeyRow;
use faro_store::unix_now;
use faro_web::panel::{AdminForm, PageAdmin, PageResult, PanelUser, Shell, day, render};
use serde::Deserialize;

use super::{ApiKeyError, NewKey};
use crate::tenants::domain::Problem;

pub const NAV: faro_http::NavLink = faro_http::NavLink {
    section: "api-keys",
    label: "API keys",
    href: "/admin/api-keys",
    admins_only: true,
};

pub fn router(core: Core) -> Router {
    Router::new()
        .route("/admin/api-keys", get(page).post(create))
        .route("/admin/api-keys/{id}/revoke", post(revoke))
        .with_state(core)
}

pub struct KeyView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
    pub status: &'static str,
    pub badge: &'static str,
}

fn view(k: ApiKeyRow, now: i64) -> KeyView {
    let status = super::domain::status(k.revoked_at, k.expires_at, now);
    let badge = match status {
        "revoked" => "off",
        "expired" => "draft",
        _ => "on",
    };
    KeyView {
        created: format!("{} by {}", day(k.created_at), k.created_by),
        last_used: k.last_used_at.map(day).unwrap_or_else(|| "never".into()),
        scopes: k.scopes.join(", "),
        id: k.id,
        name: k.name,
        prefix: k.prefix,
        status,
        badge,
    }
}

#[derive(Template)]
#[template(path = "platform/api_keys.html")]
struct KeysPage {
    shell: Shell,
    keys: Vec<KeyView>,
    scopes: Vec<String>,
    notice: Option<&'static str>,
    created: Option<(String, String)>,
    problems: Vec<Problem>,
    form_name: String,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    msg: Option<String>,
}

struct Shown {
    notice: Option<&'static str>,
    created: Option<(String, String)>,
    problems: Vec<Problem>,
    form_name: String,
}

async fn show(core: &Core, user: &PanelUser, status: StatusCode, shown: Shown) -> PageResult {
    let now = unix_now();
    let keys = super::list(&core.db, &user.tenant)
        .await
        .map_err(faro_http::ApiError::from)?
        .into_iter()
        .map(|k| view(k, now))
        .collect();
    let scopes = core
        .key_modules
        .iter()
        .flat_map(|m| [format!("{m}:read"), format!("{m}:write")])
        .collect();
    Ok(render(
        status,
        &KeysPage {
            shell: user.shell("api-keys"),
            keys,
            scopes,
            notice: shown.notice,
            created: shown.created,
            problems: shown.problems,
            form_name: shown.form_name,
        },
    ))
}

/// `GET /admin/api-keys`.
async fn page(
    State(core): State<Core>,
    PageAdmin(user): PageAdmin,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.msg.as_deref() {
        Some("revoked") => Some(
            "The key is revoked: it is refused from now on (within 10 seconds on every instance).",
        ),
        _ => None,
    };
    let shown = Shown {
        notice,
        created: None,
        problems: Vec::new(),
        form_name: String::new(),
    };
    show(&core, &user, StatusCode::OK, shown).await
}

/// `POST /admin/api-keys`: `name`, one `scope` field per ticked box.
async fn create(State(core): State<Core>, AdminForm { user, form }: AdminForm) -> PageResult {
    let name = form.text("name").to_string();
    let new = NewKey {
        name: name.clone(),
        scopes: form.all("scope").map(str::to_owned).collect(),
        expires_at: None,
    };
    match super::create(
        &core.db,
        &user.tenant,
        &core.key_modules,
        new,
        &user.actor(),
    )
    .await
    {
        Ok(created) => {
            let shown = Shown {
                notice: None,
                created: Some((created.row.name, created.key)),
                problems: Vec::new(),
                form_name: String::new(),
            };
            show(&core, &user, StatusCode::OK, shown).await
        }
        Err(ApiKeyError::Invalid(problems)) => {
            let shown = Shown {
                notice: None,
                created: None,
                problems,
                form_name: name,
            };
            show(&core, &user, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        Err(e) => Err(faro_http::ApiError::from(e).into()),
    }
}

/// `POST /admin/api-keys/{id}/revoke`.
async fn revoke(
    State(core): State<Core>,
    Path(id): Path<String>,
    AdminForm { user, .. }: AdminForm,
) -> Response {
    match super::revoke(&core.db, &user.tenant, &id, &user.actor()).await {
        Ok(row) => {
            core.api_keys.forget(&row.id);
            Redirect::to("/admin/api-keys?msg=revoked").into_response()
        }
        Err(e) => faro_web::panel::PageError::from(faro_http::ApiError::from(e)).into_response(),
    }
}
