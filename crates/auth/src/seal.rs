//! Secrets and personal fields encrypted at rest: XChaCha20-Poly1305 under keys from the
//! configuration (`DATA_KEYS`), so a copy of the database (a backup, a dump, a stolen disk)
//! does not hold TOTP seeds, webhook signing secrets or provider keys in clear.
//!
//! A sealed value is text, `s1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`: the key id
//! says which key opens it, so keys rotate without a flag day (the newest key seals, every
//! key in the ring opens, and `faro secrets rotate` re-seals what older keys sealed). The
//! nonce is 24 random bytes (XChaCha's size makes random nonces safe at any volume).
//!
//! Every value is sealed for a *context* (`"webhook_endpoints.secret|<tenant>"`), passed as
//! associated data: a sealed value copied into another column or another tenant's row does
//! not open there.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const PREFIX: &str = "s1";
const NONCE: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error(
        "DATA_KEYS: {0}; expected comma-separated id:key pairs, newest first, each key 32 bytes in base64 (openssl rand -base64 32)"
    )]
    BadKeys(String),
    #[error("the value is not sealed (expected s1.<key id>.<data>)")]
    NotSealed,
    #[error("the value was sealed with key {0:?}, which DATA_KEYS no longer holds")]
    UnknownKey(String),
    #[error("the value does not open: tampered, truncated or sealed for another place")]
    Tampered,
}

/// The key ring: the first key seals, every key opens.
#[derive(Clone)]
pub struct Sealer {
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Sealer").field("keys", &ids).finish()
    }
}

fn valid_id(id: &str) -> bool {
    (1..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Sealer {
    /// From `(id, key)` pairs, newest first.
    pub fn new(keys: Vec<(String, [u8; 32])>) -> Result<Sealer, SealError> {
        if keys.is_empty() {
            return Err(SealError::BadKeys("no key".into()));
        }
        let mut ring = Vec::with_capacity(keys.len());
        for (id, key) in keys {
            if !valid_id(&id) {
                return Err(SealError::BadKeys(format!(
                    "key id {id:?} is not 1-16 lowercase letters, digits or '-'"
                )));
            }
            if ring.iter().any(|(seen, _)| *seen == id) {
                return Err(SealError::BadKeys(format!("key id {id:?} appears twice")));
            }
            ring.push((id, XChaCha20Poly1305::new(&key.into())));
        }
        Ok(Sealer { keys: ring })
    }

    /// Parses `DATA_KEYS`: `id:base64key[,id:base64key...]`, newest first.
    pub fn parse(spec: &str) -> Result<Sealer, SealError> {
        let mut keys = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = part
                .split_once(':')
                .ok_or_else(|| SealError::BadKeys(format!("{:?} has no ':'", redact(part))))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .map_err(|_| SealError::BadKeys(format!("the key of {id:?} is not base64")))?;
            let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
                SealError::BadKeys(format!("the key of {id:?} has {} bytes, not 32", b.len()))
            })?;
            keys.push((id.trim().to_owned(), key));
        }
        Sealer::new(keys)
    }

    /// A fresh random key in `DATA_KEYS` form, for the first start and `faro secrets new-key`.
    pub fn generate(id: &str) -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        format!(
            "{id}:{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        )
    }

    /// The id of the key that seals.
    pub fn current(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals `plain` for `context` with the newest key.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; NONCE];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            // Only fails past 256 GiB per message.
            .unwrap_or_default();
        let mut data = Vec::with_capacity(NONCE + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        format!("{PREFIX}.{id}.{}", URL_SAFE_NO_PAD.encode(data))
    }

    /// Seals text.
    pub fn seal_str(&self, context: &str, plain: &str) -> String {
        self.seal(context, plain.as_bytes())
    }

    /// Opens a value sealed for `context` by any key of the ring.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let (id, data) = parts(sealed)?;
        let cipher = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, c)| c)
            .ok_or_else(|| SealError::UnknownKey(id.to_owned()))?;
        let data = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| SealError::Tampered)?;
        if data.len() < NONCE + 16 {
            return Err(SealError::Tampered);
        }
        let (nonce, body) = data.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| SealError::Tampered)?;
        cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Tampered)
    }

    /// Opens text.
    pub fn open_str(&self, context: &str, sealed: &str) -> Result<String, SealError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| SealError::Tampered)
    }

    /// Whether `sealed` was sealed with the newest key (nothing for rotation to do).
    pub fn is_current(&self, sealed: &str) -> bool {
        parts(sealed).is_ok_and(|(id, _)| id == self.current())
    }

    /// Re-seals with the newest key; `None` when it already is.
    pub fn reseal(&self, context: &str, sealed: &str) -> Result<Option<String>, SealError> {
        if self.is_current(sealed) {
            return Ok(None);
        }
        let plain = self.open(context, sealed)?;
        Ok(Some(self.seal(context, &plain)))
    }
}

/// Finds sealed values again: a keyed hash (HMAC-SHA256) of a normalised value, stored beside
/// the sealed one and looked up instead of it. Equal values give equal indexes; without the
/// key (itself sealed with `DATA_KEYS`) an index cannot even be tested against a guess.
#[derive(Clone)]
pub struct BlindIndex {
    key: [u8; 32],
}

impl std::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndex")
    }
}

impl BlindIndex {
    pub fn new(key: [u8; 32]) -> Self {
        BlindIndex { key }
    }

