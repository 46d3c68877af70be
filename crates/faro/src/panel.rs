//! The admin panel's platform pages (sign in, sign out).

use axum::Router;
use faro_http::Core;

pub fn router(core: Core) -> Router {
    Router::new().with_state(core)
}
