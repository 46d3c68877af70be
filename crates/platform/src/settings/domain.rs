//! A tenant's settings document: what it may hold and how each part is checked. Pure.
//!
//! ```json
//! {"branding": {"colors": {"primary": "#0a7d5a"}, "logo": "https://…", "texts": {"tagline": "…"}},
//!  "origins": ["https://www.cocinaslopez.es"],
//!  "roles": {"agent": "Comercial"},
//!  "security": {"require_totp": true}}
//! ```

use faro_auth::Role;
use serde_json::{Map, Value};

use crate::tenants::domain::Problem;

/// What a tenant starts with (written by the tenant's creation).
pub use crate::tenants::INITIAL_SETTINGS as INITIAL;
pub const MAX_TEXT_CHARS: usize = 500;
pub const MAX_TEXTS: usize = 100;
pub const MAX_ORIGINS: usize = 50;
const COLOR_KEYS: &[&str] = &["primary", "accent", "background", "text"];
const BRANDING_KEYS: &[&str] = &["colors", "logo", "texts"];
const TOP_KEYS: &[&str] = &[
    "branding",
    "origins",
    "quotas",
    "retention",
    "roles",
    "security",
    "user_fields",
];
/// The data classes a tenant may keep for a limited time (days), see `crate::retention`.
pub const RETENTION_CLASSES: [&str; 3] = ["visitors", "end_users", "audit_log"];
/// The shortest and longest retention, in days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u64> = 30..=36_500;
/// The longest display name of a role.
pub const MAX_ROLE_NAME_CHARS: usize = 40;
const SECURITY_KEYS: &[&str] = &["require_totp"];

/// Every problem of `doc`, each with its JSON path; empty when the document is valid.
pub fn check(doc: &Value) -> Vec<Problem> {
    let mut p = Vec::new();
    let Some(top) = doc.as_object() else {
        p.push(Problem::new("doc", "the settings are a JSON object"));
        return p;
    };
    unknown_keys(top, TOP_KEYS, "doc", &mut p);
    if let Some(b) = top.get("branding") {
        branding(b, &mut p);
    }
    if let Some(o) = top.get("origins") {
        origins(o, &mut p);
    }
    // Quotas moved to the installation's plans: a tenant must not raise its own. The empty
    // object documents written before that carried is still accepted (and means nothing).
    if top
        .get("quotas")
        .is_some_and(|q| q.as_object().is_none_or(|q| !q.is_empty()))
    {
        p.push(Problem::new(
            "doc.quotas",
            "quotas come from the tenant's plan, which the installation's super-admin sets \
             (/platform/plans); leave this out",
        ));
    }
    if let Some(r) = top.get("retention") {
        match r.as_object() {
            Some(r) => {
                unknown_keys(r, &RETENTION_CLASSES, "doc.retention", &mut p);
                for (k, v) in r {
                    if RETENTION_CLASSES.contains(&k.as_str())
                        && !v.as_u64().is_some_and(|d| RETENTION_DAYS.contains(&d))
                    {
                        p.push(Problem::new(
                            format!("doc.retention.{k}"),
                            format!(
                                "a number of days from {} to {}",
                                RETENTION_DAYS.start(),
                                RETENTION_DAYS.end()
                            ),
                        ));
                    }
                }
            }
            None => p.push(Problem::new(
                "doc.retention",
                "an object of days by data class",
            )),
        }
    }
    if let Some(f) = top.get("user_fields") {
        p.extend(crate::user_fields::check_defs(f, "doc.user_fields"));
    }
    if let Some(r) = top.get("roles") {
        roles(r, &mut p);
    }
    if let Some(s) = top.get("security") {
        match s.as_object() {
            Some(s) => {
                unknown_keys(s, SECURITY_KEYS, "doc.security", &mut p);
                if s.get("require_totp").is_some_and(|v| !v.is_boolean()) {
                    p.push(Problem::new("doc.security.require_totp", "true or false"));
                }
            }
            None => p.push(Problem::new("doc.security", "an object")),
        }
    }
    p
}

/// Whether the document requires two-factor sign-in of all staff.
pub fn requires_totp(doc: &Value) -> bool {
    doc["security"]["require_totp"].as_bool() == Some(true)
}

/// How many days the tenant keeps `class` (`None`: until erased). Assumes a checked document.
pub fn retention_days(doc: &Value, class: &str) -> Option<i64> {
    doc["retention"][class]
        .as_u64()
        .filter(|d| RETENTION_DAYS.contains(d))
        .and_then(|d| i64::try_from(d).ok())
}

/// The name the tenant shows for `role` (`roles` in the document), else the role's own
/// name capitalised.
pub fn role_name(doc: &Value, role: Role) -> String {
    match doc["roles"][role.as_str()].as_str() {
        Some(name) if !name.trim().is_empty() => name.trim().to_owned(),
        _ => {
            let key = role.as_str();
            let mut name = key[..1].to_ascii_uppercase();
            name.push_str(&key[1..]);
            name
        }
    }
}

