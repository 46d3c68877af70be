//! Configuration: an optional TOML file named by `FARO_CONFIG`, overridden by environment
//! variables, read once at start, validated, and printed with secrets masked.
//!
//! Every setting has one name: the environment variable (`RATE_LIMIT_ANSWERS`) and, lowercased,
//! the TOML key (`rate_limit_answers`). Both go through the same parser, so a bad value gets
//! the same message wherever it came from.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use faro_http::client::Cidr;
use faro_limits::Quota;

pub use faro_http::module::{ConfigError, Settings};

fn err(var: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::new(var, message)
}

/// A secret that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub public_base_url: String,
    pub jwt_secret: Option<Secret>,
    /// `DATA_KEYS`: the keys that seal secrets and personal fields at rest, newest first.
    pub data_keys: Option<Secret>,
    pub admin_user: Option<String>,
    pub admin_password: Option<Secret>,
    pub admin_pass_hash: Option<Secret>,
    pub redis_url: Option<Secret>,
    pub rate_limit_login: Option<Quota>,
    /// `RATE_LIMITS=off` switches every limit off (load tests).
    pub rate_limits: bool,
    pub traffic: faro_http::traffic::TrafficLimits,
    pub trusted_proxies: Vec<Cidr>,
    /// `SUPER_ADMIN_NETWORKS`: where the super-admin's powers work from; empty = anywhere.
    pub super_admin_networks: Vec<Cidr>,
    pub cors_allowed_origins: Vec<String>,
    pub db_max_connections: u32,
    pub request_timeout: Duration,
    /// `HEADER_TIMEOUT_SECS`: how long a connection may take to send a request's headers
    /// (its first bytes included), and to answer an HTTP/2 ping.
    pub header_timeout: Duration,
    /// `MAX_CONNECTIONS_PER_CLIENT`: open connections per client address at most (0: no cap).
    pub max_connections_per_client: u32,
    pub counter_flush_interval: Duration,
    pub demo: bool,
    /// The switchable modules that are on (the platform always is).
    pub modules: Vec<String>,
    pub log: String,
    /// One `request served` line per request at info level.
    pub request_log: bool,
    /// `Strict-Transport-Security: max-age=` this many seconds; only when `PUBLIC_BASE_URL` is
    /// https and `HSTS_MAX_AGE` is not 0.
    pub hsts_max_age: Option<u64>,
    /// `METRICS_TOKEN`: when set, `/metrics` answers only `Authorization: Bearer <it>`.
    pub metrics_token: Option<Secret>,
    /// Where `faro serve` exports its traces (OTLP over HTTP); `None`: no exporter.
    pub otlp: Option<Otlp>,
    /// Every key's merged value (platform and modules), for the modules to parse when mounted.
    pub settings: Settings,
}

/// OTLP trace export, on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, with the OpenTelemetry spec's meaning.
#[derive(Clone, Debug, PartialEq)]
pub struct Otlp {
    /// The full URL spans are posted to: the traces endpoint as given, or the base endpoint
    /// plus `/v1/traces`.
    pub traces_endpoint: String,
    /// Extra request headers (usually the backend's API key), values percent-decoded.
    pub headers: Vec<(String, Secret)>,
    pub service_name: String,
    /// The share of traces kept, in `0..=1` (by trace id, so a trace is kept whole).
    pub sample_ratio: f64,
}

