//! The module's one error type: what its use cases can answer, converted once to the API's
//! JSON error.

use axum::http::StatusCode;
use faro_http::{ApiError, FieldProblem};
use faro_promotions_domain::{GenerateError, Problem};
use faro_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PromotionsError {
    /// The input has problems, each named by its field.
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// No such promotion (or coupon) in the caller's tenant.
    #[error("{0}")]
    NotFound(&'static str),
    #[error("a promotion with id {0:?} already exists")]
    PromotionExists(String),
    #[error("the coupon code {0:?} is already taken in this site")]
    CodeTaken(String),
    /// The tenant has as many promotions as one may keep (every public read and the window
    /// job load them all).
    #[error("a site keeps at most {0} promotions: delete ended ones first")]
    TooManyPromotions(usize),
    /// The code generator could not make the batch (see the domain's reasons).
    #[error("{0}")]
    Generate(GenerateError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PromotionsError {
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        PromotionsError::Invalid(vec![FieldProblem {
            path: path.to_owned(),
            message: message.into(),
        }])
    }

    /// The domain's problems, each path under `prefix` (empty: as they are).
    pub fn problems(list: Vec<Problem>, prefix: &str) -> Self {
        PromotionsError::Invalid(
            list.into_iter()
                .map(|p| {
                    if prefix.is_empty() {
                        p
                    } else {
                        p.under(prefix)
                    }
                })
                .map(|p| FieldProblem {
                    path: p.path,
                    message: p.message,
                })
                .collect(),
        )
    }

    pub fn corrupt(e: impl std::fmt::Display) -> Self {
        PromotionsError::Store(StoreError::corrupt(e))
    }
}

impl From<sqlx::Error> for PromotionsError {
    fn from(e: sqlx::Error) -> Self {
        PromotionsError::Store(e.into())
    }
}

impl From<PromotionsError> for ApiError {
    fn from(e: PromotionsError) -> Self {
        let message = e.to_string();
        match e {
            PromotionsError::Invalid(problems) => ApiError::invalid(message, problems),
            PromotionsError::NotFound(what) => ApiError::not_found(what),
            PromotionsError::PromotionExists(_) => ApiError::conflict("promotion_exists", message),
            PromotionsError::CodeTaken(_) => ApiError::conflict("coupon_code_taken", message),
            PromotionsError::TooManyPromotions(_) => {
                ApiError::conflict("too_many_promotions", message)
            }
            PromotionsError::Generate(g) => {
                let status = match g {
                    GenerateError::TooManyCollisions => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, g.code(), message)
                    .with_details(serde_json::to_value(&g).unwrap_or_default())
            }
            PromotionsError::Store(s) => s.into(),
        }
    }
}
