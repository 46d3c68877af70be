//! What customers see: the promotions running now, and whether one applies to them.

use axum::extract::{Path, State};
use faro_http::enduser::EndUser;
use faro_http::tenant::PublicTenant;
use faro_http::{ApiResult, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::Promotions;
use crate::eligibility::{self, ActivePromotion, CartInput, PromotionEligibility};

#[derive(Serialize, ToSchema)]
pub struct ActivePromotions {
    pub items: Vec<ActivePromotion>,
}

/// The site's promotions running now, by id: public fields only (no budgets, segments or
/// attribute rules).
#[utoipa::path(get, path = "/api/v1/promotions/active", tag = "promotions",
    responses(
        (status = 200, body = ActivePromotions),
        (status = 404, description = "The site does not run promotions", body = faro_http::ErrorBody),
    ))]
pub async fn active(
    State(p): State<Promotions>,
    PublicTenant(tenant): PublicTenant,
) -> ApiResult<Json<ActivePromotions>> {
    let items = eligibility::active(&p, &tenant).await?;
    Ok(Json(ActivePromotions { items }))
}

/// An optional one-line cart: `sku` and `price_cents` name it, `category` (default empty)
/// and `quantity` (default 1) complete it. Without it only the customer's side is judged.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CartQuery {
    /// The item's sku (1 to 100 characters).
    pub sku: Option<String>,
    /// The item's category (up to 100 characters).
    pub category: Option<String>,
    /// The unit price in cents (0 to 10^10).
    pub price_cents: Option<i64>,
    /// Units (1 to 10000, default 1).
    pub quantity: Option<i64>,
}

/// Whether the promotion applies to the signed-in customer now (with the cart, when given):
/// `{eligible, reasons: [{code, message}]}`, every unmet condition listed at once.
#[utoipa::path(get, path = "/api/v1/promotions/{id}/eligibility", tag = "promotions",
    params(("id" = String, Path), CartQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = PromotionEligibility),
        (status = 400, description = "An unknown or malformed parameter (`invalid_query`)", body = faro_http::ErrorBody),
        (status = 401, description = "No signed-in end user", body = faro_http::ErrorBody),
        (status = 404, description = "No such promotion", body = faro_http::ErrorBody),
        (status = 422, description = "A cart with problems, each named by its parameter (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn eligibility(
    State(p): State<Promotions>,
    user: EndUser,
    Path(id): Path<String>,
    Query(q): Query<CartQuery>,
) -> ApiResult<Json<PromotionEligibility>> {
    let input = CartInput {
        sku: q.sku,
        category: q.category,
        price_cents: q.price_cents,
        quantity: q.quantity,
    };
    Ok(Json(
        eligibility::check(&p, &user.tenant, &user.id, &id, input).await?,
    ))
}
