//! The files module's settings: its configuration keys with their defaults, and their parsing.
//! A bad value stops the start with the key named.

use std::path::PathBuf;
use std::time::Duration;

use faro_http::module::{ConfigError, Settings};

/// The module's keys, in the order of the start-up print.
pub const KEYS: &[(&str, Option<&str>)] = &[
    ("FILES_BACKEND", Some("local")),
    // Beside the default SQLite file (`data/faro.db`).
    ("FILES_DIR", Some("data/files")),
    ("FILES_MAX_BYTES", Some("10485760")),
    ("FILES_URL_TTL_SECS", Some("3600")),
    ("S3_BUCKET", None),
    ("S3_REGION", Some("us-east-1")),
    ("S3_ENDPOINT", None),
    ("S3_ACCESS_KEY_ID", None),
    ("S3_SECRET_ACCESS_KEY", None),
    ("S3_ALLOW_HTTP", Some("false")),
];

/// Masked in the start-up print and `Debug`.
pub const SECRET_KEYS: &[&str] = &["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"];

/// The largest `FILES_MAX_BYTES` accepted: 5 GiB (S3's largest single PUT, and far beyond
/// what one request should carry through this server).
pub const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// Where objects are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// A directory on the local disk (created 0700 on first use).
    Local { root: PathBuf },
    /// An S3-compatible bucket (AWS, MinIO, R2, moto...).
    S3(S3Config),
}

#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// `None`: AWS's own endpoint for the region.
    pub endpoint: Option<String>,
    /// Static credentials; both `None`: the environment's (instance profile, web identity).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Plain `http://` endpoints (local test servers) are refused unless this is set.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mask = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &mask(&self.access_key_id))
            .field("secret_access_key", &mask(&self.secret_access_key))
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl std::fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendConfig::Local { root } => f.debug_struct("Local").field("root", root).finish(),
            BackendConfig::S3(s3) => s3.fmt(f),
        }
    }
}

/// The files module's settings.
#[derive(Clone, Debug)]
pub struct FilesConfig {
    pub backend: BackendConfig,
    /// The largest file accepted, in bytes; larger uploads are refused with 413 while streaming.
    pub max_bytes: u64,
    /// How long a signed download URL works.
    pub url_ttl: Duration,
}

impl FilesConfig {
    pub fn from_settings(s: &Settings) -> Result<FilesConfig, ConfigError> {
        let max_bytes = s.number("FILES_MAX_BYTES", 1, MAX_FILE_BYTES)?;
        let url_ttl = Duration::from_secs(s.number("FILES_URL_TTL_SECS", 1, 7 * 24 * 3600)?);
        // The S3 keys are checked whenever they are set, so a typo shows before the switch.
        let allow_http = s.boolean("S3_ALLOW_HTTP")?;
        let endpoint = s
            .get("S3_ENDPOINT")
            .map(|e| endpoint(&e, allow_http))
            .transpose()?;
        let bucket = s.get("S3_BUCKET").map(|b| bucket(&b)).transpose()?;
        let region = s.get("S3_REGION").unwrap_or_else(|| "us-east-1".into());
        if !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConfigError::new(
                "S3_REGION",
                format!("expected a region name such as us-east-1, got {region:?}"),
            ));
        }
        let access_key_id = s.get("S3_ACCESS_KEY_ID");
        let secret_access_key = s.get("S3_SECRET_ACCESS_KEY");
        match (&access_key_id, &secret_access_key) {
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "S3_SECRET_ACCESS_KEY",
                    "must be set with S3_ACCESS_KEY_ID (or unset both to use the environment's credentials)",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "S3_ACCESS_KEY_ID",
                    "must be set with S3_SECRET_ACCESS_KEY (or unset both to use the environment's credentials)",
                ));
            }
            _ => {}
        }
        let backend = match s.required("FILES_BACKEND")?.to_ascii_lowercase().as_str() {
            "local" => BackendConfig::Local {
                root: PathBuf::from(s.required("FILES_DIR")?),
            },
            "s3" => BackendConfig::S3(S3Config {
                bucket: bucket.ok_or_else(|| {
                    ConfigError::new("S3_BUCKET", "must be set when FILES_BACKEND=s3")
                })?,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                allow_http,
            }),
            other => {
                return Err(ConfigError::new(
                    "FILES_BACKEND",
                    format!("expected local or s3, got {other:?}"),
                ));
            }
        };
        Ok(FilesConfig {
            backend,
            max_bytes,
            url_ttl,
        })
    }
}