/// The platform's keys, with their defaults (None = unset). Each module adds its own
/// (`Module::keys`); the start-up print lists the platform's first, then each module's.
const KEYS: &[(&str, Option<&str>)] = &[
    ("DATABASE_URL", Some("sqlite://data/faro.db")),
    ("FARO_BIND", Some("127.0.0.1:8080")),
    ("PUBLIC_BASE_URL", None),
    // Seconds browsers keep to https once they saw it (PUBLIC_BASE_URL https only); 0: off.
    ("HSTS_MAX_AGE", Some("31536000")),
    // When set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`.
    ("METRICS_TOKEN", None),
    ("JWT_SECRET", None),
    ("DATA_KEYS", None),
    ("ADMIN_USER", None),
    ("ADMIN_PASSWORD", None),
    ("ADMIN_PASS_HASH", None),
    ("REDIS_URL", None),
    ("RATE_LIMIT_LOGIN", Some("10/minute")),
    ("RATE_LIMITS", Some("on")),
    ("RATE_LIMIT_PENALTY", Some("400/10 minutes")),
    ("PENALTY_BOX_MINUTES", Some("10")),
    ("RATE_LIMIT_TENANT", Some("120/minute")),
    ("RATE_LIMIT_USER", Some("300/minute")),
    ("RATE_LIMIT_PUBLIC_WRITES", Some("60/minute")),
    ("TRUSTED_PROXIES", Some("")),
    // Networks (CIDRs) the super-admin's console and /api/v1/platform answer from; empty:
    // anywhere. Behind a proxy, list it in TRUSTED_PROXIES so the client's address is seen.
    ("SUPER_ADMIN_NETWORKS", Some("")),
    ("CORS_ALLOWED_ORIGINS", Some("")),
    ("DB_MAX_CONNECTIONS", Some("8")),
    ("REQUEST_TIMEOUT_SECS", Some("15")),
    ("HEADER_TIMEOUT_SECS", Some("10")),
    // Per address (IPv6: per /64); trusted proxies are exempt. 0: no cap.
    ("MAX_CONNECTIONS_PER_CLIENT", Some("256")),
    ("COUNTER_FLUSH_MS", Some("1000")),
    ("FARO_DEMO", Some("true")),
    // Default: every module (filled in from the module list).
    ("FARO_MODULES", None),
    ("FARO_LOG", Some("info")),
    ("REQUEST_LOG", Some("true")),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", None),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None),
    ("OTEL_EXPORTER_OTLP_HEADERS", None),
    ("OTEL_SERVICE_NAME", Some("faro")),
    ("OTEL_TRACES_SAMPLER_ARG", Some("1.0")),
];

const SECRET_KEYS: &[&str] = &[
    "JWT_SECRET",
    "DATA_KEYS",
    "ADMIN_PASSWORD",
    "ADMIN_PASS_HASH",
    "METRICS_TOKEN",
    // Usually carries the tracing backend's API key.
    "OTEL_EXPORTER_OTLP_HEADERS",
];

/// Every key: the platform's, then each module's in list order.
fn all_keys() -> Vec<(&'static str, Option<&'static str>)> {
    KEYS.iter()
        .copied()
        .chain(
            crate::modules::all()
                .iter()
                .flat_map(|m| m.keys.iter().copied()),
        )
        .collect()
}

/// The switchable modules' names, in list order.
pub fn known_modules() -> Vec<&'static str> {
    crate::modules::all()
        .iter()
        .filter(|m| m.optional)
        .map(|m| m.name)
        .collect()
}

