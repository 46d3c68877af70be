//! `/api/v1/admin/api-keys`: a tenant's admins make, list and revoke keys. Thin: parse, call
//! the use case, shape the answer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::auth::AdminUser;
use faro_http::respond::rfc3339;
use faro_http::{ApiResult, ClientAddr, Core, Json};
use faro_store::api_keys::ApiKeyRow;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::{ApiKeyError, NewKey};
use crate::audit::Actor;
use crate::tenants::domain::Problem;

/// A key as lists show it: never the key itself.
#[derive(Serialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// `faro_` and the key's next six characters, to recognise it.
    #[schema(example = "faro_7Hq2xZ")]
    pub prefix: String,
    #[schema(example = json!(["quiz:read", "webhooks:write"]))]
    pub scopes: Vec<String>,
    /// `active`, `revoked` or `expired`.
    pub status: &'static str,
    /// Username of who made it.
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// Up to a minute behind.
    pub last_used_at: Option<String>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(k: ApiKeyRow) -> Self {
        let status = super::domain::status(k.revoked_at, k.expires_at, faro_store::unix_now());
        ApiKey {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            status,
            created_by: k.created_by,
            created_at: rfc3339(k.created_at),
            expires_at: k.expires_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
            last_used_at: k.last_used_at.map(rfc3339),
        }
    }
}

/// A new key: the only time `key` is shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// Send it as `Authorization: Bearer faro_…`. Stored only as a hash: copy it now.
    pub key: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKey>,
    /// Always null: a tenant's keys fit in one page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyBody {
    /// Who uses it, 1 to 80 characters.
    #[schema(example = "CRM sync")]
    pub name: String,
    /// `<module>:read` or `<module>:write` (write includes read), for the installation's
    /// modules whose API takes keys.
    #[schema(example = json!(["quiz:read"]))]
    pub scopes: Vec<String>,
    /// RFC 3339, in the future; absent: the key never expires.
    pub expires_at: Option<String>,
}

/// Makes an API key for the tenant's integrations; the answer is the only time the key is shown.
#[utoipa::path(post, path = "/api/v1/admin/api-keys", tag = "platform",
    security(("bearer" = [])), request_body = NewApiKeyBody,
    responses(
        (status = 201, body = CreatedApiKey),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "not an admin, or an API key", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
        (status = 429, description = "quota_exceeded: the tenant's plan allows no more", body = faro_http::ErrorBody),
    ))]
pub async fn create_api_key(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<NewApiKeyBody>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    let expires_at = match body.expires_at.as_deref().map(parse_time).transpose() {
        Ok(at) => at,
        Err(m) => {
            return Err(ApiKeyError::Invalid(vec![Problem::new("expires_at", m)]).into());
        }
    };
    let actor = Actor::staff(&staff, client.as_deref());
    let new = NewKey {
        name: body.name,
        scopes: body.scopes,
        expires_at,
    };
    let created = super::create(&core.db, &staff.tenant, &core.key_modules, new, &actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            api_key: created.row.into(),
            key: created.key,
        }),
    ))
}

fn parse_time(s: &str) -> Result<i64, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| format!("\"{s}\" is not an RFC 3339 time such as 2027-01-31T00:00:00Z"))
}

/// The tenant's keys, newest first, revoked and expired ones included.
#[utoipa::path(get, path = "/api/v1/admin/api-keys", tag = "platform",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ApiKeyList),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
    ))]
pub async fn list_api_keys(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
) -> ApiResult<Json<ApiKeyList>> {
    let rows = super::list(&core.db, &staff.tenant).await?;
    Ok(Json(ApiKeyList {
        items: rows.into_iter().map(ApiKey::from).collect(),
        next_cursor: None,
    }))
}

/// One of the tenant's keys.
#[utoipa::path(get, path = "/api/v1/admin/api-keys/{id}", tag = "platform",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ApiKey),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn get_api_key(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    Ok(Json(super::get(&core.db, &staff.tenant, &id).await?.into()))
}

/// Revokes a key: from now on it is refused (401) on this instance at once, on the others
/// within 10 seconds. The key stays listed, as revoked.
#[utoipa::path(delete, path = "/api/v1/admin/api-keys/{id}", tag = "platform",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ApiKey),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn revoke_api_key(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    let actor = Actor::staff(&staff, client.as_deref());
    let row = super::revoke(&core.db, &staff.tenant, &id, &actor).await?;
    core.api_keys.forget(&row.id);
    Ok(Json(row.into()))
}