/// `{"agent": "Comercial"}`: display names of the four roles (their rights stay the same).
fn roles(r: &Value, p: &mut Vec<Problem>) {
    let Some(r) = r.as_object() else {
        p.push(Problem::new("doc.roles", "an object of names by role"));
        return;
    };
    for (k, v) in r {
        if Role::parse(k).is_none() {
            p.push(Problem::new(
                format!("doc.roles.{k}"),
                "not a role (owner, admin, agent or viewer)",
            ));
        } else if !v.as_str().is_some_and(|s| {
            let n = s.trim().chars().count();
            (1..=MAX_ROLE_NAME_CHARS).contains(&n) && !s.chars().any(char::is_control)
        }) {
            p.push(Problem::new(
                format!("doc.roles.{k}"),
                format!("a name of 1 to {MAX_ROLE_NAME_CHARS} characters"),
            ));
        }
    }
}

fn unknown_keys(obj: &Map<String, Value>, known: &[&str], path: &str, p: &mut Vec<Problem>) {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            p.push(Problem::new(
                format!("{path}.{k}"),
                format!("not a setting here (known: {})", known.join(", ")),
            ));
        }
    }
}

fn branding(b: &Value, p: &mut Vec<Problem>) {
    let Some(b) = b.as_object() else {
        p.push(Problem::new("doc.branding", "an object"));
        return;
    };
    unknown_keys(b, BRANDING_KEYS, "doc.branding", p);
    if let Some(colors) = b.get("colors") {
        match colors.as_object() {
            Some(c) => {
                unknown_keys(c, COLOR_KEYS, "doc.branding.colors", p);
                for (k, v) in c {
                    if !v.as_str().is_some_and(is_hex_color) {
                        p.push(Problem::new(
                            format!("doc.branding.colors.{k}"),
                            "a colour like #0a7d5a",
                        ));
                    }
                }
            }
            None => p.push(Problem::new("doc.branding.colors", "an object of colours")),
        }
    }
    if let Some(logo) = b.get("logo") {
        let ok = logo
            .as_str()
            .is_some_and(|u| u.starts_with("https://") || u.starts_with("/files/"));
        if !ok
            || logo
                .as_str()
                .is_some_and(|u| u.len() > 2048 || u.contains(char::is_whitespace))
        {
            p.push(Problem::new(
                "doc.branding.logo",
                "an https:// address, or a /files/ link of an uploaded file",
            ));
        }
    }
    if let Some(texts) = b.get("texts") {
        match texts.as_object() {
            Some(t) if t.len() <= MAX_TEXTS => {
                for (k, v) in t {
                    if v.as_str()
                        .is_none_or(|s| s.chars().count() > MAX_TEXT_CHARS)
                    {
                        p.push(Problem::new(
                            format!("doc.branding.texts.{k}"),
                            format!("a text of at most {MAX_TEXT_CHARS} characters"),
                        ));
                    }
                }
            }
            Some(_) => p.push(Problem::new(
                "doc.branding.texts",
                format!("at most {MAX_TEXTS} texts"),
            )),
            None => p.push(Problem::new("doc.branding.texts", "an object of texts")),
        }
    }
}

fn origins(o: &Value, p: &mut Vec<Problem>) {
    let Some(list) = o.as_array() else {
        p.push(Problem::new("doc.origins", "a list of origins"));
        return;
    };
    if list.len() > MAX_ORIGINS {
        p.push(Problem::new(
            "doc.origins",
            format!("at most {MAX_ORIGINS}"),
        ));
    }
    for (i, v) in list.iter().enumerate() {
        if !v.as_str().is_some_and(is_origin) {
            p.push(Problem::new(
                format!("doc.origins[{i}]"),
                "an origin like https://www.example.com (scheme and host, no path)",
            ));
        }
    }
}

