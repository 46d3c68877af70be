//! `/api/v1/admin/staff`: a tenant's owners and admins manage its staff. Thin.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::auth::AdminUser;
use faro_http::respond::rfc3339;
use faro_http::{ApiResult, ClientAddr, Core, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::StaffRow;
use super::{ActingAs, Change, StaffError};
use crate::audit::Actor;

/// A staff member (never their password).
#[derive(Serialize, ToSchema)]
pub struct StaffMember {
    pub id: String,
    pub username: String,
    /// owner, admin, agent or viewer.
    pub role: String,
    /// Disabled accounts cannot sign in; they stay for the audit log's sake.
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<StaffRow> for StaffMember {
    fn from(r: StaffRow) -> Self {
        StaffMember {
            id: r.id,
            username: r.username,
            role: r.role.as_str().to_string(),
            disabled: r.disabled,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at.max(r.created_at)),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StaffList {
    pub items: Vec<StaffMember>,
    /// Always null: a tenant's staff fit in one page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaffBody {
    /// 1 to 64 letters, digits or `. _ @ -`; unique in the tenant.
    pub username: String,
    /// The password policy's: 8+ characters from three classes, or a passphrase of 15+.
    pub password: String,
    /// owner, admin, agent or viewer; not above your own.
    pub role: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffPatch {
    pub role: Option<String>,
    pub disabled: Option<bool>,
    /// A new password (a reset by an owner or admin).
    pub password: Option<String>,
}

fn acting<'a>(staff: &'a faro_http::Staff, actor: &'a Actor) -> ActingAs<'a> {
    ActingAs {
        id: &staff.claims.sub,
        role: staff.claims.role,
        actor,
    }
}

/// The tenant's staff, by username.
#[utoipa::path(get, path = "/api/v1/admin/staff", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = StaffList), (status = 403, body = faro_http::ErrorBody)))]
pub async fn list_staff(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
) -> ApiResult<Json<StaffList>> {
    let rows = super::store::list(&core.db, &staff.tenant)
        .await
        .map_err(StaffError::from)?;
    Ok(Json(StaffList {
        items: rows.into_iter().map(StaffMember::from).collect(),
        next_cursor: None,
    }))
}

/// Adds a staff member (audited).
#[utoipa::path(post, path = "/api/v1/admin/staff", tag = "staff", security(("bearer" = [])),
    request_body = NewStaffBody,
    responses(
        (status = 201, body = StaffMember),
        (status = 403, description = "role_above_yours", body = faro_http::ErrorBody),
        (status = 409, description = "username_taken", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
        (status = 429, description = "quota_exceeded: the tenant's plan allows no more", body = faro_http::ErrorBody),
    ))]
pub async fn create_staff(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<NewStaffBody>,
) -> ApiResult<(StatusCode, Json<StaffMember>)> {
    let actor = Actor::staff(&staff, client.as_deref());
    let row = super::create(
        &core.db,
        &staff.tenant,
        &acting(&staff, &actor),
        &body.username,
        &body.password,
        &body.role,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// One staff member.
#[utoipa::path(get, path = "/api/v1/admin/staff/{id}", tag = "staff", security(("bearer" = [])),
    responses((status = 200, body = StaffMember), (status = 404, body = faro_http::ErrorBody)))]
pub async fn get_staff(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<StaffMember>> {
    let row = super::store::get(&core.db, &staff.tenant, &id)
        .await
        .map_err(StaffError::from)?
        .ok_or(StaffError::NotFound)?;
    Ok(Json(row.into()))
}

/// Changes a staff member's role, disables or enables them, or resets their password
/// (audited). The tenant keeps at least one active owner. The account's tokens issued before
/// the change are refused from now on (on other instances within 5 seconds): they carry the
/// old role.
#[utoipa::path(patch, path = "/api/v1/admin/staff/{id}", tag = "staff", security(("bearer" = [])),
    request_body = StaffPatch,
    responses(
        (status = 200, body = StaffMember),
        (status = 403, description = "role_above_yours", body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "last_owner or own_account", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
        (status = 429, description = "quota_exceeded: the tenant's plan allows no more", body = faro_http::ErrorBody),
    ))]
pub async fn update_staff(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    Json(body): Json<StaffPatch>,
) -> ApiResult<Json<StaffMember>> {
    let actor = Actor::staff(&staff, client.as_deref());
    let change = Change {
        role: body.role,
        disabled: body.disabled,
        password: body.password,
    };
    let row = super::update(
        &core.db,
        &staff.tenant,
        &acting(&staff, &actor),
        &id,
        change,
    )
    .await?;
    // Its tokens issued before now are refused on this instance at once (elsewhere within 5 s).
    core.staff_tokens.forget(&row.id);
    Ok(Json(row.into()))
}
