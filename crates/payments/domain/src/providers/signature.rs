//! What Stripe's and Mercado Pago's webhook signatures have in common: an HMAC-SHA256 in
//! lowercase hex under a shared secret, a signed unix timestamp, several secrets at once
//! while one is rotated, and the same refusals with the same stable codes, so the module
//! answers and logs both providers alike.
//!
//! The time window is symmetric, [`TOLERANCE_SECS`] each way. Stripe's libraries only refuse
//! timestamps older than the tolerance; we also refuse those further than it in the future:
//! a provider's clock that far ahead is a fault, and accepting a future timestamp would let a
//! captured delivery be replayed for longer than the tolerance says.
//!
//! The signature is checked before the time, as Stripe's libraries do: so a stale timestamp
//! is only ever reported for a delivery the provider really signed (a replay, or a clock
//! adrift), and a forgery always reads `signature_mismatch`.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a signed timestamp may be from `now`, either way (Stripe's default, 5 minutes).
pub const TOLERANCE_SECS: i64 = 300;

/// The most signatures one header may list. A provider sends one per active secret (two
/// during a rotation); more is not a provider, and each one costs a MAC per secret.
pub const MAX_SIGNATURES: usize = 8;

/// Why a webhook's signature is refused. The module answers 400 to all but
/// [`SignatureError::NoSecret`], which is its own configuration's fault (500).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// No signature header, or an empty one.
    MissingHeader,
    /// The header cannot be read; the reason says which part.
    MalformedHeader(&'static str),
    /// The header lists no `v1` signature (only other schemes, such as Stripe's test `v0`).
    NoV1Signature,
    /// Authentic, but signed too long ago or too far ahead: a replay, or a clock adrift.
    TimestampOutsideTolerance { timestamp: i64, now: i64 },
    /// No listed `v1` signature matches the body under any configured secret.
    SignatureMismatch,
    /// No (non-empty) secret is configured, so nothing can be verified.
    NoSecret,
}

impl SignatureError {
    /// Stable, for API answers, logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureError::MissingHeader => "missing_header",
            SignatureError::MalformedHeader(_) => "malformed_header",
            SignatureError::NoV1Signature => "no_v1_signature",
            SignatureError::TimestampOutsideTolerance { .. } => "timestamp_outside_tolerance",
            SignatureError::SignatureMismatch => "signature_mismatch",
            SignatureError::NoSecret => "no_secret",
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::MissingHeader => f.write_str("the signature header is missing"),
            SignatureError::MalformedHeader(why) => {
                write!(f, "the signature header cannot be read: {why}")
            }
            SignatureError::NoV1Signature => {
                f.write_str("the signature header has no v1 signature")
            }
            SignatureError::TimestampOutsideTolerance { timestamp, now } => write!(
                f,
                "the signature's timestamp {timestamp} is more than {TOLERANCE_SECS} s from now ({now})"
            ),
            SignatureError::SignatureMismatch => {
                f.write_str("no signature matches the body under any configured secret")
            }
            SignatureError::NoSecret => f.write_str("no webhook secret is configured"),
        }
    }
}

impl std::error::Error for SignatureError {}

/// A delivery whose signature verified: the timestamp the provider signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub timestamp: i64,
}

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A MAC keyed by the secret's UTF-8 bytes, as both providers' libraries key it.
pub(crate) fn mac(secret: &str) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"))
}

/// The configured secrets that can sign: blank ones are skipped (an unset variable), and
/// none at all is [`SignatureError::NoSecret`].
pub(crate) fn usable_secrets<S: AsRef<str>>(secrets: &[S]) -> Result<Vec<&str>, SignatureError> {
    let usable: Vec<&str> = secrets
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| !s.trim().is_empty())
        .collect();
    if usable.is_empty() {
        Err(SignatureError::NoSecret)
    } else {
        Ok(usable)
    }
}

