//! Service endpoints every deployment has: liveness, readiness, metrics and the OpenAPI
//! document (whose shared parts, the error body and the bearer scheme, are declared here).

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

/// Documents the errors that shared layers and extractors give every operation, once, after
/// the modules' routes are merged: handlers document what they decide themselves, while a
/// malformed body, a body over the limit, a missing token or a request timeout can happen on
/// any operation of the kind, and listing those by hand on each handler drifted (Schemathesis
/// found 401, 400 and 415 answers that were not in the document).
pub fn document_shared_errors(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let item_params = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
        let operations = [
            (&mut item.get, true),
            (&mut item.head, true),
            (&mut item.put, false),
            (&mut item.post, false),
            (&mut item.delete, false),
            (&mut item.patch, false),
        ];
        for (op, read_only) in operations {
            let Some(op) = op.as_mut() else { continue };
            let has_body = op.request_body.is_some();
            let has_params = item_params || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let responses = &mut op.responses.responses;
            let mut add = |status: u16, description: &str| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| error_response(description));
            };
            if has_body || has_params {
                add(
                    400,
                    "Malformed JSON, query string or path parameter (`malformed_json`, `invalid_query`, `bad_request`)",
                );
            }
            if has_body {
                add(
                    413,
                    "The body is over the 512 KiB limit (`payload_too_large`)",
                );
                add(
                    415,
                    "The body is not sent as `application/json` (`unsupported_media_type`)",
                );
                add(
                    422,
                    "Well-formed JSON of the wrong shape, or an unknown field (`invalid_body`)",
                );
            }
            if secured {
                add(
                    401,
                    "No token, or an invalid or expired one (`unauthorized`)",
                );
                if !read_only {
                    add(
                        403,
                        "Needs the admin role, or a cookie-authenticated write without the CSRF token (`forbidden`, `csrf_failed`)",
                    );
                }
            }
            add(
                503,
                "The database is unavailable, or the request ran past REQUEST_TIMEOUT_SECS; retry (`database_unavailable`, `request_timeout`)",
            );
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

pub fn router(core: Core) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .with_state(core)
}

/// Routes that describe the service rather than belong to the API: the OpenAPI document and
/// Prometheus metrics (behind `metrics_token` when one is set).
pub fn docs_router(openapi: Arc<String>, metrics_token: Option<String>) -> Router {
    let token = Arc::new(metrics_token);
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
        .route(
            "/metrics",
            get(move |headers: axum::http::HeaderMap| {
                let token = token.clone();
                async move { metrics(token.as_deref(), &headers) }
            }),
        )
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
                // Jobs per group-committed batch, not seconds.
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full("faro_write_batch_jobs".into()),
                    &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
                )
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

/// The scrape: with `METRICS_TOKEN` set, only for `Authorization: Bearer <it>` (compared in
/// constant time), so the figures of a public instance are not everyone's.
fn metrics(token: Option<&str>, headers: &axum::http::HeaderMap) -> axum::response::Response {
    if let Some(expected) = token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !faro_http::auth::same_secret(sent.trim(), expected) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "send Authorization: Bearer <METRICS_TOKEN>\n",
            )
                .into_response();
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{PathsBuilder, ResponseBuilder};

    fn statuses(doc: &utoipa::openapi::OpenApi, path: &str, post: bool) -> Vec<String> {
        let item = &doc.paths.paths[path];
        let op = if post { &item.post } else { &item.get };
        op.as_ref()
            .map(|o| o.responses.responses.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn shared_errors_follow_what_an_operation_takes() {
        let plain = OperationBuilder::new()
            .response("200", ResponseBuilder::new().description("ok"))
            .build();
        let secured_write = OperationBuilder::new()
            .request_body(Some(RequestBodyBuilder::new().build()))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .response("201", ResponseBuilder::new().description("made"))
            .response("401", ResponseBuilder::new().description("kept as written"))
            .build();
        let secured_read = OperationBuilder::new()
            .parameter(ParameterBuilder::new().name("limit").build())
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .response("200", ResponseBuilder::new().description("ok"))
            .build();
        let mut doc = utoipa::openapi::OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/plain", PathItem::new(HttpMethod::Get, plain))
                    .path("/write", PathItem::new(HttpMethod::Post, secured_write))
                    .path("/read", PathItem::new(HttpMethod::Get, secured_read)),
            )
            .build();
        document_shared_errors(&mut doc);

        assert_eq!(statuses(&doc, "/plain", false), ["200", "503"]);
        assert_eq!(
            statuses(&doc, "/write", true),
            ["201", "400", "401", "403", "413", "415", "422", "503"]
        );
        assert_eq!(statuses(&doc, "/read", false), ["200", "400", "401", "503"]);
        // What a handler documented itself is left as it is.
        let kept = &doc.paths.paths["/write"]
            .post
            .as_ref()
            .map(|o| serde_json::to_value(&o.responses.responses["401"]).unwrap_or_default());
        assert_eq!(
            kept.as_ref().and_then(|v| v["description"].as_str()),
            Some("kept as written")
        );
    }
}
