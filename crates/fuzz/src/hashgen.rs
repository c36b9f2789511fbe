//! Arbitrary [`PasswordHash`] values from fuzz bytes, including ones no source would build
//! (a `Bcrypt` whose string is not bcrypt, PBKDF2 with zero iterations, ...), since
//! `kcm-credentials` must cope with every value of the public enum.
//!
//! Layout: the first byte picks the variant; then, depending on it, a digest byte, a
//! little-endian `u32`, a length-prefixed chunk and the rest. Missing bytes read as zero.

use kcm_model::{DigestAlgorithm, PasswordHash, SaltPosition, Secret};

/// Variant selectors (first byte modulo [`VARIANTS`]).
pub const ENCODED: u8 = 0;
pub const PBKDF2: u8 = 1;
pub const DIGEST: u8 = 2;
pub const FIREBASE: u8 = 3;
pub const BCRYPT_RAW: u8 = 4;
pub const ARGON2_RAW: u8 = 5;
pub const UNKNOWN_RAW: u8 = 6;
pub const VARIANTS: u8 = 7;

/// Largest PBKDF2 work (iterations × output blocks) the fuzz loop verifies.
const MAX_PBKDF2_WORK: u64 = 20_000;
/// Largest bcrypt cost the fuzz loop verifies (cost 4 is about a millisecond).
const MAX_BCRYPT_COST: u32 = 5;
/// Largest Argon2 memory (KiB), time and parallelism the fuzz loop verifies.
const MAX_ARGON2_PARAMS: [(&str, u64); 3] = [("m=", 256), ("t=", 4), ("p=", 4)];
/// Longest Argon2 PHC string the fuzz loop verifies (bounds the output length).
const MAX_ARGON2_TEXT: usize = 1024;

/// A reader over fuzz bytes that never fails: past the end everything is zero or empty.
struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    fn chunk(&mut self) -> &'a [u8] {
        let len = usize::from(self.u8()).min(self.data.len());
        let (chunk, rest) = self.data.split_at(len);
        self.data = rest;
        chunk
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}

