//! What a valid tenant is: slugs, host names, languages, time zones, modules and status. Plain
//! functions with no I/O, so every rule is tested here, and the API, the console and
//! `faro tenant` report the same problems with the same paths.

use serde::{Deserialize, Serialize};

/// The languages Faro's pages speak; a tenant's default is one of them.
pub const LANGUAGES: [&str; 4] = ["es", "ca", "pt", "en"];

/// Slugs that would be confusing in URLs, logs and the console.
const RESERVED_SLUGS: [&str; 8] = [
    "admin", "api", "platform", "www", "static", "assets", "faro", "root",
];

/// A tenant may claim at most this many host names.
pub const MAX_HOSTS: usize = 20;

/// One problem with a request, at a JSON path (`hosts[2]`), as every validator reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The 422 `validation_failed` answer listing every problem: the one conversion every
/// platform use case's `Invalid` goes through.
pub fn invalid(message: &str, problems: Vec<Problem>) -> faro_http::ApiError {
    faro_http::ApiError::invalid(
        message,
        problems
            .into_iter()
            .map(|p| faro_http::FieldProblem {
                path: p.path,
                message: p.message,
            })
            .collect(),
    )
}

/// Whether a tenant serves requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    /// Public pages answer 503, staff cannot sign in, jobs skip it; nothing is deleted.
    Paused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "active" => Some(Status::Active),
            "paused" => Some(Status::Paused),
            _ => None,
        }
    }
}

/// 2 to 40 lowercase letters, digits and inner hyphens, starting with a letter; not reserved.
pub fn check_slug(slug: &str) -> Result<(), String> {
    let bytes = slug.as_bytes();
    let shape = (2..=40).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && !slug.ends_with('-')
        && !slug.contains("--");
    if !shape {
        return Err(
            "2 to 40 lowercase letters, digits or single hyphens, starting with a letter".into(),
        );
    }
    if RESERVED_SLUGS.contains(&slug) {
        return Err(format!("\"{slug}\" is reserved"));
    }
    Ok(())
}

/// A host name as a browser sends it in `Host`, normalised: lowercase, no port, no trailing
/// dot. Letters, digits and hyphens in labels of 1 to 63, at most 253 in all; IPv4 literals too.
pub fn normalize_host(raw: &str) -> Result<String, String> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err("a host name cannot be empty".into());
    }
    if host.contains(':') || host.contains('/') {
        return Err(format!(
            "\"{raw}\" is not a bare host name: leave out the scheme, port and path"
        ));
    }
    let labels_ok = host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !labels_ok {
        return Err(format!("\"{raw}\" is not a valid host name"));
    }
    Ok(host)
}

pub fn check_language(lang: &str) -> Result<(), String> {
    if LANGUAGES.contains(&lang) {
        Ok(())
    } else {
        Err(format!("\"{lang}\" is not one of es, ca, pt, en"))
    }
}

/// An IANA time zone name (`Europe/Madrid`, `UTC`), checked against the bundled tz database so
/// every instance agrees whatever its operating system has installed.
pub fn check_time_zone(tz: &str) -> Result<(), String> {
    if tz.len() <= 64 && jiff::tz::TimeZone::get(tz).is_ok() {
        Ok(())
    } else {
        Err(format!(
            "\"{tz}\" is not a time zone name such as Europe/Madrid or UTC"
        ))
    }
}

/// A name people read: 1 to 120 characters after trimming, no control characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 120 || n.chars().any(char::is_control) {
        Err("1 to 120 characters, no control characters".into())
    } else {
        Ok(())
    }
}

/// A plan name: 1 to 40 lowercase letters, digits, `-` or `_`. Plans are labels the
/// installation chooses; quotas hang on them.
pub fn check_plan(plan: &str) -> Result<(), String> {
    let ok = (1..=40).contains(&plan.len())
        && plan
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("1 to 40 lowercase letters, digits, - or _".into())
    }
}

