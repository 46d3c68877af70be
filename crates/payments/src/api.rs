//! `/api/v1/payments/*`, `/api/v1/wallet/topup` and `/api/v1/admin/payments/*`: thin handlers
//! (extract → use case → view).
//!
//! | route | who |
//! |---|---|
//! | `POST /api/v1/payments/estimate` | anyone on the site; staff may add a what-if `server_load_factor` |
//! | `POST`, `GET /api/v1/payments/intents`, `GET /api/v1/payments/intents/{id}` | the signed-in end user |
//! | `POST /api/v1/wallet/topup` | the signed-in end user, with `Idempotency-Key` |
//! | `GET /api/v1/payments/topup` | anyone on the site: what credits cost and through which provider |
//! | `POST /api/v1/payments/test/intents/{id}/confirm` | the intent's payer, when the test provider is on |
//! | `GET`, `PUT /api/v1/admin/payments/settings` | staff read, admins (or a `payments:write` key) write |
//! | `PUT /api/v1/admin/payments/queue` | admins or the tenant's workers (`payments:write` key) |
//! | `GET /api/v1/admin/payments/intents`, `GET .../intents/{id}` | staff (or a `payments:read` key) |
//! | `POST /api/v1/admin/payments/intents/{id}/refunds` | admins (or a `payments:write` key), with `Idempotency-Key` |
//! | `GET`, `PUT`, `DELETE /api/v1/admin/payments/providers/stripe` | staff read (masked), admins write |
//! | `POST /api/v1/payments/webhooks/stripe/{tenant}` | Stripe, signed (`Stripe-Signature`) |

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use faro_http::auth::{AdminUser, Viewer};
use faro_http::enduser::EndUser;
use faro_http::respond::{PageQuery, decode_cursor, encode_cursor};
use faro_http::tenant::PublicTenant;
use faro_http::{ApiResult, Json, Query, idempotent};
use faro_payments_domain::EstimateRequest;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Payments;
use crate::credentials::{self, KeysBody, KeysView};
use crate::estimate::{self, Estimated};
use crate::intents::{self, IntentView, Purpose};
use crate::refunds::{self, RefundInput, Refunded};
use crate::settings::{self, PaymentsSettings};
use crate::stripe::{self, Received};
use crate::testprovider::{self, Outcome};

pub fn router(p: Payments) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(estimate))
        .routes(routes!(create_intent, my_intents))
        .routes(routes!(my_intent))
        .routes(routes!(topup))
        .routes(routes!(topup_offer))
        .routes(routes!(test_confirm))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(report_queue))
        .routes(routes!(staff_intents))
        .routes(routes!(staff_intent))
        .routes(routes!(create_refund))
        .routes(routes!(get_stripe, put_stripe, delete_stripe))
        .routes(routes!(stripe_webhook))
        .with_state(p)
}

/// Prices a conversion and freezes the price as a quote (valid for the tenant's quote
/// validity, minutes). The load factor comes from the queue the tenant's workers report;
/// the tenant's staff may pass `server_load_factor` (1.0 to 1.5) for a what-if quote.
#[utoipa::path(post, path = "/api/v1/payments/estimate", tag = "payments",
    request_body(content = Object, description = "`{source_format, target_format, file_size_mb, quality, features: [..], server_load_factor?}`"),
    responses(
        (status = 200, description = "The breakdown, `total_price` with two decimals and a `quote_id`", body = Estimated),
        (status = 400, description = "Malformed JSON", body = faro_http::ErrorBody),
        (status = 403, description = "`server_load_factor` from someone who is not the tenant's staff (`what_if_staff_only`)", body = faro_http::ErrorBody),
        (status = 409, description = "The site has no price tables (`payments_not_configured`)", body = faro_http::ErrorBody),
        (status = 422, description = "The request cannot be priced: `unknown_format`, `same_format`, `unsupported_conversion`, `size_not_positive`, `size_too_large`, `unknown_quality`, `unknown_feature`, `repeated_feature`, `load_out_of_range`; a body of the wrong shape or with an unknown field (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn estimate(
    State(p): State<Payments>,
    PublicTenant(tenant): PublicTenant,
    mut parts: Parts,
    Json(body): Json<EstimateRequest>,
) -> ApiResult<Json<Estimated>> {
    let staff = if body.server_load_factor.is_some() {
        match Viewer::from_request_parts(&mut parts, &p).await {
            Ok(Viewer(staff)) => staff.tenant == tenant,
            Err(_) => false,
        }
    } else {
        false
    };
    Ok(Json(estimate::price(&p, &tenant, &body, staff).await?))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentBody {
    /// A quote from `POST /api/v1/payments/estimate`, not expired.
    pub quote_id: String,
}

/// Starts paying a quote: an intent for the quote's amount, never a price computed again.
/// One intent per quote. Requires `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/payments/intents", tag = "payments",
    request_body = IntentBody, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per payment")),
    responses(
        (status = 201, description = "Created (or the first answer, replayed)", body = IntentView),
        (status = 400, description = "No or a bad `Idempotency-Key`, or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, description = "No such quote", body = faro_http::ErrorBody),
        (status = 409, description = "`quote_expired`, `quote_already_charged`, `payments_not_configured`, `idempotency_key_reused`, `idempotency_key_in_use`", body = faro_http::ErrorBody),
    ))]
pub async fn create_intent(
    State(p): State<Payments>,
    user: EndUser,
    headers: HeaderMap,
    Json(body): Json<IntentBody>,
) -> ApiResult<Response> {
    let purpose = Purpose::Quote {
        quote_id: body.quote_id,
    };
    let reply = intents::create(
        &p,
        &user.tenant,
        &user.id,
        idempotent::key(&headers),
        purpose,
    )
    .await?;
    Ok(idempotent::respond(reply))
}

#[derive(Serialize, ToSchema)]
pub struct IntentList {
    /// Newest first.
    pub items: Vec<IntentView>,
    pub next_cursor: Option<String>,
}

impl IntentList {
    /// A page of `limit` from `limit + 1` rows.
    fn page(mut items: Vec<IntentView>, limit: usize) -> IntentList {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|i| encode_cursor(&i.id))
        } else {
            None
        };
        IntentList { items, next_cursor }
    }
}

