//! Random secrets that are stored only as their hash: API keys and refresh tokens. They carry
//! about 256 bits, so a plain SHA-256 (cheap enough for every request) is all their storage
//! needs: there is no dictionary to try, unlike a password.

use rand::Rng;
use sha2::{Digest, Sha256};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` uniformly random base62 characters: no character breaks a double-click selection
/// or needs escaping in a URL or a shell.
pub fn random_base62(rng: &mut impl Rng, len: usize) -> String {
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// The hex SHA-256 of a whole secret: what is stored and looked up.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_hash_is_hex_sha256_of_the_whole_secret() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn base62_uses_every_character_and_only_those() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let s = random_base62(&mut rng, 20_000);
        assert_eq!(s.len(), 20_000);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        for c in BASE62 {
            assert!(s.as_bytes().contains(c), "{} never drawn", *c as char);
        }
    }
}