impl Config {
    /// Reads `FARO_CONFIG` (if set) and the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let file = match env.get("FARO_CONFIG").filter(|p| !p.is_empty()) {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| err("FARO_CONFIG", format!("cannot read {path}: {e}")))?,
            ),
            None => None,
        };
        Config::from_sources(file.as_deref(), &env)
    }

    /// Builds the configuration from a TOML text and an environment map; the environment wins.
    pub fn from_sources(
        toml_text: Option<&str>,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let keys = all_keys();
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        for (key, default) in &keys {
            if let Some(d) = default {
                values.insert(key, d.to_string());
            }
        }
        values.insert("FARO_MODULES", known_modules().join(","));
        if let Some(text) = toml_text {
            let table: toml::Table = text
                .parse()
                .map_err(|e| err("FARO_CONFIG", format!("not valid TOML: {e}")))?;
            for (k, v) in table {
                let Some((key, _)) = keys.iter().find(|(name, _)| name.eq_ignore_ascii_case(&k))
                else {
                    return Err(err(
                        "FARO_CONFIG",
                        format!("unknown key {k:?} in the configuration file"),
                    ));
                };
                values.insert(key, toml_to_string(key, v)?);
            }
        }
        for (key, _) in &keys {
            if let Some(v) = env.get(*key) {
                values.insert(key, v.clone());
            }
        }
        Config::parse(Settings::new(values))
    }

    fn parse(settings: Settings) -> Result<Config, ConfigError> {
        let get = |k: &str| settings.get(k);
        let required = |k: &'static str| settings.required(k);

        let database_url = required("DATABASE_URL")?;
        if faro_store::Backend::from_url(&database_url).is_none() {
            return Err(err(
                "DATABASE_URL",
                "use sqlite://path/to/file.db or postgres://user@host/db",
            ));
        }
        let bind: SocketAddr = required("FARO_BIND")?
            .parse()
            .map_err(|_| err("FARO_BIND", "expected host:port, e.g. 127.0.0.1:8080"))?;
        let public_base_url = match get("PUBLIC_BASE_URL") {
            Some(u) => {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(err(
                        "PUBLIC_BASE_URL",
                        "must start with http:// or https://",
                    ));
                }
                u.trim_end_matches('/').to_string()
            }
            None => format!("http://{bind}"),
        };
        let jwt_secret = get("JWT_SECRET").map(Secret);
        if let Some(s) = &jwt_secret
            && s.0.len() < 32
        {
            return Err(err("JWT_SECRET", "must be at least 32 characters"));
        }
        let data_keys = get("DATA_KEYS").map(Secret);
        if let Some(k) = &data_keys {
            faro_auth::seal::Sealer::parse(&k.0).map_err(|e| err("DATA_KEYS", e.to_string()))?;
        }
        let admin_user = get("ADMIN_USER");
        let admin_password = get("ADMIN_PASSWORD").map(Secret);
        let admin_pass_hash = get("ADMIN_PASS_HASH").map(Secret);
        if admin_password.is_some() && admin_pass_hash.is_some() {
            return Err(err(
                "ADMIN_PASS_HASH",
                "set ADMIN_PASSWORD or ADMIN_PASS_HASH, not both",
            ));
        }
        if let Some(h) = &admin_pass_hash
            && !faro_auth::password::is_valid_phc(&h.0)
        {
            return Err(err(
                "ADMIN_PASS_HASH",
                "must be an argon2id PHC string ($argon2id$v=19$...)",
            ));
        }
        if let Some(p) = &admin_password
            && p.0.len() < 8
        {
            return Err(err("ADMIN_PASSWORD", "must be at least 8 characters"));
        }
        if (admin_password.is_some() || admin_pass_hash.is_some()) && admin_user.is_none() {
            return Err(err(
                "ADMIN_USER",
                "must be set when ADMIN_PASSWORD or ADMIN_PASS_HASH is",
            ));
        }
        if admin_user.is_some() && admin_password.is_none() && admin_pass_hash.is_none() {
            return Err(err(
                "ADMIN_PASSWORD",
                "set ADMIN_PASSWORD or ADMIN_PASS_HASH for ADMIN_USER",
            ));
        }
        if let Some(u) = &admin_user {
            faro_platform::accounts::check_username(u).map_err(|m| err("ADMIN_USER", m))?;
        }
        let redis_url = get("REDIS_URL").map(Secret);
        if let Some(r) = &redis_url
            && !(r.0.starts_with("redis://") || r.0.starts_with("rediss://"))
        {
            return Err(err("REDIS_URL", "must start with redis:// or rediss://"));
        }
        let list = |k: &str| settings.list(k);
        let networks = |k: &str| {
            list(k)
                .iter()
                .map(|s| Cidr::parse(s).map_err(|m| err(k, m)))
                .collect::<Result<Vec<_>, _>>()
        };
        let trusted_proxies = networks("TRUSTED_PROXIES")?;
        let super_admin_networks = networks("SUPER_ADMIN_NETWORKS")?;
        let cors_allowed_origins = list("CORS_ALLOWED_ORIGINS");
        for o in &cors_allowed_origins {
            if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
                return Err(err(
                    "CORS_ALLOWED_ORIGINS",
                    format!("{o:?} is not an origin like https://example.com"),
                ));
            }
        }
        let known = known_modules();
        let modules = list("FARO_MODULES");
        for m in &modules {
            if !known.contains(&m.as_str()) {
                return Err(err(
                    "FARO_MODULES",
                    format!("unknown module {m:?}; known: {}", known.join(", ")),
                ));
            }
        }
        // Every module's values are checked now, switched on or not: a typo stops the start.
        for module in crate::modules::all() {
            (module.check)(&settings)?;
        }
        let penalty_minutes = settings.number("PENALTY_BOX_MINUTES", 1, 1440)?;
        let log = required("FARO_LOG")?;
        tracing_subscriber::EnvFilter::try_new(&log)
            .map_err(|e| err("FARO_LOG", format!("not a valid log filter: {e}")))?;
        let otlp = otlp(&settings)?;

        let hsts_max_age = {
            let secs = settings.number("HSTS_MAX_AGE", 0, 2 * 31_536_000)?;
            (public_base_url.starts_with("https://") && secs > 0).then_some(secs)
        };
        Ok(Config {
            database_url,
            bind,
            public_base_url,
            jwt_secret,
            data_keys,
            admin_user,
            admin_password,
            admin_pass_hash,
            redis_url,
            rate_limit_login: settings.quota("RATE_LIMIT_LOGIN")?,
            rate_limits: match required("RATE_LIMITS")?.to_ascii_lowercase().as_str() {
                "on" => true,
                "off" => false,
                other => {
                    return Err(err(
                        "RATE_LIMITS",
                        format!("{other:?} is neither \"on\" nor \"off\""),
                    ));
                }
            },
            traffic: faro_http::traffic::TrafficLimits {
                penalty: settings
                    .quota("RATE_LIMIT_PENALTY")?
                    .map(|q| (q, Duration::from_secs(60 * penalty_minutes))),
                tenant: settings.quota("RATE_LIMIT_TENANT")?,
                user: settings.quota("RATE_LIMIT_USER")?,
                public_writes: settings.quota("RATE_LIMIT_PUBLIC_WRITES")?,
            },
            trusted_proxies,
            super_admin_networks,
            cors_allowed_origins,
            db_max_connections: settings.number("DB_MAX_CONNECTIONS", 1, 1000)? as u32,
            request_timeout: Duration::from_secs(settings.number(
                "REQUEST_TIMEOUT_SECS",
                1,
                3600,
            )?),
            header_timeout: Duration::from_secs(settings.number("HEADER_TIMEOUT_SECS", 1, 300)?),
            max_connections_per_client: settings.number(
                "MAX_CONNECTIONS_PER_CLIENT",
                0,
                1_000_000,
            )? as u32,
            counter_flush_interval: Duration::from_millis(settings.number(
                "COUNTER_FLUSH_MS",
                10,
                1000,
            )?),
            demo: settings.boolean("FARO_DEMO")?,
            modules,
            log,
            request_log: settings.boolean("REQUEST_LOG")?,
            hsts_max_age,
            metrics_token: match get("METRICS_TOKEN") {
                Some(t) if t.len() < 16 => {
                    return Err(err("METRICS_TOKEN", "must be at least 16 characters"));
                }
                t => t.map(Secret),
            },
            otlp,
            settings,
        })
    }

    pub fn module_enabled(&self, name: &str) -> bool {
        self.modules.iter().any(|m| m == name)
    }

    /// The effective settings as `(VARIABLE, value)` pairs with secrets masked, for the
    /// start-up log line.
    pub fn redacted(&self) -> Vec<(&'static str, String)> {
        let q = |q: &Option<Quota>| match q {
            Some(q) => q.to_string(),
            None => "off".into(),
        };
        let masked = |s: &Option<Secret>| if s.is_some() { "***" } else { "(unset)" }.to_string();
        let mut out = vec![
            ("DATABASE_URL", faro_store::redact_url(&self.database_url)),
            ("FARO_BIND", self.bind.to_string()),
            ("PUBLIC_BASE_URL", self.public_base_url.clone()),
            ("JWT_SECRET", masked(&self.jwt_secret)),
            ("DATA_KEYS", masked(&self.data_keys)),
            (
                "ADMIN_USER",
                self.admin_user.clone().unwrap_or_else(|| "(unset)".into()),
            ),
            ("ADMIN_PASSWORD", masked(&self.admin_password)),
            ("ADMIN_PASS_HASH", masked(&self.admin_pass_hash)),
            (
                "REDIS_URL",
                self.redis_url
                    .as_ref()
                    .map(|r| faro_store::redact_url(&r.0))
                    .unwrap_or_else(|| "(unset)".into()),
            ),
            ("RATE_LIMIT_LOGIN", q(&self.rate_limit_login)),
            (
                "RATE_LIMITS",
                if self.rate_limits { "on" } else { "off" }.into(),
            ),
            (
                "RATE_LIMIT_PENALTY",
                q(&self.traffic.penalty.map(|(quota, _)| quota)),
            ),
            (
                "PENALTY_BOX_MINUTES",
                self.traffic
                    .penalty
                    .map_or(10, |(_, d)| d.as_secs() / 60)
                    .to_string(),
            ),
            ("RATE_LIMIT_TENANT", q(&self.traffic.tenant)),
            ("RATE_LIMIT_USER", q(&self.traffic.user)),
            ("RATE_LIMIT_PUBLIC_WRITES", q(&self.traffic.public_writes)),
            (
                "TRUSTED_PROXIES",
                format!("{} networks", self.trusted_proxies.len()),
            ),
            (
                "SUPER_ADMIN_NETWORKS",
                if self.super_admin_networks.is_empty() {
                    "anywhere".to_string()
                } else {
                    format!("{} networks", self.super_admin_networks.len())
                },
            ),
            ("CORS_ALLOWED_ORIGINS", self.cors_allowed_origins.join(",")),
            ("DB_MAX_CONNECTIONS", self.db_max_connections.to_string()),
            (
                "REQUEST_TIMEOUT_SECS",
                self.request_timeout.as_secs().to_string(),
            ),
            (
                "HEADER_TIMEOUT_SECS",
                self.header_timeout.as_secs().to_string(),
            ),
            (
                "MAX_CONNECTIONS_PER_CLIENT",
                self.max_connections_per_client.to_string(),
            ),
            (
                "COUNTER_FLUSH_MS",
                self.counter_flush_interval.as_millis().to_string(),
            ),
            ("FARO_DEMO", self.demo.to_string()),
            ("FARO_MODULES", self.modules.join(",")),
            ("FARO_LOG", self.log.clone()),
            ("REQUEST_LOG", self.request_log.to_string()),
            (
                "HSTS_MAX_AGE",
                self.hsts_max_age.map_or("off".into(), |s| s.to_string()),
            ),
            ("METRICS_TOKEN", masked(&self.metrics_token)),
        ];
        for key in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ] {
            let url = self.settings.get(key);
            out.push((
                key,
                url.map_or("(unset)".into(), |u| faro_store::redact_url(&u)),
            ));
        }
        out.extend([
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                if self.settings.get("OTEL_EXPORTER_OTLP_HEADERS").is_some() {
                    "***"
                } else {
                    "(unset)"
                }
                .to_string(),
            ),
            (
                "OTEL_SERVICE_NAME",
                self.settings.get("OTEL_SERVICE_NAME").unwrap_or_default(),
            ),
            (
                "OTEL_TRACES_SAMPLER_ARG",
                self.settings
                    .get("OTEL_TRACES_SAMPLER_ARG")
                    .unwrap_or_default(),
            ),
        ]);
        // Modules' keys as given, secrets masked, after the platform's.
        for module in crate::modules::all() {
            for (key, _) in module.keys {
                let value = match self.settings.get(key) {
                    None => "(unset)".into(),
                    Some(_) if module.secret_keys.contains(key) => "***".into(),
                    Some(v) => v,
                };
                out.push((key, value));
            }
        }
        out
    }
}

