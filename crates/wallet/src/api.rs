//! `/api/v1/wallet/*` and `/api/v1/admin/wallet/*`: thin handlers (extract → use case → view).
//!
//! | route | who |
//! |---|---|
//! | `POST`, `GET /api/v1/admin/wallet/items` | staff: admins add, viewers list |
//! | `POST /api/v1/admin/wallet/grants` | staff (admin) or a `wallet:write` key, with `Idempotency-Key` |
//! | `GET /api/v1/admin/wallet/users/{user}/balance` | staff or a `wallet:read` key |
//! | `GET /api/v1/wallet/balance` | the signed-in end user |
//! | `POST /api/v1/wallet/purchase` | the signed-in end user, with `Idempotency-Key` |
//! | `GET /api/v1/wallet/transactions` | the signed-in end user |

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use faro_http::auth::{AdminUser, Viewer};
use faro_http::enduser::EndUser;
use faro_http::respond::{PageQuery, decode_cursor, encode_cursor};
use faro_http::{ApiError, ApiResult, Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Wallet;
use crate::accounts::{self, WalletBalance};
use crate::catalogue::{self, WalletItem};
use crate::grant::{self, GrantInput, Granted};
use crate::history::{self, WalletTransaction};
use crate::purchase::{self, PurchaseInput, Purchased};
use faro_store::idempotency::Reply;

pub fn router(w: Wallet) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_item, list_items))
        .routes(routes!(create_grant))
        .routes(routes!(user_balance))
        .routes(routes!(my_balance))
        .routes(routes!(buy))
        .routes(routes!(my_transactions))
        .with_state(w)
}

fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("idempotency-key").and_then(|v| v.to_str().ok())
}

/// 201 with the body; a replay says so in `Idempotency-Replayed: true`.
fn created(reply: Reply) -> Response {
    let mut r = (StatusCode::CREATED, axum::Json(reply.body)).into_response();
    if reply.replayed {
        r.headers_mut()
            .insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    r
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    /// 1 to 64 letters, digits, `_`, `-` or `.`; unique in the tenant.
    #[schema(example = "pdf-pack-10")]
    pub sku: String,
    #[schema(example = "10 PDF conversions")]
    pub name: String,
    /// At least 1.
    #[schema(example = 50)]
    pub price_credits: i64,
}

/// Adds a digital item to the tenant's catalogue, priced in credits.
#[utoipa::path(post, path = "/api/v1/admin/wallet/items", tag = "wallet",
    request_body = ItemBody, security(("bearer" = [])),
    responses(
        (status = 201, body = WalletItem),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 409, description = "The sku exists (`sku_taken`)", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn create_item(
    State(w): State<Wallet>,
    AdminUser(staff): AdminUser,
    Json(body): Json<ItemBody>,
) -> ApiResult<(StatusCode, Json<WalletItem>)> {
    let item =
        catalogue::create(&w, &staff.tenant, &body.sku, &body.name, body.price_credits).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

#[derive(Serialize, ToSchema)]
pub struct WalletItems {
    pub items: Vec<WalletItem>,
    pub next_cursor: Option<String>,
}

/// The tenant's catalogue, by sku.
#[utoipa::path(get, path = "/api/v1/admin/wallet/items", tag = "wallet",
    params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = WalletItems),
        (status = 400, description = "A bad `limit` or `cursor`", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
    ))]
