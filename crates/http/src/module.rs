//! The seam every module plugs into: one `Module` value per crate says what the module brings
//! (its configuration keys, migrations, panel links, command-line commands) and how to mount
//! it (routes with their OpenAPI description, pages, background tasks). The binary keeps one
//! list of them (`crates/faro/src/modules.rs`) and loops over it; it names no module anywhere
//! else. See `docs/architecture.md`, "Adding a module".

use std::collections::BTreeMap;

use axum::Router;
use faro_limits::Quota;
use faro_store::{Consumer, Db, Job, Migrator};
use utoipa_axum::router::OpenApiRouter;

use crate::state::{Core, NavLink};

pub use faro_store::BoxFuture;

/// What a module is, as a value the binary can list.
pub struct Module {
    /// The module's word in `FARO_MODULES` and in `faro <name> <command>`.
    pub name: &'static str,
    /// Whether `FARO_MODULES` can switch it off (the platform cannot be).
    pub optional: bool,
    /// Whether integrations' API keys may call its API, with the scopes `<name>:read` and
    /// `<name>:write` (the platform's own staff routes never take a key).
    pub api_keys: bool,
    /// Its configuration keys with their defaults (`None`: unset). The environment variable is
    /// the key; the TOML key is the key in lower case.
    pub keys: &'static [(&'static str, Option<&'static str>)],
    /// Which of its keys hold secrets: masked in the start-up print and `Debug`.
    pub secret_keys: &'static [&'static str],
    /// Validates the module's settings at start-up, so a bad value stops the binary before
    /// anything is served, with the key named. `mount` parses them again.
    pub check: fn(&Settings) -> Result<(), ConfigError>,
    /// Its migrations (`sqlx::migrate!("./migrations")` of its crate). Every module's tables
    /// are always created, switched on or not, so switching a module on needs no migration.
    pub migrations: &'static Migrator,
    /// Its links in the panel's main navigation.
    pub nav: &'static [NavLink],
    /// Builds the module's routes and tasks for a running server. Called inside the runtime.
    pub mount: fn(&Core, &Settings) -> Result<Mounted, ConfigError>,
    /// Seeds the module's demo content on a fresh install (`FARO_DEMO`); returns what it made,
    /// for the start-up log, or `None` when there was nothing to do.
    pub demo: Option<DemoSeed>,
    /// Its commands, as `faro <name> <command>`.
    pub cli: Option<ModuleCli>,
    /// The columns where it keeps values sealed with `DATA_KEYS` (`faro_auth::seal`), so
    /// `faro secrets rotate` can re-seal them with the newest key.
    pub sealed: &'static [SealedColumn],
}

/// A column of sealed values. Each row's value is sealed for the context
/// `"<context>|<tenant>"` (the row's `tenant_id`; empty for a table without tenants, with
/// `tenantless`), and the row is found again by `key`.
#[derive(Clone, Copy, Debug)]
pub struct SealedColumn {
    pub table: &'static str,
    /// The primary key column (unique across tenants).
    pub key: &'static str,
    pub column: &'static str,
    /// What the value is for, e.g. `"webhook_endpoints.secret"`.
    pub context: &'static str,
    /// Which rows hold sealed values (an SQL condition), when not all of them do.
    pub only: Option<&'static str>,
    /// The table has no `tenant_id` (installation-wide values).
    pub tenantless: bool,
}

impl SealedColumn {
    /// The context a row of `tenant` is sealed for.
    pub fn context_for(&self, tenant: &str) -> String {
        format!("{}|{tenant}", self.context)
    }
}

/// Seeds a module's demo content; `Ok(Some(what))` names what it made.
pub type DemoSeed = fn(Db) -> BoxFuture<'static, Result<Option<String>, String>>;

/// What a mounted module serves.
pub struct Mounted {
    /// JSON routes with their OpenAPI description, merged into the one document.
    pub api: OpenApiRouter,
    /// Public pages and panel pages.
    pub pages: Router,
    /// Scheduled jobs: each slot runs once across all instances (leases in the `jobs` table).
    pub jobs: Vec<Job>,
    /// Event consumers: each reads the outbox from its own cursor, once per event across all
    /// instances, its writes committed with the cursor's move.
    pub consumers: Vec<Consumer>,
    /// Other background tasks (per instance); each runs until the receiver says stop, and
    /// `serve` waits for them before closing the database.
    pub tasks: Vec<Task>,
    /// Whether `pages` serves the panel's home, `/admin` (the quiz's tests list). When no
    /// mounted module does, the binary sends `/admin` to the first panel link.
    pub panel_home: bool,
    /// What the module holds about a person, for the GDPR export (see [`crate::personal`]).
    /// A module that keeps personal data also consumes `user.deleted` and `visitor.deleted`.
    pub personal: Option<crate::personal::Exporter>,
}

