//! Who a request acts for. Visitors' tenant comes from the host name they asked for
//! (`PublicTenant`, through a cached host → tenant map); staff's from their credentials
//! (`Staff`, inside `Viewer` and `AdminUser`). Either way the tenant is recorded on the
//! request's span, so every log line of the request carries `tenant`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use faro_auth::token::Claims;
use faro_store::{Db, TenantId};

use crate::state::Core;

/// How long a host map is used before it is read again: a new custom domain answers within
/// this time on every instance.
pub const HOSTS_TTL: Duration = Duration::from_secs(5);

/// The host → tenant map, read from `tenant_hosts` and kept for [`HOSTS_TTL`]. Hosts that no
/// tenant claims (with no rows at all: every host) belong to the `default` tenant.
pub struct TenantHosts {
    map: RwLock<Arc<HostMap>>,
    /// Only one request reloads a stale map; the others keep using it meanwhile.
    reloading: tokio::sync::Mutex<()>,
}

struct HostMap {
    loaded: Option<Instant>,
    hosts: HashMap<String, TenantId>,
}

impl Default for TenantHosts {
    fn default() -> Self {
        TenantHosts {
            map: RwLock::new(Arc::new(HostMap {
                loaded: None,
                hosts: HashMap::new(),
            })),
            reloading: tokio::sync::Mutex::new(()),
        }
    }
}

impl TenantHosts {
    fn current(&self) -> Arc<HostMap> {
        match self.map.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The tenant serving `host` (a `Host` header value: any case, with or without port).
    pub async fn resolve(&self, db: &Db, host: Option<&str>) -> TenantId {
        let mut map = self.current();
        let fresh = map.loaded.is_some_and(|at| at.elapsed() < HOSTS_TTL);
        if !fresh && let Ok(_guard) = self.reloading.try_lock() {
            match faro_store::tenant_hosts_all_tenants(db).await {
                Ok(rows) => {
                    let next = Arc::new(HostMap {
                        loaded: Some(Instant::now()),
                        hosts: rows.into_iter().collect(),
                    });
                    match self.map.write() {
                        Ok(mut m) => *m = next.clone(),
                        Err(poisoned) => *poisoned.into_inner() = next.clone(),
                    }
                    map = next;
                }
                // The database is away: keep serving with the map we have (the request
                // itself will meet the outage and answer 503).
                Err(e) => tracing::debug!(error = %e, "host map not refreshed"),
            }
        }
        // One tenant (no claimed hosts): nothing to look up, nothing to allocate.
        if map.hosts.is_empty() {
            return TenantId::default_tenant();
        }
        host.map(normalize_host)
            .and_then(|h| map.hosts.get(&h).cloned())
            .unwrap_or_else(TenantId::default_tenant)
    }
}

/// `Example.COM:8080` → `example.com`; `[::1]:80` → `[::1]`; a trailing dot is dropped.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if host.starts_with('[') {
        host.split_once(']')
            .map(|(h, _)| format!("{h}]"))
            .unwrap_or_else(|| host.to_string())
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map(|(h, _)| h.to_string())
            .unwrap_or_else(|| host.to_string())
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

/// Records the tenant on the request's span (declared empty by the request middleware).
pub fn record(tenant: &TenantId) {
    tracing::Span::current().record("tenant", tenant.as_str());
    crate::request_id::set_tenant(tenant);
}

/// The tenant of a visitor's request, from its host name.
pub struct PublicTenant(pub TenantId);

impl<S> FromRequestParts<S> for PublicTenant
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| parts.uri.host());
        let tenant = core.tenants.resolve(&core.db, host).await;
        record(&tenant);
        Ok(PublicTenant(tenant))
    }
}

/// A signed-in staff member: their verified claims and the tenant those claims belong to.
#[derive(Clone, Debug)]
pub struct Staff {
    pub claims: Claims,
    pub tenant: TenantId,
}

impl Staff {
    pub fn from_claims(claims: Claims) -> Self {
        let tenant = TenantId::new(claims.tid.as_str());
        record(&tenant);
        Staff { claims, tenant }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_host;

    #[test]
    fn hosts_compare_without_case_port_or_trailing_dot() {
        assert_eq!(normalize_host("Quiz.Example.COM:8080"), "quiz.example.com");
        assert_eq!(normalize_host("example.com."), "example.com");
        assert_eq!(normalize_host("127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(normalize_host("[::1]:8080"), "[::1]");
        assert_eq!(normalize_host("[::1]"), "[::1]");
        assert_eq!(normalize_host("localhost"), "localhost");
    }
}
