//! Cross-origin calls from browsers (CORS). An origin may call the API when the installation
//! allows it (`CORS_ALLOWED_ORIGINS`, every tenant) or when the tenant serving the request's
//! host name lists it in its settings (`origins`): a brand's own site calls its own Faro host
//! name, never another tenant's.
//!
//! The tenant's origins travel with the tenant directory every instance caches (see
//! [`crate::tenant::TenantHosts`]), so a check costs a map look-up, and a settings change
//! applies at once on the instance that saved it and within 5 seconds on the others.
//!
//! Only requests that carry an `Origin` header go through the CORS layer: tower-http answers
//! every `OPTIONS` as a preflight, and a request without an origin is no browser's cross-origin
//! call, so it keeps the router's own answer (405 with `Allow` for `OPTIONS`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::state::Core;

/// Builds the layer: `installation` is `CORS_ALLOWED_ORIGINS`.
pub fn layer(core: Core, installation: &[String]) -> Arc<CorsLayer> {
    let installation: Arc<[String]> = installation.iter().map(|o| o.to_lowercase()).collect();
    let allow = AllowOrigin::async_predicate(move |origin: HeaderValue, parts| {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let core = core.clone();
        let installation = installation.clone();
        async move {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            if installation.iter().any(|o| o == origin) {
                return true;
            }
            let tenant = core.tenants.resolve(&core.db, host.as_deref()).await;
            let state = core.tenants.state(&core.db, &tenant).await;
            state.origins.iter().any(|o| o == origin)
        }
    });
    Arc::new(
        CorsLayer::new()
            .allow_origin(allow)
            // The visitor cookie of a widget on the brand's own site (same site, another host).
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("x-faro-visitor"),
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("x-csrf-token"),
            ])
            .expose_headers([
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("x-faro-visitor"),
                HeaderName::from_static("ratelimit-limit"),
                HeaderName::from_static("ratelimit-remaining"),
                HeaderName::from_static("ratelimit-reset"),
                header::RETRY_AFTER,
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// Sends requests with an `Origin` through the CORS layer, the rest straight on.
pub async fn middleware(State(cors): State<Arc<CorsLayer>>, req: Request, next: Next) -> Response {
    if !req.headers().contains_key(header::ORIGIN) {
        return next.run(req).await;
    }
    match cors.layer(next).oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
