//! Who a request acts for. Visitors' tenant comes from the host name they asked for
//! (`PublicTenant`, through a cached host → tenant map); staff's from their credentials
//! (`Staff`, inside `Viewer` and `AdminUser`). Either way the tenant is recorded on the
//! request's span, so every log line of the request carries `tenant`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
///
/// A map past its TTL is read again behind the request that notices (the request goes on with
/// the map it has), so an unreachable database never adds a pool wait to a request here: the
/// request meets the outage once, in its own queries. Only a map never read, or forgotten by
/// [`TenantHosts::invalidate`], is read before answering.
#[derive(Clone)]
pub struct TenantHosts {
    shared: Arc<Shared>,
}

struct Shared {
    map: RwLock<Arc<HostMap>>,
    /// Only one read at a time; the other requests keep using the map meanwhile.
    reloading: Arc<tokio::sync::Mutex<()>>,
    /// Bumped by every invalidation: a read that began before one does not count as fresh.
    generation: AtomicU64,
}

struct HostMap {
    /// Until when the map is used without reading it again; `None`: never read, or
    /// invalidated (read before answering).
    fresh_until: Option<Instant>,
    hosts: HashMap<String, TenantId>,
    /// Only tenants that differ from the usual (paused, in maintenance, modules chosen,
    /// origins allowed).
    states: HashMap<TenantId, TenantState>,
    /// Whether any tenant chose its modules: when none has, no request needs its tenant
    /// worked out just to check a module switch.
    any_module_choice: bool,
}

/// What every request needs to know about its tenant beyond its id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantState {
    pub paused: bool,
    pub maintenance: bool,
    /// The optional modules switched on; `None`: every one the installation runs.
    pub modules: Option<Arc<[String]>>,
    /// The browser origins its settings allow to call the API (CORS, see [`crate::cors`]).
    pub origins: Arc<[String]>,
    /// Staff must sign in with a second factor (see [`crate::auth`]).
    pub require_totp: bool,
}

impl TenantState {
    /// Whether the optional module `name` serves this tenant.
    pub fn has_module(&self, name: &str) -> bool {
        self.modules
            .as_ref()
            .is_none_or(|m| m.iter().any(|x| x == name))
    }
}

impl Default for TenantHosts {
    fn default() -> Self {
        TenantHosts {
            shared: Arc::new(Shared {
                map: RwLock::new(Arc::new(HostMap {
                    fresh_until: None,
                    hosts: HashMap::new(),
                    states: HashMap::new(),
                    any_module_choice: false,
                })),
                reloading: Arc::new(tokio::sync::Mutex::new(())),
                generation: AtomicU64::new(0),
            }),
        }
    }
}

