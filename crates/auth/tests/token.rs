//! Token verification against hand-crafted hostile tokens.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use faro_auth::token::{Claims, Grant, Keys, LEEWAY_SECS, MAX_TOKEN_LEN};
use faro_auth::{AuthError, Role};
use proptest::prelude::*;
use serde_json::{Value, json};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";
const ISS: &str = "faro";
const AUD: &str = "faro-api";
const NOW: i64 = 1_700_000_000;
const TTL: Duration = Duration::from_secs(3600);

fn keys() -> Keys {
    Keys::new(SECRET, ISS, AUD).expect("valid keys")
}

fn issue(keys: &Keys) -> String {
    keys.issue("u-1", "alice", "t-1", Role::Admin, TTL, NOW)
        .expect("issue")
}

fn refused(r: Result<Claims, AuthError>) -> bool {
    matches!(r, Err(AuthError::InvalidToken))
}

fn b64json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"))
}

fn hmac_token(alg: jsonwebtoken::Algorithm, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("encode")
}

fn good_claims() -> Value {
    json!({
        "sub": "u-1", "name": "alice", "tid": "t-1", "role": "admin",
        "iat": NOW, "exp": NOW + 3600, "iss": ISS, "aud": AUD, "jti": "j-1",
    })
}

#[test]
fn round_trip() {
    let k = keys();
    let c = k.verify(&issue(&k), NOW + 10).expect("verify");
    assert_eq!(c.sub, "u-1");
    assert_eq!(c.name, "alice");
    assert_eq!(c.tid, "t-1");
    assert_eq!(c.role, Role::Admin);
    assert_eq!(c.iat, NOW);
    assert_eq!(c.exp, NOW + 3600);
    assert_eq!(c.iss, ISS);
    assert_eq!(c.aud, AUD);
    assert!(uuid::Uuid::parse_str(&c.jti).is_ok());
}

#[test]
fn viewer_role_round_trips() {
    let k = keys();
    let t = k
        .issue("u-2", "bob", "t-9", Role::Viewer, TTL, NOW)
        .expect("issue");
    assert_eq!(k.verify(&t, NOW).expect("verify").role, Role::Viewer);
}

#[test]
fn every_role_round_trips() {
    let k = keys();
    for role in Role::ALL {
        let t = k.issue("u-2", "bob", "t-9", role, TTL, NOW).expect("issue");
        let c = k.verify(&t, NOW).expect("verify");
        assert_eq!(c.role, role);
        assert!(!c.sa && c.imp.is_none(), "plain tokens are plain");
    }
}

fn grant<'a>(super_admin: bool, impersonator: Option<&'a str>) -> Grant<'a> {
    Grant {
        user_id: "u-1",
        username: "root",
        tenant_id: "default",
        role: Role::Owner,
        super_admin,
        impersonator,
        mfa: false,
    }
}

#[test]
fn super_admin_flag_round_trips() {
    let k = keys();
    let t = k.issue_grant(&grant(true, None), TTL, NOW).expect("issue");
    let c = k.verify(&t, NOW).expect("verify");
    assert!(c.sa);
    assert_eq!(c.imp, None);
}

#[test]
fn impersonation_tokens_never_carry_the_super_admin_flag() {
    let k = keys();
    let t = k
        .issue_grant(&grant(true, Some("sa-1")), TTL, NOW)
        .expect("issue");
    let c = k.verify(&t, NOW).expect("verify");
    assert!(!c.sa, "an impersonation token cannot reach the console");
    assert_eq!(c.imp.as_deref(), Some("sa-1"));
    // A hand-made token claiming both is read without the flag too.
    let mut claims = good_claims();
    claims["sa"] = json!(true);
    claims["imp"] = json!("sa-1");
    let t = hmac_token(jsonwebtoken::Algorithm::HS256, &claims, SECRET);
    let c = k.verify(&t, NOW).expect("verify");
    assert!(!c.sa);
}

#[test]
fn jti_is_unique_per_token() {
    let k = keys();
    let a = k.verify(&issue(&k), NOW).expect("a");
    let b = k.verify(&issue(&k), NOW).expect("b");
    assert_ne!(a.jti, b.jti);
}

