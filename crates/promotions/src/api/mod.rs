//! `/api/v1/promotions/*` and `/api/v1/admin/promotions/*`: thin handlers (extract → use
//! case → view).
//!
//! | route | who |
//! |---|---|
//! | `POST`, `GET /api/v1/admin/promotions` | staff: admins (or a `promotions:write` key) create, viewers list |
//! | `GET`, `PUT`, `DELETE /api/v1/admin/promotions/{id}` | staff: viewers read, admins replace and delete |
//! | `POST`, `GET /api/v1/admin/promotions/{id}/coupons` | admins add a code, viewers list codes with their uses |
//! | `POST /api/v1/admin/promotions/{id}/coupons/batch` | admins generate codes |
//! | `GET /api/v1/promotions/active` | anyone on the site |
//! | `GET /api/v1/promotions/{id}/eligibility` | the signed-in end user |

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Promotions;

pub mod admin;
pub mod coupons;
pub mod public;

pub fn router(p: Promotions) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(admin::create_promotion, admin::list_promotions))
        .routes(routes!(
            admin::get_promotion,
            admin::put_promotion,
            admin::delete_promotion
        ))
        .routes(routes!(coupons::create_coupon, coupons::list_coupons))
        .routes(routes!(coupons::generate_coupons))
        .routes(routes!(public::active))
        .routes(routes!(public::eligibility))
        .with_state(p)
}
