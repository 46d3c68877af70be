//! The panel's webhooks page, server-rendered with no script: every endpoint of the tenant with
//! its recent deliveries, and for admins the forms to add one (its secret shown once, on the
//! page that answers the form), switch it on or off, delete it, and replay a failed delivery.
//! Reads go through `PageUser`, writes through `AdminForm` (admin, CSRF field checked), and
//! both call the same `service` functions as the JSON API.
//!
//! | page | does |
//! |---|---|
//! | `GET /admin/webhooks` | endpoints and their last deliveries |
//! | `POST /admin/webhooks` | add an endpoint (shows its secret once) |
//! | `POST /admin/webhooks/{id}/enabled` | switch on (`enabled=on`) or off |
//! | `POST /admin/webhooks/{id}/delete` | delete with its deliveries |
//! | `POST /admin/webhook-deliveries/{id}/replay` | queue a delivery again |

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use faro_web::panel::{AdminForm, PageResult, PageUser, PanelUser, Shell, render};
use faro_webhooks_domain::Problem;
use serde::Deserialize;

use crate::Webhooks;
use crate::error::WebhooksError;
use crate::service::{self, Change};
use crate::store::{self, DeliveryRow, EndpointRow};

/// The module's link in the panel's navigation.
pub const NAV: &[faro_http::NavLink] = &[faro_http::NavLink {
    section: "webhooks",
    label: "Webhooks",
    href: "/admin/webhooks",
    admins_only: false,
}];

/// Deliveries shown per endpoint.
const RECENT: i64 = 10;

pub fn router(wh: Webhooks) -> Router {
    Router::new()
        .route("/admin/webhooks", get(page).post(create))
        .route("/admin/webhooks/{id}/enabled", post(switch))
        .route("/admin/webhooks/{id}/delete", post(delete))
        .route("/admin/webhook-deliveries/{id}/replay", post(replay))
        .with_state(wh)
}

pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    pub kind: String,
    pub status: String,
    /// The badge's class (the panel's colours: green, amber, red).
    pub badge: &'static str,
    pub attempts: i64,
    /// `HTTP 200`, or why the last attempt failed, or "not attempted yet".
    pub answer: String,
    pub when: String,
    pub failed: bool,
}

pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub kinds: String,
    pub enabled: bool,
    pub created: String,
    pub deliveries: Vec<DeliveryView>,
}

/// The endpoint just created, with the secret shown this once.
pub struct Created {
    pub url: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "webhooks/list.html")]
struct WebhooksPage {
    shell: Shell,
    notice: Option<&'static str>,
    created: Option<Created>,
    problems: Vec<Problem>,
    form_url: String,
    form_kinds: String,
    endpoints: Vec<EndpointView>,
    max_attempts: u32,
    max_endpoints: usize,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    msg: Option<String>,
}

/// The fixed notices a redirect may ask the page to show (`?msg=`): never text from the URL.
fn notice(msg: Option<&str>) -> Option<&'static str> {
    Some(match msg? {
        "on" => "The webhook is switched on: new events are delivered to it again.",
        "off" => "The webhook is switched off: it receives nothing until switched on again.",
        "deleted" => "Webhook deleted, with its deliveries.",
        "replayed" => "The delivery is queued again and will be attempted at once.",
        _ => return None,
    })
}

/// `2026-12-05 10:00:03 UTC`, from unix milliseconds.
fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

fn delivery_view(d: DeliveryRow) -> DeliveryView {
    let badge = match d.status.as_str() {
        store::DELIVERED => "published",
        store::FAILED => "off",
        _ => "draft",
    };
    let answer = match (&d.last_error, d.last_status_code) {
        (Some(e), _) => e.clone(),
        (None, Some(code)) => format!("HTTP {code}"),
        (None, None) => "not attempted yet".into(),
    };
    DeliveryView {
        failed: d.status == store::FAILED,
        when: when(d.last_attempt_at.unwrap_or(d.created_at)),
        id: d.id,
        event_id: d.event_id,
        kind: d.event_kind,
        status: d.status,
        badge,
        attempts: d.attempts,
        answer,
    }
}

async fn endpoint_views(
    wh: &Webhooks,
    user: &PanelUser,
) -> Result<Vec<EndpointView>, WebhooksError> {
    let db = &wh.core.db;
    let rows = store::list_endpoints(db, &user.tenant, None, service::MAX_ENDPOINTS as i64).await?;
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let deliveries =
            store::list_deliveries(db, &user.tenant, &e.id, None, None, RECENT).await?;
        out.push(endpoint_view(e, deliveries));
    }
    Ok(out)
}

