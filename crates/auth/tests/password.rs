//! Password hashing behaviour as seen by callers.

use std::sync::LazyLock;

use faro_auth::password::{self, GENERATED_LEN};
use proptest::prelude::*;

/// Hashing is deliberately slow; share one hash across tests.
static HASHED: LazyLock<String> =
    LazyLock::new(|| password::hash("correct horse battery staple").expect("hash"));

#[test]
fn hash_verify_round_trip() {
    assert!(password::verify("correct horse battery staple", &HASHED));
}

#[test]
fn wrong_password_refused() {
    assert!(!password::verify("correct horse battery stapl", &HASHED));
    assert!(!password::verify("", &HASHED));
    assert!(!password::verify("Correct horse battery staple", &HASHED));
}

#[test]
fn same_password_gets_fresh_salt() {
    let a = password::hash("pw").expect("a");
    let b = password::hash("pw").expect("b");
    assert_ne!(a, b);
    assert!(password::verify("pw", &a) && password::verify("pw", &b));
}

#[test]
fn unicode_and_empty_passwords_round_trip() {
    for pw in ["", "pässwörd 🔑", " leading and trailing "] {
        let h = password::hash(pw).expect("hash");
        assert!(password::verify(pw, &h), "{pw:?}");
    }
}

#[test]
fn verify_against_malformed_phc_is_false() {
    let truncated = &HASHED[..HASHED.len() - 10];
    let no_hash = HASHED.rsplit_once('$').map(|(a, _)| a).expect("dollar");
    for phc in [
        "",
        "$",
        "$$$$",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=abc,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=19456,t=2,p=1$!!!$???",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        truncated,
        no_hash,
    ] {
        assert!(
            !password::verify("correct horse battery staple", phc),
            "{phc:?}"
        );
    }
}

#[test]
fn is_valid_phc_accepts_our_hashes() {
    assert!(password::is_valid_phc(&HASHED));
    // Other sane argon2id parameter choices (e.g. from the `argon2` CLI) are fine too.
    assert!(password::is_valid_phc(
        "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
    ));
}

#[test]
fn is_valid_phc_rejects_everything_else() {
    for s in [
        "",
        "hunter2",
        // bcrypt
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        // argon2i and argon2d
        "$argon2i$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        "$argon2d$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        // argon2id version 1.0
        "$argon2id$v=16$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        // scrypt / pbkdf2 PHC strings
        "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
        "$pbkdf2-sha256$29000$N2bsvTdmrHVOqVWqFUIoBQ$J9b3ckxnrPZ9vvH3ki9XtEfiDWoM7vOhUxHS4.yrZuQ",
        // missing salt / hash
        "$argon2id$v=19$m=19456,t=2,p=1",
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ",
        // unknown parameter
        "$argon2id$v=19$m=19456,t=2,p=1,x=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        // absurd memory cost
        "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
    ] {
        assert!(!password::is_valid_phc(s), "{s:?}");
    }
}

#[test]
fn is_valid_phc_rejects_surrounding_whitespace() {
    assert!(!password::is_valid_phc(&format!("{}\n", *HASHED)));
    assert!(!password::is_valid_phc(&format!(" {}", *HASHED)));
}

#[test]
fn verify_dummy_does_not_panic() {
    password::verify_dummy("anything");
    password::verify_dummy("");
    password::verify_dummy(&"x".repeat(100_000));
}

#[test]
fn generated_password_is_strong_and_verifiable() {
    let pw = password::generate();
    assert_eq!(pw.len(), GENERATED_LEN);
    assert!(pw.len() >= 20);
    assert!(
        pw.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let h = password::hash(&pw).expect("hash");
    assert!(password::verify(&pw, &h));
}

#[tokio::test]
async fn blocking_wrappers_work() {
    let h = password::hash_blocking("s3cret".to_owned())
        .await
        .expect("hash");
    assert!(password::verify_blocking("s3cret".to_owned(), Some(h.clone())).await);
    assert!(!password::verify_blocking("wrong".to_owned(), Some(h)).await);
    assert!(!password::verify_blocking("s3cret".to_owned(), None).await);
    assert!(!password::verify_blocking("s3cret".to_owned(), Some("garbage".to_owned())).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_wrappers_run_concurrently_under_the_cap() {
    let tasks: Vec<_> = (0..8)
        .map(|i| tokio::spawn(password::hash_blocking(format!("pw-{i}"))))
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let h = t.await.expect("join").expect("hash");
        assert!(password::verify(&format!("pw-{i}"), &h));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_phc_strings_are_invalid(s in any::<String>()) {
        prop_assert!(!password::is_valid_phc(&s));
    }

    #[test]
    fn phc_shaped_noise_never_panics(
        alg in prop::sample::select(vec!["argon2id", "argon2i", "argon2d", "x"]),
        params in "[a-z=0-9,]{0,30}",
        salt in "[A-Za-z0-9+/]{0,30}",
        out in "[A-Za-z0-9+/]{0,50}",
    ) {
        let s = format!("${alg}$v=19${params}${salt}${out}");
        // May or may not be valid; it just must not panic or hang.
        let _ = password::is_valid_phc(&s);
    }
}

proptest! {
    // verify() burns a full argon2 run even on garbage, so fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn verify_against_random_strings_is_false(s in any::<String>(), pw in any::<String>()) {
        prop_assert!(!password::verify(&pw, &s));
    }
}
