//! Pricing a request and freezing the price as a quote: `POST /api/v1/payments/estimate`
//! answers the breakdown (every factor, the exact and the rounded total) and a quote id that
//! an intent may charge until it expires, whatever the queue or the tables do meanwhile.

use faro_payments_domain::{Breakdown, EstimateRequest, estimate};
use faro_store::{TenantId, new_id, unix_now};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::PaymentsError;
use crate::{Payments, settings, store};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Estimated {
    /// Charge it with `POST /api/v1/payments/intents` `{quote_id}` before `expires_at`.
    pub quote_id: String,
    /// Unix seconds; the quote cannot be charged from then on.
    pub expires_at: i64,
    /// Each factor: `conversion_type`, `base_price`, `size_category`, `size_multiplier`,
    /// `quality_multiplier`, `features`, `feature_cost`, `server_load_factor`, `load`,
    /// `subtotal`, `exact_total`, `total_cents`, `total_price` ("0.30") and `currency`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub breakdown: Breakdown,
}

/// Prices `request` for `tenant`. `staff` says whether the caller may set a what-if
/// `server_load_factor` (the tenant's staff only: it overrides the queue's).
pub async fn price(
    p: &Payments,
    tenant: &TenantId,
    request: &EstimateRequest,
    staff: bool,
) -> Result<Estimated, PaymentsError> {
    if request.server_load_factor.is_some() && !staff {
        return Err(PaymentsError::WhatIfForbidden);
    }
    let db = &p.core.db;
    let (checked, depth) = settings::load(db, tenant).await?;
    let pricing = checked.pricing.ok_or(PaymentsError::NotConfigured(
        "this site has no price tables yet: an admin sets them with \
         PUT /api/v1/admin/payments/settings",
    ))?;
    let now = unix_now();
    let quote = estimate(&pricing, request, depth, now).map_err(PaymentsError::Pricing)?;
    let id = new_id();
    let text = serde_json::to_string(&quote).map_err(PaymentsError::corrupt)?;
    store::insert_quote(
        db,
        tenant,
        &store::NewQuote {
            id: &id,
            quote: &text,
            amount_cents: quote.amount_cents(),
            currency: quote.currency(),
            expires_at: quote.expires_at,
            at: now,
        },
    )
    .await?;
    Ok(Estimated {
        quote_id: id,
        expires_at: quote.expires_at,
        breakdown: quote.breakdown,
    })
}
