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
}

/// Signing and verification state, built once at start-up so configuration
/// errors (short secret, empty issuer) surface before the server listens.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
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
        validation.set_audience(&[audience]);

        Ok(Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// Sign a token valid from `now_unix` for `ttl` (whole seconds; at least one).
    pub fn issue(
        &self,
        user_id: &str,
        username: &str,
        tenant_id: &str,
        role: Role,
        ttl: Duration,
        now_unix: i64,
    ) -> Result<String, AuthError> {
        let ttl = i64::try_from(ttl.as_secs()).map_err(|_| AuthError::InvalidTtl)?;
        if ttl < 1 {
            return Err(AuthError::InvalidTtl);
        }
        let exp = now_unix.checked_add(ttl).ok_or(AuthError::InvalidTtl)?;
        let claims = Claims {
            sub: user_id.to_owned(),
            name: username.to_owned(),
            tid: tenant_id.to_owned(),
            role,
            iat: now_unix,
            exp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
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
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }
}
