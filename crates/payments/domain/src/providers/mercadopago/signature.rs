//! Mercado Pago's `x-signature` header, as its documentation defines it
//! (<https://www.mercadopago.com/developers/en/docs/your-integrations/notifications/webhooks>,
//! "Validate notification origin"):
//!
//! - the header is `ts=<timestamp>,v1=<hex>` (items in any order; other keys ignored; several
//!   `v1` are accepted, as for Stripe, though MP sends one);
//! - `v1` is the lowercase hex of HMAC-SHA256 keyed by the application's secret signature
//!   (its UTF-8 bytes) over the manifest
//!   `id:{data.id};request-id:{x-request-id};ts:{ts};`, where
//!   - `data.id` is the `data.id` parameter of the notification URL's **query string** (not
//!     the body's), lowercased when it is alphanumeric ("if data.id_url is alphanumeric, it
//!     must be sent in lowercase"); anything else is used as it came;
//!   - `x-request-id` is the request header of that name, as it came;
//!   - `ts` is the header's `ts` text, as it came;
//!   - a part whose value is absent (or empty) is left out of the manifest, label and `;`
//!     included ("if any of the values in the template is not present in the notification,
//!     remove it"): without a request id the manifest is `id:123;ts:1704908010;`.
//!
//! The time window is the same as Stripe's (300 s, both ways; see
//! [`crate::providers::signature`]). MP's documentation shows `ts` in seconds, but
//! deliveries have been seen with milliseconds: a `ts` of 13 or more digits (past the year
//! 5138 in seconds) is read as milliseconds for the window; the manifest uses the text as
//! sent either way. Secrets rotate as for Stripe: every configured secret is tried.

use hmac::Mac;

use crate::providers::signature::{
    self as common, HmacSha256, MAX_SIGNATURES, SignatureError, Verified,
};

/// The header MP signs its notifications in.
pub const HEADER: &str = "x-signature";
/// The header whose value is part of the manifest.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The query parameter whose value is part of the manifest.
pub const DATA_ID_PARAM: &str = "data.id";

/// `ts` values from here on are milliseconds (13 digits).
const MILLIS_FROM: i64 = 100_000_000_000;

/// The text MP signs, by the rules above.
pub fn manifest(data_id: Option<&str>, request_id: Option<&str>, ts: &str) -> String {
    let mut out = String::new();
    if let Some(id) = data_id.filter(|s| !s.is_empty()) {
        out.push_str("id:");
        if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            out.push_str(&id.to_ascii_lowercase());
        } else {
            out.push_str(id);
        }
        out.push(';');
    }
    if let Some(rid) = request_id.filter(|s| !s.is_empty()) {
        out.push_str("request-id:");
        out.push_str(rid);
        out.push(';');
    }
    out.push_str("ts:");
    out.push_str(ts);
    out.push(';');
    out
}

fn fed_mac(secret: &str, manifest: &str) -> HmacSha256 {
    let mut mac = common::mac(secret);
    mac.update(manifest.as_bytes());
    mac
}

/// The `x-signature` value MP would send (tests and the fake provider).
pub fn sign(secret: &str, ts: i64, data_id: Option<&str>, request_id: Option<&str>) -> String {
    let ts = ts.to_string();
    let m = manifest(data_id, request_id, &ts);
    format!("ts={ts},v1={}", common::hex_of(fed_mac(secret, &m)))
}

