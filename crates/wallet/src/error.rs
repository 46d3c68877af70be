//! The module's one error type: what its use cases can answer, converted once to the API's
//! JSON error.

use axum::http::StatusCode;
use faro_http::{ApiError, FieldProblem};
use faro_store::StoreError;
use faro_wallet_domain::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The input has problems, each named by its field.
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// No such item (or user, order) in the caller's tenant.
    #[error("{0}")]
    NotFound(&'static str),
    /// A write that moves value came without an `Idempotency-Key`.
    #[error(
        "send an Idempotency-Key header (1 to 128 visible ASCII characters, a new one per \
         operation): a retry with the same key then returns the first result instead of \
         moving credits twice"
    )]
    MissingKey,
    #[error("the Idempotency-Key must be 1 to 128 visible ASCII characters without spaces")]
    BadKey,
    /// The key was used before with another request body.
    #[error(
        "this Idempotency-Key was already used with a different request: use a new key for a \
         new operation, or repeat the first request exactly"
    )]
    KeyReused,
    #[error("an item with sku {0:?} already exists")]
    SkuTaken(String),
    /// The ledger refused the transfer (not enough credits, ...).
    #[error("{0}")]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WalletError {
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        WalletError::Invalid(vec![FieldProblem {
            path: path.to_owned(),
            message: message.into(),
        }])
    }
}

impl From<sqlx::Error> for WalletError {
    fn from(e: sqlx::Error) -> Self {
        WalletError::Store(e.into())
    }
}

impl From<WalletError> for ApiError {
    fn from(e: WalletError) -> Self {
        let message = e.to_string();
        match e {
            WalletError::Invalid(problems) => ApiError::invalid(message, problems),
            WalletError::NotFound(what) => ApiError::not_found(what),
            WalletError::MissingKey => ApiError::bad_request("missing_idempotency_key", message),
            WalletError::BadKey => ApiError::bad_request("invalid_idempotency_key", message),
            WalletError::KeyReused => ApiError::conflict("idempotency_key_reused", message),
            WalletError::SkuTaken(_) => ApiError::conflict("sku_taken", message),
            WalletError::Refused(r) => {
                let status = match r {
                    Refusal::AmountMustBePositive => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::CONFLICT,
                };
                ApiError::new(status, r.code(), message)
                    .with_details(serde_json::to_value(&r).unwrap_or_default())
            }
            WalletError::Store(s) => s.into(),
        }
    }
}
