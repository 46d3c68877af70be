//! `/api/v1/wallet/*` and `/api/v1/admin/wallet/*`: thin handlers (extract → use case → view).
//!
//! | route | who |
//! |---|---|
//! | `POST`, `GET /api/v1/admin/wallet/items` | staff: admins add, viewers list |
//! | `POST /api/v1/admin/wallet/grants` | staff (admin) or a `wallet:write` key, with `Idempotency-Key` |
//! | `GET /api/v1/admin/wallet/users/{user}/balance[?at=]` | staff or a `wallet:read` key |
//! | `POST /api/v1/admin/wallet/holds`, `…/holds/{id}/post`, `…/holds/{id}/void` | staff (admin) or a `wallet:write` key, with `Idempotency-Key` ([`holds`](mod@holds)) |
//! | `GET /api/v1/admin/wallet/holds/{id}` | staff or a `wallet:read` key |
//! | `POST /api/v1/admin/wallet/transfers/{id}/reverse` | staff (admin) or a `wallet:write` key, with `Idempotency-Key` |
//! | `GET /api/v1/wallet/balance` | the signed-in end user |
//! | `POST /api/v1/wallet/purchase` | the signed-in end user, with `Idempotency-Key` |
//! | `GET /api/v1/wallet/transactions` | the signed-in end user |

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::enduser::EndUser;
use faro_http::respond::{PageQuery, decode_cursor, encode_cursor};
use faro_http::{ApiError, ApiResult, Json, Query, idempotent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Wallet;
use crate::accounts::{self, PastBalance, WalletBalance};
use crate::catalogue::{self, WalletItem};
use crate::grant::{self, GrantInput, Granted};
use crate::history::{self, WalletTransaction};
use crate::purchase::{self, PurchaseInput, Purchased};

pub mod holds;

pub fn router(w: Wallet) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_item, list_items))
        .routes(routes!(create_grant))
        .routes(routes!(user_balance))
        .routes(routes!(my_balance))
        .routes(routes!(buy))
        .routes(routes!(my_transactions))
        .routes(routes!(holds::create_hold))
        .routes(routes!(holds::get_hold))
        .routes(routes!(holds::post_hold))
        .routes(routes!(holds::void_hold))
        .routes(routes!(holds::reverse_transfer))
        .with_state(w)
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
        idempotent::key(&headers),
        GrantInput {
            user: body.user,
            amount: body.amount,
            reason: body.reason,
        },
    )
    .await?;
    Ok(idempotent::respond(reply))
}

#[derive(Deserialize, IntoParams)]
pub struct BalanceQuery {
    /// A past moment (unix seconds): the posted balance then, from the history.
    pub at: Option<String>,
}

/// A user's balance now, or with `at`, as it was then.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum UserBalance {
    Now(WalletBalance),
    At(PastBalance),
}

/// A user's balance (staff, or a `wallet:read` key); zero for a user never credited. With
/// `?at=<unix seconds>`: the posted balance at the end of that second, from the running
/// balances of the user's history (holds open then are not taken off).
#[utoipa::path(get, path = "/api/v1/admin/wallet/users/{user}/balance", tag = "wallet",
    params(("user" = String, Path), BalanceQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "`{available, pending, currency}` now, or `{at, posted, currency}` with `at`", body = UserBalance),
        (status = 400, description = "A malformed query string (`invalid_query`)", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 422, description = "Not a user id, or `at` not unix seconds from 0 to now (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn user_balance(
    State(w): State<Wallet>,
    Viewer(staff): Viewer,
    Path(user): Path<String>,
    Query(q): Query<BalanceQuery>,
) -> ApiResult<Json<UserBalance>> {
    Ok(Json(match q.at.as_deref() {
        None => UserBalance::Now(accounts::balance(&w, &staff.tenant, &user).await?),
        Some(at) => UserBalance::At(
            accounts::balance_at(&w, &staff.tenant, &user, at, faro_store::unix_now()).await?,
        ),
    }))
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
        idempotent::key(&headers),
        PurchaseInput { sku: body.sku },
    )
    .await?;
    Ok(idempotent::respond(reply))
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
