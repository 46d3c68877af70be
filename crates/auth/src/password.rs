//! Password hashing with argon2id.
//!
//! The synchronous functions burn ~20 MiB and tens of milliseconds of CPU per
//! call; from async code use [`hash_blocking`] / [`verify_blocking`], which move
//! the work off the runtime threads and cap how many run at once.

use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use tokio::sync::Semaphore;

use crate::AuthError;

/// OWASP's first argon2id recommendation (memory in KiB). Changing these
/// does not invalidate stored hashes (each PHC string carries its own
/// parameters) but `DUMMY_PHC` must be regenerated so unknown-user logins
/// keep costing the same as real ones.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;

/// Upper bounds on parameters we are willing to *verify* against. A stored or
/// configured hash is trusted data, but a typo in `ADMIN_PASS_HASH` such as
/// `m=1945600` would otherwise make every login allocate gigabytes.
pub const MAX_M_COST_KIB: u32 = 262_144;
pub const MAX_T_COST: u32 = 16;
pub const MAX_P_COST: u32 = 8;

/// Longer inputs are refused so a request body cannot feed megabytes into the
/// hash; 1 KiB is far beyond any passphrase a person types or a manager generates.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Length of [`generate`]d passwords: 24 symbols of 6 bits = 144 bits of entropy.
pub const GENERATED_LEN: usize = 24;

/// A real argon2id hash with exactly our parameters (of a random password
/// nobody knows), so that a login for an unknown user costs the same as one
/// for a known user and response time does not reveal which usernames exist.
/// Precomputed rather than built lazily so the first such login is not twice
/// as slow. A unit test keeps its parameters in step with the constants above.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$+RCKr3exCdM2qac5MRGzmg$9j8Hp5P2pgfNfDwjf46Ux+G28ws2iAVO+LkOeuj0cd8";

static DUMMY: LazyLock<Option<PasswordHash>> = LazyLock::new(|| PasswordHash::new(DUMMY_PHC).ok());

/// One permit per core: argon2 with p=1 is single-threaded, so more parallel
/// hashes only add memory pressure (≈19 MiB each) without adding throughput,
/// and a login flood must not exhaust RAM through tokio's 512 blocking threads.
static PERMITS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(permits())));

fn permits() -> usize {
    std::thread::available_parallelism().map_or(2, NonZeroUsize::get)
}

/// Working memory kept between hashes while they come back to back: one buffer per hash
/// running at once (at most one per core, see [`PERMITS`]). Allocating 19 MiB afresh for each
/// hash cost page faults on every login and, worse, left glibc's per-thread arenas holding
/// freed buffers: a login flood grew the process to 464 MB (BENCHMARKS.md, scenario 6).
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Buffers larger than this (a stored hash with unusual, costlier parameters) are not kept.
const KEEP_BLOCKS: usize = M_COST_KIB as usize;

/// Runs argon2id with `params` into `out`, in a reused buffer. The buffer needs no clearing:
/// argon2 writes every block in its first pass before any block is read.
fn argon2id_into(
    params: &Params,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), AuthError> {
    let blocks = params.block_count();
    let mut buf = MEMORY
        .lock()
        .ok()
        .and_then(|mut kept| kept.pop())
        .unwrap_or_default();
    if buf.len() < blocks {
        buf.resize(blocks, Block::default());
    }
    let result = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(pwd, salt, out, &mut buf[..blocks])
        .map_err(|e| AuthError::Hash(e.to_string()));
    // Kept only while another hash holds a permit (a login flood): an idle server gives the
    // memory back instead of holding 19 MiB per core for the next sign-in.
    let busy = PERMITS.available_permits() + 1 < permits();
    if busy
        && buf.len() <= KEEP_BLOCKS
        && let Ok(mut kept) = MEMORY.lock()
    {
        kept.push(buf);
    } else if let Ok(mut kept) = MEMORY.lock() {
        kept.clear();
    }
    result
}

