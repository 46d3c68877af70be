//! `/api/v1/admin/wallet/holds*` and `/api/v1/admin/wallet/transfers/{id}/reverse`: staff (or a
//! `wallet:write` key) holding, posting and voiding users' credits, and undoing transfers.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::{ApiResult, Json};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::Wallet;
use crate::holds::{self, HoldInput, HoldView};
use crate::reverse::{self, ReverseInput, TransferReversed};
use crate::settle::{self, Settle};
use faro_http::idempotent;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// The tenant's end-user id.
    pub user: String,
    /// Credits to hold, at least 1.
    #[schema(example = 40)]
    pub amount: i64,
    /// Why: 1 to 300 characters.
    #[schema(example = "checkout 8812")]
    pub reason: String,
    /// How long the hold lasts: 1 second to 30 days (2592000).
    #[schema(example = 900)]
    pub timeout_secs: i64,
}

/// Holds a user's credits for the tenant's revenue (a two-phase transfer): they leave the
/// user's available credits at once (`pending` rises) until the hold is posted, voided or
/// expires. Requires `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/wallet/holds", tag = "wallet",
    request_body = HoldBody, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per hold")),
    responses(
        (status = 201, description = "Held (or the first answer, replayed)", body = HoldView),
        (status = 400, description = "No or a bad `Idempotency-Key` (`missing_idempotency_key`, `invalid_idempotency_key`), or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 409, description = "Not enough available credits (`insufficient_funds`), or the key was used with another body (`idempotency_key_reused`)", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`: user, amount, reason, timeout_secs), or an unknown field (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn create_hold(
    State(w): State<Wallet>,
    AdminUser(staff): AdminUser,
    headers: HeaderMap,
    Json(body): Json<HoldBody>,
) -> ApiResult<Response> {
    let reply = holds::hold(
        &w,
        &staff.tenant,
        &staff.claims.sub,
        idempotent::key(&headers),
        HoldInput {
            user: body.user,
            amount: body.amount,
            reason: body.reason,
            timeout_secs: body.timeout_secs,
        },
    )
    .await?;
    Ok(idempotent::respond(reply))
}

/// A hold and where it stands: `pending`, `posted`, `voided` or `expired`.
#[utoipa::path(get, path = "/api/v1/admin/wallet/holds/{id}", tag = "wallet",
    params(("id" = String, Path, description = "The hold's id")), security(("bearer" = [])),
    responses(
        (status = 200, body = HoldView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, description = "No such hold in the tenant (`not_found`)", body = faro_http::ErrorBody),
    ))]
pub async fn get_hold(
    State(w): State<Wallet>,
    Viewer(staff): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<HoldView>> {
    Ok(Json(holds::get(&w, &staff.tenant, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    /// Credits to post, at least 1 and at most what is held; leave it out to post all. The
    /// rest goes back to the user.
    #[serde(default)]
    #[schema(example = 25)]
    pub amount: Option<i64>,
}

/// Posts a pending hold, all of it or part (the rest goes back to the user): the credits go to
/// the tenant's revenue. Send `{}` to post all. Requires `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/wallet/holds/{id}/post", tag = "wallet",
    request_body = PostBody, security(("bearer" = [])),
    params(("id" = String, Path, description = "The hold's id"),
        ("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per post")),
    responses(
        (status = 200, description = "Posted (or the first answer, replayed): `status: posted`", body = HoldView),
        (status = 400, description = "No or a bad `Idempotency-Key`, or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 404, description = "No such hold (`not_found`)", body = faro_http::ErrorBody),
        (status = 409, description = "The hold is no longer pending (`pending_transfer_already_posted`, `pending_transfer_already_voided`, `pending_transfer_expired`), more than is held (`exceeds_pending_amount`), or the key was used with another body (`idempotency_key_reused`)", body = faro_http::ErrorBody),
        (status = 422, description = "An amount below 1 (`validation_failed`), or an unknown field (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn post_hold(
    State(w): State<Wallet>,
    AdminUser(staff): AdminUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<PostBody>,
) -> ApiResult<Response> {
    let reply = settle::settle(
        &w,
        &staff.tenant,
        &staff.claims.sub,
        idempotent::key(&headers),
        &id,
        Settle::Post(body.amount),
    )
    .await?;
    Ok(idempotent::respond(reply))
}

/// Voids a pending hold: all its credits are available to the user again. No body. Requires
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/wallet/holds/{id}/void", tag = "wallet",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The hold's id"),
        ("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per void")),
    responses(
        (status = 200, description = "Voided (or the first answer, replayed): `status: voided`", body = HoldView),
        (status = 400, description = "No or a bad `Idempotency-Key`", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 404, description = "No such hold (`not_found`)", body = faro_http::ErrorBody),
        (status = 409, description = "The hold is no longer pending (`pending_transfer_already_posted`, `pending_transfer_already_voided`, `pending_transfer_expired`), or the key was used for another hold (`idempotency_key_reused`)", body = faro_http::ErrorBody),
    ))]
pub async fn void_hold(
    State(w): State<Wallet>,
    AdminUser(staff): AdminUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let reply = settle::settle(
        &w,
        &staff.tenant,
        &staff.claims.sub,
        idempotent::key(&headers),
        &id,
        Settle::Void,
    )
    .await?;
    Ok(idempotent::respond(reply))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    /// Why: 1 to 300 characters.
    #[schema(example = "granted twice by mistake")]
    pub reason: String,
}

/// Undoes a posted transfer (a grant, a purchase, a hold's post) with a new transfer the other
/// way for the same amount; nothing is edited. A transfer is reversed at most once. Requires
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/wallet/transfers/{id}/reverse", tag = "wallet",
    request_body = ReverseBody, security(("bearer" = [])),
    params(("id" = String, Path, description = "The transfer to undo"),
        ("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per reversal")),
    responses(
        (status = 201, description = "Reversed (or the first answer, replayed)", body = TransferReversed),
        (status = 400, description = "No or a bad `Idempotency-Key`, or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 404, description = "No such transfer (`not_found`)", body = faro_http::ErrorBody),
        (status = 409, description = "The credits were spent (`insufficient_funds`), it was reversed before (`already_reversed`), it posted nothing (`nothing_to_reverse`: a hold or a void), it is itself a correction (`correction_not_reversible`), or the key was used with another body (`idempotency_key_reused`)", body = faro_http::ErrorBody),
        (status = 422, description = "A bad reason (`validation_failed`), or an unknown field (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn reverse_transfer(
    State(w): State<Wallet>,
    AdminUser(staff): AdminUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ReverseBody>,
) -> ApiResult<Response> {
    let reply = reverse::reverse(
        &w,
        &staff.tenant,
        &staff.claims.sub,
        idempotent::key(&headers),
        ReverseInput {
            transfer: id,
            reason: body.reason,
        },
    )
    .await?;
    Ok(idempotent::respond(reply))
}
