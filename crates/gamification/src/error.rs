//! The module's one error type: what its use cases can answer, converted once to the API's
//! JSON error.

use faro_gamification_domain::Problem;
use faro_http::{ApiError, FieldProblem};
use faro_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum GamificationError {
    /// The input has problems, each named by its field.
    #[error("the request has {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    /// No such player, rule or badge in the caller's tenant.
    #[error("{0}")]
    NotFound(&'static str),
    /// The design changed since the caller read it (`version` is stale).
    #[error("the design was changed meanwhile (now version {0}): read it again")]
    Stale(i64),
    /// Not enough points for a redemption (the balance).
    #[error("not enough points: the balance is {0}")]
    Insufficient(i64),
    /// The request cannot apply to the current state.
    #[error("{0}")]
    Conflict(&'static str),
    /// An end user reported a kind of event the tenant keeps for servers.
    #[error(
        "end users may not report {0:?} events here: the site's design does not list it in user_events"
    )]
    NotForUsers(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl GamificationError {
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        GamificationError::Invalid(vec![Problem::new(path, message)])
    }
}

impl From<sqlx::Error> for GamificationError {
    fn from(e: sqlx::Error) -> Self {
        GamificationError::Store(e.into())
    }
}

impl From<GamificationError> for ApiError {
    fn from(e: GamificationError) -> Self {
        match e {
            GamificationError::Invalid(problems) => ApiError::invalid(
                format!("the request has {} problem(s)", problems.len()),
                problems
                    .into_iter()
                    .map(|p| FieldProblem {
                        path: p.path,
                        message: p.message,
                    })
                    .collect(),
            ),
            GamificationError::NotFound(what) => ApiError::not_found(what),
            e @ GamificationError::Stale(_) => ApiError::conflict("stale_version", e.to_string()),
            e @ GamificationError::Insufficient(_) => {
                ApiError::conflict("insufficient_points", e.to_string())
            }
            GamificationError::Conflict(m) => ApiError::conflict("conflict", m),
            e @ GamificationError::NotForUsers(_) => {
                ApiError::forbidden(e.to_string()).with_code("event_not_allowed")
            }
            GamificationError::Store(s) => s.into(),
        }
    }
}
