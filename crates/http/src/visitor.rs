//! Anonymous visitors: an id kept by the browser in a signed `faro_vid` cookie (`Secure` on
//! https, `HttpOnly`, `SameSite=Lax`, a year), or by a third-party widget in the
//! `x-faro-visitor` header (the same signed value, for pages where the site's cookies are
//! not sent). A missing, unsigned, tampered or other tenant's value gets a new id.
//!
//! The `Visitor` extractor records the visitor as seen (first and last seen, the day-keyed
//! hash of its address) at most once a minute per instance, and sets the cookie on the
//! response when the id is new: return the extractor's value among the response's parts.

use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponseParts, ResponseParts};
use faro_store::TenantId;

use crate::error::ApiError;
use crate::state::Core;
use crate::tenant::PublicTenant;
use crate::ttl::TtlMap;

pub const VISITOR_COOKIE: &str = "faro_vid";
pub const VISITOR_HEADER: &str = "x-faro-visitor";
const COOKIE_MAX_AGE: u64 = 365 * 24 * 3600;
/// How often one instance writes a visitor's last-seen time, at most.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);
const MAX_RECENT: usize = 100_000;

/// The request's visitor (made up now when it brought no valid id).
#[derive(Clone, Debug)]
pub struct Visitor {
    pub id: String,
    pub tenant: TenantId,
    /// `<id>.<signature>`: the cookie's value, and what a widget sends back in the header.
    pub token: String,
    /// The id was made for this request: the response sets the cookie.
    pub new: bool,
    secure: bool,
}

/// Visitors this instance recorded lately, so a busy visitor costs one write a minute.
pub struct RecentVisitors {
    map: TtlMap<(TenantId, String), ()>,
}

impl Default for RecentVisitors {
    fn default() -> Self {
        RecentVisitors {
            map: TtlMap::new(MAX_RECENT),
        }
    }
}

impl RecentVisitors {
    /// Whether the visitor is due a write (and, if so, it counts as written now).
    fn due(&self, tenant: &TenantId, id: &str) -> bool {
        let key = (tenant.clone(), id.to_string());
        if self.map.fresh(&key, TOUCH_EVERY).is_some() {
            return false;
        }
        self.map.insert(key, ());
        true
    }
}

/// The visitor id of `value` (`<id>.<signature>`) when its signature is right for `tenant`.
pub fn verify_token(core: &Core, tenant: &TenantId, value: &str) -> Option<String> {
    let (id, sig) = value.trim().split_once('.')?;
    let valid_id =
        !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    (valid_id && crate::auth::same_secret(sig, &core.clients.visitor_sig(tenant.as_str(), id)))
        .then(|| id.to_string())
}

/// The valid visitor id the request brings (header first, then cookie), if any.
pub fn known_visitor(core: &Core, tenant: &TenantId, parts: &Parts) -> Option<String> {
    let header = parts
        .headers
        .get(VISITOR_HEADER)
        .and_then(|v| v.to_str().ok());
    header
        .and_then(|v| verify_token(core, tenant, v))
        .or_else(|| {
            crate::auth::cookie(&parts.headers, VISITOR_COOKIE)
                .and_then(|v| verify_token(core, tenant, v))
        })
}

/// The known visitor id, if the request brings a valid one (never makes one up).
pub struct KnownVisitor(pub Option<String>);

impl<S> FromRequestParts<S> for KnownVisitor
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let PublicTenant(tenant) = PublicTenant::from_request_parts(parts, state).await?;
        Ok(KnownVisitor(known_visitor(&core, &tenant, parts)))
    }
}

impl<S> FromRequestParts<S> for Visitor
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let PublicTenant(tenant) = PublicTenant::from_request_parts(parts, state).await?;
        let (id, new) = match known_visitor(&core, &tenant, parts) {
            Some(id) => (id, false),
            None => (faro_store::new_id(), true),
        };
        if core.recent_visitors.due(&tenant, &id) {
            let ip_hash = crate::client_key(&core, parts);
            faro_store::visitors::touch_visitor(
                &core.db,
                &tenant,
                &id,
                &ip_hash,
                faro_store::unix_now(),
            )
            .await?;
        }
        let token = format!("{id}.{}", core.clients.visitor_sig(tenant.as_str(), &id));
        Ok(Visitor {
            id,
            tenant,
            token,
            new,
            secure: core.web.secure_cookies,
        })
    }
}

impl IntoResponseParts for Visitor {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if self.new {
            let mut c = format!(
                "{VISITOR_COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly",
                self.token
            );
            if self.secure {
                c.push_str("; Secure");
            }
            if let Ok(v) = HeaderValue::from_str(&c) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        Ok(res)
    }
}
