//! Staff's coupons of a promotion: one hand-written code, a generated batch, the list with
//! use counts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use faro_http::audit::Actor;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::respond::PageQuery;
use faro_http::{ApiResult, ClientAddr, Json, Query};
use faro_promotions_domain::CouponKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Promotions;
use crate::coupons::{self, BatchInput, CouponBatch, PromotionCoupon};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponBody {
    /// 3 to 40 letters and digits (spaces and dashes are dropped, letters upper-cased); not
    /// the shape of a generated code (`FARO` and 9 characters). Unique in the site.
    #[schema(example = "SPRING26")]
    pub code: String,
    /// `{"type": "single_use"}`, `{"type": "multi_use", "max_uses"?, "max_uses_per_user"?}`
    /// or `{"type": "per_user", "user_id", "max_uses"?}`.
    #[schema(value_type = Object)]
    pub kind: CouponKind,
    /// Unix seconds, in the future: the coupon works before it.
    pub expires_at: Option<i64>,
}

/// Adds a hand-written code to the promotion.
#[utoipa::path(post, path = "/api/v1/admin/promotions/{id}/coupons", tag = "promotions",
    params(("id" = String, Path)), request_body = CouponBody, security(("bearer" = [])),
    responses(
        (status = 201, body = PromotionCoupon),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 404, description = "No such promotion", body = faro_http::ErrorBody),
        (status = 409, description = "The code is taken in the site (`coupon_code_taken`)", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`), or a body of the wrong shape (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn create_coupon(
    State(p): State<Promotions>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    Json(body): Json<CouponBody>,
) -> ApiResult<(StatusCode, Json<PromotionCoupon>)> {
    let by = Actor::staff(&staff, client.as_deref());
    let c = coupons::create(
        &p,
        &staff.tenant,
        &id,
        &body.code,
        body.kind,
        body.expires_at,
        &by,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[derive(Serialize, ToSchema)]
pub struct PromotionCoupons {
    pub items: Vec<PromotionCoupon>,
    pub next_cursor: Option<String>,
}

/// The promotion's coupons by code, with their use counts.
#[utoipa::path(get, path = "/api/v1/admin/promotions/{id}/coupons", tag = "promotions",
    params(("id" = String, Path), PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = PromotionCoupons),
        (status = 400, description = "A bad `limit` or `cursor`", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, description = "No such promotion", body = faro_http::ErrorBody),
    ))]
pub async fn list_coupons(
    State(p): State<Promotions>,
    Viewer(staff): Viewer,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<PromotionCoupons>> {
    let (limit, after) = q.page()?;
    let mut items = coupons::list(&p, &staff.tenant, &id, after.as_deref(), limit).await?;
    let next_cursor = faro_http::respond::next_page(&mut items, limit, |c| c.code.as_str());
    Ok(Json(PromotionCoupons { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponBatchBody {
    /// How many codes: 1 to 100000.
    #[schema(example = 500)]
    pub count: i64,
    /// Replaces the site's prefix `FARO`: A-Z and 0-9, up to 12 characters, empty for none.
    #[schema(example = "SUMMER")]
    pub prefix: Option<String>,
    /// As for one coupon; every code of the batch gets it.
    #[schema(value_type = Object)]
    pub kind: CouponKind,
    /// Unix seconds, in the future.
    pub expires_at: Option<i64>,
}

/// Generates codes for the promotion: the prefix, 8 random characters and a check character
/// that catches a mistyped character before any lookup. None repeats a code of the site.
#[utoipa::path(post, path = "/api/v1/admin/promotions/{id}/coupons/batch", tag = "promotions",
    params(("id" = String, Path)), request_body = CouponBatchBody, security(("bearer" = [])),
    responses(
        (status = 201, body = CouponBatch),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 404, description = "No such promotion", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`), or a body of the wrong shape (`invalid_body`)", body = faro_http::ErrorBody),
        (status = 503, description = "The generator kept drawing taken codes (`too_many_collisions`): retry", body = faro_http::ErrorBody),
    ))]
pub async fn generate_coupons(
    State(p): State<Promotions>,
    AdminUser(staff): AdminUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    Json(body): Json<CouponBatchBody>,
) -> ApiResult<(StatusCode, Json<CouponBatch>)> {
    let by = Actor::staff(&staff, client.as_deref());
    let input = BatchInput {
        count: body.count,
        prefix: body.prefix,
        kind: body.kind,
        expires_at: body.expires_at,
    };
    let batch = coupons::batch(&p, &staff.tenant, &id, input, &by).await?;
    Ok((StatusCode::CREATED, Json(batch)))
}