    /// The hex index of `value` for `context` (e.g. `"end_users.email|<tenant>"`).
    pub fn of(&self, context: &str, value: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(context.as_bytes());
        mac.update(b"\n");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Whether a stored value is sealed (rather than an older row's clear text).
pub fn is_sealed(value: &str) -> bool {
    parts(value).is_ok()
}

fn parts(sealed: &str) -> Result<(&str, &str), SealError> {
    let rest = sealed
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_prefix('.'))
        .ok_or(SealError::NotSealed)?;
    let (id, data) = rest.split_once('.').ok_or(SealError::NotSealed)?;
    if !valid_id(id) || data.is_empty() {
        return Err(SealError::NotSealed);
    }
    Ok((id, data))
}

/// Error messages quote the key id, never key material.
fn redact(part: &str) -> String {
    if part.len() > 8 {
        format!("{}…", &part[..part.floor_char_boundary(4)])
    } else {
        part.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ring(ids: &[&str]) -> Sealer {
        Sealer::new(
            ids.iter()
                .enumerate()
                .map(|(i, id)| (id.to_string(), [i as u8 + 1; 32]))
                .collect(),
        )
        .expect("ring")
    }

    #[test]
    fn a_sealed_value_opens_in_its_context_only() {
        let s = ring(&["k1"]);
        let sealed = s.seal_str("webhooks.secret|acme", "whsec_abc");
        assert!(sealed.starts_with("s1.k1."), "{sealed}");
        assert!(!sealed.contains("whsec"));
        assert_eq!(
            s.open_str("webhooks.secret|acme", &sealed).as_deref(),
            Ok("whsec_abc")
        );
        assert_eq!(
            s.open_str("webhooks.secret|other", &sealed),
            Err(SealError::Tampered)
        );
        // Two seals of one value differ (random nonces).
        assert_ne!(sealed, s.seal_str("webhooks.secret|acme", "whsec_abc"));
    }

    #[test]
    fn rotation_seals_with_the_newest_and_opens_with_all() {
        let old = ring(&["k1"]);
        let sealed = old.seal_str("c", "seed");
        let new = Sealer::new(vec![("k2".into(), [9; 32]), ("k1".into(), [1; 32])]).expect("ring");
        assert!(!new.is_current(&sealed));
        let resealed = new.reseal("c", &sealed).expect("opens").expect("resealed");
        assert!(resealed.starts_with("s1.k2."));
        assert_eq!(new.reseal("c", &resealed), Ok(None));
        assert_eq!(new.open_str("c", &resealed).as_deref(), Ok("seed"));
        // Once k1 is dropped, what it sealed no longer opens, and says why.
        let only_new = Sealer::new(vec![("k2".into(), [9; 32])]).expect("ring");
        assert_eq!(
            only_new.open_str("c", &sealed),
            Err(SealError::UnknownKey("k1".into()))
        );
    }

    #[test]
    fn bad_key_specs_are_refused_with_a_reason() {
        let good = Sealer::generate("k1");
        assert!(Sealer::parse(&good).is_ok());
        assert!(Sealer::parse(&format!("{good}, {}", Sealer::generate("k0"))).is_ok());
        for (spec, says) in [
            ("", "no key"),
            ("k1", "has no ':'"),
            ("k1:not base64!", "not base64"),
            ("k1:AAAA", "has 3 bytes"),
            (
                "K1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "lowercase",
            ),
        ] {
            let e = Sealer::parse(spec).expect_err(spec).to_string();
            assert!(e.contains(says), "{spec:?}: {e}");
        }
        let twice = format!("{good},{good}");
        assert!(
            Sealer::parse(&twice)
                .expect_err("dup")
                .to_string()
                .contains("twice")
        );
        // The key itself never shows in a message.
        let key = good.split_once(':').map(|(_, k)| k).unwrap_or_default();
        let e = Sealer::parse(key).expect_err("no id").to_string();
        assert!(!e.contains(key), "{e}");
    }

    #[test]
    fn a_blind_index_is_stable_per_key_and_context() {
        let a = BlindIndex::new([1; 32]);
        let b = BlindIndex::new([2; 32]);
        let i = a.of("end_users.email|t1", "ana@example.com");
        assert_eq!(i.len(), 64);
        assert_eq!(i, a.of("end_users.email|t1", "ana@example.com"));
        assert_ne!(i, a.of("end_users.email|t2", "ana@example.com"));
        assert_ne!(i, b.of("end_users.email|t1", "ana@example.com"));
        assert_ne!(i, a.of("end_users.email|t1", "bea@example.com"));
    }

    #[test]
    fn garbage_is_not_sealed_and_tampering_is_caught() {
        let s = ring(&["k1"]);
        for v in [
            "",
            "whsec_abc",
            "s1",
            "s1.k1",
            "s1.k1.",
            "s2.k1.abc",
            "s1.K1.abc",
        ] {
            assert_eq!(s.open("c", v), Err(SealError::NotSealed), "{v:?}");
            assert!(!is_sealed(v));
        }
        let sealed = s.seal_str("c", "x");
        assert!(is_sealed(&sealed));
        let mut chars: Vec<char> = sealed.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_eq!(s.open("c", &tampered), Err(SealError::Tampered));
        assert_eq!(s.open("c", "s1.k1.AAAA"), Err(SealError::Tampered));
    }

    proptest! {
        #[test]
        fn anything_sealed_opens_to_itself(
            plain in prop::collection::vec(any::<u8>(), 0..300),
            context in ".{0,40}",
        ) {
            let s = ring(&["k1", "k0"]);
            let sealed = s.seal(&context, &plain);
            prop_assert_eq!(s.open(&context, &sealed), Ok(plain));
        }
    }
}