#[test]
fn header_is_hs256_jwt() {
    let t = issue(&keys());
    let header = jsonwebtoken::decode_header(&t).expect("header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
}

#[test]
fn expired_token_refused() {
    let k = keys();
    let t = issue(&k);
    let exp = NOW + 3600;
    assert!(refused(k.verify(&t, exp + LEEWAY_SECS)));
    assert!(refused(k.verify(&t, exp + 10 * 3600)));
    assert!(refused(k.verify(&t, i64::MAX)));
}

#[test]
fn expiry_leeway_is_at_most_30_seconds() {
    let k = keys();
    let t = issue(&k);
    let exp = NOW + 3600;
    assert!(k.verify(&t, exp - 1).is_ok());
    assert!(k.verify(&t, exp + LEEWAY_SECS - 1).is_ok());
    assert!(refused(k.verify(&t, exp + 30)));
    const { assert!(LEEWAY_SECS <= 30) };
}

#[test]
fn verification_uses_given_clock_not_system_clock() {
    // Issued and checked in 1970: the system clock says this expired decades ago.
    let k = keys();
    let t = k
        .issue("u", "n", "t", Role::Viewer, Duration::from_secs(60), 1_000)
        .expect("issue");
    assert!(k.verify(&t, 1_010).is_ok());
    assert!(refused(k.verify(&t, 1_000 + 60 + LEEWAY_SECS)));
}

#[test]
fn token_issued_in_the_future_refused() {
    let k = keys();
    let t = issue(&k);
    assert!(k.verify(&t, NOW - LEEWAY_SECS).is_ok());
    assert!(refused(k.verify(&t, NOW - LEEWAY_SECS - 1)));
}

#[test]
fn nbf_is_honoured() {
    let k = keys();
    let mut c = good_claims();
    c["nbf"] = json!(NOW + 600);
    let t = hmac_token(jsonwebtoken::Algorithm::HS256, &c, SECRET);
    assert!(refused(k.verify(&t, NOW)));
    assert!(refused(k.verify(&t, NOW + 600 - LEEWAY_SECS - 1)));
    assert!(k.verify(&t, NOW + 600 - LEEWAY_SECS).is_ok());
    assert!(k.verify(&t, NOW + 601).is_ok());

    c["nbf"] = json!("soon");
    let t = hmac_token(jsonwebtoken::Algorithm::HS256, &c, SECRET);
    assert!(refused(k.verify(&t, NOW + 601)));
}

#[test]
fn hand_built_valid_token_is_accepted() {
    // Guards the negative tests below: they fail for the reason they claim.
    let t = hmac_token(jsonwebtoken::Algorithm::HS256, &good_claims(), SECRET);
    assert!(keys().verify(&t, NOW).is_ok());
}

#[test]
fn tampered_payload_refused() {
    let k = keys();
    let t = k
        .issue("u-1", "alice", "t-1", Role::Viewer, TTL, NOW)
        .expect("issue");
    let parts: Vec<&str> = t.split('.').collect();
    assert_eq!(parts.len(), 3);
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    payload["role"] = json!("admin");
    let forged = format!("{}.{}.{}", parts[0], b64json(&payload), parts[2]);
    assert!(refused(k.verify(&forged, NOW)));

    // Tampering with the tenant is just as fatal.
    payload["role"] = json!("viewer");
    payload["tid"] = json!("t-2");
    let forged = format!("{}.{}.{}", parts[0], b64json(&payload), parts[2]);
    assert!(refused(k.verify(&forged, NOW)));
}

#[test]
fn tampered_signature_refused() {
    let k = keys();
    let t = issue(&k);
    let (body, sig) = t.rsplit_once('.').expect("three parts");
    let mut sig = URL_SAFE_NO_PAD.decode(sig).expect("b64");
    sig[0] ^= 1;
    let forged = format!("{body}.{}", URL_SAFE_NO_PAD.encode(&sig));
    assert!(refused(k.verify(&forged, NOW)));
    assert!(refused(k.verify(&format!("{body}."), NOW)));
    assert!(refused(k.verify(body, NOW)));
}

#[test]
fn alg_none_refused() {
    let k = keys();
    let header = b64json(&json!({"alg": "none", "typ": "JWT"}));
    let t = format!("{header}.{}.", b64json(&good_claims()));
    assert!(refused(k.verify(&t, NOW)));
    // Also with the original signature kept, and with odd capitalisation.
    let sig = issue(&k)
        .rsplit('.')
        .next()
        .map(str::to_owned)
        .expect("sig");
    assert!(refused(k.verify(
        &format!("{header}.{}.{sig}", b64json(&good_claims())),
        NOW
    )));
    let header = b64json(&json!({"alg": "None", "typ": "JWT"}));
    assert!(refused(
        k.verify(&format!("{header}.{}.", b64json(&good_claims())), NOW)
    ));
}

#[test]
fn other_hmac_algorithms_with_same_secret_refused() {
    let k = keys();
    for alg in [
        jsonwebtoken::Algorithm::HS512,
        jsonwebtoken::Algorithm::HS384,
    ] {
        let t = hmac_token(alg, &good_claims(), SECRET);
        assert!(refused(k.verify(&t, NOW)), "{alg:?} accepted");
    }
}

#[test]
fn rs256_header_refused() {
    // Algorithm confusion: an RS256 header over an HMAC signature made with our secret.
    let k = keys();
    let header = b64json(&json!({"alg": "RS256", "typ": "JWT"}));
    let good = hmac_token(jsonwebtoken::Algorithm::HS256, &good_claims(), SECRET);
    let mut parts = good.split('.');
    let (_, payload, sig) = (parts.next(), parts.next(), parts.next());
    let t = format!(
        "{header}.{}.{}",
        payload.expect("payload"),
        sig.expect("sig")
    );
    assert!(refused(k.verify(&t, NOW)));
}

#[test]
fn crit_header_refused() {
    let k = keys();
    let header = b64json(&json!({"alg": "HS256", "typ": "JWT", "crit": ["exp"]}));
    let message = format!("{header}.{}", b64json(&good_claims()));
    let sig = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
        jsonwebtoken::Algorithm::HS256,
    )
    .expect("sign");
    assert!(refused(k.verify(&format!("{message}.{sig}"), NOW)));
}

