//! `/api/v1/platform/tenants`: the super-admin's tenant endpoints. Thin: parse, call the use
//! case, shape the answer.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::auth::SuperAdmin;
use faro_http::respond::{PageQuery, next_page, rfc3339};
use faro_http::{ApiError, ApiResult, ClientAddr, Core, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::domain::Status;
use super::store::TenantRow;
use super::{NewTenant, Patch};
use crate::audit::Actor;

/// A tenant as the console shows it.
#[derive(Serialize, ToSchema)]
pub struct Tenant {
    /// Opaque and permanent (`default` for the installation's first tenant).
    pub id: String,
    pub slug: String,
    pub name: String,
    pub status: Status,
    /// Public pages answer 503 "back soon"; staff keep working.
    pub maintenance: bool,
    /// Optional modules switched on for this tenant; `null`: every one the installation runs.
    pub modules: Option<Vec<String>>,
    pub plan: String,
    /// Default language of its pages: es, ca, pt or en.
    pub language: String,
    /// IANA name, e.g. `Europe/Madrid`.
    pub time_zone: String,
    /// Host names its public pages and visitor API answer on.
    pub hosts: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<TenantRow> for Tenant {
    fn from(t: TenantRow) -> Self {
        Tenant {
            id: t.id,
            slug: t.slug,
            name: t.name,
            status: t.status,
            maintenance: t.maintenance,
            modules: t.modules,
            plan: t.plan,
            language: t.language,
            time_zone: t.time_zone,
            hosts: t.hosts,
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at.max(t.created_at)),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TenantList {
    pub items: Vec<Tenant>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerBody {
    /// 1 to 64 letters, digits or `. _ @ -`.
    pub username: String,
    /// At least 8 characters from three of lowercase, uppercase, digits and symbols, or a
    /// passphrase of 15 or more; not a commonly used password.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantBody {
    /// 2 to 40 lowercase letters, digits or single hyphens, starting with a letter.
    #[schema(example = "cocinas-lopez")]
    pub slug: String,
    #[schema(example = "Cocinas López")]
    pub name: String,
    /// Host names (no scheme, port or path); each may belong to one tenant only.
    #[serde(default)]
    #[schema(example = json!(["cocinaslopez.es"]))]
    pub hosts: Vec<String>,
    /// es (default), ca, pt or en.
    pub language: Option<String>,
    /// IANA time zone (default `UTC`).
    #[schema(example = "Europe/Madrid")]
    pub time_zone: Option<String>,
    /// Default `free`.
    pub plan: Option<String>,
    /// Optional modules to switch on; absent: every one the installation runs.
    pub modules: Option<Vec<String>>,
    /// The tenant's first owner, who signs in on the tenant's host names.
    pub owner: Option<OwnerBody>,
}

/// Creates a tenant, its host names and (optionally) its first owner.
#[utoipa::path(post, path = "/api/v1/platform/tenants", tag = "platform",
    security(("bearer" = [])), request_body = NewTenantBody,
    responses(
        (status = 201, body = Tenant),
        (status = 403, body = faro_http::ErrorBody),
        (status = 409, description = "slug_taken or host_taken", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
    ))]
pub async fn create_tenant(
    State(core): State<Core>,
    SuperAdmin(admin): SuperAdmin,
    ClientAddr(client): ClientAddr,
    Json(body): Json<NewTenantBody>,
) -> ApiResult<(StatusCode, Json<Tenant>)> {
    let actor = Actor::staff(&admin, client.as_deref());
    let new = NewTenant {
        slug: body.slug,
        name: body.name,
        hosts: body.hosts,
        language: body.language,
        time_zone: body.time_zone,
        plan: body.plan,
        modules: body.modules,
        owner: body.owner.map(|o| (o.username, o.password)),
    };
    let row = super::create(&core.db, &core.modules, new, &actor).await?;
    core.tenants.invalidate();
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(get, path = "/api/v1/platform/tenants", tag = "platform", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = TenantList), (status = 403, body = faro_http::ErrorBody)))]
pub async fn list_tenants(
    State(core): State<Core>,
    SuperAdmin(_admin): SuperAdmin,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<TenantList>> {
    let (limit, after) = q.page()?;
    let mut rows = super::store::list(&core.db, after.as_deref(), limit as i64 + 1).await?;
    let next_cursor = next_page(&mut rows, limit, |t| &t.slug);
    Ok(Json(TenantList {
        items: rows.into_iter().map(Tenant::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/platform/tenants/{tenant}", tag = "platform",
    params(("tenant" = String, Path, description = "Id or slug")), security(("bearer" = [])),
    responses((status = 200, body = Tenant), (status = 404, body = faro_http::ErrorBody)))]
pub async fn get_tenant(
    State(core): State<Core>,
    SuperAdmin(_admin): SuperAdmin,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Tenant>> {
    let row = super::store::get(&core.db, &tenant)
        .await?
        .ok_or_else(|| ApiError::from(super::TenantError::NotFound))?;
    Ok(Json(row.into()))
}

/// What a tenant uses now: people, requests, events, files and server errors (requests lag by
/// at most one counter flush, a second by default).
#[utoipa::path(get, path = "/api/v1/platform/tenants/{tenant}/usage", tag = "platform",
    params(("tenant" = String, Path, description = "Id or slug")), security(("bearer" = [])),
    responses((status = 200, body = super::usage::Usage), (status = 404, body = faro_http::ErrorBody)))]
pub async fn tenant_usage(
    State(core): State<Core>,
    SuperAdmin(_admin): SuperAdmin,
    Path(tenant): Path<String>,
) -> ApiResult<Json<super::usage::Usage>> {
    let row = super::store::get(&core.db, &tenant)
        .await?
        .ok_or_else(|| ApiError::from(super::TenantError::NotFound))?;
    let mut usage = super::usage::usage(&core.db, Some(&row.id)).await?;
    Ok(Json(usage.remove(&row.id).unwrap_or_default()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchBody {
    pub name: Option<String>,
    /// Replaces the list.
    pub hosts: Option<Vec<String>>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub plan: Option<String>,
    /// `paused` stops public pages (503) and staff sign-in; `active` resumes.
    pub status: Option<Status>,
    pub maintenance: Option<bool>,
    /// Optional modules switched on; `null` switches every installed module on.
    #[serde(default, deserialize_with = "faro_http::respond::double_option")]
    #[schema(value_type = Option<Vec<String>>)]
    pub modules: Option<Option<Vec<String>>>,
}

#[utoipa::path(patch, path = "/api/v1/platform/tenants/{tenant}", tag = "platform",
    params(("tenant" = String, Path, description = "Id or slug")), security(("bearer" = [])),
    request_body = TenantPatchBody,
    responses(
        (status = 200, body = Tenant),
        (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "host_taken or default_tenant", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
    ))]
pub async fn update_tenant(
    State(core): State<Core>,
    SuperAdmin(admin): SuperAdmin,
    ClientAddr(client): ClientAddr,
    Path(tenant): Path<String>,
    Json(body): Json<TenantPatchBody>,
) -> ApiResult<Json<Tenant>> {
    let actor = Actor::staff(&admin, client.as_deref());
    let patch = Patch {
        name: body.name,
        hosts: body.hosts,
        language: body.language,
        time_zone: body.time_zone,
        plan: body.plan,
        status: body.status,
        maintenance: body.maintenance,
        modules: body.modules,
    };
    let row = super::update(&core.db, &core.modules, &tenant, patch, &actor).await?;
    core.tenants.invalidate();
    Ok(Json(row.into()))
}

/// How long an impersonation token lasts: long enough to look into a problem, short enough
/// that a forgotten one is soon worthless.
pub const IMPERSONATION_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Serialize, ToSchema)]
pub struct Impersonation {
    /// An owner's token for the tenant, marked with the super-admin's id; it cannot reach the
    /// console.
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds (900).
    pub expires_in: u64,
    /// The tenant's id.
    pub tenant: String,
}

/// A short-lived owner's token for a tenant, to see what its staff see. Audited in the
/// tenant's log (`tenant.impersonate`), and every change made with it names the super-admin.
#[utoipa::path(post, path = "/api/v1/platform/tenants/{tenant}/impersonate", tag = "platform",
    params(("tenant" = String, Path, description = "Id or slug")), security(("bearer" = [])),
    responses((status = 200, body = Impersonation), (status = 403, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody)))]
pub async fn impersonate(
    State(core): State<Core>,
    SuperAdmin(admin): SuperAdmin,
    ClientAddr(client): ClientAddr,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Impersonation>> {
    let row = super::store::get(&core.db, &tenant)
        .await?
        .ok_or_else(|| ApiError::from(super::TenantError::NotFound))?;
    let actor = Actor::staff(&admin, client.as_deref());
    let access_token = impersonation_token(&core, &row, &actor).await?;
    Ok(Json(Impersonation {
        access_token,
        token_type: "Bearer",
        expires_in: IMPERSONATION_TTL.as_secs(),
        tenant: row.id,
    }))
}

/// An owner's token for `row`, marked with the super-admin `actor` (their id and name), after
/// recording `tenant.impersonate` in the tenant's audit log.
pub async fn impersonation_token(
    core: &Core,
    row: &super::store::TenantRow,
    actor: &Actor,
) -> ApiResult<String> {
    let target = faro_http::TenantId::new(row.id.as_str());
    let actor_id = actor
        .id
        .as_deref()
        .ok_or_else(|| ApiError::internal("an impersonation needs the super-admin's id"))?;
    crate::audit::record_alone(
        &core.db,
        crate::audit::Entry {
            tenant: &target,
            actor,
            action: "tenant.impersonate",
            target: &row.id,
            before: None,
            after: Some(serde_json::json!({"expires_in": IMPERSONATION_TTL.as_secs()})),
        },
    )
    .await?;
    let grant = faro_auth::token::Grant {
        user_id: actor_id,
        username: &actor.name,
        tenant_id: &row.id,
        role: faro_auth::Role::Owner,
        super_admin: false,
        impersonator: Some(actor_id),
        mfa: false,
    };
    core.keys
        .issue_grant(&grant, IMPERSONATION_TTL, faro_store::unix_now())
        .map_err(ApiError::internal)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeBody {
    /// The tenant's slug, typed again.
    pub confirm: String,
}

#[derive(Serialize, ToSchema)]
pub struct Purged {
    /// Rows deleted, every table together.
    pub rows_deleted: u64,
}

/// Deletes a paused tenant and everything every module holds for it, for good (its slug
/// repeated in `confirm`). Recorded in the default tenant's audit log.
#[utoipa::path(post, path = "/api/v1/platform/tenants/{tenant}/purge", tag = "platform",
    params(("tenant" = String, Path, description = "Id or slug")), security(("bearer" = [])),
    request_body = PurgeBody,
    responses(
        (status = 200, body = Purged),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "not_paused or default_tenant", body = faro_http::ErrorBody),
        (status = 422, body = faro_http::ErrorBody),
    ))]
pub async fn purge_tenant(
    State(core): State<Core>,
    SuperAdmin(admin): SuperAdmin,
    ClientAddr(client): ClientAddr,
    Path(tenant): Path<String>,
    Json(body): Json<PurgeBody>,
) -> ApiResult<Json<Purged>> {
    let actor = Actor::staff(&admin, client.as_deref());
    let deleted = super::purge::purge(&core.db, &tenant, &body.confirm, &actor).await?;
    core.tenants.invalidate();
    core.wake.notify();
    Ok(Json(Purged {
        rows_deleted: deleted.iter().map(|(_, n)| n).sum(),
    }))
}