/// The document's origins as browsers send them in `Origin`: lowercase, without the
/// scheme's default port. Assumes a checked document (anything else is skipped).
pub fn origins_of(doc: &Value) -> Vec<String> {
    let list = doc["origins"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut out: Vec<String> = list
        .iter()
        .filter_map(Value::as_str)
        .filter(|o| is_origin(o))
        .map(|o| {
            let o = o.to_ascii_lowercase();
            let default_port = if o.starts_with("https://") {
                ":443"
            } else {
                ":80"
            };
            match o.strip_suffix(default_port) {
                Some(bare) => bare.to_owned(),
                None => o,
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

pub fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `https://host[:port]` or `http://localhost[:port]`, nothing after.
pub fn is_origin(s: &str) -> bool {
    let rest = if let Some(r) = s.strip_prefix("https://") {
        r
    } else if let Some(r) = s.strip_prefix("http://") {
        if !(r.starts_with("localhost") || r.starts_with("127.0.0.1")) {
            return false;
        }
        r
    } else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, port)) => (h, Some(port)),
        None => (rest, None),
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn paths(doc: Value) -> Vec<String> {
        check(&doc).into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn security_takes_one_flag() {
        assert!(check(&json!({"security": {"require_totp": true}})).is_empty());
        assert!(requires_totp(&json!({"security": {"require_totp": true}})));
        assert!(!requires_totp(&json!({"security": {}})));
        assert_eq!(
            paths(json!({"security": {"require_totp": "yes", "sso": 1}})),
            ["doc.security.sso", "doc.security.require_totp"]
        );
        assert_eq!(paths(json!({"security": []})), ["doc.security"]);
    }

    #[test]
    fn retention_takes_days_per_known_class() {
        let doc = json!({"retention": {"visitors": 365, "audit_log": 1825}});
        assert!(check(&doc).is_empty());
        assert_eq!(retention_days(&doc, "visitors"), Some(365));
        assert_eq!(retention_days(&doc, "end_users"), None);
        assert_eq!(
            paths(json!({"retention": {"visitors": 7, "end_users": "1 year", "emails": 90}})),
            [
                "doc.retention.emails",
                "doc.retention.end_users",
                "doc.retention.visitors"
            ]
        );
        assert_eq!(paths(json!({"retention": 90})), ["doc.retention"]);
    }

    #[test]
    fn roles_take_display_names() {
        let doc = json!({"roles": {"agent": "  Comercial ", "viewer": "Lectura"}});
        assert!(check(&doc).is_empty());
        assert_eq!(role_name(&doc, Role::Agent), "Comercial");
        assert_eq!(role_name(&doc, Role::Owner), "Owner");
        assert_eq!(role_name(&json!({}), Role::Viewer), "Viewer");
        assert_eq!(
            paths(json!({"roles": {"boss": "Jefe", "admin": "", "agent": 3,
                                   "viewer": "x".repeat(41)}})),
            [
                "doc.roles.admin",
                "doc.roles.agent",
                "doc.roles.boss",
                "doc.roles.viewer"
            ]
        );
        assert_eq!(paths(json!({"roles": ["agent"]})), ["doc.roles"]);
    }

    #[test]
    fn origins_are_kept_as_browsers_send_them() {
        let doc = json!({"origins": ["https://WWW.Example.com:443", "http://localhost:5173",
                                      "http://localhost:80", "https://www.example.com"]});
        assert_eq!(
            origins_of(&doc),
            [
                "http://localhost",
                "http://localhost:5173",
                "https://www.example.com"
            ]
        );
        assert!(origins_of(&json!({})).is_empty());
    }

    #[test]
    fn the_initial_document_and_a_full_one_are_valid() {
        assert!(paths(serde_json::from_str(INITIAL).expect("json")).is_empty());
        let full = json!({
            "branding": {"colors": {"primary": "#0A7d5a", "accent": "#ffcc00"},
                         "logo": "https://cdn.example.com/logo.svg",
                         "texts": {"tagline": "Cocinas a medida"}},
            "origins": ["https://www.example.com", "http://localhost:5173"],
            "quotas": {}
        });
        assert!(paths(full).is_empty());
    }

    #[test]
    fn every_problem_is_named_by_its_path() {
        let bad = json!({
            "branding": {"colors": {"primary": "green", "glow": "#000000"}, "logo": "ftp://x",
                         "texts": {"t": 3}, "font": "x"},
            "origins": ["https://ok.example.com", "https://x.com/path", "http://example.com"],
            "quotas": {"tests": -1},
            "theme": {}
        });
        let mut got = paths(bad);
        got.sort();
        assert_eq!(
            got,
            [
                "doc.branding.colors.glow",
                "doc.branding.colors.primary",
                "doc.branding.font",
                "doc.branding.logo",
                "doc.branding.texts.t",
                "doc.origins[1]",
                "doc.origins[2]",
                "doc.quotas",
                "doc.theme",
            ]
        );
        assert_eq!(paths(json!([1])), ["doc"]);
    }

    proptest! {
        #[test]
        fn colours_are_exactly_hash_and_six_hex_digits(s in "\\PC{0,9}") {
            let expected = s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit());
            prop_assert_eq!(is_hex_color(&s), expected);
        }

        #[test]
        fn origins_never_carry_a_path_query_or_space(host in "[a-z]{1,10}\\.[a-z]{2,3}", tail in "[/?# ][a-z]{0,5}") {
            let origin = format!("https://{host}");
            prop_assert!(is_origin(&origin));
            let with_tail = format!("{origin}{tail}");
            prop_assert!(!is_origin(&with_tail));
        }
    }
}
