//! The admin API of webhooks: endpoints (register, list, read, change, delete), their
//! deliveries, and replaying one. Reads need `Viewer`, writes `AdminUser`; everything is the
//! caller's tenant's (another tenant's ids answer 404).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::audit::Actor;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::respond::{PageQuery, decode_cursor, next_page, page_limit};
use faro_http::{ApiResult, ClientAddr, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Webhooks;
use crate::service::{self, Change};
use crate::store::{self, DeliveryRow, EndpointRow};

/// Every route of the module, with its OpenAPI description.
pub fn router(wh: Webhooks) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(replay_delivery))
        .with_state(wh)
}

/// RFC 3339 (UTC) with milliseconds, from unix milliseconds.
pub fn at(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A registered endpoint (its secret is shown only when it is created).
#[derive(Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    #[schema(example = "https://receiver.example/faro")]
    pub url: String,
    /// Exact kinds (`quiz.finished`) or whole modules (`quiz.*`).
    #[schema(example = json!(["quiz.finished"]))]
    pub event_kinds: Vec<String>,
    /// A disabled endpoint receives nothing: events that happen meanwhile are not queued for
    /// it, and the retries of queued deliveries wait.
    pub enabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<EndpointRow> for Webhook {
    fn from(e: EndpointRow) -> Self {
        Webhook {
            id: e.id,
            url: e.url,
            event_kinds: e.event_kinds,
            enabled: e.enabled,
            created_at: at(e.created_at),
            updated_at: at(e.updated_at),
        }
    }
}

/// A new endpoint with its signing secret: the only answer that shows the secret.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: String,
    /// `whsec_` + base64 of the key: verify deliveries with any Standard Webhooks library.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
    pub url: String,
    pub event_kinds: Vec<String>,
    pub enabled: bool,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed: http or https, at most 2,048 characters. Private, loopback
    /// and link-local addresses are refused unless the installation allows them
    /// (`ALLOW_PRIVATE_NETWORK_TARGETS`), here for literal addresses and at every delivery for
    /// what a host name resolves to.
    #[schema(
        example = "https://receiver.example/faro",
        min_length = 1,
        max_length = 2048
    )]
    pub url: String,
    /// 1 to 20 patterns: `module.action` or `module.*`.
    #[schema(example = json!(["quiz.finished"]), min_items = 1, max_items = 20)]
    pub event_kinds: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    /// A new URL, checked as on creation.
    #[schema(min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// New patterns, replacing the old ones (1 to 20).
    #[schema(min_items = 1, max_items = 20)]
    pub event_kinds: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "webhooks", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = WebhookList)))]
pub async fn list_webhooks(
    State(wh): State<Webhooks>,
    Viewer(user): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<WebhookList>> {
    let (limit, after) = q.page()?;
    let mut rows = store::list_endpoints(
        &wh.core.db,
        &user.tenant,
        after.as_deref(),
        limit as i64 + 1,
    )
    .await?;
    let next_cursor = next_page(&mut rows, limit, |e| &e.id);
    Ok(Json(WebhookList {
        items: rows.into_iter().map(Webhook::from).collect(),
        next_cursor,
    }))
}

/// Registers an endpoint. The answer carries the signing secret, shown only this once.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "webhooks", request_body = NewWebhook,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedWebhook),
        (status = 409, description = "The tenant has the most endpoints allowed (`too_many_webhooks`)", body = faro_http::ErrorBody),
        (status = 429, description = "quota_exceeded: the tenant's plan allows no more", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem of the URL and the event kinds (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn create_webhook(
    State(wh): State<Webhooks>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let by = Actor::staff(&user, client.as_deref());
    let e = service::create(&wh, &user.tenant, &body.url, &body.event_kinds, &by).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            id: e.id,
            secret: e.secret,
            url: e.url,
            event_kinds: e.event_kinds,
            enabled: e.enabled,
            created_at: at(e.created_at),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}", tag = "webhooks",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Webhook), (status = 404, body = faro_http::ErrorBody)))]
pub async fn get_webhook(
    State(wh): State<Webhooks>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(
        service::endpoint(&wh, &user.tenant, &id).await?.into(),
    ))
}

/// Changes the URL, the event kinds or whether the endpoint is enabled; absent fields stay.
#[utoipa::path(patch, path = "/api/v1/admin/webhooks/{id}", tag = "webhooks",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = WebhookChange,
    responses((status = 200, body = Webhook), (status = 404, body = faro_http::ErrorBody),
        (status = 422, description = "Every problem of the URL and the event kinds (`validation_failed`)", body = faro_http::ErrorBody)))]
