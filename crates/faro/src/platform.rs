//! Platform endpoints every deployment has: liveness, readiness, metrics, the OpenAPI
//! document, and the accounts routes.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use faro_http::{ApiError, ApiResult, Core, Json};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Faro",
        description = "Self-hostable engagement backend. Errors use `{\"error\": {\"code\", \"message\", \"details\"}}`; every response carries `x-request-id`.",
        license(name = "AGPL-3.0-only")
    ),
    modifiers(&BearerAuth),
    components(schemas(faro_http::ErrorBody, faro_http::FieldProblem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

pub fn api_doc() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn router(core: Core) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::me))
        .with_state(core)
}

/// Routes that describe the service rather than belong to the API: the OpenAPI document and
/// Prometheus metrics.
pub fn docs_router(openapi: Arc<String>) -> Router {
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        doc.as_str().to_owned(),
                    )
                }
            }),
        )
        .route("/metrics", get(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/api/v1/health", tag = "platform", responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Ready {
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// `local` or `redis`.
    pub rate_limits: &'static str,
}

/// Readiness: the database answers within two seconds.
#[utoipa::path(get, path = "/api/v1/ready", tag = "platform",
    responses((status = 200, body = Ready), (status = 503, body = faro_http::ErrorBody)))]
pub async fn ready(State(core): State<Core>) -> ApiResult<Json<Ready>> {
    match tokio::time::timeout(Duration::from_secs(2), core.db.ping()).await {
        Ok(Ok(())) => Ok(Json(Ready {
            status: "ready",
            database: core.db.backend().name(),
            rate_limits: core.limiter.backend_name(),
        })),
        Ok(Err(e)) => Err(ApiError::from(e)),
        Err(_) => Err(
            ApiError::unavailable("the database did not answer within 2 s")
                .with_code("database_unavailable"),
        ),
    }
}

static METRICS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide Prometheus recorder once (tests build many apps per process).
pub fn metrics_handle() -> Option<&'static PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .ok()?
                .install_recorder()
                .ok()?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

async fn metrics() -> impl IntoResponse {
    match metrics_handle() {
        Some(h) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