impl fmt::Debug for Config {
    /// Prints the redacted view: the database URL may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.redacted()).finish()
    }
}

/// The OTLP settings, checked whether or not an endpoint is set (a typo stops the start).
fn otlp(settings: &Settings) -> Result<Option<Otlp>, ConfigError> {
    let url = |key: &str| -> Result<Option<String>, ConfigError> {
        let Some(u) = settings.get(key) else {
            return Ok(None);
        };
        let ok = (u.starts_with("http://") || u.starts_with("https://"))
            && u.parse::<axum::http::Uri>()
                .is_ok_and(|uri| uri.host().is_some_and(|h| !h.is_empty()));
        if !ok {
            return Err(err(
                key,
                "must be an http:// or https:// URL, e.g. http://127.0.0.1:4318",
            ));
        }
        Ok(Some(u))
    };
    let base = url("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let traces = url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?;
    let headers = match settings.get("OTEL_EXPORTER_OTLP_HEADERS") {
        Some(h) => parse_otlp_headers(&h).map_err(|m| err("OTEL_EXPORTER_OTLP_HEADERS", m))?,
        None => Vec::new(),
    };
    let service_name = settings.required("OTEL_SERVICE_NAME")?;
    let raw = settings.required("OTEL_TRACES_SAMPLER_ARG")?;
    let sample_ratio = raw
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| {
            err(
                "OTEL_TRACES_SAMPLER_ARG",
                format!("expected a ratio in 0..=1 (1.0 keeps every trace), got {raw:?}"),
            )
        })?;
    // The spec: the traces endpoint is used as given; the base gets the signal's path.
    let traces_endpoint = match (traces, base) {
        (Some(t), _) => t,
        (None, Some(b)) => format!("{}/v1/traces", b.trim_end_matches('/')),
        (None, None) => return Ok(None),
    };
    Ok(Some(Otlp {
        traces_endpoint,
        headers,
        service_name,
        sample_ratio,
    }))
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs separated by commas, values
/// percent-encoded (`Authorization=Bearer%20abc`). Messages name the pair by position, never
/// by content: a pasted API key must not end up in the error (and so in a log).
fn parse_otlp_headers(raw: &str) -> Result<Vec<(String, Secret)>, String> {
    let mut headers = Vec::new();
    for (i, item) in raw.split(',').map(str::trim).enumerate() {
        let n = i + 1;
        if item.is_empty() {
            continue;
        }
        let Some((name, value)) = item.split_once('=') else {
            return Err(format!("pair {n} is not key=value"));
        };
        let name = name.trim();
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(format!("pair {n}: the key is not a valid header name"));
        }
        let value = percent_decode(value.trim())
            .filter(|v| axum::http::HeaderValue::from_str(v).is_ok())
            .ok_or_else(|| {
                format!("pair {n}: the value is not a valid percent-encoded header value")
            })?;
        headers.push((name.to_ascii_lowercase(), Secret(value)));
    }
    Ok(headers)
}