impl Mounted {
    pub fn new(api: OpenApiRouter, pages: Router) -> Self {
        Mounted {
            api,
            pages,
            jobs: Vec::new(),
            consumers: Vec::new(),
            tasks: Vec::new(),
            panel_home: false,
            personal: None,
        }
    }
}

/// A background task: started by `serve` with the shutdown signal.
pub type Task =
    Box<dyn FnOnce(tokio::sync::watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send>;

/// A module's command-line commands.
pub struct ModuleCli {
    /// The `faro <name>` command with its subcommands (clap's derive: `Command::augment_subcommands`).
    pub command: fn() -> clap::Command,
    /// Subcommands also answered at the top level (`faro import` for `faro quiz import`), kept
    /// for scripts written before modules had their own word.
    pub aliases: &'static [&'static str],
    /// Runs a subcommand against the migrated database.
    pub run: fn(CliContext) -> BoxFuture<'static, anyhow::Result<()>>,
}

/// What a module's command gets.
pub struct CliContext {
    pub db: Db,
    pub settings: Settings,
    /// The matches whose subcommand is the module's command (those of `faro quiz`, or the
    /// top level's for an alias), as clap's `Subcommand::from_arg_matches` reads them.
    pub matches: clap::ArgMatches,
}

/// A configuration problem, naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(var: &str, message: impl Into<String>) -> Self {
        ConfigError {
            var: var.to_string(),
            message: message.into(),
        }
    }
}

/// The merged configuration (defaults, file, environment) as key → raw value, with the typed
/// readers every module uses, so a bad value gets the same message whichever module reads it.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    values: BTreeMap<&'static str, String>,
}

impl Settings {
    pub fn new(values: BTreeMap<&'static str, String>) -> Self {
        Settings { values }
    }

    /// `keys`' defaults with `overrides` on top: what a module's configuration tests parse.
    pub fn with_defaults(
        keys: &[(&'static str, Option<&'static str>)],
        overrides: &[(&'static str, &str)],
    ) -> Self {
        let mut values: BTreeMap<&'static str, String> = keys
            .iter()
            .filter_map(|(k, d)| d.map(|d| (*k, d.to_string())))
            .collect();
        for (k, v) in overrides {
            values.insert(k, v.to_string());
        }
        Settings { values }
    }

    /// The trimmed value, `None` when unset or empty.
    pub fn get(&self, key: &str) -> Option<String> {
        self.values
            .get(key)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    pub fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.get(key)
            .ok_or_else(|| ConfigError::new(key, "must not be empty"))
    }

    /// A rate limit such as `30/hour`, or `None` for `off`.
    pub fn quota(&self, key: &str) -> Result<Option<Quota>, ConfigError> {
        faro_limits::parse_quota(&self.get(key).unwrap_or_default())
            .map_err(|e| ConfigError::new(key, e.to_string()))
    }

    /// A whole number in `min..=max`.
    pub fn number(&self, key: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
        let raw = self.required(key)?;
        raw.parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    key,
                    format!("expected a whole number in {min}..={max}, got {raw:?}"),
                )
            })
    }

    pub fn boolean(&self, key: &str) -> Result<bool, ConfigError> {
        match self.required(key)?.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(ConfigError::new(
                key,
                format!("expected true or false, got {other:?}"),
            )),
        }
    }

    /// A comma-separated list, empty items dropped.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&'static str, &str)]) -> Settings {
        Settings::new(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    #[test]
    fn readers_name_the_key_at_fault() {
        let s = settings(&[("N", "12"), ("B", "yes"), ("L", " a, ,b "), ("Q", "lots")]);
        assert_eq!(s.number("N", 1, 20).ok(), Some(12));
        assert_eq!(
            s.number("N", 1, 10).map_err(|e| e.var).err().as_deref(),
            Some("N")
        );
        assert_eq!(s.boolean("B").ok(), Some(true));
        assert_eq!(s.list("L"), ["a", "b"]);
        assert_eq!(s.quota("Q").map_err(|e| e.var).err().as_deref(), Some("Q"));
        assert_eq!(
            s.required("MISSING").map_err(|e| e.var).err().as_deref(),
            Some("MISSING")
        );
    }
}
