//! Rotating refresh tokens, for end users' and staff sign-ins alike: how one is made and
//! what presenting one means. Pure; a leaf module (it imports nothing of the crate).

use rand::Rng;

/// `rt_` and 43 base62 characters: about 256 bits, so its SHA-256 is all that is stored.
pub const REFRESH_PREFIX: &str = "rt_";
pub const REFRESH_RANDOM: usize = 43;

pub fn generate_refresh_token(rng: &mut impl Rng) -> String {
    let random = faro_auth::secret::random_base62(rng, REFRESH_RANDOM);
    format!("{REFRESH_PREFIX}{random}")
}

/// A refresh token as stored, as far as deciding about it goes.
#[derive(Clone, Copy, Debug)]
pub struct RefreshState {
    pub used: bool,
    pub revoked: bool,
    pub expires_at: i64,
}

/// What presenting a refresh token means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presented {
    /// Spend it and issue the next one of its family.
    Rotate,
    /// Already spent: it was copied. Revoke its whole family.
    Reused,
    Expired,
    Revoked,
}

pub fn presented(token: RefreshState, now: i64) -> Presented {
    if token.revoked {
        Presented::Revoked
    } else if token.used {
        Presented::Reused
    } else if token.expires_at <= now {
        Presented::Expired
    } else {
        Presented::Rotate
    }
}
