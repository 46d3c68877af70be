//! Signed download URLs: `/files/{id}?exp=<unix>&sig=<base64url(HMAC-SHA256(key, "id.exp"))>`.
//! The key is an instance-wide secret kept in `settings` (`files_url_key`), made once by the
//! first instance, so any instance can check a link another one made. A link names one file
//! and an expiry; it needs no session, so it works in an `<img>`, a mail or another module's
//! page, and it works the same whichever backend holds the bytes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::FilesError;

/// The `settings` key holding the signing key.
pub const SETTING: &str = "files_url_key";

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks download links. Holds the keyed HMAC state, cloned for each link.
#[derive(Clone)]
pub struct UrlSigner {
    keyed: HmacSha256,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(***)")
    }
}

/// A fresh random key, as stored in `settings`.
pub fn random_key() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

impl UrlSigner {
    /// HMAC takes keys of any length: this fails only for an empty key.
    pub fn new(key: &[u8]) -> Result<Self, FilesError> {
        if key.is_empty() {
            return Err(FilesError::Backend("the URL signing key is empty".into()));
        }
        HmacSha256::new_from_slice(key)
            .map(|keyed| UrlSigner { keyed })
            .map_err(|e| FilesError::Backend(format!("the URL signing key: {e}")))
    }

    /// The MAC over `id.exp`, with `exp` exactly as it appears in the URL.
    fn mac(&self, id: &str, exp: &str) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(exp.as_bytes());
        mac
    }

    /// The `sig` for file `id` expiring at `exp` (unix seconds).
    pub fn sign(&self, id: &str, exp: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(id, &exp.to_string()).finalize().into_bytes())
    }

    /// The path and query of a link to `id` valid until `exp`.
    pub fn path(&self, id: &str, exp: i64) -> String {
        format!("/files/{id}?exp={exp}&sig={}", self.sign(id, exp))
    }

    /// Checks a link's `exp` and `sig` as received (both may be missing or garbage) at `now`.
    /// The signature is checked first, in constant time, so an expired link is only reported
    /// as expired when it is one we made.
    pub fn verify(
        &self,
        id: &str,
        exp: Option<&str>,
        sig: Option<&str>,
        now: i64,
    ) -> Result<i64, FilesError> {
        let (exp_text, exp) = exp
            .filter(|e| !e.is_empty() && e.len() <= 19 && e.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|e| e.parse::<i64>().ok().map(|n| (e, n)))
            .ok_or(FilesError::BadSignature)?;
        let sig = sig
            .filter(|s| s.len() <= 64)
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .ok_or(FilesError::BadSignature)?;
        // `verify_slice` compares in constant time.
        self.mac(id, exp_text)
            .verify_slice(&sig)
            .map_err(|_| FilesError::BadSignature)?;
        if exp < now {
            return Err(FilesError::Expired);
        }
        Ok(exp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0193a1f2-7c4e-7d2a-9b1e-3f5a6b7c8d9e";

    fn signer(key: &[u8]) -> UrlSigner {
        UrlSigner::new(key).expect("a key")
    }

    #[test]
    fn a_signed_link_verifies_until_it_expires() {
        let s = signer(b"k");
        let sig = s.sign(ID, 1_000);
        assert_eq!(
            s.verify(ID, Some("1000"), Some(&sig), 999).ok(),
            Some(1_000)
        );
        assert_eq!(
            s.verify(ID, Some("1000"), Some(&sig), 1_000).ok(),
            Some(1_000)
        );
        assert!(matches!(
            s.verify(ID, Some("1000"), Some(&sig), 1_001),
            Err(FilesError::Expired)
        ));
        assert_eq!(s.path(ID, 1_000), format!("/files/{ID}?exp=1000&sig={sig}"));
        // 32 bytes of HMAC-SHA256 in unpadded base64url.
        assert_eq!(sig.len(), 43);
    }

    #[test]
    fn tampering_with_any_part_is_refused() {
        let s = signer(b"k");
        let sig = s.sign(ID, 5_000);
        let other_id = ID.replace('e', "f");
        let mut flipped = sig.clone().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        for (id, exp, sig) in [
            (other_id.as_str(), Some("5000"), Some(sig.as_str())),
            (ID, Some("5001"), Some(sig.as_str())),
            (ID, Some("05000"), Some(sig.as_str())),
            (ID, Some("5000"), Some(flipped.as_str())),
            (ID, Some("5000"), Some(&sig[..42])),
            (ID, Some("5000"), None),
            (ID, None, Some(sig.as_str())),
            (ID, Some("-1"), Some(sig.as_str())),
            (ID, Some("soon"), Some(sig.as_str())),
            (ID, Some("5000"), Some("%%%")),
        ] {
            assert!(
                matches!(s.verify(id, exp, sig, 0), Err(FilesError::BadSignature)),
                "{id} {exp:?} {sig:?}"
            );
        }
        // Another instance's key (or a rotated one) does not verify either.
        assert!(matches!(
            signer(b"other").verify(ID, Some("5000"), Some(&sig), 0),
            Err(FilesError::BadSignature)
        ));
    }

    #[test]
    fn an_expired_forgery_is_a_bad_signature_not_an_expiry() {
        let s = signer(b"k");
        assert!(matches!(
            s.verify(ID, Some("1"), Some(&signer(b"x").sign(ID, 1)), 10),
            Err(FilesError::BadSignature)
        ));
    }

    #[test]
    fn keys_are_random_and_never_empty() {
        assert!(UrlSigner::new(b"").is_err());
        assert_ne!(random_key(), random_key());
        assert_eq!(random_key().len(), 43);
    }
}