/// Normalises a list of host names in place, reporting each bad one and each repeat.
pub fn normalize_hosts(hosts: &[String], path: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    if hosts.len() > MAX_HOSTS {
        problems.push(Problem::new(
            path,
            format!("at most {MAX_HOSTS} host names per tenant"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        match normalize_host(h) {
            Ok(h) if out.contains(&h) => problems.push(Problem::new(
                format!("{path}[{i}]"),
                format!("\"{h}\" is listed twice"),
            )),
            Ok(h) => out.push(h),
            Err(m) => problems.push(Problem::new(format!("{path}[{i}]"), m)),
        }
    }
    out
}

/// Checks a module list against the installation's optional modules.
pub fn check_modules(
    modules: &[String],
    installed: &[&str],
    path: &str,
    problems: &mut Vec<Problem>,
) {
    for (i, m) in modules.iter().enumerate() {
        if !installed.contains(&m.as_str()) {
            problems.push(Problem::new(
                format!("{path}[{i}]"),
                format!(
                    "\"{m}\" is not an optional module of this installation (it has: {})",
                    installed.join(", ")
                ),
            ));
        } else if modules[..i].contains(m) {
            problems.push(Problem::new(
                format!("{path}[{i}]"),
                format!("\"{m}\" is listed twice"),
            ));
        }
    }
}

/// A field checked with `check`, its problem recorded at `path`.
pub fn field(
    problems: &mut Vec<Problem>,
    path: &str,
    value: &str,
    check: fn(&str) -> Result<(), String>,
) {
    if let Err(m) = check(value) {
        problems.push(Problem::new(path, m));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs() {
        for ok in ["acme", "a1", "cocinas-lopez", "x-2-y"] {
            assert_eq!(check_slug(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "a", "Acme", "1acme", "acme-", "-acme", "a--b", "a_b", "a b", "ñu", "admin",
            "platform",
        ] {
            assert!(check_slug(bad).is_err(), "{bad}");
        }
        assert!(check_slug(&"a".repeat(41)).is_err());
        assert!(check_slug(&"a".repeat(40)).is_ok());
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(
            normalize_host("Quiz.Example.COM.").as_deref(),
            Ok("quiz.example.com")
        );
        assert_eq!(normalize_host(" localhost ").as_deref(), Ok("localhost"));
        assert_eq!(normalize_host("10.0.0.7").as_deref(), Ok("10.0.0.7"));
        for bad in [
            "",
            ".",
            "https://a.com",
            "a.com:8080",
            "a.com/x",
            "a..b",
            "-a.com",
            "a-.com",
            "a_b.com",
            "[::1]",
        ] {
            assert!(normalize_host(bad).is_err(), "{bad}");
        }
        assert!(normalize_host(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(normalize_host(&format!("{}.com", "a".repeat(63))).is_ok());
    }

    #[test]
    fn repeated_and_bad_hosts_are_reported_with_their_index() {
        let mut p = vec![];
        let hosts = ["a.com", "A.COM", "b..c", "d.com"].map(String::from);
        let out = normalize_hosts(&hosts, "hosts", &mut p);
        assert_eq!(out, vec!["a.com", "d.com"]);
        assert_eq!(
            p.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["hosts[1]", "hosts[2]"]
        );
        let many: Vec<String> = (0..=MAX_HOSTS).map(|i| format!("h{i}.com")).collect();
        let mut p = vec![];
        normalize_hosts(&many, "hosts", &mut p);
        assert_eq!(p[0].path, "hosts");
    }

    #[test]
    fn languages_time_zones_names_and_plans() {
        for l in LANGUAGES {
            assert!(check_language(l).is_ok());
        }
        assert!(check_language("fr").is_err());
        assert!(check_language("ES").is_err());
        for tz in [
            "UTC",
            "Europe/Madrid",
            "America/Sao_Paulo",
            "Atlantic/Canary",
        ] {
            assert_eq!(check_time_zone(tz), Ok(()), "{tz}");
        }
        for tz in ["", "Madrid", "Europe/Atlantis", "../etc/passwd"] {
            assert!(check_time_zone(tz).is_err(), "{tz}");
        }
        assert!(check_name(" Cocinas López ").is_ok());
        assert!(check_name("  ").is_err());
        assert!(check_name("a\u{0}b").is_err());
        assert!(check_name(&"é".repeat(120)).is_ok());
        assert!(check_name(&"é".repeat(121)).is_err());
        assert!(check_plan("pro_2").is_ok());
        assert!(check_plan("Pro").is_err());
    }

    #[test]
    fn modules_must_be_installed_and_listed_once() {
        let installed = ["quiz", "webhooks", "files"];
        let mut p = vec![];
        let list = ["quiz", "tracking", "quiz"].map(String::from);
        check_modules(&list, &installed, "modules", &mut p);
        assert_eq!(
            p.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["modules[1]", "modules[2]"]
        );
        assert!(p[0].message.contains("quiz, webhooks, files"));
    }

    #[test]
    fn statuses_round_trip() {
        for s in [Status::Active, Status::Paused] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("deleted"), None);
    }

    proptest! {
        /// A normalised host normalises to itself, and never keeps a port, case or trailing dot.
        #[test]
        fn host_normalisation_is_idempotent(raw in "[a-zA-Z0-9.:-]{0,80}") {
            if let Ok(h) = normalize_host(&raw) {
                prop_assert_eq!(normalize_host(&h), Ok(h.clone()));
                prop_assert!(!h.ends_with('.') && !h.contains(':'));
                prop_assert_eq!(h.to_ascii_lowercase(), h);
            }
        }

        /// Valid slugs are exactly the shapes the rule describes.
        #[test]
        fn slugs_accepted_are_url_safe(raw in "[a-z0-9-]{0,45}") {
            if check_slug(&raw).is_ok() {
                prop_assert!(raw.len() >= 2 && raw.len() <= 40);
                prop_assert!(raw.as_bytes()[0].is_ascii_lowercase());
                prop_assert!(!raw.ends_with('-') && !raw.contains("--"));
            }
        }
    }
}
