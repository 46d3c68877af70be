//! End users' rules: what an email address must look like, how refresh tokens are made, and
//! what presenting one means. Pure: no I/O.

/// Access tokens are short: a stolen one is good for minutes, and logging out elsewhere
/// reaches every instance well within that time.
pub const ACCESS_TTL_SECS: u64 = 15 * 60;
/// A sign-in lasts this long without a password, as long as the app refreshes.
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
pub use crate::email::{MAX_EMAIL_LEN, check_email, normalize_email};
pub use crate::refresh::{
    Presented, REFRESH_PREFIX, REFRESH_RANDOM, RefreshState, generate_refresh_token, presented,
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn emails_need_an_at_and_a_dotted_domain() {
        for ok in [
            "ana@example.com",
            " Ana.Pérez@Example.COM ",
            "a+tag@sub.example.co",
        ] {
            assert!(check_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@.com",
            "ana@example.",
            "ana@exa..mple.com",
            "a na@example.com",
            "a@b@c.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(check_email(&long).is_err());
        assert_eq!(normalize_email(" Ana@Example.COM "), "ana@example.com");
    }

    #[test]
    fn a_token_is_rotated_once_then_its_reuse_is_theft() {
        let fresh = RefreshState {
            used: false,
            revoked: false,
            expires_at: 100,
        };
        assert_eq!(presented(fresh, 99), Presented::Rotate);
        assert_eq!(presented(fresh, 100), Presented::Expired);
        let spent = RefreshState {
            used: true,
            ..fresh
        };
        assert_eq!(presented(spent, 0), Presented::Reused);
        let revoked = RefreshState {
            revoked: true,
            ..spent
        };
        assert_eq!(presented(revoked, 0), Presented::Revoked);
    }

    proptest! {
        #[test]
        fn only_a_live_unspent_token_rotates(used: bool, revoked: bool, expires_at in -5i64..5, now in -5i64..5) {
            let p = presented(RefreshState { used, revoked, expires_at }, now);
            prop_assert_eq!(p == Presented::Rotate, !used && !revoked && expires_at > now);
            // A spent token never rotates again, whatever the clock says.
            if used { prop_assert_ne!(p, Presented::Rotate); }
        }

        #[test]
        fn refresh_tokens_are_prefixed_base62(seed: u64) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let t = generate_refresh_token(&mut rng);
            prop_assert!(t.starts_with("rt_"));
            prop_assert_eq!(t.len(), 3 + REFRESH_RANDOM);
            prop_assert!(t[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        }

        #[test]
        fn normalizing_twice_changes_nothing(s in "\\PC{0,40}") {
            let once = normalize_email(&s);
            prop_assert_eq!(normalize_email(&once), once.clone());
        }
    }
}
