//! Checking a known password against a source hash (`kc-migrate check-hash`), computed the
//! way the source system (and the matching Keycloak provider) computes it.

use argon2::{Algorithm, Argon2, Params, Version};
use kcm_model::{DigestAlgorithm, PasswordHash, SaltPosition};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::b64;
use crate::credential::bcrypt_mcf_cost;
use crate::firebase::{self, FirebaseScryptParams, ParamsError};
use crate::phc::{self, Argon2Type, VERSION_13};

/// Why a password could not be checked (as opposed to "checked and wrong", which is
/// `Ok(false)`). Never carries hash, salt or password bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot verify {algorithm} hashes")]
    UnsupportedAlgorithm { algorithm: String },
    #[error("verifying a Firebase scrypt hash needs the project's hash parameters (signer key, salt separator, rounds, mem cost)")]
    MissingFirebaseParams,
    #[error("invalid Firebase hash parameters: {0}")]
    InvalidFirebaseParams(#[from] ParamsError),
    #[error("malformed {algorithm} hash: {detail}")]
    MalformedHash {
        algorithm: String,
        detail: &'static str,
    },
}

/// Cost limits for checking a password here. Far above anything real systems use (Keycloak's
/// argon2 default is 7 MiB, PBKDF2 at most a few million iterations, bcrypt cost 10–14), and
/// low enough that a hostile or corrupted export cannot make `check-hash` allocate terabytes
/// or run for hours.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 4 * 1024 * 1024;
pub const MAX_ARGON2_ITERATIONS: u32 = 1_000;
pub const MAX_PBKDF2_ITERATIONS: u32 = 50_000_000;
pub const MAX_BCRYPT_COST: u32 = 20;

fn malformed(hash: &PasswordHash, detail: &'static str) -> VerifyError {
    VerifyError::MalformedHash {
        algorithm: hash.algorithm_name(),
        detail,
    }
}

