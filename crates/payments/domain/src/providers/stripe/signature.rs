//! The `Stripe-Signature` header, exactly as Stripe's libraries check it (stripe-python's
//! `stripe/_webhook.py`, `WebhookSignature.verify_header`), except for the time window (see
//! [`crate::providers::signature`]):
//!
//! - the header is comma-separated `key=value` items in any order: one `t=<unix seconds>`
//!   and any number of `v1=<hex>` (one per secret the endpoint has while one is rolled);
//!   other schemes (`v0=`, Stripe's test scheme) and unknown keys are ignored;
//! - `v1` is the lowercase hex of HMAC-SHA256 keyed by the endpoint's secret, the whole
//!   `whsec_...` string taken as its raw UTF-8 bytes (not base64-decoded, unlike Standard
//!   Webhooks' secrets), over `"{t}.{raw body}"`, `t` written as a decimal integer;
//! - any configured secret × any `v1` matching is enough, so both the old and the new
//!   secret verify while a rotation is under way.
//!
//! The body must be the raw bytes received, before any JSON parsing: one byte re-encoded
//! and the signature no longer matches.

use hmac::Mac;

use crate::providers::signature::{
    self as common, HmacSha256, MAX_SIGNATURES, SignatureError, Verified,
};

/// The name of the header Stripe signs its webhooks in.
pub const HEADER: &str = "Stripe-Signature";