pub async fn update_webhook(
    State(wh): State<Webhooks>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    Json(body): Json<WebhookChange>,
) -> ApiResult<Json<Webhook>> {
    let by = Actor::staff(&user, client.as_deref());
    let change = Change {
        url: body.url,
        event_kinds: body.event_kinds,
        enabled: body.enabled,
    };
    Ok(Json(
        service::update(&wh, &user.tenant, &id, change, &by)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", tag = "webhooks",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "Deleted with its deliveries"), (status = 404, body = faro_http::ErrorBody)))]
pub async fn delete_webhook(
    State(wh): State<Webhooks>,
    AdminUser(user): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    service::delete(
        &wh,
        &user.tenant,
        &id,
        &Actor::staff(&user, client.as_deref()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt failed; replay it to try again.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => store::PENDING,
            DeliveryStatus::Delivered => store::DELIVERED,
            DeliveryStatus::Failed => store::FAILED,
        }
    }
}

/// One event's delivery to one endpoint, with its last attempt.
#[derive(Serialize, ToSchema)]
pub struct Delivery {
    pub id: String,
    /// The endpoint (webhook) it goes to.
    pub endpoint_id: String,
    /// The event's id, sent as `webhook-id` (the same on every attempt).
    pub event_id: String,
    pub event_kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made since it was queued or last replayed.
    pub attempts: i64,
    /// Attempts it gets before it is failed.
    pub max_attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// The HTTP status of the last answer; null when none came (connection error, timeout,
    /// refused address).
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed; null when it succeeded.
    pub last_error: Option<String>,
    /// The start of the last answer's body (at most 1 KiB).
    pub last_response: Option<String>,
    pub last_duration_ms: Option<i64>,
    pub delivered_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Delivery {
    pub fn of(d: DeliveryRow, max_attempts: u32) -> Delivery {
        Delivery {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_kind: d.event_kind,
            status: d.status,
            attempts: d.attempts,
            max_attempts: i64::from(max_attempts),
            next_attempt_at: d.next_attempt_at.map(at),
            last_attempt_at: d.last_attempt_at.map(at),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            last_response: d.last_response,
            last_duration_ms: d.last_duration_ms,
            delivered_at: d.delivered_at.map(at),
            created_at: at(d.created_at),
            updated_at: at(d.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this status.
    #[param(inline)]
    pub status: Option<DeliveryStatus>,
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}/deliveries", tag = "webhooks",
    security(("bearer" = [])), params(("id" = String, Path), DeliveryQuery),
    responses((status = 200, body = DeliveryList), (status = 404, body = faro_http::ErrorBody)))]
pub async fn list_deliveries(
    State(wh): State<Webhooks>,
    Viewer(user): Viewer,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let limit = page_limit(q.limit)?;
    let before = q.cursor.as_deref().map(decode_cursor).transpose()?;
    service::endpoint(&wh, &user.tenant, &id).await?;
    let mut rows = store::list_deliveries(
        &wh.core.db,
        &user.tenant,
        &id,
        q.status.map(DeliveryStatus::as_str),
        before.as_deref(),
        limit as i64 + 1,
    )
    .await?;
    let next_cursor = next_page(&mut rows, limit, |d| &d.id);
    let max = wh.cfg.schedule.max_attempts();
    Ok(Json(DeliveryList {
        items: rows.into_iter().map(|d| Delivery::of(d, max)).collect(),
        next_cursor,
    }))
}

/// Queues a delivery again, failed or not: due at once, with the whole retry schedule.
#[utoipa::path(post, path = "/api/v1/admin/webhook-deliveries/{id}/replay", tag = "webhooks",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 202, description = "Queued again", body = Delivery), (status = 404, body = faro_http::ErrorBody)))]
pub async fn replay_delivery(
    State(wh): State<Webhooks>,
    AdminUser(user): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let d = service::replay(&wh, &user.tenant, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Delivery::of(d, wh.cfg.schedule.max_attempts())),
    ))
}