fn endpoint_view(e: EndpointRow, deliveries: Vec<DeliveryRow>) -> EndpointView {
    EndpointView {
        kinds: e.event_kinds.join(", "),
        created: when(e.created_at),
        id: e.id,
        url: e.url,
        enabled: e.enabled,
        deliveries: deliveries.into_iter().map(delivery_view).collect(),
    }
}

struct Shown {
    notice: Option<&'static str>,
    created: Option<Created>,
    problems: Vec<Problem>,
    form_url: String,
    form_kinds: String,
}

async fn show(wh: &Webhooks, user: &PanelUser, status: StatusCode, shown: Shown) -> PageResult {
    let endpoints = endpoint_views(wh, user).await?;
    Ok(render(
        status,
        &WebhooksPage {
            shell: user.shell("webhooks"),
            notice: shown.notice,
            created: shown.created,
            problems: shown.problems,
            form_url: shown.form_url,
            form_kinds: shown.form_kinds,
            endpoints,
            max_attempts: wh.cfg.schedule.max_attempts(),
            max_endpoints: service::MAX_ENDPOINTS,
        },
    ))
}

/// `GET /admin/webhooks`.
pub async fn page(
    State(wh): State<Webhooks>,
    PageUser(user): PageUser,
    Query(q): Query<PageQuery>,
) -> PageResult {
    show(
        &wh,
        &user,
        StatusCode::OK,
        Shown {
            notice: notice(q.msg.as_deref()),
            created: None,
            problems: Vec::new(),
            form_url: String::new(),
            form_kinds: "quiz.finished".into(),
        },
    )
    .await
}

/// `POST /admin/webhooks`: adds an endpoint and answers with the page showing its secret, or
/// the form again with every problem (422).
pub async fn create(State(wh): State<Webhooks>, AdminForm { user, form }: AdminForm) -> PageResult {
    let url = form.text("url").to_string();
    let kinds_text = form.text("event_kinds").to_string();
    let kinds: Vec<String> = kinds_text
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    match service::create(&wh, &user.tenant, &url, &kinds, &user.actor()).await {
        Ok(e) => {
            show(
                &wh,
                &user,
                StatusCode::OK,
                Shown {
                    notice: None,
                    created: Some(Created {
                        url: e.url,
                        secret: e.secret,
                    }),
                    problems: Vec::new(),
                    form_url: String::new(),
                    form_kinds: "quiz.finished".into(),
                },
            )
            .await
        }
        Err(WebhooksError::Invalid(problems)) => {
            show(
                &wh,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown {
                    notice: None,
                    created: None,
                    problems,
                    form_url: url,
                    form_kinds: kinds_text,
                },
            )
            .await
        }
        Err(e @ WebhooksError::TooMany(_)) => {
            show(
                &wh,
                &user,
                StatusCode::CONFLICT,
                Shown {
                    notice: None,
                    created: None,
                    problems: vec![Problem::new("", e.to_string())],
                    form_url: url,
                    form_kinds: kinds_text,
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/webhooks/{id}/enabled` with `enabled=on|off`.
pub async fn switch(
    State(wh): State<Webhooks>,
    Path(id): Path<String>,
    AdminForm { user, form }: AdminForm,
) -> PageResult {
    let on = form.text("enabled") == "on";
    let change = Change {
        enabled: Some(on),
        ..Change::default()
    };
    service::update(&wh, &user.tenant, &id, change, &user.actor()).await?;
    let msg = if on { "on" } else { "off" };
    Ok(Redirect::to(&format!("/admin/webhooks?msg={msg}")).into_response())
}

/// `POST /admin/webhooks/{id}/delete`.
pub async fn delete(
    State(wh): State<Webhooks>,
    Path(id): Path<String>,
    AdminForm { user, form: _ }: AdminForm,
) -> PageResult {
    service::delete(&wh, &user.tenant, &id, &user.actor()).await?;
    Ok(Redirect::to("/admin/webhooks?msg=deleted").into_response())
}

/// `POST /admin/webhook-deliveries/{id}/replay`.
pub async fn replay(
    State(wh): State<Webhooks>,
    Path(id): Path<String>,
    AdminForm { user, form: _ }: AdminForm,
) -> Result<Response, faro_web::panel::PageError> {
    service::replay(&wh, &user.tenant, &id).await?;
    Ok(Redirect::to("/admin/webhooks?msg=replayed").into_response())
}
