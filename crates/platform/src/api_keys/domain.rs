//! What makes an API key request valid, and how a key is made. Pure: no I/O.

use rand::Rng;

use crate::tenants::domain::Problem;

/// The key's random part: 43 characters of base62, about 256 bits.
const RANDOM_CHARS: usize = 43;
/// How much of a key the lists show, to tell keys apart: `faro_` and six characters.
pub const SHOWN_CHARS: usize = 6;
/// At most this many keys' names can be told apart in a list; longer names are refused.
pub const MAX_NAME_CHARS: usize = 80;

/// A fresh key (`faro_` + base62, no characters that break a double-click selection) and
/// the prefix lists show.
pub fn generate(rng: &mut impl Rng) -> (String, String) {
    let random = faro_auth::secret::random_base62(rng, RANDOM_CHARS);
    let key = format!("{}{random}", faro_http::apikey::KEY_PREFIX);
    let prefix = key[..faro_http::apikey::KEY_PREFIX.len() + SHOWN_CHARS].to_string();
    (key, prefix)
}

pub fn check_name(name: &str) -> Result<(), String> {
    let n = name.trim().chars().count();
    if n == 0 {
        Err("give the key a name that says who uses it, e.g. \"CRM sync\"".into())
    } else if n > MAX_NAME_CHARS {
        Err(format!("at most {MAX_NAME_CHARS} characters"))
    } else if name.chars().any(char::is_control) {
        Err("no control characters".into())
    } else {
        Ok(())
    }
}

/// Scopes are `<module>:read` or `<module>:write` for a module whose API takes keys; at least
/// one, none twice.
pub fn check_scopes(scopes: &[String], modules: &[&str], problems: &mut Vec<Problem>) {
    if scopes.is_empty() {
        problems.push(Problem::new(
            "scopes",
            format!(
                "give at least one scope, e.g. \"{}:read\"",
                modules.first().unwrap_or(&"quiz")
            ),
        ));
    }
    for (i, s) in scopes.iter().enumerate() {
        let path = format!("scopes[{i}]");
        let valid = s
            .split_once(':')
            .is_some_and(|(m, a)| modules.contains(&m) && matches!(a, "read" | "write"));
        if !valid {
            let choices: Vec<String> = modules
                .iter()
                .flat_map(|m| [format!("{m}:read"), format!("{m}:write")])
                .collect();
            problems.push(Problem::new(
                path,
                format!(
                    "\"{s}\" is not a scope here; choose from {}",
                    choices.join(", ")
                ),
            ));
        } else if scopes[..i].contains(s) {
            problems.push(Problem::new(path, format!("\"{s}\" is listed twice")));
        }
    }
}

/// An expiry must be in the future (a key that is born expired is a mistake).
pub fn check_expiry(expires_at: i64, now: i64) -> Result<(), String> {
    if expires_at <= now {
        Err("must be in the future".into())
    } else {
        Ok(())
    }
}

/// A key's status at `now`: `revoked`, `expired` or `active`.
pub fn status(revoked_at: Option<i64>, expires_at: Option<i64>, now: i64) -> &'static str {
    if revoked_at.is_some() {
        "revoked"
    } else if expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    const MODULES: &[&str] = &["quiz", "webhooks"];

    fn problems(scopes: &[&str]) -> Vec<String> {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let mut p = Vec::new();
        check_scopes(&scopes, MODULES, &mut p);
        p.into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn scopes_name_an_installed_module_and_read_or_write() {
        assert!(problems(&["quiz:read", "webhooks:write"]).is_empty());
        assert_eq!(problems(&[]).len(), 1);
        let p = problems(&[
            "quiz:admin",
            "platform:read",
            "quiz",
            "quiz:read",
            "quiz:read",
        ]);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].starts_with("scopes[0]: \"quiz:admin\" is not a scope here; choose from quiz:read, quiz:write, webhooks:read, webhooks:write"));
        assert!(p[1].starts_with("scopes[1]"));
        assert!(p[2].starts_with("scopes[2]"));
        assert_eq!(p[3], "scopes[4]: \"quiz:read\" is listed twice");
    }

    #[test]
    fn names_are_required_short_and_printable() {
        assert!(check_name("CRM sync").is_ok());
        assert!(check_name("  ").is_err());
        assert!(check_name(&"x".repeat(81)).is_err());
        assert!(check_name(&"ñ".repeat(80)).is_ok());
        assert!(check_name("a\nb").is_err());
    }

    #[test]
    fn expiry_is_in_the_future() {
        assert!(check_expiry(101, 100).is_ok());
        assert!(check_expiry(100, 100).is_err());
    }

    proptest! {
        #[test]
        fn keys_are_prefixed_base62_and_distinct(seed in any::<u64>()) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let (a, prefix) = generate(&mut rng);
            let (b, _) = generate(&mut rng);
            prop_assert!(a.starts_with("faro_"));
            prop_assert_eq!(a.len(), 5 + RANDOM_CHARS);
            prop_assert!(a[5..].bytes().all(|c| c.is_ascii_alphanumeric()));
            prop_assert!(a.starts_with(&prefix));
            prop_assert_eq!(prefix.len(), 5 + SHOWN_CHARS);
            prop_assert_ne!(a, b);
        }
    }
}
