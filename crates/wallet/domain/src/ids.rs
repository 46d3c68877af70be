//! The names the ledger files things under: accounts, transfers, units and codes. Each is a
//! newtype checked once at its edge (`parse`, and serde goes through it too), so the rest of the
//! crate never meets an empty or oversized id, and the store can put them in TEXT columns as
//! they are.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest id (bytes): room for `tenant:user:<uuid>:credits` and the like.
pub const MAX_ID: usize = 128;
/// The longest unit or code (bytes).
pub const MAX_KEY: usize = 64;

/// Ids are chosen by callers (an `Idempotency-Key` turned into `purchase:<key>:debit`, say):
/// 1 to 128 visible ASCII characters, no spaces.
fn check_id(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.len() <= MAX_ID && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(format!(
            "1 to {MAX_ID} visible ASCII characters without spaces"
        ))
    }
}

/// Units and codes are words people read in reports (`credits`, `purchase`): 1 to 64 lowercase
/// letters, digits, `_`, `-` or `.`.
fn check_key(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= MAX_KEY
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-' || b == b'.'
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "1 to {MAX_KEY} lowercase letters, digits, '_', '-' or '.'"
        ))
    }
}

macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $check:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The value if it is well formed; the message says what a good one looks like.
            pub fn parse(s: impl Into<String>) -> Result<Self, String> {
                let s = s.into();
                $check(&s)?;
                Ok($name(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

checked_string!(
    /// An account: a user's credits, a tenant's revenue, a promotion's budget…
    AccountId,
    check_id
);
checked_string!(
    /// A transfer, chosen by the client so that a retry is recognised (idempotency). Holds are
    /// transfers too: a post or void names the hold by this id.
    TransferId,
    check_id
);
checked_string!(
    /// What a ledger counts (`credits`, `points`, `eur_cents`, `uses`): money never moves between
    /// two units, so both accounts of a transfer must have the same one.
    Unit,
    check_key
);
checked_string!(
    /// Why a transfer happened (`purchase`, `grant`, `topup`, `refund`, `expiry`, `reversal`):
    /// what history pages and reports group by.
    Code,
    check_key
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keys_are_checked_at_the_edge() {
        assert!(AccountId::parse("t1:user:42:credits").is_ok());
        assert!(AccountId::parse("").is_err());
        assert!(AccountId::parse("a b").is_err());
        assert!(AccountId::parse("x".repeat(MAX_ID + 1)).is_err());
        assert!(TransferId::parse("x".repeat(MAX_ID)).is_ok());
        assert!(Unit::parse("credits").is_ok());
        assert!(Unit::parse("Credits").is_err());
        assert!(Code::parse("points.redeem").is_ok());
        assert!(Code::parse("").is_err());
        let id: TransferId = serde_json::from_str("\"t-1\"").expect("a valid id");
        assert_eq!(id.as_str(), "t-1");
        assert!(serde_json::from_str::<TransferId>("\"\"").is_err());
        assert_eq!(serde_json::to_string(&id).expect("json"), "\"t-1\"");
    }
}