#[test]
fn wrong_audience_refused() {
    let other = Keys::new(SECRET, ISS, "someone-else").expect("keys");
    let t = issue(&other);
    assert!(refused(keys().verify(&t, NOW)));
}

#[test]
fn wrong_issuer_refused() {
    let other = Keys::new(SECRET, "evil", AUD).expect("keys");
    let t = issue(&other);
    assert!(refused(keys().verify(&t, NOW)));
}

#[test]
fn audience_as_array_refused() {
    // Our tokens carry a single audience; an array is not something we issue.
    let mut c = good_claims();
    c["aud"] = json!([AUD, "other"]);
    let t = hmac_token(jsonwebtoken::Algorithm::HS256, &c, SECRET);
    assert!(refused(keys().verify(&t, NOW)));
}

#[test]
fn missing_required_claims_refused() {
    let k = keys();
    for field in [
        "exp", "iss", "aud", "sub", "iat", "tid", "role", "jti", "name",
    ] {
        let mut c = good_claims();
        c.as_object_mut().expect("object").remove(field);
        let t = hmac_token(jsonwebtoken::Algorithm::HS256, &c, SECRET);
        assert!(refused(k.verify(&t, NOW)), "accepted without {field}");
    }
}

#[test]
fn malformed_claim_values_refused() {
    let k = keys();
    for (field, value) in [
        ("exp", json!("tomorrow")),
        ("exp", json!(-5)),
        ("exp", json!(1e300)),
        ("iat", json!(null)),
        ("role", json!("root")),
        ("role", json!("Admin")),
        ("sub", json!(42)),
    ] {
        let mut c = good_claims();
        c[field] = value.clone();
        let t = hmac_token(jsonwebtoken::Algorithm::HS256, &c, SECRET);
        assert!(refused(k.verify(&t, NOW)), "accepted {field}={value}");
    }
}

#[test]
fn other_secret_refused() {
    let other = Keys::new(b"another-secret-that-is-32-bytes-long!!", ISS, AUD).expect("keys");
    let t = issue(&other);
    assert!(refused(keys().verify(&t, NOW)));
}

#[test]
fn oversized_token_refused() {
    let k = keys();
    let mut c = good_claims();
    c["name"] = json!("x".repeat(MAX_TOKEN_LEN));
    let t = hmac_token(jsonwebtoken::Algorithm::HS256, &c, SECRET);
    assert!(refused(k.verify(&t, NOW)));
}

#[test]
fn garbage_refused() {
    let k = keys();
    for g in [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "a.b",
        "Bearer x.y.z",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9..",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "\u{0}\u{ffff}",
    ] {
        assert!(refused(k.verify(g, NOW)), "accepted {g:?}");
    }
}