pub async fn list_items(
    State(w): State<Wallet>,
    Viewer(staff): Viewer,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<WalletItems>> {
    let (limit, after) = q.page()?;
    let mut items = catalogue::list(&w, &staff.tenant, after.as_deref(), limit).await?;
    let next_cursor = faro_http::respond::next_page(&mut items, limit, |i| i.sku.as_str());
    Ok(Json(WalletItems { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// The tenant's end-user id.
    pub user: String,
    /// Credits to grant, at least 1.
    #[schema(example = 100)]
    pub amount: i64,
    /// Why (kept with the transfer's reply): 1 to 300 characters.
    #[schema(example = "welcome bonus")]
    pub reason: String,
}

/// Grants credits to a user: a transfer from the tenant's issuance account to the user's
/// credits. Requires `Idempotency-Key`: the same key and body replays the first answer
/// (`Idempotency-Replayed: true`), the same key with another body is 409.
#[utoipa::path(post, path = "/api/v1/admin/wallet/grants", tag = "wallet",
    request_body = GrantBody, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per grant")),
    responses(
        (status = 201, description = "Granted (or the first answer, replayed)", body = Granted),
        (status = 400, description = "No or a bad `Idempotency-Key` (`missing_idempotency_key`, `invalid_idempotency_key`), or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 409, description = "The key was used with another body (`idempotency_key_reused`)", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn create_grant(
    State(w): State<Wallet>,
    AdminUser(staff): AdminUser,
    headers: HeaderMap,
    Json(body): Json<GrantBody>,
) -> ApiResult<Response> {
    let reply = grant::grant(
        &w,
        &staff.tenant,
        &staff.claims.sub,
        idempotency_key(&headers),
        GrantInput {
            user: body.user,
            amount: body.amount,
            reason: body.reason,
        },
    )
    .await?;
    Ok(created(reply))
}

/// A user's balance (staff, or a `wallet:read` key); zero for a user never credited.
#[utoipa::path(get, path = "/api/v1/admin/wallet/users/{user}/balance", tag = "wallet",
    params(("user" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = WalletBalance),
        (status = 401, body = faro_http::ErrorBody),
        (status = 422, description = "Not a user id (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn user_balance(
    State(w): State<Wallet>,
    Viewer(staff): Viewer,
    Path(user): Path<String>,
) -> ApiResult<Json<WalletBalance>> {
    Ok(Json(accounts::balance(&w, &staff.tenant, &user).await?))
}

/// The signed-in end user's balance.
#[utoipa::path(get, path = "/api/v1/wallet/balance", tag = "wallet",
    security(("bearer" = [])),
    responses((status = 200, body = WalletBalance), (status = 401, body = faro_http::ErrorBody)))]
pub async fn my_balance(State(w): State<Wallet>, user: EndUser) -> ApiResult<Json<WalletBalance>> {
    Ok(Json(accounts::balance(&w, &user.tenant, &user.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseBody {
    #[schema(example = "pdf-pack-10")]
    pub sku: String,
}

/// Buys a digital item with credits: paid and fulfilled in one step. Requires
/// `Idempotency-Key`: the same key and body replays the first answer
/// (`Idempotency-Replayed: true`), the same key with another body is 409.
#[utoipa::path(post, path = "/api/v1/wallet/purchase", tag = "wallet",
    request_body = PurchaseBody, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per purchase")),
    responses(
        (status = 201, description = "Bought (or the first answer, replayed)", body = Purchased),
        (status = 400, description = "No or a bad `Idempotency-Key`, or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, description = "No such item", body = faro_http::ErrorBody),
        (status = 409, description = "Not enough credits (`insufficient_funds`), or the key was used with another body (`idempotency_key_reused`)", body = faro_http::ErrorBody),
        (status = 422, description = "A bad sku (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn buy(
    State(w): State<Wallet>,
    user: EndUser,
    headers: HeaderMap,
    Json(body): Json<PurchaseBody>,
) -> ApiResult<Response> {
    let reply = purchase::purchase(
        &w,
        &user.tenant,
        &user.id,
        idempotency_key(&headers),
        PurchaseInput { sku: body.sku },
    )
    .await?;
    Ok(created(reply))
}

#[derive(Serialize, ToSchema)]
pub struct WalletTransactions {
    /// Newest first.
    pub items: Vec<WalletTransaction>,
    pub next_cursor: Option<String>,
}

/// The signed-in end user's credits history, newest first, each line with the balance just
/// after it.
#[utoipa::path(get, path = "/api/v1/wallet/transactions", tag = "wallet",
    params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = WalletTransactions),
        (status = 400, description = "A bad `limit` or `cursor`", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
    ))]
pub async fn my_transactions(
    State(w): State<Wallet>,
    user: EndUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<WalletTransactions>> {
    let (limit, _) = q.page()?;
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(decode_cursor(c)?.parse::<i64>().map_err(|_| {
            ApiError::bad_request("invalid_cursor", "the cursor is not one we issued")
        })?),
    };
    let mut items = history::transactions(&w, &user.tenant, &user.id, before, limit).await?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|t| encode_cursor(&t.n.to_string()))
    } else {
        None
    };
    Ok(Json(WalletTransactions { items, next_cursor }))
}