impl Shared {
    fn current(&self) -> Arc<HostMap> {
        match self.map.read() {
            Ok(m) => m.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, next: Arc<HostMap>) {
        match self.map.write() {
            Ok(mut m) => *m = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    /// Reads the map (the caller holds `reloading`). On failure the map in hand stays, marked
    /// stale rather than unread: the database is away, each request will meet the outage once
    /// in its own queries, and the next read happens behind a request, not in front of it.
    async fn reload(&self, db: &Db) -> Arc<HostMap> {
        let generation = self.generation.load(Ordering::Acquire);
        let read = async {
            let hosts = faro_store::tenant_hosts_all_tenants(db).await?;
            let states = faro_store::tenant_states_all_tenants(db).await?;
            Ok::<_, faro_store::StoreError>((hosts, states))
        };
        let (hosts, states) = match read.await {
            Ok(read) => read,
            Err(e) => {
                tracing::debug!(error = %e, "host map not refreshed");
                let current = self.current();
                if current.fresh_until.is_some() {
                    return current;
                }
                let stale = Arc::new(HostMap {
                    fresh_until: Some(Instant::now()),
                    hosts: current.hosts.clone(),
                    states: current.states.clone(),
                    any_module_choice: current.any_module_choice,
                });
                self.set(stale.clone());
                return stale;
            }
        };
        // Invalidated while reading: what was read may predate the change, so the next
        // request reads again.
        let unchanged = self.generation.load(Ordering::Acquire) == generation;
        let next = Arc::new(HostMap {
            any_module_choice: states.iter().any(|s| s.modules.is_some()),
            fresh_until: unchanged.then(|| Instant::now() + HOSTS_TTL),
            hosts: hosts.into_iter().collect(),
            states: states
                .into_iter()
                .map(|s| {
                    let state = TenantState {
                        paused: s.paused,
                        maintenance: s.maintenance,
                        modules: s.modules.map(Arc::from),
                        origins: s.origins.map(Arc::from).unwrap_or_default(),
                        require_totp: s.require_totp,
                    };
                    (s.tenant, state)
                })
                .collect(),
        });
        self.set(next.clone());
        next
    }
}

impl TenantHosts {
    /// Forgets the map, so this instance's next request reads it again: after a change made
    /// here (other instances see it within [`HOSTS_TTL`]).
    pub fn invalidate(&self) {
        let shared = &self.shared;
        shared.generation.fetch_add(1, Ordering::AcqRel);
        let current = shared.current();
        shared.set(Arc::new(HostMap {
            fresh_until: None,
            hosts: current.hosts.clone(),
            states: current.states.clone(),
            any_module_choice: current.any_module_choice,
        }));
    }

    /// The map to answer with: the one in hand while fresh; when stale, the one in hand while
    /// a background read replaces it; when never read (or invalidated), read now.
    async fn fresh(&self, db: &Db) -> Arc<HostMap> {
        let shared = &self.shared;
        let map = shared.current();
        match map.fresh_until {
            Some(until) if Instant::now() < until => map,
            Some(_) => {
                if let Ok(guard) = shared.reloading.clone().try_lock_owned() {
                    let shared = shared.clone();
                    let db = db.clone();
                    tokio::spawn(async move {
                        let _guard = guard;
                        shared.reload(&db).await;
                    });
                }
                map
            }
            None => {
                let _guard = shared.reloading.lock().await;
                // Read by another request while this one waited its turn.
                let map = shared.current();
                if map.fresh_until.is_some() {
                    return map;
                }
                shared.reload(db).await
            }
        }
    }

    /// The tenant serving `host` (a `Host` header value: any case, with or without port).
    pub async fn resolve(&self, db: &Db, host: Option<&str>) -> TenantId {
        let map = self.fresh(db).await;
        // One tenant (no claimed hosts): nothing to look up, nothing to allocate.
        if map.hosts.is_empty() {
            return TenantId::default_tenant();
        }
        host.map(normalize_host)
            .and_then(|h| map.hosts.get(&h).cloned())
            .unwrap_or_else(TenantId::default_tenant)
    }

    /// Whether some tenant runs fewer modules than the installation (see [`module_gate`]).
    pub async fn any_module_choice(&self, db: &Db) -> bool {
        self.fresh(db).await.any_module_choice
    }

    /// The tenant's switches (paused, maintenance, modules), as fresh as the host map.
    pub async fn state(&self, db: &Db, tenant: &TenantId) -> TenantState {
        let map = self.fresh(db).await;
        if map.states.is_empty() {
            return TenantState::default();
        }
        map.states.get(tenant).cloned().unwrap_or_default()
    }
}

/// Wraps an optional module's routes: for a tenant that switched the module off, they answer
/// 404 as if they did not exist. The tenant is the signed-in staff member's (a valid token or
/// API key) or the host name's. While no tenant has chosen its modules (the usual case) it costs one
/// look at the cached map.
pub async fn module_gate(
    axum::extract::State((core, module)): axum::extract::State<(Core, &'static str)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !core.tenants.any_module_choice(&core.db).await {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let tenant = match crate::auth::tenant_quietly(&core, &parts).await {
        Some(tenant) => tenant,
        None => {
            let host = host_of(&parts);
            core.tenants.resolve(&core.db, host).await
        }
    };
    if core
        .tenants
        .state(&core.db, &tenant)
        .await
        .has_module(module)
    {
        next.run(axum::extract::Request::from_parts(parts, body))
            .await
    } else {
        crate::ApiError::not_found(format!(
            "nothing here: the {module} module is switched off for this site"
        ))
        .into_response()
    }
}

/// The host name a request asked for: its `Host` header, or the URI's authority (HTTP/2).
fn host_of(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.host())
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

/// The tenant of a visitor's request, from its host name; refused (503) while the tenant is
/// paused or in maintenance.
pub struct PublicTenant(pub TenantId);

/// The tenant a host name belongs to, whatever its state: for signing in, which staff need
/// during maintenance and which answers a paused tenant's staff itself.
pub struct HostTenant(pub TenantId);

impl<S> FromRequestParts<S> for HostTenant
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let host = host_of(parts);
        let tenant = core.tenants.resolve(&core.db, host).await;
        record(&tenant);
        Ok(HostTenant(tenant))
    }
}

impl<S> FromRequestParts<S> for PublicTenant
where
    Core: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = crate::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let core = Core::from_ref(state);
        let host = host_of(parts);
        let tenant = core.tenants.resolve(&core.db, host).await;
        record(&tenant);
        let state = core.tenants.state(&core.db, &tenant).await;
        if state.paused {
            return Err(paused());
        }
        if state.maintenance {
            return Err(crate::ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "maintenance",
                "this site is down for maintenance: try again in a few minutes",
            )
            .with_header(header::RETRY_AFTER, header::HeaderValue::from_static("300")));
        }
        Ok(PublicTenant(tenant))
    }
}

/// The answer for anything of a paused tenant: nothing is served, nothing is deleted.
pub fn paused() -> crate::ApiError {
    crate::ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "tenant_paused",
        "this site is paused by its administrator",
    )
}

/// A signed-in staff member (or an integration's API key acting within its scopes): their
/// verified claims and the tenant those claims belong to.
#[derive(Clone, Debug)]
pub struct Staff {
    pub claims: Claims,
    pub tenant: TenantId,
    /// The API key's id when an integration is calling: its claims are made up from the key
    /// (`sub` the key's id, `name` `key:<name>`, the role its scopes allow on this route).
    pub api_key: Option<String>,
}

impl Staff {
    pub fn from_claims(claims: Claims) -> Self {
        let tenant = TenantId::new(claims.tid.as_str());
        record(&tenant);
        Staff {
            claims,
            tenant,
            api_key: None,
        }
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
