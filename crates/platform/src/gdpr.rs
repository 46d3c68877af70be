//! GDPR: everything Faro holds about one end user or one visitor, as one JSON document
//! gathered from every mounted module (`faro_http::personal`), for the person themselves
//! (`GET /api/v1/me/export`) or their site's owners and admins
//! (`GET /api/v1/admin/users/{id}/export`, `GET /api/v1/admin/visitors/{id}/export`), and the
//! erasure of a visitor (`DELETE /api/v1/admin/visitors/{id}`; end users are erased by
//! `DELETE /api/v1/me` and `DELETE /api/v1/admin/users/{id}`). Staff exports and erasures are
//! audited: who asked, for whom, never what was exported.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::auth::AdminUser;
use faro_http::enduser::EndUser;
use faro_http::personal::Subject;
use faro_http::respond::rfc3339;
use faro_http::{ApiError, ApiResult, ClientAddr, Core, Json};
use faro_store::outbox::NewEvent;
use faro_store::visitors::{VisitorRow, delete_visitor, get_visitor, visitors_of_user};
use faro_store::{StoreError, TenantId, unix_now};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::audit::{self, Actor, Entry};
use crate::users::store::{Emails, UserRow, user_by_id};

/// The export document.
#[derive(Serialize, ToSchema)]
pub struct PersonalExport {
    /// Whom it is about: `{"user_id", "visitor_ids"}`.
    #[schema(value_type = Object)]
    pub subject: Value,
    pub exported_at: String,
    /// Each module's part under its name (`platform`, `quiz`, ...).
    #[schema(value_type = Object)]
    pub modules: Map<String, Value>,
}

fn visitor_json(v: &VisitorRow) -> Value {
    json!({
        "id": v.id,
        "first_seen_at": rfc3339(v.first_seen_at),
        "last_seen_at": rfc3339(v.last_seen_at),
        "merged_at": v.merged_at.map(rfc3339),
    })
}

/// The export of an end user: their account, the visitors that became theirs, and every
/// module's part for all of them.
async fn export_user(core: &Core, user: &UserRow) -> Result<PersonalExport, StoreError> {
    let visitors = visitors_of_user(&core.db, &user.tenant, &user.id).await?;
    let subject = Subject {
        tenant: user.tenant.clone(),
        user_id: Some(user.id.clone()),
        visitor_ids: visitors.iter().map(|v| v.id.clone()).collect(),
    };
    let platform = json!({
        "account": {
            "id": user.id,
            "email": user.email,
            "email_verified": user.email_verified_at.is_some(),
            "created_at": rfc3339(user.created_at),
            "last_login_at": user.last_login_at.map(rfc3339),
            "fields": user.fields,
        },
        "visitors": visitors.iter().map(visitor_json).collect::<Vec<_>>(),
    });
    document(core, subject, platform).await
}

async fn export_visitor(
    core: &Core,
    tenant: &TenantId,
    visitor: &VisitorRow,
) -> Result<PersonalExport, StoreError> {
    let subject = Subject {
        tenant: tenant.clone(),
        user_id: None,
        visitor_ids: vec![visitor.id.clone()],
    };
    let mut platform = json!({ "visitor": visitor_json(visitor) });
    platform["visitor"]["user_id"] = json!(visitor.user_id);
    document(core, subject, platform).await
}

async fn document(
    core: &Core,
    subject: Subject,
    platform: Value,
) -> Result<PersonalExport, StoreError> {
    let mut modules = Map::new();
    modules.insert("platform".into(), platform);
    modules.extend(core.personal.export(&core.db, &subject).await?);
    Ok(PersonalExport {
        subject: json!({"user_id": subject.user_id, "visitor_ids": subject.visitor_ids}),
        exported_at: rfc3339(unix_now()),
        modules,
    })
}

async fn audited(
    core: &Core,
    tenant: &TenantId,
    actor: &Actor,
    action: &str,
    target: &str,
) -> Result<(), StoreError> {
    let mut tx = core.db.writer().begin().await?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor,
            action,
            target,
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Everything this site holds about the signed-in end user.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "end users",
    security(("bearer" = [])),
    responses((status = 200, body = PersonalExport), (status = 401, body = faro_http::ErrorBody)))]
pub async fn my_export(State(core): State<Core>, user: EndUser) -> ApiResult<Json<PersonalExport>> {
    let row = user_by_id(&core.db, Emails::of(&core), &user.tenant, &user.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    Ok(Json(export_user(&core, &row).await?))
}

/// Everything the site holds about one of its end users (owners and admins; audited).
#[utoipa::path(get, path = "/api/v1/admin/users/{id}/export", tag = "end users",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = PersonalExport),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn user_export(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonalExport>> {
    let row = user_by_id(&core.db, Emails::of(&core), &staff.tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such end user"))?;
    let export = export_user(&core, &row).await?;
    let actor = Actor::staff(&staff, client.as_deref());
    audited(&core, &staff.tenant, &actor, "user.export", &id).await?;
    Ok(Json(export))
}

/// Everything the site holds about one of its visitors (owners and admins; audited).
#[utoipa::path(get, path = "/api/v1/admin/visitors/{id}/export", tag = "visitors",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = PersonalExport),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn visitor_export(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonalExport>> {
    let visitor = get_visitor(&core.db, &staff.tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such visitor"))?;
    let export = export_visitor(&core, &staff.tenant, &visitor).await?;
    let actor = Actor::staff(&staff, client.as_deref());
    audited(&core, &staff.tenant, &actor, "visitor.export", &id).await?;
    Ok(Json(export))
}

/// Erases a visitor (owners and admins): the row goes at once, and `visitor.deleted` tells
/// every module to erase what it holds about them; the audit log confirms it.
#[utoipa::path(delete, path = "/api/v1/admin/visitors/{id}", tag = "visitors",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 204),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn delete_visitor_endpoint(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = Actor::staff(&staff, client.as_deref());
    if !erase_visitor(&core, &staff.tenant, &id, &actor).await? {
        return Err(ApiError::not_found("no such visitor"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Erases a visitor's row, tells every module through `visitor.deleted`, and audits it, in
/// one transaction. False when the tenant has no such visitor.
pub async fn erase_visitor(
    core: &Core,
    tenant: &TenantId,
    id: &str,
    actor: &Actor,
) -> Result<bool, StoreError> {
    let mut tx = core.db.writer().begin().await?;
    if !delete_visitor(&mut tx, tenant, id).await? {
        return Ok(false);
    }
    let event = NewEvent::new(
        tenant.as_str(),
        "visitor.deleted",
        id,
        &json!({"visitor_id": id}),
    )?;
    faro_store::outbox::append(&mut tx, core.db.backend(), &[event]).await?;
    audit::record(
        &mut tx,
        Entry {
            tenant,
            actor,
            action: "visitor.delete",
            target: id,
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    core.wake.notify();
    Ok(true)
}
