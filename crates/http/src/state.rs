use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use faro_auth::token::Keys;
use faro_limits::{Limiter, Quota};
use faro_store::{Counters, Db};

use crate::client::{Cidr, ClientHasher};

/// What every module's state holds: the shared platform parts. Modules wrap it in their own
/// state type and implement `FromRef<ModuleState> for Core`, so the extractors here work in
/// every module. Extractors clone it on every request, so it is one `Arc`.
#[derive(Clone)]
pub struct Core(Arc<CoreParts>);

impl Core {
    pub fn new(parts: CoreParts) -> Self {
        Core(Arc::new(parts))
    }
}

impl std::ops::Deref for Core {
    type Target = CoreParts;

    fn deref(&self) -> &CoreParts {
        &self.0
    }
}

pub struct CoreParts {
    pub db: Db,
    pub counters: Counters,
    pub limiter: Limiter,
    pub keys: Arc<Keys>,
    /// Seals secrets and personal fields at rest (`DATA_KEYS`).
    pub sealer: Arc<faro_auth::seal::Sealer>,
    /// Finds sealed personal fields again (an end user's email at sign-in).
    pub blind_index: Arc<faro_auth::seal::BlindIndex>,
    pub clients: ClientHasher,
    pub web: Arc<WebConfig>,
    /// The panel's main navigation: the links of every mounted module, in module order.
    pub panel_nav: Arc<[NavLink]>,
    /// The optional modules this installation runs (`FARO_MODULES`), in module order: what a
    /// tenant's module switches choose from.
    pub modules: Arc<[&'static str]>,
    /// The modules whose API takes API keys (`Module::api_keys`), in module order: the scopes
    /// a key may carry are `<module>:read` and `<module>:write` for these.
    pub key_modules: Arc<[&'static str]>,
    /// Host name → tenant, for visitors' requests.
    pub tenants: crate::tenant::TenantHosts,
    /// API keys checked lately (see [`crate::apikey`]).
    pub api_keys: crate::apikey::ApiKeyCache,
    /// End users' access tokens checked against the deny list lately (see [`crate::enduser`]).
    pub revoked_tokens: crate::enduser::RevokedCache,
    /// Staff accounts' "tokens issued after" times, read lately (see [`crate::auth`]).
    pub staff_tokens: crate::auth::StaffTokens,
    /// Visitors recorded lately (see [`crate::visitor`]).
    pub recent_visitors: crate::visitor::RecentVisitors,
    /// The mounted modules' personal-data exporters (set once they are mounted).
    pub personal: crate::personal::PersonalData,
    /// Wakes event consumers; producers call `notify` after committing events (this instance's
    /// at once, other instances' through PostgreSQL's NOTIFY, or they poll).
    pub wake: faro_store::Wake,
}

/// A link of the panel's main navigation, declared by a module (`Module::nav`) so the shared
/// shell names no module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NavLink {
    /// Compared with the page's section for `aria-current`.
    pub section: &'static str,
    pub label: &'static str,
    pub href: &'static str,
    /// Shown to admins only (pages that exist to write).
    pub admins_only: bool,
}

/// Settings of the HTTP surface, derived from the configuration once at start.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Absolute base for share URLs and OpenGraph tags, without a trailing slash.
    pub public_base_url: String,
    /// Cookies get `Secure` when the public base URL is https.
    pub secure_cookies: bool,
    pub trusted_proxies: Vec<Cidr>,
    /// Where the super-admin's powers work from (`SUPER_ADMIN_NETWORKS`); empty: anywhere.
    pub super_admin_networks: Vec<Cidr>,
    /// Login attempts per client and per username.
    pub login_quota: Option<Quota>,
    pub token_ttl: Duration,
    /// `RATE_LIMITS`: false switches every limit off (these, the handlers' and the modules').
    pub limits_enabled: bool,
    /// The limits every request passes (see [`crate::traffic`]).
    pub traffic: crate::traffic::TrafficLimits,
}

impl WebConfig {
    pub fn for_tests(public_base_url: &str) -> Self {
        WebConfig {
            public_base_url: public_base_url.trim_end_matches('/').to_string(),
            secure_cookies: public_base_url.starts_with("https://"),
            trusted_proxies: Vec::new(),
            super_admin_networks: Vec::new(),
            login_quota: faro_limits::parse_quota("10/minute").ok().flatten(),
            token_ttl: Duration::from_secs(3600),
            limits_enabled: true,
            traffic: crate::traffic::TrafficLimits::default(),
        }
    }
}

pub use faro_store::DEFAULT_TENANT;

impl FromRef<Core> for Arc<WebConfig> {
    fn from_ref(core: &Core) -> Self {
        core.web.clone()
    }
}