fn fed_mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = common::mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Stripe-Signature` value Stripe would send for `body` at `timestamp`: `t=..,v1=..`.
/// For tests and the fake provider.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        common::hex_of(fed_mac(secret, timestamp, body))
    )
}

/// Verifies a delivery: `header` is the `Stripe-Signature` value (`None` when absent),
/// `body` the raw request body, `secrets` every secret the endpoint currently accepts,
/// `now` unix seconds. Returns the signed timestamp.
pub fn verify<S: AsRef<str>>(
    header: Option<&str>,
    body: &[u8],
    secrets: &[S],
    now: i64,
) -> Result<Verified, SignatureError> {
    let secrets = common::usable_secrets(secrets)?;
    let header = common::present(header)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for (key, value) in common::items(header) {
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::MalformedHeader("more than one t="));
                }
                timestamp = Some(common::parse_timestamp(value)?);
            }
            "v1" => {
                if signatures.len() == MAX_SIGNATURES {
                    return Err(SignatureError::MalformedHeader("too many v1 signatures"));
                }
                signatures.push(common::decode_v1(value));
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MalformedHeader("no t= timestamp"))?;
    if signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    if !common::any_matches(&secrets, &signatures, |s| fed_mac(s, timestamp, body)) {
        return Err(SignatureError::SignatureMismatch);
    }
    common::check_window(timestamp, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "whsec_test_secret_for_faro";
    const OTHER: &str = "whsec_the_secret_before_rotation";
    const T: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    /// Made by Stripe's own library (stripe-python 16.1.0, `generate_signature_header`):
    ///
    /// ```text
    /// printf '%s' '<body>' | python3 crates/faro/tests/api/payments/stripe_sign.py \
    ///     sign <secret> <timestamp>
    /// ```
    const VECTORS: &[(&str, i64, &str, &str)] = &[
        (
            "whsec_test_secret_for_faro",
            1_700_000_000,
            r#"{"id":"evt_1","type":"payment_intent.succeeded"}"#,
            "t=1700000000,v1=a9b9495e56564089a0bcb51ef1ea72d9b3adfa945953d0f24e8bf01ac8f594a3",
        ),
        (
            "whsec_test_secret_for_faro",
            1_700_000_000,
            "",
            "t=1700000000,v1=086a020d67ff1d1dadb8699af29ae3e4e5654b05b59978bc6bb134b87253afee",
        ),
        (
            "whsec_ünïcödé",
            1_234_567_890,
            "{\"description\":\"caf\u{e9} \u{2603} \u{1f600}\",\"amount\":1999}\n",
            "t=1234567890,v1=b598b78224a19b33ec76a083b5f186206bfbbaf630fbe177ec68a23b1d77fb6d",
        ),
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            1,
            "t=1,v1=x. a body that looks like a header",
            "t=1,v1=2dad5ef292b8e6c21f1204685d4b43ebdaee08e40c0aad620fd5233bc0ba3ab0",
        ),
    ];

    #[test]
    fn matches_stripes_own_library() {
        for (secret, t, body, header) in VECTORS {
            assert_eq!(sign(secret, *t, body.as_bytes()), *header, "{body:?}");
            assert_eq!(
                verify(Some(header), body.as_bytes(), &[secret], *t + 299),
                Ok(Verified { timestamp: *t })
            );
        }
    }

    #[test]
    fn signs_then_verifies() {
        let header = sign(SECRET, T, BODY);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert_eq!(
            verify(Some(&header), BODY, &[SECRET], T),
            Ok(Verified { timestamp: T })
        );
    }

    #[test]
    fn items_in_any_order_and_other_schemes_are_ignored() {
        let v1 = sign(SECRET, T, BODY).split_off("t=1700000000,".len());
        let header = format!("v0=deadbeef,{v1},  foo=bar ,t={T},v2=zz");
        assert!(verify(Some(&header), BODY, &[SECRET], T).is_ok());
    }

    #[test]
    fn any_secret_times_any_signature() {
        let new = sign(SECRET, T, BODY);
        let old = sign(OTHER, T, BODY);
        let old_v1 = &old["t=1700000000,".len()..];
        // Stripe lists one v1 per active secret; either configured secret may match either.
        let both = format!("{new},{old_v1}");
        for secrets in [
            vec![SECRET],
            vec![OTHER],
            vec![OTHER, SECRET],
            vec!["", SECRET],
        ] {
            assert!(
                verify(Some(&both), BODY, &secrets, T).is_ok(),
                "{secrets:?}"
            );
        }
        assert!(verify(Some(&old), BODY, &[SECRET, OTHER], T).is_ok());
        assert_eq!(
            verify(Some(&old), BODY, &[SECRET], T),
            Err(SignatureError::SignatureMismatch)
        );
    }

    #[test]
    fn refusals_have_their_codes() {
        let good = sign(SECRET, T, BODY);
        let cases: Vec<(Option<&str>, &str)> = vec![
            (None, "missing_header"),
            (Some(""), "missing_header"),
            (Some("   "), "missing_header"),
            (Some("v1=00"), "malformed_header"),
            (Some("t=abc,v1=00"), "malformed_header"),
            (Some("t=-5,v1=00"), "malformed_header"),
            (Some("t=1,t=2,v1=00"), "malformed_header"),
            (Some("garbage"), "malformed_header"),
            (Some("t=1700000000"), "no_v1_signature"),
            (Some("t=1700000000,v0=abcdef"), "no_v1_signature"),
            (Some("t=1700000000,v1="), "signature_mismatch"),
            (Some("t=1700000000,v1=nothex"), "signature_mismatch"),
            (Some("t=1700000001,v1=00"), "signature_mismatch"),
        ];
        for (header, code) in cases {
            let got = verify(header, BODY, &[SECRET], T).expect_err("refused");
            assert_eq!(got.code(), code, "{header:?}: {got}");
        }
        let upper = good
            .to_uppercase()
            .replace("T=", "t=")
            .replace("V1=", "v1=");
        assert_eq!(
            verify(Some(&upper), BODY, &[SECRET], T),
            Err(SignatureError::SignatureMismatch),
            "Stripe sends lowercase hex and its libraries compare text"
        );
        assert_eq!(
            verify::<&str>(Some(&good), BODY, &[], T),
            Err(SignatureError::NoSecret)
        );
        let many = format!("{good}{}", ",v1=00".repeat(MAX_SIGNATURES));
        assert_eq!(
            verify(Some(&many), BODY, &[SECRET], T).map_err(|e| e.code()),
            Err("malformed_header")
        );
    }

    #[test]
    fn the_timestamp_is_signed_and_bounded_both_ways() {
        let header = sign(SECRET, T, BODY);
        assert!(verify(Some(&header), BODY, &[SECRET], T + 300).is_ok());
        assert!(verify(Some(&header), BODY, &[SECRET], T - 300).is_ok());
        for now in [T + 301, T - 301, 0, i64::MAX, i64::MIN] {
            assert_eq!(
                verify(Some(&header), BODY, &[SECRET], now),
                Err(SignatureError::TimestampOutsideTolerance { timestamp: T, now })
            );
        }
        // Moving the timestamp into the window breaks the signature instead.
        let moved = header.replace("t=1700000000", "t=1700000400");
        assert_eq!(
            verify(Some(&moved), BODY, &[SECRET], T + 400),
            Err(SignatureError::SignatureMismatch)
        );
    }

    #[test]
    fn the_timestamp_is_the_integer_not_its_spelling() {
        // Stripe's libraries sign and check "%d" of the parsed integer.
        let header = sign(SECRET, T, BODY).replace("t=", "t=000");
        assert!(verify(Some(&header), BODY, &[SECRET], T).is_ok());
    }

    proptest! {
        #[test]
        fn roundtrip(secret in "whsec_[a-zA-Z0-9]{0,40}", t in 0i64..4_000_000_000,
                     body in proptest::collection::vec(any::<u8>(), 0..256),
                     skew in -300i64..=300) {
            let header = sign(&secret, t, &body);
            prop_assert_eq!(verify(Some(&header), &body, &[&secret], t + skew),
                            Ok(Verified { timestamp: t }));
        }

        #[test]
        fn any_flipped_body_byte_fails(body in proptest::collection::vec(any::<u8>(), 1..256),
                                       index in any::<proptest::sample::Index>(),
                                       bit in 0u8..8) {
            let header = sign(SECRET, T, &body);
            let mut tampered = body.clone();
            tampered[index.index(body.len())] ^= 1 << bit;
            prop_assert_eq!(verify(Some(&header), &tampered, &[SECRET], T),
                            Err(SignatureError::SignatureMismatch));
        }

        #[test]
        fn any_changed_signature_digit_fails(index in 0usize..64, digit in 0u8..16) {
            let header = sign(SECRET, T, BODY);
            let at = "t=1700000000,v1=".len() + index;
            let new = char::from_digit(u32::from(digit), 16).expect("hex digit");
            prop_assume!(header.as_bytes()[at] != new as u8);
            let mut tampered = header.clone();
            tampered.replace_range(at..=at, &new.to_string());
            prop_assert_eq!(verify(Some(&tampered), BODY, &[SECRET], T),
                            Err(SignatureError::SignatureMismatch));
        }

        #[test]
        fn another_secret_fails(secret in "whsec_[a-z]{1,20}") {
            prop_assume!(secret != SECRET);
            let header = sign(&secret, T, BODY);
            prop_assert_eq!(verify(Some(&header), BODY, &[SECRET], T),
                            Err(SignatureError::SignatureMismatch));
        }

        #[test]
        fn never_panics(header in "\\PC{0,200}", body in proptest::collection::vec(any::<u8>(), 0..64),
                        now in any::<i64>()) {
            let _ = verify(Some(&header), &body, &[SECRET], now);
        }
    }
}
