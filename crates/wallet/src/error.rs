//! The module's one error type: what its use cases can answer, converted once to the API's
//! JSON error.

use axum::http::StatusCode;
use faro_http::{ApiError, FieldProblem};
use faro_store::StoreError;
use faro_store::idempotency::IdempotencyError;
use faro_wallet_domain::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The input has problems, each named by its field.
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// No such item (or user, order) in the caller's tenant.
    #[error("{0}")]
    NotFound(&'static str),
    /// No, a bad or a reused `Idempotency-Key`.
    #[error(transparent)]
    Key(#[from] IdempotencyError),
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
            WalletError::Key(k) => k.into(),
            WalletError::SkuTaken(_) => ApiError::conflict("sku_taken", message),
            WalletError::Refused(r) => {
                let status = match r {
                    Refusal::AmountMustBePositive | Refusal::TimeoutOutOfRange { .. } => {
                        StatusCode::UNPROCESSABLE_ENTITY
                    }
                    Refusal::PendingTransferNotFound { .. } => StatusCode::NOT_FOUND,
                    _ => StatusCode::CONFLICT,
                };
                ApiError::new(status, r.code(), message)
                    .with_details(serde_json::to_value(&r).unwrap_or_default())
            }
            WalletError::Store(s) => s.into(),
        }
    }
}
