//! Visitors: `GET /api/v1/public/whoami` gives a site's visitor its id (and the signed cookie,
//! made by `faro_http::visitor`), staff list their visitors, and a visitor who registers or
//! logs in becomes the account's: the link is stored and `visitor.merged` is published in one
//! transaction, so each module moves the visitor's history to the account on its own.

use axum::extract::State;
use faro_http::auth::Viewer;
use faro_http::respond::{PageQuery, encode_cursor, rfc3339};
use faro_http::visitor::Visitor;
use faro_http::{ApiError, ApiResult, Core, Json, Query};
use faro_store::outbox::NewEvent;
use faro_store::visitors::{VisitorRow, list_visitors, merge_visitor};
use faro_store::{StoreError, TenantId, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

/// Links `visitor` to `user_id` and publishes `visitor.merged`, once: a visitor already
/// linked (to this account or another) stays as it is.
pub async fn merge(
    core: &Core,
    tenant: &TenantId,
    visitor: &str,
    user_id: &str,
) -> Result<bool, StoreError> {
    let mut tx = core.db.writer().begin().await?;
    if !merge_visitor(&mut tx, tenant, visitor, user_id, unix_now()).await? {
        return Ok(false);
    }
    let event = NewEvent::new(
        tenant.as_str(),
        "visitor.merged",
        user_id,
        &serde_json::json!({"visitor_id": visitor, "user_id": user_id}),
    )?;
    faro_store::outbox::append(&mut tx, core.db.backend(), &[event]).await?;
    tx.commit().await?;
    core.wake.notify();
    Ok(true)
}

#[derive(Serialize, ToSchema)]
pub struct WhoAmI {
    pub visitor_id: String,
    /// The signed id: what the cookie holds, and what a widget on another site sends back in
    /// the `x-faro-visitor` header when cookies are not sent.
    pub token: String,
}

/// The visitor's id on this site; sets the `faro_vid` cookie when it is new.
#[utoipa::path(get, path = "/api/v1/public/whoami", tag = "visitors",
    responses(
        (status = 200, body = WhoAmI, headers(("Set-Cookie" = String, description = "when the id is new"))),
        (status = 503, description = "the site is paused or in maintenance", body = faro_http::ErrorBody),
    ))]
pub async fn whoami(visitor: Visitor) -> (Visitor, Json<WhoAmI>) {
    let body = WhoAmI {
        visitor_id: visitor.id.clone(),
        token: visitor.token.clone(),
    };
    (visitor, Json(body))
}

/// A visitor as staff see it (never its address: only when it came and whom it became).
#[derive(Serialize, ToSchema)]
pub struct VisitorItem {
    pub id: String,
    pub first_seen_at: String,
    /// Up to a minute behind.
    pub last_seen_at: String,
    /// The end user this visitor became, if any.
    pub user_id: Option<String>,
    pub merged_at: Option<String>,
}

impl From<VisitorRow> for VisitorItem {
    fn from(v: VisitorRow) -> Self {
        VisitorItem {
            id: v.id,
            first_seen_at: rfc3339(v.first_seen_at),
            last_seen_at: rfc3339(v.last_seen_at),
            user_id: v.user_id,
            merged_at: v.merged_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct VisitorList {
    pub items: Vec<VisitorItem>,
    pub next_cursor: Option<String>,
}

/// The tenant's visitors, most recently seen first.
#[utoipa::path(get, path = "/api/v1/admin/visitors", tag = "visitors", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = VisitorList),
        (status = 400, body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
    ))]
pub async fn list(
    State(core): State<Core>,
    Viewer(staff): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<VisitorList>> {
    let (limit, after) = q.page()?;
    let before = match after.as_deref() {
        Some(c) => Some(parse_cursor(c)?),
        None => None,
    };
    let mut rows = list_visitors(
        &core.db,
        &staff.tenant,
        before.as_ref().map(|(at, id)| (*at, id.as_str())),
        limit as i64 + 1,
    )
    .await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|r| encode_cursor(&format!("{}:{}", r.last_seen_at, r.id)))
    } else {
        None
    };
    Ok(Json(VisitorList {
        items: rows.into_iter().map(VisitorItem::from).collect(),
        next_cursor,
    }))
}

fn parse_cursor(c: &str) -> ApiResult<(i64, String)> {
    c.split_once(':')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_string())))
        .ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not one we issued"))
}