/// An absolute `http(s)://host[:port][/path]` URL; plain http only with `S3_ALLOW_HTTP`.
fn endpoint(raw: &str, allow_http: bool) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::new("S3_ENDPOINT", format!("{why}, got {raw:?}"));
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| bad("expected a URL such as https://s3.example.com"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = !host.is_empty()
        && !host.contains('@')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
    if !host_ok {
        return Err(bad("expected a URL with a host name"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("expected a URL without a query or fragment"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(bad(
                "plain http is refused (credentials would cross the network in clear); set S3_ALLOW_HTTP=true for a local test server",
            ));
        }
        _ => return Err(bad("expected an http:// or https:// URL")),
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// S3's bucket naming rules: 3 to 63 lower-case letters, digits, dots and hyphens, starting
/// and ending with a letter or digit.
fn bucket(raw: &str) -> Result<String, ConfigError> {
    let ok = (3..=63).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && raw.starts_with(|c: char| c.is_ascii_alphanumeric())
        && raw.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(raw.to_string())
    } else {
        Err(ConfigError::new(
            "S3_BUCKET",
            format!(
                "expected a bucket name (3-63 lower-case letters, digits, dots, hyphens), got {raw:?}"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&'static str, &str)]) -> Settings {
        Settings::with_defaults(KEYS, pairs)
    }

    #[test]
    fn defaults_are_a_local_directory_beside_the_database() {
        let c = FilesConfig::from_settings(&settings(&[])).expect("defaults");
        assert_eq!(
            c.backend,
            BackendConfig::Local {
                root: PathBuf::from("data/files")
            }
        );
        assert_eq!(c.max_bytes, 10 * 1024 * 1024);
        assert_eq!(c.url_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn s3_takes_its_keys() {
        let c = FilesConfig::from_settings(&settings(&[
            ("FILES_BACKEND", "S3"),
            ("S3_BUCKET", "faro-files"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("S3_ALLOW_HTTP", "true"),
            ("S3_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("S3_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
        ]))
        .expect("s3");
        let BackendConfig::S3(s3) = c.backend else {
            panic!("not s3")
        };
        assert_eq!(s3.bucket, "faro-files");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s3.allow_http);
        // Secrets never reach a log line through Debug.
        let printed = format!("{s3:?}");
        assert!(
            !printed.contains("AKIDEXAMPLE") && !printed.contains("wJalrXUtnFEMI"),
            "{printed}"
        );
        assert_eq!(s3.access_key_id.as_deref(), Some("AKIDEXAMPLE"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (pairs, key) in [
            (&[("FILES_BACKEND", "ftp")][..], "FILES_BACKEND"),
            (
                &[("FILES_BACKEND", "local"), ("FILES_DIR", " ")][..],
                "FILES_DIR",
            ),
            (&[("FILES_MAX_BYTES", "0")][..], "FILES_MAX_BYTES"),
            (&[("FILES_MAX_BYTES", "10MB")][..], "FILES_MAX_BYTES"),
            (&[("FILES_MAX_BYTES", "6000000000")][..], "FILES_MAX_BYTES"),
            (&[("FILES_URL_TTL_SECS", "0")][..], "FILES_URL_TTL_SECS"),
            (&[("FILES_BACKEND", "s3")][..], "S3_BUCKET"),
            (
                &[("FILES_BACKEND", "s3"), ("S3_BUCKET", "Has_Upper")][..],
                "S3_BUCKET",
            ),
            (&[("S3_BUCKET", "ab")][..], "S3_BUCKET"),
            (&[("S3_ENDPOINT", "s3.example.com")][..], "S3_ENDPOINT"),
            (
                &[("S3_ENDPOINT", "ftp://s3.example.com")][..],
                "S3_ENDPOINT",
            ),
            (&[("S3_ENDPOINT", "https://")][..], "S3_ENDPOINT"),
            (
                &[("S3_ENDPOINT", "https://u:p@s3.example.com")][..],
                "S3_ENDPOINT",
            ),
            (
                &[("S3_ENDPOINT", "http://127.0.0.1:9000")][..],
                "S3_ENDPOINT",
            ),
            (&[("S3_ALLOW_HTTP", "sometimes")][..], "S3_ALLOW_HTTP"),
            (&[("S3_REGION", "us east")][..], "S3_REGION"),
            (&[("S3_ACCESS_KEY_ID", "id")][..], "S3_SECRET_ACCESS_KEY"),
            (&[("S3_SECRET_ACCESS_KEY", "s")][..], "S3_ACCESS_KEY_ID"),
        ] {
            let e = FilesConfig::from_settings(&settings(pairs)).expect_err(key);
            assert_eq!(e.var, key, "{pairs:?}: {e}");
        }
    }

    #[test]
    fn https_endpoints_need_no_switch() {
        let c = FilesConfig::from_settings(&settings(&[
            ("FILES_BACKEND", "s3"),
            ("S3_BUCKET", "b.example"),
            ("S3_ENDPOINT", "https://account.r2.cloudflarestorage.com"),
            ("S3_REGION", "auto"),
        ]))
        .expect("r2");
        assert!(matches!(
            c.backend,
            BackendConfig::S3(S3Config {
                allow_http: false,
                ..
            })
        ));
    }
}
