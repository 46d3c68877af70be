//! The module's JSON API: every route with its OpenAPI description. The handlers live by
//! audience: `public` (visitors), `share` (share links), `admin` and `analytics` (staff).

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{Quiz, admin, analytics, pages, public};

/// Every route of the module, with its OpenAPI description.
pub fn router(quiz: Quiz) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(public::list_tests))
        .routes(routes!(public::get_test))
        .routes(routes!(public::start_session))
        .routes(routes!(public::current_question))
        .routes(routes!(public::answer))
        .routes(routes!(public::finish))
        .routes(routes!(pages::result::shared_result))
        .routes(routes!(admin::list_tests, admin::create_test))
        .routes(routes!(
            admin::get_test,
            admin::update_test,
            admin::delete_test
        ))
        .routes(routes!(admin::list_versions, admin::create_version))
        .routes(routes!(
            admin::get_version,
            admin::update_version,
            admin::delete_version
        ))
        .routes(routes!(admin::publish_version))
        .routes(routes!(admin::list_questions, admin::add_question))
        .routes(routes!(
            admin::get_question,
            admin::update_question,
            admin::delete_question
        ))
        .routes(routes!(analytics::analytics))
        .with_state(quiz)
}
