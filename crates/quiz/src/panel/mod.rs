//! The admin panel's quiz pages.

use axum::Router;

use crate::Quiz;

pub fn router(quiz: Quiz) -> Router {
    Router::new().with_state(quiz)
}