fn our_params() -> Result<Params, AuthError> {
    Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN))
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Hash a password for storage, as an argon2id PHC string with a fresh random salt.
///
/// Runs for tens of milliseconds: do not call from async code, use [`hash_blocking`].
pub fn hash(password: &str) -> Result<String, AuthError> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(AuthError::PasswordTooLong);
    }
    let params = our_params()?;
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt[..]);
    let mut out = [0u8; OUTPUT_LEN];
    argon2id_into(&params, password.as_bytes(), &salt, &mut out)?;
    let hash_err = |e: argon2::password_hash::phc::Error| AuthError::Hash(e.to_string());
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| AuthError::Hash(e.to_string()))?,
        salt: Some(Salt::new(&salt).map_err(hash_err)?),
        hash: Some(Output::new(&out).map_err(hash_err)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `parsed`'s output under `parsed`'s own parameters (a
/// constant-time comparison of the outputs).
fn matches(password: &[u8], parsed: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(parsed) else {
        return false;
    };
    let mut out = vec![0u8; expected.as_bytes().len()];
    if argon2id_into(&params, password, salt, &mut out).is_err() {
        return false;
    }
    out.iter()
        .zip(expected.as_bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

/// Parse a PHC string and accept it only if it is argon2id with parameters we
/// are prepared to spend on. Anything else (bcrypt, argon2i, truncated
/// strings, absurd costs) is `None`, never a panic.
fn parse_ours(phc: &str) -> Option<PasswordHash> {
    let parsed = PasswordHash::new(phc).ok()?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return None;
    }
    // Absent version means 0x13 to the argon2 crate; 0x10 is the flawed original.
    if !matches!(parsed.version, None | Some(0x13)) {
        return None;
    }
    parsed.salt.as_ref()?;
    parsed.hash.as_ref()?;
    let params = Params::try_from(&parsed).ok()?;
    let sane = params.m_cost() <= MAX_M_COST_KIB
        && params.t_cost() <= MAX_T_COST
        && params.p_cost() <= MAX_P_COST;
    sane.then_some(parsed)
}

/// Check a password against a stored PHC string.
///
/// Returns `false` for a malformed or unsupported hash instead of an error,
/// because the caller's only sensible reaction is the same as for a wrong
/// password: refuse the login without saying why.
///
/// When the user does not exist, call [`verify_dummy`] instead so both paths
/// take the same time. The early refusals below burn the same time too, so an
/// overlong password or a deliberately unusable stored hash (a disabled
/// account) cannot be told apart from a wrong password either.
pub fn verify(password: &str, phc: &str) -> bool {
    let parsed = match parse_ours(phc) {
        Some(parsed) if password.len() <= MAX_PASSWORD_LEN => parsed,
        _ => {
            verify_dummy(password);
            return false;
        }
    };
    // Params come from the PHC string itself.
    matches(password.as_bytes(), &parsed)
}

/// Spend the same time as [`verify`] on a real hash, and discard the result.
///
/// Exists so that "no such user" and "wrong password" are indistinguishable
/// by timing.
pub fn verify_dummy(password: &str) {
    // Truncate rather than skip: the length limit is public, so only the work matters.
    let pw = password.as_bytes();
    let pw = pw.get(..MAX_PASSWORD_LEN).unwrap_or(pw);
    match DUMMY.as_ref() {
        Some(dummy) => {
            let _ = matches(pw, dummy);
        }
        // Unreachable while the unit test on DUMMY_PHC passes; still burn the time.
        None => {
            let _ = hash(&String::from_utf8_lossy(pw));
        }
    }
}

/// [`hash`] on tokio's blocking pool, so the async runtime stays responsive.
pub async fn hash_blocking(password: String) -> Result<String, AuthError> {
    let permit = Arc::clone(&PERMITS)
        .acquire_owned()
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        hash(&password)
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// [`verify`] on tokio's blocking pool; `None` (user not found) runs
/// [`verify_dummy`] and returns `false`, so callers need no timing logic of their own.
pub async fn verify_blocking(password: String, phc: Option<String>) -> bool {
    let Ok(permit) = Arc::clone(&PERMITS).acquire_owned().await else {
        return false;
    };
    // The permit moves into the task so that a cancelled request (client gone)
    // still holds it until the hash finishes, keeping the memory cap honest.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match phc {
            Some(phc) => verify(&password, &phc),
            None => {
                verify_dummy(&password);
                false
            }
        }
    })
    .await
    .unwrap_or(false)
}

/// Whether `s` is a PHC string that [`verify`] would actually check against:
/// argon2id, version 19 (or unstated), salt and hash present, sane costs.
/// Meant for validating `ADMIN_PASS_HASH` at start-up so a bad value fails
/// loudly instead of silently locking the admin out.
pub fn is_valid_phc(s: &str) -> bool {
    // Surrounding whitespace (a trailing newline from a secrets file) would make
    // every later verify fail, so it is reported here rather than tolerated.
    s.trim() == s && parse_ours(s).is_some()
}

/// A random password for the bootstrap admin, printed once at first start.
///
/// Uses the URL-safe base64 alphabet so it survives shells, URLs and
/// copy-paste; 64 symbols means masking random bytes is unbiased.
pub fn generate() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0u8; GENERATED_LEN];
    rand::rng().fill(&mut bytes[..]);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 63)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_matches_current_parameters() {
        let dummy = DUMMY.as_ref().expect("DUMMY_PHC must parse");
        assert!(parse_ours(DUMMY_PHC).is_some());
        let params = Params::try_from(dummy).expect("params");
        assert_eq!(params.m_cost(), M_COST_KIB);
        assert_eq!(params.t_cost(), T_COST);
        assert_eq!(params.p_cost(), P_COST);
        assert_eq!(dummy.hash.map(|h| h.len()), Some(OUTPUT_LEN));
        assert_eq!(dummy.version, Some(0x13));
    }

    #[test]
    fn hash_uses_owasp_parameters() {
        let phc = hash("correct horse").expect("hash");
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected PHC prefix: {phc}"
        );
    }

    #[test]
    fn reused_memory_and_the_argon2_crate_agree_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        // Ours, checked by the crate's own verifier (fresh memory).
        let ours = hash("correct horse").expect("hash");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // The crate's, checked by ours, in a buffer a different password just used.
        assert!(!verify("wrong horse", &ours));
        let params = our_params().expect("params");
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"battery staple")
            .expect("hash")
            .to_string();
        assert!(verify("battery staple", &theirs));
        assert!(!verify("battery stapler", &theirs));
        assert!(verify("correct horse", &ours));
    }

    #[test]
    fn overlong_password_is_refused() {
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert!(matches!(hash(&long), Err(AuthError::PasswordTooLong)));
        let phc = hash("short").expect("hash");
        assert!(!verify(&long, &phc));
        // Must not panic on a multi-byte boundary either.
        verify_dummy(&"é".repeat(MAX_PASSWORD_LEN));
    }

    #[test]
    fn refusals_cost_as_much_as_a_real_verify() {
        // A lower bound only, so it cannot flake on a slow machine: 19 MiB x 2
        // passes cannot finish in under 2 ms, so the work really happened.
        use std::time::{Duration, Instant};
        let floor = Duration::from_millis(2);
        let phc = hash("pw").expect("hash");
        for (pw, phc) in [
            ("pw", "garbage"),
            (
                "pw",
                "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            ),
            (&*"x".repeat(MAX_PASSWORD_LEN + 1), phc.as_str()),
        ] {
            let start = Instant::now();
            assert!(!verify(pw, phc));
            assert!(start.elapsed() >= floor, "{phc:?} refused too fast");
        }
        let start = Instant::now();
        verify_dummy("pw");
        assert!(start.elapsed() >= floor);
    }

    #[test]
    fn absurd_costs_are_refused() {
        let phc = hash("pw").expect("hash");
        let huge = phc.replace("m=19456", "m=4000000");
        assert!(!is_valid_phc(&huge));
        assert!(!verify("pw", &huge));
    }

    #[test]
    fn generated_passwords_are_long_url_safe_and_distinct() {
        let a = generate();
        let b = generate();
        assert!(a.len() >= 20);
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
