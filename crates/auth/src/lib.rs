//! Authentication primitives for Faro: password hashing and session tokens.
//!
//! Kept free of HTTP and storage concerns so the security-sensitive parts can be
//! reviewed and tested in isolation; callers wire them to requests and rows.

pub mod password;
pub mod policy;
pub mod seal;
pub mod secret;
pub mod token;
pub mod totp;

use std::fmt;

/// What a signed-in staff member may do in their tenant, from most to least trusted.
///
/// `owner` runs the tenant (staff, keys, settings, deleting data); `admin` changes
/// engagements and their content; `agent` works the leads and bookings it is given; `viewer`
/// only looks. The super-admin is not a role but a flag on an account of the `default` tenant
/// (see [`token::Claims::sa`]), so a super-admin is also an ordinary owner of that tenant.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Agent,
    Admin,
    Owner,
}

impl Role {
    /// Every role, most trusted first, so configuration errors and API docs can list them.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Agent, Role::Viewer];

    /// Exact, case-sensitive match on the wire spelling, so that the value
    /// stored in the database, in tokens and in config has one canonical form.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "agent" => Some(Role::Agent),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// The same spelling serde uses, so database columns and tokens agree.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }

    /// Single place that decides who may change engagements (tests, rules, content), so
    /// handlers do not each grow their own notion of "privileged".
    pub fn can_write(self) -> bool {
        self >= Role::Admin
    }

    /// Whether this role may give `other` to someone (create, promote or demote to it): never
    /// above one's own, and only owners and admins manage staff at all.
    pub fn can_grant(self, other: Role) -> bool {
        self.can_write() && other <= self
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::parse(s).ok_or(UnknownRole)
    }
}

/// Returned by `Role::from_str`, so `clap` and config parsing can report a readable error.
#[derive(thiserror::Error, Debug, Clone, Copy, PartialEq, Eq)]
#[error("unknown role (expected \"owner\", \"admin\", \"agent\" or \"viewer\")")]
pub struct UnknownRole;

/// Everything that can go wrong in this crate.
///
/// Token failures collapse into a single variant on purpose: telling a client
/// *why* its token was refused (expired vs. bad signature vs. wrong audience)
/// only helps an attacker probe the verifier.
#[derive(thiserror::Error, Debug)]
pub enum AuthError {
    #[error("invalid token")]
    InvalidToken,
    #[error("token secret must be at least {} bytes", token::MIN_SECRET_LEN)]
    WeakSecret,
    #[error("token issuer and audience must not be empty")]
    EmptyIssuerOrAudience,
    #[error("token lifetime must be at least one second and fit in the calendar")]
    InvalidTtl,
    #[error("could not sign token: {0}")]
    Sign(String),
    #[error("password is longer than {} bytes", password::MAX_PASSWORD_LEN)]
    PasswordTooLong,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_parse_and_as_str_agree() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("viewer"), Some(Role::Viewer));
        assert_eq!(Role::parse("owner"), Some(Role::Owner));
        assert_eq!(Role::parse("agent"), Some(Role::Agent));
        for bad in [
            "",
            "Admin",
            "ADMIN",
            " admin",
            "root",
            "editor",
            "super_admin",
        ] {
            assert_eq!(Role::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn owners_and_admins_write() {
        assert!(Role::Owner.can_write());
        assert!(Role::Admin.can_write());
        assert!(!Role::Agent.can_write());
        assert!(!Role::Viewer.can_write());
    }

    #[test]
    fn nobody_grants_above_their_own_role() {
        for a in Role::ALL {
            for b in Role::ALL {
                assert_eq!(a.can_grant(b), a.can_write() && b <= a, "{a} grants {b}");
            }
        }
        assert!(Role::Owner.can_grant(Role::Owner));
        assert!(!Role::Admin.can_grant(Role::Owner));
        assert!(Role::Admin.can_grant(Role::Agent));
        assert!(!Role::Agent.can_grant(Role::Viewer));
    }

    #[test]
    fn role_serde_matches_as_str() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).expect("serialize");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(
                serde_json::from_str::<Role>(&json).expect("deserialize"),
                role
            );
        }
        assert!(serde_json::from_str::<Role>("\"Admin\"").is_err());
    }
}