/// `%XX` escapes to bytes; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

fn toml_to_string(key: &str, v: toml::Value) -> Result<String, ConfigError> {
    Ok(match v {
        toml::Value::String(s) => s,
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                toml::Value::String(s) => Ok(s),
                other => Err(err(key, format!("list items must be strings, got {other}"))),
            })
            .collect::<Result<Vec<_>, _>>()?
            .join(","),
        other => return Err(err(key, format!("unsupported value {other}"))),
    })
}

/// Every secret key name (the platform's and the modules'), for tests that check nothing leaks.
pub fn secret_keys() -> Vec<&'static str> {
    SECRET_KEYS
        .iter()
        .copied()
        .chain(
            crate::modules::all()
                .iter()
                .flat_map(|m| m.secret_keys.iter().copied()),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn fails(pairs: &[(&str, &str)], var: &str) {
        match Config::from_sources(None, &env(pairs)) {
            Ok(_) => panic!("{pairs:?} should fail"),
            Err(e) => assert_eq!(e.var, var, "{e}"),
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::from_sources(None, &BTreeMap::new()).expect("defaults");
        assert_eq!(c.database_url, "sqlite://data/faro.db");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(c.rate_limit_login.map(|q| q.count), Some(10));
        assert_eq!(
            c.settings.get("RATE_LIMIT_ANSWERS").as_deref(),
            Some("120/hour")
        );
        assert!(c.trusted_proxies.is_empty());
        assert!(c.redis_url.is_none());
        assert!(c.module_enabled("quiz"));
    }

    #[test]
    fn environment_overrides_the_file() {
        let file = "database_url = \"postgres://a@b/c\"\nsession_ttl_days = 7\ntrusted_proxies = [\"10.0.0.0/8\"]\n";
        let c = Config::from_sources(Some(file), &env(&[("SESSION_TTL_DAYS", "9")])).expect("ok");
        assert_eq!(c.database_url, "postgres://a@b/c");
        // A module's key, read from the file and overridden by the environment alike.
        assert_eq!(c.settings.get("SESSION_TTL_DAYS").as_deref(), Some("9"));
        assert_eq!(c.trusted_proxies.len(), 1);
    }

    #[test]
    fn off_disables_limits() {
        let c = Config::from_sources(None, &env(&[("RATE_LIMIT_LOGIN", "off")])).expect("ok");
        assert!(c.rate_limit_login.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        fails(&[("DATABASE_URL", "mysql://x")], "DATABASE_URL");
        fails(&[("FARO_BIND", "nope")], "FARO_BIND");
        fails(&[("PUBLIC_BASE_URL", "example.com")], "PUBLIC_BASE_URL");
        fails(&[("JWT_SECRET", "short")], "JWT_SECRET");
        fails(&[("DATA_KEYS", "k1:tooshort")], "DATA_KEYS");
        fails(&[("RATE_LIMIT_ANSWERS", "lots")], "RATE_LIMIT_ANSWERS");
        fails(&[("RATE_LIMITS", "maybe")], "RATE_LIMITS");
        fails(
            &[("RATE_LIMIT_PENALTY", "400/fortnight")],
            "RATE_LIMIT_PENALTY",
        );
        fails(&[("PENALTY_BOX_MINUTES", "0")], "PENALTY_BOX_MINUTES");
        fails(&[("RATE_LIMIT_TENANT", "x")], "RATE_LIMIT_TENANT");
        fails(&[("ANTIBOT_MIN_SECONDS", "-1")], "ANTIBOT_MIN_SECONDS");
        fails(&[("SESSION_TTL_DAYS", "0")], "SESSION_TTL_DAYS");
        fails(&[("STORE_ANSWERS", "maybe")], "STORE_ANSWERS");
        fails(&[("TRUSTED_PROXIES", "10.0.0.0/99")], "TRUSTED_PROXIES");
        fails(
            &[("CORS_ALLOWED_ORIGINS", "example.com")],
            "CORS_ALLOWED_ORIGINS",
        );
        fails(&[("REDIS_URL", "http://x")], "REDIS_URL");
        fails(&[("ADMIN_PASSWORD", "longenough")], "ADMIN_USER");
        fails(&[("ADMIN_USER", "root")], "ADMIN_PASSWORD");
        fails(
            &[("ADMIN_USER", "root"), ("ADMIN_PASSWORD", "short")],
            "ADMIN_PASSWORD",
        );
        fails(
            &[("ADMIN_USER", "root"), ("ADMIN_PASS_HASH", "$2b$bcrypt")],
            "ADMIN_PASS_HASH",
        );
        fails(&[("FARO_MODULES", "quiz,chess")], "FARO_MODULES");
        fails(&[("FARO_LOG", "info,[[[")], "FARO_LOG");
        fails(&[("EVENT_RETENTION_DAYS", "0")], "EVENT_RETENTION_DAYS");
        fails(
            &[("EVENT_RETENTION_DAYS", "a week")],
            "EVENT_RETENTION_DAYS",
        );
    }

    #[test]
    fn otlp_export_follows_the_otel_variables() {
        let otlp =
            |pairs: &[(&str, &str)]| Config::from_sources(None, &env(pairs)).expect("valid").otlp;
        assert_eq!(otlp(&[]), None);
        // Other OTEL_ settings alone switch nothing on.
        assert_eq!(otlp(&[("OTEL_SERVICE_NAME", "x")]), None);
        let on = otlp(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]).expect("on");
        assert_eq!(on.traces_endpoint, "http://collector:4318/v1/traces");
        assert_eq!(on.service_name, "faro");
        assert_eq!(on.sample_ratio, 1.0);
        assert!(on.headers.is_empty());
        // The base endpoint gets the signal's path, after a path of its own.
        let on = otlp(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example/otlp/")]);
        assert_eq!(
            on.map(|o| o.traces_endpoint).as_deref(),
            Some("https://otlp.example/otlp/v1/traces")
        );
        // The traces endpoint is used as given, and wins over the base.
        let on = otlp(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"),
            ("OTEL_SERVICE_NAME", "faro-eu"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-honeycomb-team=abc, Authorization=Basic%20dTpw ,",
            ),
        ])
        .expect("on");
        assert_eq!(on.traces_endpoint, "http://b:4318/custom");
        assert_eq!(on.service_name, "faro-eu");
        assert_eq!(on.sample_ratio, 0.25);
        assert_eq!(
            on.headers,
            [
                ("x-honeycomb-team".to_string(), Secret("abc".into())),
                ("authorization".to_string(), Secret("Basic dTpw".into())),
            ]
        );
        let file = "otel_exporter_otlp_endpoint = \"http://from-file:4318\"\n";
        let c = Config::from_sources(Some(file), &BTreeMap::new()).expect("ok");
        assert_eq!(
            c.otlp.map(|o| o.traces_endpoint).as_deref(),
            Some("http://from-file:4318/v1/traces")
        );
    }

    #[test]
    fn bad_otel_values_name_their_variable_without_echoing_headers() {
        for url in [
            "collector:4318",
            "grpc://collector:4317",
            "http://",
            "http://a b",
        ] {
            fails(
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", url)],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            );
            fails(
                &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)],
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            );
        }
        for ratio in ["1.5", "-0.1", "half", "NaN"] {
            fails(
                &[("OTEL_TRACES_SAMPLER_ARG", ratio)],
                "OTEL_TRACES_SAMPLER_ARG",
            );
        }
        fails(&[("OTEL_SERVICE_NAME", " ")], "OTEL_SERVICE_NAME");
        for headers in [
            "sk-live-canary-secret",
            "=sk-live-canary-secret",
            "bad name=sk-live-canary-secret",
            "key=sk-live-canary-secret%zz",
            "key=sk-live-canary-secret%0A",
        ] {
            let e = Config::from_sources(None, &env(&[("OTEL_EXPORTER_OTLP_HEADERS", headers)]))
                .expect_err(headers);
            assert_eq!(e.var, "OTEL_EXPORTER_OTLP_HEADERS", "{headers}");
            assert!(!e.to_string().contains("canary"), "{e}");
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let e =
            Config::from_sources(Some("databse_url = \"x\""), &BTreeMap::new()).expect_err("typo");
        assert_eq!(e.var, "FARO_CONFIG");
        assert!(e.message.contains("databse_url"));
    }

    #[test]
    fn secrets_never_print() {
        let c = Config::from_sources(
            None,
            &env(&[
                ("JWT_SECRET", "0123456789abcdef0123456789abcdef-secret"),
                ("ADMIN_USER", "root"),
                ("ADMIN_PASSWORD", "hunter2hunter2"),
                ("DATABASE_URL", "postgres://u:pw@h/db"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=otlp-key-canary"),
            ]),
        )
        .expect("ok");
        let printed = format!("{c:?} {:?}", c.redacted());
        assert!(!printed.contains("otlp-key-canary"));
        assert!(printed.contains("https://collector:4318"));
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains("0123456789abcdef"));
        assert!(!printed.contains(":pw@"));
    }
}
