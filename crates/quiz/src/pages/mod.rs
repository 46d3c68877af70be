//! Public pages: catalog, taking a test, result and share card, sitemap.

use axum::Router;

use crate::Quiz;

pub fn router(quiz: Quiz) -> Router {
    Router::new().with_state(quiz)
}
