//! Staff's promotions: the domain's document in, the document with its status and counters
//! out.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::audit::Actor;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::respond::PageQuery;
use faro_http::{ApiResult, ClientAddr, Json, Query};
use faro_promotions_domain::Promotion;
use serde::Serialize;
use utoipa::ToSchema;

use crate::Promotions;
use crate::manage::{self, PromotionView};

/// Creates a promotion, checked whole: every problem is listed with its path.
#[utoipa::path(post, path = "/api/v1/admin/promotions", tag = "promotions",
    request_body(content = Object, description = "The promotion: `{id, name, scope?, conditions?, reward, window, budget?, stackable?, priority?, requires_coupon?}` (see docs/promotions.md)"), security(("bearer" = [])),
    responses(
        (status = 201, body = PromotionView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 409, description = "The id is taken (`promotion_exists`), or the site has as many promotions as it may (`too_many_promotions`)", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`), or a body of the wrong shape (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn create_promotion(
    State(p): State<Promotions>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Json(body): Json<Promotion>,
) -> ApiResult<(StatusCode, Json<PromotionView>)> {
    let by = Actor::staff(&staff, client.as_deref());
    let view = manage::create(&p, &staff.tenant, body, &by).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Serialize, ToSchema)]
pub struct PromotionList {
    pub items: Vec<PromotionView>,
    pub next_cursor: Option<String>,
}

/// The tenant's promotions, by id.
#[utoipa::path(get, path = "/api/v1/admin/promotions", tag = "promotions",
    params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = PromotionList),
        (status = 400, description = "A bad `limit` or `cursor`", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
    ))]
pub async fn list_promotions(
    State(p): State<Promotions>,
    Viewer(staff): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PromotionList>> {
    let (limit, after) = q.page()?;
    let mut items = manage::list(&p, &staff.tenant, after.as_deref(), limit).await?;
    let next_cursor = faro_http::respond::next_page(&mut items, limit, |v| v.promotion.id.as_str());
    Ok(Json(PromotionList { items, next_cursor }))
}

/// One promotion with its status and counters.
#[utoipa::path(get, path = "/api/v1/admin/promotions/{id}", tag = "promotions",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = PromotionView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn get_promotion(
    State(p): State<Promotions>,
    Viewer(staff): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<PromotionView>> {
    Ok(Json(manage::get(&p, &staff.tenant, &id).await?))
}

/// Replaces a promotion whole (its counters stay); the body's `id` must be the path's.
#[utoipa::path(put, path = "/api/v1/admin/promotions/{id}", tag = "promotions",
    params(("id" = String, Path)),
    request_body(content = Object, description = "The promotion: `{id, name, scope?, conditions?, reward, window, budget?, stackable?, priority?, requires_coupon?}` (see docs/promotions.md)"), security(("bearer" = [])),
    responses(
        (status = 200, body = PromotionView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`), or a body of the wrong shape (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn put_promotion(
    State(p): State<Promotions>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    Json(body): Json<Promotion>,
) -> ApiResult<Json<PromotionView>> {
    let by = Actor::staff(&staff, client.as_deref());
    Ok(Json(
        manage::update(&p, &staff.tenant, &id, body, &by).await?,
    ))
}

/// Deletes a promotion and its coupons.
#[utoipa::path(delete, path = "/api/v1/admin/promotions/{id}", tag = "promotions",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted, with its coupons"),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn delete_promotion(
    State(p): State<Promotions>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let by = Actor::staff(&staff, client.as_deref());
    manage::delete(&p, &staff.tenant, &id, &by).await?;
    Ok(StatusCode::NO_CONTENT)
}
