//! Two-factor codes for staff (RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps, what every
//! authenticator app reads from an `otpauth://` link), through the `totp-rs` crate, and the
//! rules around them that the crate leaves to us:
//!
//! - a code is accepted for the current step and one step either side (clock drift), and
//!   **never twice**: the caller stores the step of the last accepted code and a code of that
//!   step or an earlier one is refused ([`verify`] returns the step to store);
//! - recovery codes are 16 random base32 characters (80 bits, shown once as
//!   `xxxx-xxxx-xxxx-xxxx`), stored as SHA-256 like API keys, each usable once.

use rand::RngCore;
use totp_rs::{Algorithm, Builder, Totp};

/// Seconds per step.
pub const STEP: u64 = 30;
const DIGITS: usize = 6;
/// Steps accepted either side of now.
const SKEW: u8 = 1;
/// 160 bits, RFC 4226's recommended secret length.
const SECRET_BYTES: usize = 20;
/// How many recovery codes an enrollment makes.
pub const RECOVERY_CODES: usize = 10;

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn totp(secret: &[u8]) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_skew(u16::from(SKEW))
        .with_step_duration(STEP)
        .with_secret(secret.to_vec())
        .build()
        .ok()
}

/// A fresh secret (raw bytes: what is sealed and stored).
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut s);
    s
}

/// The secret as authenticator apps take it typed in: unpadded base32.
pub fn secret_text(secret: &[u8]) -> String {
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in secret {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(BASE32[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The secret back from its base32 text (case and spaces ignored); `None` when it is not
/// base32.
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = BASE32
            .iter()
            .position(|&b| b == c.to_ascii_uppercase() as u8)?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `otpauth://` link an authenticator app scans (as a QR code) or opens.
pub fn otpauth_url(secret: &[u8], issuer: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        escape(issuer),
        escape(account),
        secret_text(secret),
        escape(issuer)
    )
}

/// The code for `unix` (for tests and for showing what a clock would say).
pub fn code_at(secret: &[u8], unix: u64) -> String {
    totp(secret)
        .map(|t| t.generate(unix).to_string())
        .unwrap_or_default()
}

/// Checks `code` at `unix` against `secret`, for an account whose last accepted code was of
/// step `last_step` (0: none yet). Returns the step to store when the code is good and new.
pub fn verify(secret: &[u8], code: &str, unix: u64, last_step: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret)?;
    let now = unix / STEP;
    // Oldest first, so a code is tied to the earliest step it matches.
    (now.saturating_sub(u64::from(SKEW))..=now + u64::from(SKEW))
        .filter(|step| *step > last_step)
        .find(|step| constant_eq(&t.generate(step * STEP).to_string(), &code))
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Fresh recovery codes, as shown to the person once.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::rng().fill_bytes(&mut bytes);
            let text = secret_text(&bytes);
            format!(
                "{}-{}-{}-{}",
                &text[0..4],
                &text[4..8],
                &text[8..12],
                &text[12..16]
            )
        })
        .collect()
}

/// What a recovery code is stored as: the hash of its 16 characters, however it was typed
/// (case, dashes, spaces); `None` when it cannot be one.
pub fn recovery_hash(code: &str) -> Option<String> {
    let clean: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (clean.len() == 16 && clean.bytes().all(|b| BASE32.contains(&b)))
        .then(|| crate::secret::hash(&clean))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6238, appendix B: the SHA-1 secret and its 8-digit codes; ours are their last 6.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn the_rfc_6238_test_vectors_hold() {
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, t), code, "at {t}");
        }
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(secret_text(b""), "");
        assert_eq!(secret_text(b"f"), "MY");
        assert_eq!(secret_text(b"fooba"), "MZXW6YTB");
        assert_eq!(secret_text(b"foobar"), "MZXW6YTBOI");
        assert_eq!(secret_text(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(secret_from_text("mzxw 6ytb oi"), Some(b"foobar".to_vec()));
        assert_eq!(secret_from_text("MZXW1"), None);
    }

    #[test]
    fn a_code_works_within_one_step_and_only_once() {
        let s = new_secret();
        let now = 1_800_000_000u64;
        let code = code_at(&s, now);
        let step = verify(&s, &code, now, 0).expect("accepted");
        assert_eq!(step, now / STEP);
        // The same code again is refused: it is of the step already used.
        assert_eq!(verify(&s, &code, now, step), None);
        // A code from the previous step is still good once (clock drift), not two back.
        let previous = code_at(&s, now - STEP);
        assert_eq!(verify(&s, &previous, now, 0), Some(now / STEP - 1));
        let old = code_at(&s, now - 2 * STEP);
        if old != code && old != previous && old != code_at(&s, now + STEP) {
            assert_eq!(verify(&s, &old, now, 0), None);
        }
        // Spaces are fine; letters and other lengths are not.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(&s, &spaced, now, 0).is_some());
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(verify(&s, bad, now, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn the_link_names_the_issuer_and_account() {
        let url = otpauth_url(RFC_SECRET, "Faro · Cocinas", "ana@cocinas");
        assert!(url.starts_with("otpauth://totp/Faro%20%C2%B7%20Cocinas:ana%40cocinas?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Faro%20%C2%B7%20Cocinas"), "{url}");
        assert!(url.ends_with("&algorithm=SHA1&digits=6&period=30"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        let h = recovery_hash(code).expect("hash");
        assert_eq!(recovery_hash(&code.to_lowercase()), Some(h.clone()));
        assert_eq!(recovery_hash(&code.replace('-', " ")), Some(h));
        for bad in [
            "",
            "abcd-efgh",
            "0000-0000-0000-0000",
            "ABCD-EFGH-IJKL-MNOPQ",
        ] {
            assert_eq!(recovery_hash(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn base32_round_trips(secret in prop::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(secret_from_text(&secret_text(&secret)), Some(secret));
        }

        #[test]
        fn every_code_of_the_window_verifies_once(secret in prop::collection::vec(any::<u8>(), 16..32), now in 1_000_000u64..4_000_000_000) {
            let code = code_at(&secret, now);
            let step = verify(&secret, &code, now, 0);
            prop_assert!(step.is_some());
            prop_assert_eq!(verify(&secret, &code, now, step.unwrap_or(0) + 1), None);
        }
    }
}
