//! The module's one error type: what its use cases can answer, converted once to the API's
//! JSON error.

use axum::http::StatusCode;
use faro_http::{ApiError, FieldProblem};
use faro_payments_domain::PricingError;
use faro_payments_domain::intent::{ChargeError, Refusal};
use faro_store::StoreError;
use faro_store::idempotency::IdempotencyError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// The input has problems, each named by its field.
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<FieldProblem>),
    #[error("{0}")]
    NotFound(&'static str),
    /// The tenant has not set up what this needs (pricing tables, top-ups, the provider).
    #[error("{0}")]
    NotConfigured(&'static str),
    /// The request cannot be priced (unknown format, size too large, ...).
    #[error("{0}")]
    Pricing(PricingError),
    /// The quote cannot be charged (expired, or nothing to pay).
    #[error("{0}")]
    Charge(ChargeError),
    /// The intent cannot take this (a refund larger than what is left, ...).
    #[error("{0}")]
    Refused(Refusal),
    /// The intent is final at the provider (succeeded or canceled).
    #[error("the payment is already {0}: nothing more can happen to it here")]
    Final(&'static str),
    /// The quote already has an intent: one payment per quote.
    #[error("this quote is already being paid: ask for a new estimate to pay again")]
    QuoteCharged,
    /// Another request with the same `Idempotency-Key` is being answered right now.
    #[error(
        "another request with this Idempotency-Key is in progress: retry it in a moment to \
         get its answer"
    )]
    KeyInFlight,
    /// The payment provider failed or could not be reached; retrying with the same
    /// `Idempotency-Key` is safe.
    #[error("the payment provider failed: {0}; retry with the same Idempotency-Key")]
    Provider(String),
    /// A webhook delivery that is not the provider's, or not readable.
    #[error("{message}")]
    Signature { code: &'static str, message: String },
    /// Only staff may pass a what-if load factor.
    #[error("only the tenant's staff may price a what-if `server_load_factor`")]
    WhatIfForbidden,
    #[error(transparent)]
    Key(#[from] IdempotencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PaymentsError {
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        PaymentsError::Invalid(vec![FieldProblem {
            path: path.to_owned(),
            message: message.into(),
        }])
    }

    pub fn corrupt(e: impl std::fmt::Display) -> Self {
        PaymentsError::Store(StoreError::corrupt(e))
    }
}

impl From<sqlx::Error> for PaymentsError {
    fn from(e: sqlx::Error) -> Self {
        PaymentsError::Store(e.into())
    }
}

impl From<PaymentsError> for ApiError {
    fn from(e: PaymentsError) -> Self {
        let message = e.to_string();
        match e {
            PaymentsError::Invalid(problems) => ApiError::invalid(message, problems),
            PaymentsError::NotFound(what) => ApiError::not_found(what),
            PaymentsError::NotConfigured(_) => {
                ApiError::conflict("payments_not_configured", message)
            }
            PaymentsError::Pricing(p) => {
                let problem = FieldProblem {
                    path: p.field().to_owned(),
                    message: message.clone(),
                };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, p.code(), message)
                    .with_details(serde_json::json!({ "problems": [problem] }))
            }
            PaymentsError::Charge(ChargeError::Expired(_)) => {
                ApiError::conflict("quote_expired", message)
            }
            PaymentsError::Charge(ChargeError::NothingToCharge) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing_to_charge",
                message,
            ),
            PaymentsError::Refused(r) => ApiError::conflict(r.code(), message),
            PaymentsError::Final(_) => ApiError::conflict("payment_final", message),
            PaymentsError::QuoteCharged => ApiError::conflict("quote_already_charged", message),
            PaymentsError::KeyInFlight => ApiError::conflict("idempotency_key_in_use", message),
            PaymentsError::Provider(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "provider_unavailable", message)
            }
            PaymentsError::Signature { code, .. } => ApiError::bad_request(code, message),
            PaymentsError::WhatIfForbidden => {
                ApiError::forbidden(message).with_code("what_if_staff_only")
            }
            PaymentsError::Key(k) => k.into(),
            PaymentsError::Store(s) => s.into(),
        }
    }
}
