//! HTTP plumbing shared by every module: the error body, extractors (JSON, query, auth roles,
//! client identity), request ids and logging, metrics, rate-limit responses, and `Core`, the
//! platform state each module's state embeds. Nothing here knows about any module.

pub mod apikey;
pub mod audit;
pub mod auth;
pub mod client;
pub mod cors;
pub mod edge;
pub mod enduser;
pub mod error;
pub mod extract;
pub mod fallback;
pub mod idempotent;
pub mod metrics;
pub mod module;
pub mod personal;
pub mod ratelimit;
pub mod request_id;
pub mod respond;
pub mod state;
pub mod tenant;
pub mod traffic;
pub mod ttl;
pub mod visitor;

pub use error::{ApiError, ApiResult, ErrorBody, FieldProblem};
pub use extract::{Json, Query};
pub use faro_store::TenantId;
pub use state::{Core, CoreParts, DEFAULT_TENANT, NavLink, WebConfig};
pub use tenant::{HostTenant, PublicTenant, Staff};

/// Largest request body accepted anywhere (definition documents are the biggest legitimate
/// bodies, capped at 256 KiB by the quiz validator); larger bodies get 413.
pub const BODY_LIMIT: usize = 512 * 1024;

/// The hashed identity of the caller for rate limits, derived from the peer address.
pub fn client_key(core: &Core, parts: &axum::http::request::Parts) -> String {
    client_key_of(core, &parts.headers, &parts.extensions)
}

/// [`client_key`] from a request's headers and extensions (for middleware, which holds the
/// whole request).
pub fn client_key_of(
    core: &Core,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> String {
    // Worked out once per request: the limits every request passes leave it here.
    if let Some(ClientKeyOf(key)) = extensions.get::<ClientKeyOf>() {
        return key.clone();
    }
    let peer = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|ci| ci.0.ip());
    let ip = client::client_ip(peer, headers, &core.web.trusted_proxies);
    core.clients
        .hash(ip, &faro_store::day_of(faro_store::unix_now()))
}

/// A request's [`client_key`], once worked out (see [`traffic`]).
#[derive(Clone)]
pub struct ClientKeyOf(pub String);

/// Extractor form of [`client_key`].
pub struct ClientKey(pub String);

impl<S> axum::extract::FromRequestParts<S> for ClientKey
where
    Core: axum::extract::FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let core = <Core as axum::extract::FromRef<S>>::from_ref(state);
        Ok(ClientKey(client_key(&core, parts)))
    }
}

/// The caller's address as the server sees it (the peer, or the trusted proxy's
/// `X-Forwarded-For`), in plain text: for the audit log of staff actions, where who changed
/// something matters more than anonymity. Visitors are only ever identified by [`ClientKey`].
pub struct ClientAddr(pub Option<String>);

impl<S> axum::extract::FromRequestParts<S> for ClientAddr
where
    Core: axum::extract::FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let core = <Core as axum::extract::FromRef<S>>::from_ref(state);
        Ok(ClientAddr(
            client_ip_of(&core, parts).map(|ip| ip.to_string()),
        ))
    }
}

/// The request's client address: the peer, or `X-Forwarded-For` when the peer is one of
/// `TRUSTED_PROXIES`.
pub fn client_ip_of(core: &Core, parts: &axum::http::request::Parts) -> Option<std::net::IpAddr> {
    client::client_ip(
        client::peer_of(parts),
        &parts.headers,
        &core.web.trusted_proxies,
    )
}