/// Check a known password against a hash (for `kc-migrate check-hash`).
///
/// `Ok(true)`: the password matches; `Ok(false)`: it does not. Comparisons of computed and
/// stored bytes are constant-time.
pub fn verify(
    hash: &PasswordHash,
    password: &[u8],
    firebase: Option<&FirebaseScryptParams>,
) -> Result<bool, VerifyError> {
    match hash {
        PasswordHash::Bcrypt { mcf, .. } => {
            let mcf = mcf.expose().trim();
            let cost = bcrypt_mcf_cost(mcf).map_err(|detail| malformed(hash, detail))?;
            if cost > MAX_BCRYPT_COST {
                return Err(malformed(hash, "bcrypt cost above 20: too costly to check"));
            }
            // bcrypt's own error text quotes the hash, so it is replaced, not wrapped.
            bcrypt::verify(password, mcf)
                .map_err(|_| malformed(hash, "rejected by the bcrypt decoder"))
        }
        PasswordHash::FirebaseScrypt { hash: h, salt } => {
            let params = firebase.ok_or(VerifyError::MissingFirebaseParams)?;
            params.validate()?;
            let stored = b64::decode(h.expose())
                .ok_or_else(|| malformed(hash, "hash is not valid base64"))?;
            let salt = b64::decode(salt.expose())
                .ok_or_else(|| malformed(hash, "salt is not valid base64"))?;
            if stored.is_empty() {
                return Err(malformed(hash, "empty hash"));
            }
            let computed = firebase::compute(password, &salt, params)?;
            Ok(ct_eq(&computed, &stored))
        }
        PasswordHash::Pbkdf2 {
            digest,
            iterations,
            salt,
            hash: h,
        } => {
            let stored = h.expose();
            if stored.is_empty() {
                return Err(malformed(hash, "empty derived key"));
            }
            if *iterations > MAX_PBKDF2_ITERATIONS {
                return Err(malformed(
                    hash,
                    "more than 50,000,000 iterations: too costly to check",
                ));
            }
            if *iterations == 0 {
                return Err(malformed(hash, "zero iterations"));
            }
            let mut computed = vec![0u8; stored.len()];
            let salt = salt.expose();
            match digest {
                DigestAlgorithm::Md5 => {
                    pbkdf2::pbkdf2_hmac::<md5::Md5>(password, salt, *iterations, &mut computed)
                }
                DigestAlgorithm::Sha1 => {
                    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, *iterations, &mut computed)
                }
                DigestAlgorithm::Sha256 => {
                    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, *iterations, &mut computed)
                }
                DigestAlgorithm::Sha512 => {
                    pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut computed)
                }
            }
            Ok(ct_eq(&computed, stored))
        }
        PasswordHash::Argon2 { phc } => {
            let parsed =
                phc::parse_argon2(phc.expose()).map_err(|detail| malformed(hash, detail))?;
            let algorithm = match parsed.kind {
                Argon2Type::Id => Algorithm::Argon2id,
                Argon2Type::I => Algorithm::Argon2i,
                Argon2Type::D => Algorithm::Argon2d,
            };
            let version = if parsed.version == VERSION_13 {
                Version::V0x13
            } else {
                Version::V0x10
            };
            if parsed.memory_kib > MAX_ARGON2_MEMORY_KIB
                || parsed.iterations > MAX_ARGON2_ITERATIONS
            {
                return Err(malformed(
                    hash,
                    "Argon2 memory above 4 GiB or more than 1,000 passes: too costly to check",
                ));
            }
            let params = Params::new(
                parsed.memory_kib,
                parsed.iterations,
                parsed.parallelism,
                Some(parsed.hash.len()),
            )
            .map_err(|_| {
                malformed(
                    hash,
                    "parameters rejected by Argon2 (memory, parallelism or hash length)",
                )
            })?;
            let mut computed = vec![0u8; parsed.hash.len()];
            Argon2::new(algorithm, version, params)
                .hash_password_into(password, &parsed.salt, &mut computed)
                .map_err(|_| malformed(hash, "rejected by Argon2 (salt shorter than 8 bytes?)"))?;
            Ok(ct_eq(&computed, &parsed.hash))
        }
        PasswordHash::Digest {
            digest,
            salt,
            salt_position,
            hash: h,
        } => {
            let stored = h.expose();
            if stored.len() != digest.output_len() {
                return Err(malformed(
                    hash,
                    "digest length does not match the algorithm",
                ));
            }
            // No salt and an empty salt hash the same: digest(password).
            let salt = salt.as_ref().map_or(&[][..], |s| s.expose().as_slice());
            let computed = salted_digest(*digest, salt, *salt_position, password);
            Ok(ct_eq(&computed, stored))
        }
        PasswordHash::Unknown { .. } => Err(VerifyError::UnsupportedAlgorithm {
            algorithm: hash.algorithm_name(),
        }),
    }
}

/// `digest(salt ‖ password)` or `digest(password ‖ salt)`; an empty salt is plain `digest(password)`.
fn salted_digest(
    digest: DigestAlgorithm,
    salt: &[u8],
    position: SaltPosition,
    password: &[u8],
) -> Vec<u8> {
    let (first, second) = match position {
        SaltPosition::Prefix => (salt, password),
        SaltPosition::Suffix => (password, salt),
    };
    fn run<D: sha2::Digest>(first: &[u8], second: &[u8]) -> Vec<u8> {
        let mut d = D::new();
        d.update(first);
        d.update(second);
        d.finalize().to_vec()
    }
    match digest {
        DigestAlgorithm::Md5 => run::<md5::Md5>(first, second),
        DigestAlgorithm::Sha1 => run::<Sha1>(first, second),
        DigestAlgorithm::Sha256 => run::<Sha256>(first, second),
        DigestAlgorithm::Sha512 => run::<Sha512>(first, second),
    }
}

/// Constant-time equality; a length difference is not secret (it is the algorithm's output size).
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_eq_compares_length_and_content() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn error_messages_are_fixed_text() {
        let e = VerifyError::MalformedHash {
            algorithm: "argon2".into(),
            detail: "empty salt",
        };
        assert_eq!(e.to_string(), "malformed argon2 hash: empty salt");
    }
}