#[test]
fn weak_secret_rejected() {
    assert!(matches!(
        Keys::new(b"short", ISS, AUD),
        Err(AuthError::WeakSecret)
    ));
    assert!(matches!(
        Keys::new(&[7u8; 31], ISS, AUD),
        Err(AuthError::WeakSecret)
    ));
    assert!(matches!(
        Keys::new(b"", ISS, AUD),
        Err(AuthError::WeakSecret)
    ));
    assert!(Keys::new(&[7u8; 32], ISS, AUD).is_ok());
}

#[test]
fn empty_issuer_or_audience_rejected() {
    assert!(matches!(
        Keys::new(SECRET, "", AUD),
        Err(AuthError::EmptyIssuerOrAudience)
    ));
    assert!(matches!(
        Keys::new(SECRET, ISS, ""),
        Err(AuthError::EmptyIssuerOrAudience)
    ));
}

#[test]
fn bad_ttl_rejected() {
    let k = keys();
    for ttl in [
        Duration::ZERO,
        Duration::from_millis(999),
        Duration::from_secs(u64::MAX),
    ] {
        assert!(matches!(
            k.issue("u", "n", "t", Role::Admin, ttl, NOW),
            Err(AuthError::InvalidTtl)
        ));
    }
    assert!(matches!(
        k.issue(
            "u",
            "n",
            "t",
            Role::Admin,
            Duration::from_secs(10),
            i64::MAX - 5
        ),
        Err(AuthError::InvalidTtl)
    ));
}

#[test]
fn debug_does_not_leak_secret() {
    let dbg = format!("{:?}", keys());
    assert!(!dbg.contains("0123456789abcdef"));
    assert!(dbg.contains(ISS));
}

#[test]
fn error_display_is_uninformative() {
    assert_eq!(AuthError::InvalidToken.to_string(), "invalid token");
}

proptest! {
    #[test]
    fn random_strings_never_panic_and_are_refused(s in any::<String>(), now in any::<i64>()) {
        prop_assert!(refused(keys().verify(&s, now)));
    }

    #[test]
    fn jwt_shaped_noise_is_refused(
        h in "[A-Za-z0-9_-]{0,60}",
        p in "[A-Za-z0-9_-]{0,200}",
        s in "[A-Za-z0-9_-]{0,60}",
    ) {
        let t = format!("{h}.{p}.{s}");
        prop_assert!(refused(keys().verify(&t, NOW)));
    }

    #[test]
    fn structured_but_unsigned_payloads_are_refused(
        alg in prop::sample::select(vec!["HS256", "HS512", "none", "RS256", "ES256", ""]),
        sig in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let header = b64json(&json!({"alg": alg, "typ": "JWT"}));
        let t = format!("{header}.{}.{}", b64json(&good_claims()), URL_SAFE_NO_PAD.encode(&sig));
        prop_assert!(refused(keys().verify(&t, NOW)));
    }

    #[test]
    fn single_byte_flips_are_refused(idx in any::<prop::sample::Index>(), bit in 0u8..8) {
        let k = keys();
        let t = issue(&k);
        let mut bytes = t.into_bytes();
        let i = idx.index(bytes.len());
        bytes[i] ^= 1 << bit;
        // Non-UTF-8 results cannot even be presented as &str; skip those.
        if let Ok(s) = String::from_utf8(bytes) {
            // Strict base64 decoding rejects altered padding bits, so even a
            // flip in the signature's last character must not verify.
            prop_assert!(refused(k.verify(&s, NOW)));
        }
    }
}

#[test]
fn end_user_and_staff_tokens_never_pass_for_each_other() {
    let keys = keys();
    let (user, claims) = keys
        .issue_user("eu-1", "t-1", "s-1", TTL, NOW)
        .expect("user token");
    assert_eq!(keys.verify_user(&user, NOW).expect("verifies"), claims);
    assert_eq!(claims.aud, format!("{AUD}:user"));
    assert!(
        keys.verify(&user, NOW).is_err(),
        "a user token is no staff token"
    );
    let staff = issue(&keys);
    assert!(
        keys.verify_user(&staff, NOW).is_err(),
        "a staff token is no user token"
    );
    // Expired, and signed with another secret.
    let late = NOW + TTL.as_secs() as i64 + 60;
    assert!(keys.verify_user(&user, late).is_err());
    let other = Keys::new(&[7u8; 40], ISS, AUD).expect("keys");
    assert!(other.verify_user(&user, NOW).is_err());
    // Each token has its own id (what logging out revokes).
    let (_, again) = keys
        .issue_user("eu-1", "t-1", "s-1", TTL, NOW)
        .expect("again");
    assert_ne!(again.jti, claims.jti);
}
