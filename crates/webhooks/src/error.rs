//! The module's one error type: what its use cases can answer, converted once to the API's
//! JSON error or to a panel error page.

use faro_http::{ApiError, FieldProblem};
use faro_store::StoreError;
use faro_webhooks_domain::Problem;

#[derive(Debug, thiserror::Error)]
pub enum WebhooksError {
    /// The input has problems, each named by its field.
    #[error("the webhook has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    /// No such endpoint or delivery in the caller's tenant (another tenant's ids look absent).
    #[error("{0}")]
    NotFound(&'static str),
    /// The tenant already has the most endpoints allowed.
    #[error("a tenant may have at most {0} webhook endpoints")]
    TooMany(usize),
    /// The tenant's plan allows no more endpoints (429 `quota_exceeded`).
    #[error(transparent)]
    Quota(#[from] faro_store::quota::Exceeded),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<WebhooksError> for ApiError {
    fn from(e: WebhooksError) -> Self {
        match e {
            WebhooksError::Invalid(problems) => ApiError::invalid(
                format!("the webhook has {} problem(s)", problems.len()),
                problems
                    .into_iter()
                    .map(|p| FieldProblem {
                        path: p.path,
                        message: p.message,
                    })
                    .collect(),
            ),
            WebhooksError::NotFound(what) => ApiError::not_found(what),
            e @ WebhooksError::TooMany(_) => ApiError::conflict("too_many_webhooks", e.to_string()),
            WebhooksError::Quota(over) => over.into(),
            WebhooksError::Store(s) => s.into(),
        }
    }
}

impl From<WebhooksError> for faro_web::panel::PageError {
    fn from(e: WebhooksError) -> Self {
        ApiError::from(e).into()
    }
}
