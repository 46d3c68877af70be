//! The module's settings: its configuration keys with their defaults, and their parsing.

use std::time::Duration;

use faro_http::module::{ConfigError, Settings};
use faro_webhooks_domain::RetrySchedule;

/// The keys, in the order of the start-up print.
///
/// - `ALLOW_PRIVATE_NETWORK_TARGETS`: lets webhooks reach loopback, private and link-local
///   addresses (an installation whose receivers live on its own network; the tests' local
///   receiver). Off by default: a webhook must not become a way into the server's network.
/// - `WEBHOOK_TIMEOUT_SECS`: how long one attempt may take (connect, send, answer) before it
///   counts as failed.
/// - `WEBHOOK_RETRY_SCHEDULE_SECS`: the waits after failed attempts 1, 2, 3...: "5,20,60" is
///   four attempts. Decimals are accepted so tests can retry in tenths of a second; production
///   has no reason to change it.
/// - `WEBHOOK_RETENTION_DAYS`: finished deliveries (delivered or failed) older than this are
///   purged, hourly; a failed delivery can be replayed until then.
pub const KEYS: &[(&str, Option<&str>)] = &[
    ("ALLOW_PRIVATE_NETWORK_TARGETS", Some("false")),
    ("WEBHOOK_TIMEOUT_SECS", Some("10")),
    ("WEBHOOK_RETRY_SCHEDULE_SECS", Some("5,20,60")),
    ("WEBHOOK_RETENTION_DAYS", Some("30")),
    ("WEBHOOK_DELIVERY", Some("on")),
];

#[derive(Clone, Debug)]
pub struct WebhooksConfig {
    pub allow_private_targets: bool,
    pub timeout: Duration,
    pub schedule: RetrySchedule,
    pub retention_days: i64,
    /// `paused`: deliveries are queued as usual but this instance sends nothing (maintenance,
    /// or a fuzzing run whose endpoints point at made-up hosts).
    pub paused: bool,
}

impl WebhooksConfig {
    pub fn from_settings(s: &Settings) -> Result<WebhooksConfig, ConfigError> {
        let key = "WEBHOOK_RETRY_SCHEDULE_SECS";
        let schedule = RetrySchedule::parse(&s.get(key).unwrap_or_default())
            .map_err(|e| ConfigError::new(key, e))?;
        Ok(WebhooksConfig {
            allow_private_targets: s.boolean("ALLOW_PRIVATE_NETWORK_TARGETS")?,
            timeout: Duration::from_secs(s.number("WEBHOOK_TIMEOUT_SECS", 1, 120)?),
            schedule,
            retention_days: s.number("WEBHOOK_RETENTION_DAYS", 1, 3650)? as i64,
            paused: match s.required("WEBHOOK_DELIVERY")?.as_str() {
                "on" => false,
                "paused" => true,
                other => {
                    return Err(ConfigError::new(
                        "WEBHOOK_DELIVERY",
                        format!("expected on or paused, got {other:?}"),
                    ));
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&'static str, &str)]) -> Settings {
        Settings::with_defaults(KEYS, pairs)
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = WebhooksConfig::from_settings(&settings(&[])).expect("defaults");
        assert!(!c.allow_private_targets);
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.schedule, RetrySchedule::standard());
        assert_eq!(c.retention_days, 30);
        assert!(!c.paused);
        let c = WebhooksConfig::from_settings(&settings(&[("WEBHOOK_DELIVERY", "paused")]))
            .expect("paused");
        assert!(c.paused);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (key, value) in [
            ("ALLOW_PRIVATE_NETWORK_TARGETS", "maybe"),
            ("WEBHOOK_TIMEOUT_SECS", "0"),
            ("WEBHOOK_RETRY_SCHEDULE_SECS", "soon"),
            ("WEBHOOK_RETENTION_DAYS", "0"),
            ("WEBHOOK_DELIVERY", "off"),
        ] {
            let e = WebhooksConfig::from_settings(&settings(&[(key, value)])).expect_err(key);
            assert_eq!(e.var, key);
        }
    }
}
