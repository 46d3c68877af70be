//! What an email address must look like, for end users' accounts and the email custom
//! fields alike. Pure; a leaf module (it imports nothing of the crate).

pub const MAX_EMAIL_LEN: usize = 254;

/// The address as stored and compared: trimmed, lower case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A deliberately plain check (one `@`, a dotted domain, no spaces): the verification email is
/// the real test of an address.
pub fn check_email(email: &str) -> Result<(), String> {
    let e = email.trim();
    if e.is_empty() {
        return Err("give an email address".into());
    }
    if e.len() > MAX_EMAIL_LEN {
        return Err(format!("at most {MAX_EMAIL_LEN} characters"));
    }
    let problem = || {
        Err(format!(
            "\"{e}\" is not an email address like ana@example.com"
        ))
    };
    let Some((local, domain)) = e.split_once('@') else {
        return problem();
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || !domain_ok || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return problem();
    }
    Ok(())
}
