//! `/api/v1/admin/settings`: the tenant's settings document and its versions. Reading is for
//! every staff member; saving and rolling back for owners and admins. Thin.

use axum::extract::{Path, State};
use faro_http::auth::{AdminUser, Viewer};
use faro_http::respond::{PageQuery, decode_cursor, encode_cursor, rfc3339};
use faro_http::{ApiError, ApiResult, ClientAddr, Core, Json, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::Version;
use crate::audit::Actor;

#[derive(Serialize, ToSchema)]
pub struct SettingsVersion {
    /// 0 until the settings are first saved.
    pub version: i64,
    /// `{branding: {colors, logo, texts}, origins: [..], roles, retention, security, user_fields}`;
    /// quotas come from the tenant's plan (`/api/v1/platform/plans`), not from here.
    #[schema(value_type = Object)]
    pub doc: Value,
    /// Username of who saved it (`system` for version 0).
    pub actor: String,
    /// `rollback to N` for a rollback.
    pub note: Option<String>,
    pub created_at: Option<String>,
}

impl From<Version> for SettingsVersion {
    fn from(v: Version) -> Self {
        SettingsVersion {
            version: v.version,
            doc: v.doc,
            actor: v.actor,
            note: v.note,
            created_at: (v.created_at > 0).then(|| rfc3339(v.created_at)),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SettingsVersions {
    pub items: Vec<SettingsVersion>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveSettings {
    /// The whole document (it replaces the current one).
    #[schema(value_type = Object)]
    pub doc: Value,
    /// The version this edit started from: when someone saved meanwhile, 409
    /// `settings_changed` instead of overwriting their change.
    pub base_version: Option<i64>,
}

/// The tenant's current settings.
#[utoipa::path(get, path = "/api/v1/admin/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = SettingsVersion), (status = 401, body = faro_http::ErrorBody)))]
pub async fn get_settings(
    State(core): State<Core>,
    Viewer(staff): Viewer,
) -> ApiResult<Json<SettingsVersion>> {
    Ok(Json(super::current(&core.db, &staff.tenant).await?.into()))
}

/// Saves the settings as a new version (audited).
#[utoipa::path(put, path = "/api/v1/admin/settings", tag = "settings", security(("bearer" = [])),
    request_body = SaveSettings,
    responses(
        (status = 200, body = SettingsVersion),
        (status = 403, body = faro_http::ErrorBody),
        (status = 409, description = "settings_changed", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
    ))]
pub async fn save_settings(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<SaveSettings>,
) -> ApiResult<Json<SettingsVersion>> {
    let actor = Actor::staff(&staff, client.as_deref());
    let v = super::save(&core.db, &staff.tenant, body.doc, body.base_version, &actor).await?;
    // The allowed origins (CORS) live in the tenant directory.
    core.tenants.invalidate();
    Ok(Json(v.into()))
}

/// Every saved version, newest first.
#[utoipa::path(get, path = "/api/v1/admin/settings/versions", tag = "settings",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = SettingsVersions), (status = 400, body = faro_http::ErrorBody)))]
pub async fn list_versions(
    State(core): State<Core>,
    Viewer(staff): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<SettingsVersions>> {
    let limit = faro_http::respond::page_limit(q.limit)?;
    let before = match q.cursor.as_deref() {
        Some(c) => Some(decode_cursor(c)?.parse::<i64>().map_err(|_| {
            ApiError::bad_request("invalid_cursor", "the cursor is not one we issued")
        })?),
        None => None,
    };
    let mut rows = super::versions(&core.db, &staff.tenant, before, limit as i64 + 1).await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|v| encode_cursor(&v.version.to_string()))
    } else {
        None
    };
    Ok(Json(SettingsVersions {
        items: rows.into_iter().map(SettingsVersion::from).collect(),
        next_cursor,
    }))
}

/// Writes version `version`'s document again as the newest version (audited).
#[utoipa::path(post, path = "/api/v1/admin/settings/versions/{version}/rollback", tag = "settings",
    security(("bearer" = [])),
    responses(
        (status = 200, body = SettingsVersion),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn rollback(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(version): Path<i64>,
) -> ApiResult<Json<SettingsVersion>> {
    let actor = Actor::staff(&staff, client.as_deref());
    let v = super::rollback(&core.db, &staff.tenant, version, &actor).await?;
    core.tenants.invalidate();
    Ok(Json(v.into()))
}
