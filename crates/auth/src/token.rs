//! Session tokens: HS256 JWTs signed with a server secret.
//!
//! Time checks are done here against a caller-supplied `now_unix` rather than
//! by `jsonwebtoken`, which reads the system clock: that keeps expiry
//! testable and keeps the single source of "now" in the caller.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{AuthError, Role};

/// 256 bits: HS256 is only as strong as its key, and RFC 7518 §3.2 requires
/// a key at least as long as the hash output.
pub const MIN_SECRET_LEN: usize = 32;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, for multi-instance
/// deployments whose clocks drift slightly.
pub const LEEWAY_SECS: i64 = 30;

/// Anything longer is refused before parsing. Our own tokens are a few hundred
/// bytes; this bounds the work a hostile `Authorization` header can cause.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The only algorithm we sign with or accept. Pinning it closes the classic
/// `alg: none` and algorithm-confusion holes.
const ALG: Algorithm = Algorithm::HS256;

/// What a verified token says about its bearer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Username, so handlers can show or log it without a database round trip.
    pub name: String,
    /// Tenant id: every query must be scoped by it.
    pub tid: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Unique per token, so a denylist can revoke one session without rotating the secret.
    pub jti: String,
    /// Super-admin: may use `/api/v1/platform/*` and `/platform`. Absent (false) on every
    /// other token, so a tenant's credentials can never reach the console.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sa: bool,
    /// On an impersonation token: the super-admin's user id, for the audit log. Such a token
    /// never carries `sa`, so impersonating cannot be chained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imp: Option<String>,
    /// When it was issued, in unix milliseconds: `iat` is whole seconds, too coarse to tell a
    /// token issued just before an account change from one issued just after. 0 on tokens
    /// from before this claim (their `iat` is used).
    #[serde(default)]
    pub iat_ms: i64,
    /// Signed in with a second factor (TOTP or a recovery code). A tenant that requires two
    /// factors refuses staff tokens without it, except where it is turned on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mfa: bool,
}

/// What a token is issued for; [`Keys::issue`] is the common case of a plain staff token.
#[derive(Clone, Debug)]
pub struct Grant<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
    pub tenant_id: &'a str,
    pub role: Role,
    pub super_admin: bool,
    pub impersonator: Option<&'a str>,
    /// The sign-in passed a second factor.
    pub mfa: bool,
}

/// Wire form accepted on verify: `Claims` plus the optional `nbf`, which we
/// never issue but honour if a token carries it.
#[derive(Deserialize)]
struct WireClaims {
    sub: String,
    name: String,
    tid: String,
    role: Role,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
    jti: String,
    nbf: Option<i64>,
    #[serde(default)]
    sa: bool,
    #[serde(default)]
    imp: Option<String>,
    #[serde(default)]
    iat_ms: i64,
    #[serde(default)]
    mfa: bool,
}

/// Signing and verification state, built once at start-up so configuration
/// errors (short secret, empty issuer) surface before the server listens.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// End users' tokens carry their own audience (`<audience>:user`), so a staff check can
    /// never accept one and an end-user check never accepts a staff token.
    user_validation: Validation,
    issuer: String,
    audience: String,
}

/// An end user's access token: who (`sub`), in which tenant (`tid`), and nothing else: no
/// role, never the console.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserClaims {
    pub sub: String,
    pub tid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    /// Unique per token: logging out puts it on the deny list until it expires.
    pub jti: String,
    /// The sign-in this token descends from (its refresh tokens' family): logging out with
    /// the access token alone ends the whole sign-in.
    pub sid: String,
}

impl fmt::Debug for Keys {
    // Hand-written so the secret can never end up in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// The current time in milliseconds when `now_unix` is the current second (the usual case),
/// else `now_unix`'s start: a caller's clock (tests) wins over the system's.
fn now_ms(now_unix: i64) -> i64 {
    let system = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    if system / 1000 == now_unix {
        system
    } else {
        now_unix.saturating_mul(1000)
    }
}

impl Claims {
    /// When it was issued, in unix milliseconds (from `iat` on older tokens).
    pub fn issued_ms(&self) -> i64 {
        if self.iat_ms > 0 {
            self.iat_ms
        } else {
            self.iat.saturating_mul(1000)
        }
    }
}

impl Keys {
    /// Refuses secrets shorter than [`MIN_SECRET_LEN`] bytes and empty
    /// issuer/audience, since either would silently weaken every token.
    pub fn new(secret: &[u8], issuer: &str, audience: &str) -> Result<Keys, AuthError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(AuthError::WeakSecret);
        }
        if issuer.is_empty() || audience.is_empty() {
            return Err(AuthError::EmptyIssuerOrAudience);
        }
        // jsonwebtoken panics at first use if it cannot pick a backend (e.g. if
        // feature unification ever enables both). Installing ours explicitly
        // makes that impossible; an `Err` only means one is already installed.
        let _ =
            CryptoProvider::install_default(&jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER);

        let mut validation = Validation::new(ALG);
        validation.algorithms = vec![ALG];
        // Presence of these is enforced by the library; their time values are
        // checked in `verify` against the caller's clock.
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_issuer(&[issuer]);
        let mut user_validation = validation.clone();
        validation.set_audience(&[audience]);
        user_validation.set_audience(&[format!("{audience}:user")]);

