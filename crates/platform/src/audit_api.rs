//! Reading the audit log: tenant staff see their tenant's entries, the super-admin every
//! tenant's. Lists page newest first; exports stream every entry as NDJSON (one JSON object a
//! line) for spreadsheets and archives.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use faro_http::auth::{AdminUser, SuperAdmin};
use faro_http::respond::{PageQuery, next_page};
use faro_http::{ApiResult, Core, Json, Query, TenantId};
use faro_store::Db;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, AuditItem};

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditItem>,
    pub next_cursor: Option<String>,
}

async fn page(db: &Db, tenant: Option<&TenantId>, q: &PageQuery) -> ApiResult<Json<AuditList>> {
    let (limit, before) = q.page()?;
    let mut rows = audit::list(db, tenant, before.as_deref(), limit as i64 + 1).await?;
    let next_cursor = next_page(&mut rows, limit, |e| &e.id);
    Ok(Json(AuditList {
        items: rows,
        next_cursor,
    }))
}

/// Pages of 500 entries, newest first, as NDJSON, read one page at a time while the body is
/// sent, so an export of any size holds one page in memory.
fn export(db: Db, tenant: Option<TenantId>, name: &str) -> Response {
    let stream = futures_util::stream::unfold(Some(None::<String>), move |cursor| {
        let db = db.clone();
        let tenant = tenant.clone();
        async move {
            let before = cursor?;
            match audit::list(&db, tenant.as_ref(), before.as_deref(), 500).await {
                Ok(rows) => {
                    let next = (rows.len() == 500).then(|| rows.last().map(|r| r.id.clone()));
                    let mut text = String::new();
                    for r in &rows {
                        if let Ok(line) = serde_json::to_string(r) {
                            text.push_str(&line);
                            text.push('\n');
                        }
                    }
                    Some((Ok::<_, std::io::Error>(text), next.flatten().map(Some)))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    })
    // Fused: an unfold panics when polled after its end, and the layers between it and the
    // connection may poll once more (seen under load as a broken chunked body).
    .fuse();
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// The tenant's audit log, newest first (owners and admins).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "audit", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, body = AuditList), (status = 403, body = faro_http::ErrorBody)))]
pub async fn tenant_audit(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<AuditList>> {
    page(&core.db, Some(&staff.tenant), &q).await
}

/// Every entry of the tenant's audit log as NDJSON.
#[utoipa::path(get, path = "/api/v1/admin/audit/export", tag = "audit",
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/x-ndjson", body = String),
        (status = 403, body = faro_http::ErrorBody)))]
pub async fn tenant_audit_export(
    State(core): State<Core>,
    AdminUser(staff): AdminUser,
) -> Response {
    export(core.db.clone(), Some(staff.tenant), "audit.ndjson")
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlatformAuditQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this tenant's entries (its id).
    pub tenant: Option<String>,
}

/// Every tenant's audit log, newest first (super-admin).
#[utoipa::path(get, path = "/api/v1/platform/audit", tag = "platform",
    params(PlatformAuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditList), (status = 403, body = faro_http::ErrorBody)))]
pub async fn platform_audit(
    State(core): State<Core>,
    SuperAdmin(_admin): SuperAdmin,
    Query(q): Query<PlatformAuditQuery>,
) -> ApiResult<Json<AuditList>> {
    let tenant = q.tenant.map(TenantId::new);
    let pq = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    page(&core.db, tenant.as_ref(), &pq).await
}

/// Every tenant's audit log as NDJSON (super-admin).
#[utoipa::path(get, path = "/api/v1/platform/audit/export", tag = "platform",
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/x-ndjson", body = String),
        (status = 403, body = faro_http::ErrorBody)))]
pub async fn platform_audit_export(
    State(core): State<Core>,
    SuperAdmin(_admin): SuperAdmin,
) -> Response {
    export(core.db.clone(), None, "audit-all.ndjson")
}
