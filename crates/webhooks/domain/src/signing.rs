//! Secrets and signatures as the Standard Webhooks specification defines them, so any of its
//! libraries verifies our deliveries:
//!
//! - a secret is `whsec_` followed by the standard base64 of the key bytes;
//! - a delivery carries `webhook-id`, `webhook-timestamp` (unix seconds) and
//!   `webhook-signature: v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`; the
//!   signature header may list several space-separated signatures (during a secret rotation)
//!   and a verifier accepts any that matches;
//! - a verifier refuses timestamps more than [`TOLERANCE_SECS`] away from its clock.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret: 192 bits, the size the specification's reference
/// implementations generate (and 32 base64 characters, without padding).
pub const SECRET_BYTES: usize = 24;
/// Key sizes a secret may decode to (the specification asks for 24 to 64 bytes).
pub const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;
/// How far a verifier lets a timestamp stray from its clock (the specification's 5 minutes).
pub const TOLERANCE_SECS: i64 = 300;

/// Standard base64 that reads keys with or without their `=` padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The secret shown to the client for these key bytes: `whsec_` + standard base64.
pub fn format_secret(key: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// Why a secret cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretError {
    MissingPrefix,
    NotBase64,
    WrongLength(usize),
}

impl std::fmt::Display for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretError::MissingPrefix => write!(f, "a secret starts with {SECRET_PREFIX}"),
            SecretError::NotBase64 => write!(f, "the part after {SECRET_PREFIX} is not base64"),
            SecretError::WrongLength(n) => write!(
                f,
                "the key is {n} bytes; it must be {} to {}",
                KEY_BYTES.start(),
                KEY_BYTES.end()
            ),
        }
    }
}

impl std::error::Error for SecretError {}

/// The key bytes of a `whsec_...` secret: what signatures are computed with.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} bytes)", self.0.len())
    }
}

/// Reads a `whsec_...` secret (padded or unpadded base64).
pub fn parse_secret(secret: &str) -> Result<SigningKey, SecretError> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SecretError::MissingPrefix)?;
    let key = LENIENT
        .decode(encoded)
        .map_err(|_| SecretError::NotBase64)?;
    if !KEY_BYTES.contains(&key.len()) {
        return Err(SecretError::WrongLength(key.len()));
    }
    Ok(SigningKey(key))
}

/// Why a delivery does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    BadTimestamp,
    TooOld,
    TooNew,
    NoMatchingSignature,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VerifyError::BadTimestamp => "webhook-timestamp is not unix seconds",
            VerifyError::TooOld => "webhook-timestamp is too old",
            VerifyError::TooNew => "webhook-timestamp is too far in the future",
            VerifyError::NoMatchingSignature => "no signature in webhook-signature matches",
        })
    }
}

impl std::error::Error for VerifyError {}

impl SigningKey {
    /// The key of a fresh secret made from random bytes (the caller draws them).
    pub fn from_bytes(key: [u8; SECRET_BYTES]) -> SigningKey {
        SigningKey(key.to_vec())
    }

    /// The `whsec_...` form of this key.
    pub fn secret(&self) -> String {
        format_secret(&self.0)
    }

    fn mac(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length; KEY_BYTES only keeps secrets sensible.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` value for this message: `v1,<base64>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(msg_id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", general_purpose::STANDARD.encode(tag))
    }

    /// Verifies a delivery as a receiver would: the timestamp within [`TOLERANCE_SECS`] of
    /// `now` (unix seconds) and any `v1` signature of the space-separated list matching
    /// (compared in constant time).
    pub fn verify(
        &self,
        msg_id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| VerifyError::BadTimestamp)?;
        if ts < now - TOLERANCE_SECS {
            return Err(VerifyError::TooOld);
        }
        if ts > now + TOLERANCE_SECS {
            return Err(VerifyError::TooNew);
        }
        let matched = signatures.split(' ').any(|versioned| {
            let Some(("v1", sig)) = versioned.split_once(',') else {
                return false;
            };
            let Ok(sig) = general_purpose::STANDARD.decode(sig) else {
                return false;
            };
            self.mac(msg_id, ts, body).verify_slice(&sig).is_ok()
        });
        if matched {
            Ok(())
        } else {
            Err(VerifyError::NoMatchingSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (and of its libraries' tests).
    #[test]
    fn signs_the_specification_example() {
        let key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_round_trip_with_or_without_padding() {
        let key = SigningKey::from_bytes([7; SECRET_BYTES]);
        let secret = key.secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret.len(), 6 + 32, "24 bytes are 32 base64 characters");
        assert_eq!(parse_secret(&secret), Ok(key));
        let padded = format_secret(&[1; 32]);
        assert!(padded.ends_with('='));
        assert!(parse_secret(&padded).is_ok());
        assert!(parse_secret(padded.trim_end_matches('=')).is_ok());
    }

    #[test]
    fn bad_secrets_say_why() {
        assert_eq!(parse_secret("MfKQ9r8G"), Err(SecretError::MissingPrefix));
        assert_eq!(parse_secret("whsec_%%%"), Err(SecretError::NotBase64));
        assert_eq!(
            parse_secret(&format_secret(&[1; 8])),
            Err(SecretError::WrongLength(8))
        );
    }

    #[test]
    fn verification_checks_time_and_every_listed_signature() {
        let key = SigningKey::from_bytes([9; SECRET_BYTES]);
        let other = SigningKey::from_bytes([8; SECRET_BYTES]);
        let sig = key.sign("evt_1", 1_000_000, b"{}");
        assert_eq!(
            key.verify("evt_1", "1000000", &sig, b"{}", 1_000_010),
            Ok(())
        );
        let both = format!("{} {sig}", other.sign("evt_1", 1_000_000, b"{}"));
        assert_eq!(
            key.verify("evt_1", "1000000", &both, b"{}", 1_000_000),
            Ok(())
        );
        assert_eq!(
            key.verify("evt_1", "1000000", &sig, b"{ }", 1_000_000),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            key.verify("evt_2", "1000000", &sig, b"{}", 1_000_000),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            key.verify("evt_1", "1000000", &sig, b"{}", 1_000_301),
            Err(VerifyError::TooOld)
        );
        assert_eq!(
            key.verify("evt_1", "1000000", &sig, b"{}", 999_699),
            Err(VerifyError::TooNew)
        );
        assert_eq!(
            key.verify("evt_1", "soon", &sig, b"{}", 1_000_000),
            Err(VerifyError::BadTimestamp)
        );
        let v2 = sig.replacen("v1,", "v2,", 1);
        assert_eq!(
            key.verify("evt_1", "1000000", &v2, b"{}", 1_000_000),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn keys_do_not_print() {
        let key = SigningKey::from_bytes([1; SECRET_BYTES]);
        assert_eq!(format!("{key:?}"), "SigningKey(24 bytes)");
    }
}