        Ok(Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            user_validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// Sign a plain staff token valid from `now_unix` for `ttl` (whole seconds; at least one).
    pub fn issue(
        &self,
        user_id: &str,
        username: &str,
        tenant_id: &str,
        role: Role,
        ttl: Duration,
        now_unix: i64,
    ) -> Result<String, AuthError> {
        let grant = Grant {
            user_id,
            username,
            tenant_id,
            role,
            super_admin: false,
            impersonator: None,
            mfa: false,
        };
        self.issue_grant(&grant, ttl, now_unix)
    }

    /// Sign a token for `grant`, valid from `now_unix` for `ttl` (whole seconds; at least one).
    pub fn issue_grant(
        &self,
        grant: &Grant<'_>,
        ttl: Duration,
        now_unix: i64,
    ) -> Result<String, AuthError> {
        let ttl = i64::try_from(ttl.as_secs()).map_err(|_| AuthError::InvalidTtl)?;
        if ttl < 1 {
            return Err(AuthError::InvalidTtl);
        }
        let exp = now_unix.checked_add(ttl).ok_or(AuthError::InvalidTtl)?;
        let claims = Claims {
            sub: grant.user_id.to_owned(),
            name: grant.username.to_owned(),
            tid: grant.tenant_id.to_owned(),
            role: grant.role,
            iat: now_unix,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            sa: grant.super_admin && grant.impersonator.is_none(),
            imp: grant.impersonator.map(str::to_owned),
            iat_ms: now_ms(now_unix),
            mfa: grant.mfa,
        };
        jsonwebtoken::encode(&Header::new(ALG), &claims, &self.encoding)
            .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Check signature, algorithm, issuer, audience and times; any failure is
    /// [`AuthError::InvalidToken`] with no detail, by design.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken);
        }
        let data = jsonwebtoken::decode::<WireClaims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?;
        // Belt and braces: the library already checks these, but they are the
        // whole security of the scheme and cost nothing to re-check.
        // `crit` lists extensions the verifier must understand; we understand none.
        if data.header.alg != ALG || data.header.crit.is_some() {
            return Err(AuthError::InvalidToken);
        }
        let c = data.claims;
        if c.iss != self.issuer || c.aud != self.audience {
            return Err(AuthError::InvalidToken);
        }
        let latest_start = now_unix.saturating_add(LEEWAY_SECS);
        let expired = now_unix >= c.exp.saturating_add(LEEWAY_SECS);
        let issued_in_future = c.iat > latest_start;
        let not_yet_valid = c.nbf.is_some_and(|nbf| nbf > latest_start);
        if expired || issued_in_future || not_yet_valid {
            return Err(AuthError::InvalidToken);
        }
        Ok(Claims {
            sub: c.sub,
            name: c.name,
            tid: c.tid,
            role: c.role,
            iat: c.iat,
            exp: c.exp,
            iss: c.iss,
            aud: c.aud,
            jti: c.jti,
            sa: c.sa && c.imp.is_none(),
            imp: c.imp,
            iat_ms: c.iat_ms,
            mfa: c.mfa,
        })
    }

    /// Sign an end user's access token, valid from `now_unix` for `ttl`.
    pub fn issue_user(
        &self,
        user_id: &str,
        tenant_id: &str,
        session_id: &str,
        ttl: Duration,
        now_unix: i64,
    ) -> Result<(String, UserClaims), AuthError> {
        let ttl = i64::try_from(ttl.as_secs()).map_err(|_| AuthError::InvalidTtl)?;
        if ttl < 1 {
            return Err(AuthError::InvalidTtl);
        }
        let claims = UserClaims {
            sub: user_id.to_owned(),
            tid: tenant_id.to_owned(),
            iat: now_unix,
            exp: now_unix.checked_add(ttl).ok_or(AuthError::InvalidTtl)?,
            iss: self.issuer.clone(),
            aud: self.user_audience(),
            jti: uuid::Uuid::new_v4().to_string(),
            sid: session_id.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(ALG), &claims, &self.encoding)
            .map_err(|e| AuthError::Sign(e.to_string()))?;
        Ok((token, claims))
    }

    /// [`Keys::verify`] for end users' tokens (their own audience).
    pub fn verify_user(&self, token: &str, now_unix: i64) -> Result<UserClaims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidToken);
        }
        let data = jsonwebtoken::decode::<UserClaims>(token, &self.decoding, &self.user_validation)
            .map_err(|_| AuthError::InvalidToken)?;
        if data.header.alg != ALG || data.header.crit.is_some() {
            return Err(AuthError::InvalidToken);
        }
        let c = data.claims;
        if c.iss != self.issuer || c.aud != self.user_audience() {
            return Err(AuthError::InvalidToken);
        }
        let expired = now_unix >= c.exp.saturating_add(LEEWAY_SECS);
        if expired || c.iat > now_unix.saturating_add(LEEWAY_SECS) {
            return Err(AuthError::InvalidToken);
        }
        Ok(c)
    }

    fn user_audience(&self) -> String {
        format!("{}:user", self.audience)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }
}