/// A header's `v1` value as the 32 bytes it encodes, if it is 64 lowercase hex digits: the
/// providers send `hexdigest()`, and their libraries compare text, so uppercase never
/// matches there either. Anything else can never match (it is not refused as malformed,
/// as in Stripe's libraries, so an odd extra value does not hide a good one).
pub(crate) fn decode_v1(value: &str) -> Option<[u8; 32]> {
    let lower_hex = value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !lower_hex {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(value, &mut out).ok()?;
    Some(out)
}

/// Whether any secret × any signature matches the message `mac_of(secret)` was fed: each
/// comparison in constant time (`verify_slice`).
pub(crate) fn any_matches(
    secrets: &[&str],
    signatures: &[Option<[u8; 32]>],
    mac_of: impl Fn(&str) -> HmacSha256,
) -> bool {
    secrets.iter().any(|secret| {
        let fed = mac_of(secret);
        signatures
            .iter()
            .flatten()
            .any(|sig| fed.clone().verify_slice(sig).is_ok())
    })
}

/// The lowercase hex of a fed MAC: what a provider puts after `v1=`.
pub(crate) fn hex_of(fed: HmacSha256) -> String {
    hex::encode(fed.finalize().into_bytes())
}

/// A signed timestamp: 1 to 19 ASCII digits (no sign, no spaces), as unix seconds.
pub(crate) fn parse_timestamp(value: &str) -> Result<i64, SignatureError> {
    if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedHeader(
            "the timestamp is not unix seconds",
        ));
    }
    value
        .parse()
        .map_err(|_| SignatureError::MalformedHeader("the timestamp is not unix seconds"))
}

/// Whether `timestamp` is within [`TOLERANCE_SECS`] of `now`, either way (overflow-free).
pub(crate) fn check_window(timestamp: i64, now: i64) -> Result<Verified, SignatureError> {
    if timestamp.abs_diff(now) > TOLERANCE_SECS.unsigned_abs() {
        Err(SignatureError::TimestampOutsideTolerance { timestamp, now })
    } else {
        Ok(Verified { timestamp })
    }
}

/// The `key=value` items of a comma-separated signature header, trimmed; an item without
/// `=` reads as a key with an empty value (unknown keys are ignored by the callers).
pub(crate) fn items(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (k, v) = item.split_once('=').unwrap_or((item, ""));
            (k.trim(), v.trim())
        })
}

/// The header's value if there is one worth reading.
pub(crate) fn present(header: Option<&str>) -> Result<&str, SignatureError> {
    match header.map(str::trim) {
        Some(h) if !h.is_empty() => Ok(h),
        _ => Err(SignatureError::MissingHeader),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let all = [
            (SignatureError::MissingHeader, "missing_header"),
            (SignatureError::MalformedHeader("x"), "malformed_header"),
            (SignatureError::NoV1Signature, "no_v1_signature"),
            (
                SignatureError::TimestampOutsideTolerance {
                    timestamp: 1,
                    now: 1000,
                },
                "timestamp_outside_tolerance",
            ),
            (SignatureError::SignatureMismatch, "signature_mismatch"),
            (SignatureError::NoSecret, "no_secret"),
        ];
        for (e, code) in all {
            assert_eq!(e.code(), code);
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn the_window_is_inclusive_and_symmetric() {
        let now = 1_700_000_000;
        assert!(check_window(now - 300, now).is_ok());
        assert!(check_window(now + 300, now).is_ok());
        assert!(check_window(now - 301, now).is_err());
        assert!(check_window(now + 301, now).is_err());
        assert!(check_window(i64::MAX, i64::MIN).is_err(), "no overflow");
        assert!(check_window(0, i64::MAX).is_err());
    }

    #[test]
    fn timestamps_are_plain_digits() {
        assert_eq!(parse_timestamp("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_timestamp("0"), Ok(0));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1.5",
            "1e9",
            "99999999999999999999",
            "abc",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_64_lowercase_hex_digits_decode() {
        let good = "ab".repeat(32);
        assert_eq!(decode_v1(&good), Some([0xab; 32]));
        assert_eq!(decode_v1(&good.to_uppercase()), None);
        assert_eq!(decode_v1(&good[2..]), None);
        assert_eq!(decode_v1(&format!("{good}00")), None);
        assert_eq!(decode_v1(&"zz".repeat(32)), None);
        assert_eq!(decode_v1(""), None);
    }

    #[test]
    fn blank_secrets_are_skipped() {
        assert_eq!(usable_secrets::<&str>(&[]), Err(SignatureError::NoSecret));
        assert_eq!(usable_secrets(&["", "  "]), Err(SignatureError::NoSecret));
        assert_eq!(usable_secrets(&["", "whsec_a"]), Ok(vec!["whsec_a"]));
    }

    #[test]
    fn header_items_are_trimmed_and_tolerant() {
        let got: Vec<_> = items(" t=1 , v1=ab,,odd, v0 = x=y ").collect();
        assert_eq!(
            got,
            vec![("t", "1"), ("v1", "ab"), ("odd", ""), ("v0", "x=y")]
        );
        assert_eq!(present(None), Err(SignatureError::MissingHeader));
        assert_eq!(present(Some("  ")), Err(SignatureError::MissingHeader));
        assert_eq!(present(Some(" t=1 ")), Ok("t=1"));
    }
}
