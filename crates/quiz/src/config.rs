//! The quiz's settings: its configuration keys with their defaults, and their parsing.

use std::time::Duration;

use faro_http::module::{ConfigError, Settings};
use faro_limits::Quota;

/// The quiz's keys, in the order of the start-up print.
pub const KEYS: &[(&str, Option<&str>)] = &[
    ("RATE_LIMIT_SESSION_STARTS", Some("30/hour")),
    ("RATE_LIMIT_ANSWERS", Some("120/hour")),
    ("ANTIBOT_MIN_SECONDS", Some("15")),
    ("SESSION_TTL_DAYS", Some("30")),
    ("STORE_ANSWERS", Some("false")),
    ("CATALOG_CACHE_MS", Some("1000")),
];

/// The quiz module's settings (from the configuration).
#[derive(Clone, Debug)]
pub struct QuizConfig {
    pub session_starts: Option<Quota>,
    pub answers: Option<Quota>,
    /// A finish faster than this is suspicious: counted apart, out of the funnel.
    pub antibot_min_seconds: i64,
    pub session_ttl_days: u32,
    /// Keep raw answers (anonymised) for every test, not only those that opt in.
    pub store_answers: bool,
    pub catalog_ttl: Duration,
}

impl QuizConfig {
    pub fn from_settings(s: &Settings) -> Result<QuizConfig, ConfigError> {
        Ok(QuizConfig {
            session_starts: s.quota("RATE_LIMIT_SESSION_STARTS")?,
            answers: s.quota("RATE_LIMIT_ANSWERS")?,
            antibot_min_seconds: s.number("ANTIBOT_MIN_SECONDS", 0, 3600)? as i64,
            session_ttl_days: s.number("SESSION_TTL_DAYS", 1, 3650)? as u32,
            store_answers: s.boolean("STORE_ANSWERS")?,
            catalog_ttl: Duration::from_millis(s.number("CATALOG_CACHE_MS", 0, 60_000)?),
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
        let c = QuizConfig::from_settings(&settings(&[])).expect("defaults");
        assert_eq!(c.session_starts.map(|q| q.count), Some(30));
        assert_eq!(c.answers.map(|q| q.count), Some(120));
        assert_eq!(c.antibot_min_seconds, 15);
        assert_eq!(c.session_ttl_days, 30);
        assert!(!c.store_answers);
        assert_eq!(c.catalog_ttl, Duration::from_secs(1));
    }

    #[test]
    fn off_disables_limits() {
        let c = QuizConfig::from_settings(&settings(&[("RATE_LIMIT_ANSWERS", "off")])).expect("ok");
        assert!(c.answers.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (key, value) in [
            ("RATE_LIMIT_ANSWERS", "lots"),
            ("ANTIBOT_MIN_SECONDS", "-1"),
            ("SESSION_TTL_DAYS", "0"),
            ("STORE_ANSWERS", "maybe"),
            ("CATALOG_CACHE_MS", "60001"),
        ] {
            let e = QuizConfig::from_settings(&settings(&[(key, value)])).expect_err(key);
            assert_eq!(e.var, key);
        }
    }
}