/// The signed-in end user's payments, newest first.
#[utoipa::path(get, path = "/api/v1/payments/intents", tag = "payments",
    params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = IntentList),
        (status = 400, description = "A bad `limit` or `cursor`", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
    ))]
pub async fn my_intents(
    State(p): State<Payments>,
    user: EndUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<IntentList>> {
    let (limit, _) = q.page()?;
    let before = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let items = intents::list(&p, &user.tenant, Some(&user.id), before.as_deref(), limit).await?;
    Ok(Json(IntentList::page(items, limit)))
}

/// One of the signed-in end user's payments.
#[utoipa::path(get, path = "/api/v1/payments/intents/{id}", tag = "payments",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = IntentView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn my_intent(
    State(p): State<Payments>,
    user: EndUser,
    Path(id): Path<String>,
) -> ApiResult<Json<IntentView>> {
    Ok(Json(
        intents::one(&p, &user.tenant, Some(&user.id), &id).await?,
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopupBody {
    /// Credits to buy, within the site's minimum and maximum per top-up.
    #[schema(example = 100)]
    pub credits: i64,
}

/// Buys credits: an intent for `credits` × the site's credit price. When the payment
/// succeeds the wallet credits them, exactly once (`wallet.topup_completed`). Requires
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/wallet/topup", tag = "payments",
    request_body = TopupBody, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per top-up")),
    responses(
        (status = 201, description = "The intent to pay (or the first answer, replayed)", body = IntentView),
        (status = 400, description = "No or a bad `Idempotency-Key`, or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 409, description = "`payments_not_configured`, `idempotency_key_reused`, `idempotency_key_in_use`", body = faro_http::ErrorBody),
        (status = 422, description = "Credits outside the site's range (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn topup(
    State(p): State<Payments>,
    user: EndUser,
    headers: HeaderMap,
    Json(body): Json<TopupBody>,
) -> ApiResult<Response> {
    let purpose = Purpose::WalletTopup {
        credits: body.credits,
    };
    let reply = intents::create(
        &p,
        &user.tenant,
        &user.id,
        idempotent::key(&headers),
        purpose,
    )
    .await?;
    Ok(idempotent::respond(reply))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    pub outcome: Outcome,
}

/// The test provider: ends the payer's test payment as asked (`succeed`, `fail`,
/// `require_action`, `process`, `cancel`), through the same path as a provider's webhook.
#[utoipa::path(post, path = "/api/v1/payments/test/intents/{id}/confirm", tag = "payments",
    params(("id" = String, Path)), request_body = ConfirmBody, security(("bearer" = [])),
    responses(
        (status = 200, description = "The intent after the event", body = IntentView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, description = "No such test payment of the caller", body = faro_http::ErrorBody),
        (status = 409, description = "The test provider is off (`payments_not_configured`)", body = faro_http::ErrorBody),
        (status = 422, description = "An unknown outcome (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn test_confirm(
    State(p): State<Payments>,
    user: EndUser,
    Path(id): Path<String>,
    Json(body): Json<ConfirmBody>,
) -> ApiResult<Json<IntentView>> {
    Ok(Json(
        testprovider::confirm(&p, &user.tenant, &user.id, &id, body.outcome).await?,
    ))
}

/// The tenant's payment settings (empty until set).
#[utoipa::path(get, path = "/api/v1/admin/payments/settings", tag = "payments",
    security(("bearer" = [])),
    responses((status = 200, body = PaymentsSettings), (status = 401, body = faro_http::ErrorBody)))]
pub async fn get_settings(
    State(p): State<Payments>,
    Viewer(staff): Viewer,
) -> ApiResult<Json<PaymentsSettings>> {
    Ok(Json(settings::get(&p.core.db, &staff.tenant).await?))
}

/// Replaces the tenant's payment settings: pricing tables, the credit price of top-ups and
/// the test provider switch, checked whole (every problem with its path).
#[utoipa::path(put, path = "/api/v1/admin/payments/settings", tag = "payments",
    request_body = PaymentsSettings, security(("bearer" = [])),
    responses(
        (status = 200, body = PaymentsSettings),
        (status = 400, description = "Malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, description = "Viewers and agents only read", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`), or an unknown field (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn put_settings(
    State(p): State<Payments>,
    AdminUser(staff): AdminUser,
    Json(body): Json<PaymentsSettings>,
) -> ApiResult<Json<PaymentsSettings>> {
    settings::put(&p.core.db, &staff.tenant, &body).await?;
    Ok(Json(body))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueBody {
    /// Conversions queued and running now (0 to 1,000,000).
    #[schema(example = 7)]
    pub depth: i64,
}

/// The tenant's workers report their queue: new quotes are priced at its load factor. A
/// report older than five minutes is not trusted (quotes are then priced as unloaded).
#[utoipa::path(put, path = "/api/v1/admin/payments/queue", tag = "payments",
    request_body = QueueBody, security(("bearer" = [])),
    responses(
        (status = 204, description = "Recorded"),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 422, description = "A depth out of range (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn report_queue(
    State(p): State<Payments>,
    AdminUser(staff): AdminUser,
    Json(body): Json<QueueBody>,
) -> ApiResult<StatusCode> {
    settings::report_queue(&p.core.db, &staff.tenant, body.depth).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffIntentsQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Only this end user's payments.
    pub user: Option<String>,
}

/// The tenant's payments, newest first.
#[utoipa::path(get, path = "/api/v1/admin/payments/intents", tag = "payments",
    params(StaffIntentsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = IntentList),
        (status = 400, description = "A bad `limit` or `cursor`", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
    ))]
pub async fn staff_intents(
    State(p): State<Payments>,
    Viewer(staff): Viewer,
    Query(q): Query<StaffIntentsQuery>,
) -> ApiResult<Json<IntentList>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let (limit, _) = page.page()?;
    let before = page.cursor.as_deref().map(decode_cursor).transpose()?;
    let items = intents::list(
        &p,
        &staff.tenant,
        q.user.as_deref(),
        before.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(IntentList::page(items, limit)))
}

/// One of the tenant's payments, with its refunds.
#[utoipa::path(get, path = "/api/v1/admin/payments/intents/{id}", tag = "payments",
    params(("id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = IntentView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
    ))]
pub async fn staff_intent(
    State(p): State<Payments>,
    Viewer(staff): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Json<IntentView>> {
    Ok(Json(intents::one(&p, &staff.tenant, None, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// At least 1, at most what is left to refund.
    #[schema(example = 500)]
    pub amount_cents: i64,
    /// Why: 1 to 300 characters.
    #[schema(example = "customer asked")]
    pub reason: String,
}

/// Refunds a succeeded payment, fully or partly. A top-up's refund takes back its share of
/// the credits bought (`payments.refund_succeeded`, taken by the wallet). Requires
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/admin/payments/intents/{id}/refunds", tag = "payments",
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 128 visible ASCII characters, new per refund")),
    request_body = RefundBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Refunded (or the first answer, replayed)", body = Refunded),
        (status = 400, description = "No or a bad `Idempotency-Key`, or malformed JSON", body = faro_http::ErrorBody),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, body = faro_http::ErrorBody),
        (status = 409, description = "`not_refundable` (not paid), `exceeds_refundable`, `idempotency_key_reused`, `idempotency_key_in_use`", body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`), or a body of the wrong shape (`invalid_body`)", body = faro_http::ErrorBody),
    ))]
pub async fn create_refund(
    State(p): State<Payments>,
    AdminUser(staff): AdminUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RefundBody>,
) -> ApiResult<Response> {
    let input = RefundInput {
        intent: id,
        amount_cents: body.amount_cents,
        reason: body.reason,
    };
    let reply = refunds::refund(
        &p,
        &staff.tenant,
        &staff.claims.sub,
        idempotent::key(&headers),
        input,
    )
    .await?;
    Ok(idempotent::respond(reply))
}

/// The site's Stripe keys, masked (`sk_test_…4242`), and the webhook path to give Stripe.
#[utoipa::path(get, path = "/api/v1/admin/payments/providers/stripe", tag = "payments",
    security(("bearer" = [])),
    responses(
        (status = 200, body = KeysView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 404, description = "No Stripe keys set", body = faro_http::ErrorBody),
    ))]
pub async fn get_stripe(
    State(p): State<Payments>,
    Viewer(staff): Viewer,
) -> ApiResult<Json<KeysView>> {
    Ok(Json(credentials::get(&p, &staff.tenant).await?))
}

/// Sets the site's Stripe keys (sealed at rest): payments then go through Stripe. Give
/// Stripe the answer's `webhook_path` as the endpoint, with its signing secret here; list the
/// old and the new secret while rotating.
#[utoipa::path(put, path = "/api/v1/admin/payments/providers/stripe", tag = "payments",
    request_body = KeysBody, security(("bearer" = [])),
    responses(
        (status = 200, body = KeysView),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 422, description = "Every problem with its path (`validation_failed`)", body = faro_http::ErrorBody),
    ))]
pub async fn put_stripe(
    State(p): State<Payments>,
    AdminUser(staff): AdminUser,
    Json(body): Json<KeysBody>,
) -> ApiResult<Json<KeysView>> {
    Ok(Json(credentials::put(&p, &staff.tenant, &body).await?))
}

/// Forgets the site's Stripe keys.
#[utoipa::path(delete, path = "/api/v1/admin/payments/providers/stripe", tag = "payments",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 401, body = faro_http::ErrorBody),
        (status = 403, body = faro_http::ErrorBody),
        (status = 404, description = "No Stripe keys set", body = faro_http::ErrorBody),
    ))]
pub async fn delete_stripe(
    State(p): State<Payments>,
    AdminUser(staff): AdminUser,
) -> ApiResult<StatusCode> {
    if credentials::delete(&p, &staff.tenant).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(crate::error::PaymentsError::NotFound("no Stripe keys are set for this site").into())
    }
}

/// Stripe's events for the site `tenant`, signed with its endpoint secret. Answers 200 for
/// every event taken or deliberately ignored (a type Faro does not act on, a payment that is
/// not Faro's, a delivery seen before), 400 for a bad signature or body, and 409 for an event
/// that must wait for an earlier one (Stripe retries it).
#[utoipa::path(post, path = "/api/v1/payments/webhooks/stripe/{tenant}", tag = "payments",
    params(("tenant" = String, Path), ("Stripe-Signature" = String, Header)),
    request_body(content = Object, description = "A Stripe event"),
    responses(
        (status = 200, body = Received),
        (status = 400, description = "`missing_header`, `malformed_header`, `no_v1_signature`, `timestamp_outside_tolerance`, `signature_mismatch`, `malformed_json`, `malformed_event`", body = faro_http::ErrorBody),
        (status = 404, description = "The site takes no Stripe events", body = faro_http::ErrorBody),
        (status = 409, description = "Not yet (`not_yet_succeeded`): Stripe retries", body = faro_http::ErrorBody),
    ))]
pub async fn stripe_webhook(
    State(p): State<Payments>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Received>> {
    let tenant = faro_http::TenantId::new(tenant.as_str());
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    Ok(Json(stripe::webhook(&p, &tenant, header, &body).await?))
}

/// What buying credits costs on this site, and through which provider: what a wallet page
/// shows before the payer chooses.
#[derive(Serialize, ToSchema)]
pub struct TopupOffer {
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(example = 10)]
    pub credit_price_cents: i64,
    pub min_credits: i64,
    pub max_credits: i64,
    /// `stripe` or `test`.
    pub provider: &'static str,
}

/// What a credit costs here, and the provider that takes the payment.
#[utoipa::path(get, path = "/api/v1/payments/topup", tag = "payments",
    responses(
        (status = 200, body = TopupOffer),
        (status = 409, description = "The site sells no credits, or takes no payments (`payments_not_configured`)", body = faro_http::ErrorBody),
    ))]
pub async fn topup_offer(
    State(p): State<Payments>,
    PublicTenant(tenant): PublicTenant,
) -> ApiResult<Json<TopupOffer>> {
    let (checked, _) = settings::load(&p.core.db, &tenant).await?;
    let topup = checked
        .topup
        .ok_or(crate::error::PaymentsError::NotConfigured(
            "this site sells no credits",
        ))?;
    let provider = if credentials::stripe(&p, &tenant).await?.is_some() {
        stripe::PROVIDER
    } else if checked.test_provider {
        crate::intents::TEST_PROVIDER
    } else {
        return Err(
            crate::error::PaymentsError::NotConfigured("this site takes no payments yet").into(),
        );
    };
    Ok(Json(TopupOffer {
        currency: topup.currency,
        credit_price_cents: topup.credit_price_cents,
        min_credits: topup.min_credits,
        max_credits: topup.max_credits,
        provider,
    }))
}
