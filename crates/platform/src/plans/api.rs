//! `/api/v1/platform/plans`: the super-admin's plans. Thin: parse, call the use case, shape.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::auth::SuperAdmin;
use faro_http::respond::rfc3339;
use faro_http::{ApiResult, ClientAddr, Core, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::PlanRow;
use crate::audit::Actor;

/// A plan: the quotas of the tenants on it.
#[derive(Serialize, ToSchema)]
pub struct Plan {
    pub name: String,
    /// `staff`, `end_users`, `api_keys`, `tests`, `storage_mb`, `webhooks`: whole numbers; a
    /// missing key
    /// is unlimited. A create past one answers 429 `quota_exceeded`.
    #[schema(value_type = Object, example = json!({"tests": 20, "staff": 5, "storage_mb": 500}))]
    pub quotas: serde_json::Map<String, serde_json::Value>,
    /// How many tenants are on it.
    pub tenants: i64,
    pub updated_at: String,
}

impl From<PlanRow> for Plan {
    fn from(p: PlanRow) -> Self {
        Plan {
            name: p.name,
            quotas: p.quotas,
            tenants: p.tenants,
            updated_at: rfc3339(p.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlanList {
    /// Every plan (an installation has a handful), by name.
    pub items: Vec<Plan>,
    /// Always `null`: the list is whole.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    #[schema(value_type = Object, example = json!({"tests": 20, "staff": 5}))]
    pub quotas: serde_json::Value,
}

#[utoipa::path(get, path = "/api/v1/platform/plans", tag = "platform",
    security(("bearer" = [])),
    responses((status = 200, body = PlanList), (status = 403, body = faro_http::ErrorBody)))]
pub async fn list_plans(
    State(core): State<Core>,
    SuperAdmin(_admin): SuperAdmin,
) -> ApiResult<Json<PlanList>> {
    let items = super::list(&core.db).await?;
    Ok(Json(PlanList {
        items: items.into_iter().map(Plan::from).collect(),
        next_cursor: None,
    }))
}

/// Creates or replaces a plan; tenants on it are held to the new quotas from their next create.
#[utoipa::path(put, path = "/api/v1/platform/plans/{name}", tag = "platform",
    params(("name" = String, Path, description = "1 to 40 lowercase letters, digits, - or _")),
    security(("bearer" = [])), request_body = PlanBody,
    responses(
        (status = 200, body = Plan),
        (status = 403, body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
    ))]
pub async fn put_plan(
    State(core): State<Core>,
    SuperAdmin(admin): SuperAdmin,
    ClientAddr(client): ClientAddr,
    Path(name): Path<String>,
    Json(body): Json<PlanBody>,
) -> ApiResult<Json<Plan>> {
    let actor = Actor::staff(&admin, client.as_deref());
    Ok(Json(
        super::put(&core.db, &name, body.quotas, &actor)
            .await?
            .into(),
    ))
}

/// Deletes a plan no tenant is on.
#[utoipa::path(delete, path = "/api/v1/platform/plans/{name}", tag = "platform",
    params(("name" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 204),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "plan_in_use", body = faro_http::ErrorBody),
    ))]
pub async fn delete_plan(
    State(core): State<Core>,
    SuperAdmin(admin): SuperAdmin,
    ClientAddr(client): ClientAddr,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = Actor::staff(&admin, client.as_deref());
    super::delete(&core.db, &name, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