/// Verifies a notification: `header` is `x-signature`, `data_id` the query string's
/// `data.id` (see [`crate::providers::form::query_param`]), `request_id` the
/// `x-request-id` header, `secrets` every secret accepted now, `now` unix seconds. Returns
/// the signed time in seconds.
pub fn verify<S: AsRef<str>>(
    header: Option<&str>,
    data_id: Option<&str>,
    request_id: Option<&str>,
    secrets: &[S],
    now: i64,
) -> Result<Verified, SignatureError> {
    let secrets = common::usable_secrets(secrets)?;
    let header = common::present(header)?;
    let mut ts = None;
    let mut signatures = Vec::new();
    for (key, value) in common::items(header) {
        match key {
            "ts" => {
                if ts.is_some() {
                    return Err(SignatureError::MalformedHeader("more than one ts="));
                }
                ts = Some((value, common::parse_timestamp(value)?));
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
    let (ts_text, ts) = ts.ok_or(SignatureError::MalformedHeader("no ts= timestamp"))?;
    if signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    let m = manifest(data_id, request_id, ts_text);
    if !common::any_matches(&secrets, &signatures, |s| fed_mac(s, &m)) {
        return Err(SignatureError::SignatureMismatch);
    }
    let seconds = if ts >= MILLIS_FROM { ts / 1000 } else { ts };
    common::check_window(seconds, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "your-mp-secret-signature";
    const OTHER: &str = "the-secret-before-reset";
    const TS: i64 = 1_704_908_010;
    const RID: &str = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e";

    #[test]
    fn the_manifest_follows_mps_template() {
        assert_eq!(
            manifest(Some("123456"), Some(RID), "1704908010"),
            "id:123456;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;ts:1704908010;"
        );
        assert_eq!(
            manifest(Some("ABC123"), None, "1"),
            "id:abc123;ts:1;",
            "lowercased"
        );
        assert_eq!(
            manifest(Some("AB-12"), None, "1"),
            "id:AB-12;ts:1;",
            "not alphanumeric"
        );
        assert_eq!(manifest(None, Some("r"), "1"), "request-id:r;ts:1;");
        assert_eq!(manifest(Some(""), Some(""), "1"), "ts:1;");
    }

    #[test]
    fn a_known_signature() {
        // HMAC-SHA256("your-mp-secret-signature", manifest), computed independently with
        // Python's hmac: hmac.new(b"your-mp-secret-signature",
        // b"id:123456;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;ts:1704908010;",
        // "sha256").hexdigest()
        assert_eq!(
            sign(SECRET, TS, Some("123456"), Some(RID)),
            "ts=1704908010,v1=2e53f7cc807589795694de2a62cbbc7ea44edf4fc41e5bc2d5cdad4e0eec773d"
        );
    }

    #[test]
    fn signs_then_verifies_with_or_without_parts() {
        for (data_id, rid) in [
            (Some("123456"), Some(RID)),
            (None, Some(RID)),
            (Some("123456"), None),
            (None, None),
        ] {
            let h = sign(SECRET, TS, data_id, rid);
            assert_eq!(
                verify(Some(&h), data_id, rid, &[SECRET], TS),
                Ok(Verified { timestamp: TS })
            );
        }
        // The id's case does not matter when it is alphanumeric: both sides lowercase it.
        let h = sign(SECRET, TS, Some("abc123"), Some(RID));
        assert!(verify(Some(&h), Some("ABC123"), Some(RID), &[SECRET], TS).is_ok());
    }

    #[test]
    fn every_part_is_signed() {
        let h = sign(SECRET, TS, Some("123456"), Some(RID));
        let mismatch = Err(SignatureError::SignatureMismatch);
        assert_eq!(
            verify(Some(&h), Some("123457"), Some(RID), &[SECRET], TS),
            mismatch
        );
        assert_eq!(verify(Some(&h), None, Some(RID), &[SECRET], TS), mismatch);
        assert_eq!(
            verify(Some(&h), Some("123456"), Some("other"), &[SECRET], TS),
            mismatch
        );
        assert_eq!(
            verify(Some(&h), Some("123456"), None, &[SECRET], TS),
            mismatch
        );
        let moved = h.replace("ts=1704908010", "ts=1704908011");
        assert_eq!(
            verify(Some(&moved), Some("123456"), Some(RID), &[SECRET], TS),
            mismatch
        );
    }

    #[test]
    fn rotation_order_and_other_keys() {
        let new = sign(SECRET, TS, Some("1"), Some(RID));
        let v1 = &new["ts=1704908010,".len()..];
        let reordered = format!("{v1}, foo=bar, ts={TS}");
        assert!(verify(Some(&reordered), Some("1"), Some(RID), &[OTHER, SECRET], TS).is_ok());
        assert_eq!(
            verify(Some(&new), Some("1"), Some(RID), &[OTHER], TS),
            Err(SignatureError::SignatureMismatch)
        );
        let old = sign(OTHER, TS, Some("1"), Some(RID));
        let both = format!("{old},{v1}");
        assert!(verify(Some(&both), Some("1"), Some(RID), &[SECRET], TS).is_ok());
        assert!(verify(Some(&both), Some("1"), Some(RID), &[OTHER], TS).is_ok());
    }

    #[test]
    fn refusals_have_their_codes() {
        let cases: Vec<(Option<&str>, &str)> = vec![
            (None, "missing_header"),
            (Some(" "), "missing_header"),
            (Some("v1=00"), "malformed_header"),
            (Some("ts=x,v1=00"), "malformed_header"),
            (Some("ts=1,ts=1,v1=00"), "malformed_header"),
            (Some("ts=1704908010"), "no_v1_signature"),
            (Some("ts=1704908010,v2=00"), "no_v1_signature"),
            (Some("ts=1704908010,v1=00"), "signature_mismatch"),
        ];
        for (h, code) in cases {
            let e = verify(h, Some("1"), Some(RID), &[SECRET], TS).expect_err("refused");
            assert_eq!(e.code(), code, "{h:?}");
        }
        let h = sign(SECRET, TS, Some("1"), None);
        assert_eq!(
            verify::<&str>(Some(&h), Some("1"), None, &[""], TS),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn the_window_reads_seconds_or_milliseconds() {
        let h = sign(SECRET, TS, Some("1"), None);
        assert!(verify(Some(&h), Some("1"), None, &[SECRET], TS + 300).is_ok());
        assert!(verify(Some(&h), Some("1"), None, &[SECRET], TS - 300).is_ok());
        assert_eq!(
            verify(Some(&h), Some("1"), None, &[SECRET], TS + 301),
            Err(SignatureError::TimestampOutsideTolerance {
                timestamp: TS,
                now: TS + 301
            })
        );
        assert!(verify(Some(&h), Some("1"), None, &[SECRET], TS - 301).is_err());
        let ms = sign(SECRET, TS * 1000 + 123, Some("1"), None);
        assert_eq!(
            verify(Some(&ms), Some("1"), None, &[SECRET], TS + 10),
            Ok(Verified { timestamp: TS })
        );
        assert!(verify(Some(&ms), Some("1"), None, &[SECRET], TS + 400).is_err());
    }

    proptest! {
        #[test]
        fn roundtrip(secret in "[ -~]{1,40}", ts in 0i64..4_000_000_000, skew in -300i64..=300,
                     data_id in proptest::option::of("[A-Za-z0-9-]{1,20}"),
                     rid in proptest::option::of("[a-f0-9-]{1,36}")) {
            let h = sign(&secret, ts, data_id.as_deref(), rid.as_deref());
            prop_assert_eq!(verify(Some(&h), data_id.as_deref(), rid.as_deref(), &[&secret], ts + skew),
                            Ok(Verified { timestamp: ts }));
        }

        #[test]
        fn any_changed_data_id_fails(id in "[0-9]{1,12}", other in "[0-9]{1,12}") {
            prop_assume!(id != other);
            let h = sign(SECRET, TS, Some(&id), Some(RID));
            prop_assert_eq!(verify(Some(&h), Some(&other), Some(RID), &[SECRET], TS),
                            Err(SignatureError::SignatureMismatch));
        }

        #[test]
        fn never_panics(h in "\\PC{0,200}", id in "\\PC{0,20}", now in any::<i64>()) {
            let _ = verify(Some(&h), Some(&id), Some(RID), &[SECRET], now);
        }
    }
}