fn digest(b: u8) -> DigestAlgorithm {
    match b % 4 {
        0 => DigestAlgorithm::Md5,
        1 => DigestAlgorithm::Sha1,
        2 => DigestAlgorithm::Sha256,
        _ => DigestAlgorithm::Sha512,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Build a hash from fuzz bytes (see the module docs for the layout).
pub fn password_hash_from(data: &[u8]) -> PasswordHash {
    let mut b = Bytes { data };
    match b.u8() % VARIANTS {
        ENCODED => PasswordHash::from_encoded(&text(b.rest())),
        PBKDF2 => PasswordHash::Pbkdf2 {
            digest: digest(b.u8()),
            iterations: b.u32(),
            salt: Secret::new(b.chunk().to_vec()),
            hash: Secret::new(b.rest().to_vec()),
        },
        DIGEST => {
            let digest = digest(b.u8());
            let flags = b.u8();
            let salt = b.chunk();
            PasswordHash::Digest {
                digest,
                salt: (flags & 1 == 1).then(|| Secret::new(salt.to_vec())),
                salt_position: if flags & 2 == 2 {
                    SaltPosition::Suffix
                } else {
                    SaltPosition::Prefix
                },
                hash: Secret::new(b.rest().to_vec()),
            }
        }
        FIREBASE => PasswordHash::FirebaseScrypt {
            hash: Secret::new(text(b.chunk())),
            salt: Secret::new(text(b.rest())),
        },
        BCRYPT_RAW => PasswordHash::Bcrypt {
            cost: b.u32(),
            mcf: Secret::new(text(b.rest())),
        },
        ARGON2_RAW => PasswordHash::Argon2 {
            phc: Secret::new(text(b.rest())),
        },
        _ => PasswordHash::Unknown {
            raw: Secret::new(text(b.rest())),
            note: "built by the fuzzer".to_string(),
        },
    }
}

/// Fuzz bytes that [`password_hash_from`] turns into `PasswordHash::from_encoded(text)`.
pub fn encoded_seed(text: &str) -> Vec<u8> {
    let mut out = vec![ENCODED];
    out.extend_from_slice(text.as_bytes());
    out
}

/// Fuzz bytes for a PBKDF2 value.
pub fn pbkdf2_seed(digest_sel: u8, iterations: u32, salt: &[u8], hash: &[u8]) -> Vec<u8> {
    let mut out = vec![PBKDF2, digest_sel];
    out.extend_from_slice(&iterations.to_le_bytes());
    out.push(u8::try_from(salt.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(salt);
    out.extend_from_slice(hash);
    out
}

/// Fuzz bytes for a plain digest value.
pub fn digest_seed(digest_sel: u8, flags: u8, salt: &[u8], hash: &[u8]) -> Vec<u8> {
    let mut out = vec![DIGEST, digest_sel, flags];
    out.push(u8::try_from(salt.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(salt);
    out.extend_from_slice(hash);
    out
}

/// Fuzz bytes for a Firebase scrypt value (base64 texts).
pub fn firebase_seed(hash: &str, salt: &str) -> Vec<u8> {
    let mut out = vec![FIREBASE, u8::try_from(hash.len()).unwrap_or(u8::MAX)];
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(salt.as_bytes());
    out
}

/// Fuzz bytes for a value of one of the string variants built without validation.
pub fn raw_seed(variant: u8, text: &str) -> Vec<u8> {
    let mut out = vec![variant];
    if variant == BCRYPT_RAW {
        out.extend_from_slice(&10u32.to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out
}

/// Whether verifying `hash` is fast enough for a fuzz loop. Cost parameters come from the
/// input and are not bounded by `kcm-credentials`, so a loop must not verify big ones.
pub fn cheap_to_verify(hash: &PasswordHash) -> bool {
    match hash {
        PasswordHash::Bcrypt { mcf, .. } => bcrypt_text_cost(mcf.expose()) <= MAX_BCRYPT_COST,
        PasswordHash::Pbkdf2 {
            iterations, hash, ..
        } => {
            let blocks = (hash.expose().len() as u64).div_ceil(32);
            u64::from(*iterations).saturating_mul(blocks) <= MAX_PBKDF2_WORK
        }
        PasswordHash::Argon2 { phc } => {
            let phc = phc.expose();
            phc.len() <= MAX_ARGON2_TEXT
                && MAX_ARGON2_PARAMS
                    .iter()
                    .all(|(key, max)| param_values(phc, key).all(|v| v <= *max))
        }
        PasswordHash::FirebaseScrypt { .. }
        | PasswordHash::Digest { .. }
        | PasswordHash::Unknown { .. } => true,
    }
}

/// The cost digits after a `$2?$` prefix; 0 when there are none (verify fails fast then).
fn bcrypt_text_cost(mcf: &str) -> u32 {
    let digits: String = mcf
        .trim()
        .chars()
        .skip(4)
        .take_while(char::is_ascii_digit)
        .take(3)
        .collect();
    digits.parse().unwrap_or(0)
}

/// Every number written after `key` (e.g. `m=`); an over-long number reads as `u64::MAX`.
fn param_values<'a>(text: &'a str, key: &'a str) -> impl Iterator<Item = u64> + 'a {
    text.match_indices(key).map(move |(i, _)| {
        let digits: String = text
            .get(i + key.len()..)
            .unwrap_or_default()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if digits.is_empty() {
            0
        } else {
            digits.parse().unwrap_or(u64::MAX)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_build_the_variant_they_name() {
        assert!(matches!(
            password_hash_from(&pbkdf2_seed(2, 9, b"salt", &[1; 32])),
            PasswordHash::Pbkdf2 { iterations: 9, .. }
        ));
        assert!(matches!(
            password_hash_from(&digest_seed(1, 1, b"s", &[0; 20])),
            PasswordHash::Digest { salt: Some(_), .. }
        ));
        assert!(matches!(
            password_hash_from(&firebase_seed("aGFzaA==", "c2FsdA==")),
            PasswordHash::FirebaseScrypt { .. }
        ));
        assert!(matches!(
            password_hash_from(&raw_seed(BCRYPT_RAW, "x")),
            PasswordHash::Bcrypt { cost: 10, .. }
        ));
        assert!(
            matches!(password_hash_from(&[]), PasswordHash::Unknown { .. }),
            "empty input is from_encoded(\"\")"
        );
    }

    #[test]
    fn costly_hashes_are_not_verified_in_the_loop() {
        let enc = |s: &str| PasswordHash::from_encoded(s);
        assert!(!cheap_to_verify(&enc(
            "$argon2id$v=19$m=2147483647,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub"
        )));
        assert!(cheap_to_verify(&enc(
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub"
        )));
        assert!(!cheap_to_verify(&enc(
            "$2b$12$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"
        )));
        assert!(!cheap_to_verify(&password_hash_from(&pbkdf2_seed(
            2, 1_000_000, b"s", &[1; 32]
        ))));
        assert!(cheap_to_verify(&password_hash_from(&pbkdf2_seed(
            2, 1000, b"s", &[1; 32]
        ))));
    }
}
