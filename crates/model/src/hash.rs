//! Password hashes as read from a source, with every parameter needed to use them later.
//!
//! The enum keeps the source's representation (MCF/PHC strings, raw bytes) rather than a
//! Keycloak shape: converting to Keycloak credentials is the transform's job, which may also
//! decide a hash is unusable on a given target.

use std::fmt;

use serde::Serialize;

use crate::Secret;

/// Digest used by PBKDF2 or a plain salted/unsalted digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestAlgorithm {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl DigestAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "md5",
            DigestAlgorithm::Sha1 => "sha1",
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Md5 => 16,
            DigestAlgorithm::Sha1 => 20,
            DigestAlgorithm::Sha256 => 32,
            DigestAlgorithm::Sha512 => 64,
        }
    }
}

/// Where a salt goes relative to the password when hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SaltPosition {
    Prefix,
    Suffix,
}

/// A password hash. `Debug` and `Serialize` show the algorithm and its public parameters
/// (cost, iterations) but never hash or salt bytes.
#[derive(Clone, PartialEq, Serialize)]
#[serde(tag = "algorithm", rename_all = "kebab-case")]
pub enum PasswordHash {
    /// bcrypt in modular crypt format (`$2a$`, `$2b$`, `$2y$`), e.g. Auth0's export.
    Bcrypt { mcf: Secret<String>, cost: u32 },
    /// Firebase's modified scrypt: per-user hash and salt, both standard base64 as exported.
    /// The project parameters (signer key, salt separator, rounds, memory cost) are not in
    /// the export; they come from configuration.
    FirebaseScrypt {
        hash: Secret<String>,
        salt: Secret<String>,
    },
    /// PBKDF2 with an HMAC digest; raw salt and derived key bytes.
    Pbkdf2 {
        digest: DigestAlgorithm,
        iterations: u32,
        salt: Secret<Vec<u8>>,
        hash: Secret<Vec<u8>>,
    },
    /// Argon2 in PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
    Argon2 { phc: Secret<String> },
    /// A plain digest, optionally salted: `digest(salt ‖ password)` or `digest(password ‖ salt)`.
    Digest {
        digest: DigestAlgorithm,
        salt: Option<Secret<Vec<u8>>>,
        salt_position: SaltPosition,
        hash: Secret<Vec<u8>>,
    },
    /// A value whose algorithm could not be determined. Kept verbatim, never guessed.
    Unknown {
        raw: Secret<String>,
        /// Why it was not recognised, for reports.
        note: String,
    },
}

impl PasswordHash {
    /// A short stable name for reports: `bcrypt`, `firebase-scrypt`, `pbkdf2-sha256`, ...
    pub fn algorithm_name(&self) -> String {
        match self {
            PasswordHash::Bcrypt { .. } => "bcrypt".into(),
            PasswordHash::FirebaseScrypt { .. } => "firebase-scrypt".into(),
            PasswordHash::Pbkdf2 { digest, .. } => format!("pbkdf2-{}", digest.as_str()),
            PasswordHash::Argon2 { .. } => "argon2".into(),
            PasswordHash::Digest {
                digest, salt: None, ..
            } => digest.as_str().to_string(),
            PasswordHash::Digest { digest, .. } => format!("salted-{}", digest.as_str()),
            PasswordHash::Unknown { .. } => "unknown".into(),
        }
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordHash::Bcrypt { cost, .. } => {
                write!(f, "PasswordHash::Bcrypt {{ cost: {cost} }}")
            }
            PasswordHash::Pbkdf2 {
                digest, iterations, ..
            } => write!(
                f,
                "PasswordHash::Pbkdf2 {{ digest: {}, iterations: {iterations} }}",
                digest.as_str()
            ),
            other => write!(f, "PasswordHash({})", other.algorithm_name()),
        }
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.algorithm_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_serialize_hide_bytes() {
        let h = PasswordHash::Bcrypt {
            mcf: Secret::new("$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K".into()),
            cost: 10,
        };
        let shown = format!("{h:?} {h} {}", serde_json::to_string(&h).unwrap());
        assert!(!shown.contains("nFgu"), "{shown}");
        assert!(shown.contains("cost: 10"));
        let p = PasswordHash::Pbkdf2 {
            digest: DigestAlgorithm::Sha256,
            iterations: 27500,
            salt: Secret::new(b"saltsalt".to_vec()),
            hash: Secret::new(vec![1, 2, 3]),
        };
        assert_eq!(p.algorithm_name(), "pbkdf2-sha256");
        let json = serde_json::to_string(&p).unwrap();
        assert!(
            json.contains("[redacted]") && !json.contains("115"),
            "{json}"
        );
    }
}

impl PasswordHash {
    /// Recognise a self-describing encoded hash string. Only unambiguous encodings are
    /// recognised: bcrypt modular crypt (`$2a$`, `$2b$`, `$2y$`), Argon2 PHC strings and
    /// PBKDF2 PHC strings (`$pbkdf2-sha256$i=…,l=…$salt$hash`, as in Auth0's
    /// `custom_password_hash`). Everything else — bare hex or base64 digests included, which
    /// could be any algorithm — becomes [`PasswordHash::Unknown`]: never guessed.
    pub fn from_encoded(raw: &str) -> PasswordHash {
        let s = raw.trim();
        if let Some(cost) = bcrypt_cost(s) {
            return PasswordHash::Bcrypt {
                mcf: Secret::new(s.to_string()),
                cost,
            };
        }
        if s.starts_with("$argon2id$") || s.starts_with("$argon2i$") || s.starts_with("$argon2d$") {
            return PasswordHash::Argon2 {
                phc: Secret::new(s.to_string()),
            };
        }
        if let Some(h) = pbkdf2_phc(s) {
            return h;
        }
        let note = if s.is_empty() {
            "empty hash value".to_string()
        } else if let Some(rest) = s.strip_prefix('$') {
            // Name the scheme only when it looks like one (`$1$`, `$sha512$`): a value without
            // further `$` separators would otherwise be quoted whole, hash bytes included.
            match rest.split_once('$') {
                Some((scheme, _))
                    if scheme.len() <= 16
                        && scheme
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                {
                    format!("unrecognised hash scheme `${scheme}$`")
                }
                _ => "unrecognised `$`-prefixed hash format".to_string(),
            }
        } else {
            "not a self-describing hash format (bare digest?)".to_string()
        };
        PasswordHash::Unknown {
            raw: Secret::new(s.to_string()),
            note,
        }
    }
}

/// `$2a$10$` + 22 salt chars + 31 hash chars.
fn bcrypt_cost(s: &str) -> Option<u32> {
    let rest = s
        .strip_prefix("$2a$")
        .or_else(|| s.strip_prefix("$2b$"))
        .or_else(|| s.strip_prefix("$2y$"))?;
    let (cost, body) = rest.split_once('$')?;
    let cost: u32 = cost.parse().ok()?;
    let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/';
    ((4..=31).contains(&cost) && body.len() == 53 && body.chars().all(valid_char)).then_some(cost)
}

/// PHC-style PBKDF2: `$pbkdf2-<digest>$i=<iter>[,l=<len>]$<b64 salt>$<b64 hash>`. Accepts
/// standard and passlib's adapted base64 (`.` for `+`), padded or not.
fn pbkdf2_phc(s: &str) -> Option<PasswordHash> {
    use base64::Engine as _;
    let mut parts = s.strip_prefix('$')?.split('$');
    let digest = match parts.next()? {
        "pbkdf2" | "pbkdf2-sha1" => DigestAlgorithm::Sha1,
        "pbkdf2-sha256" => DigestAlgorithm::Sha256,
        "pbkdf2-sha512" => DigestAlgorithm::Sha512,
        _ => return None,
    };
    let params = parts.next()?;
    let iterations = params
        .split(',')
        .find_map(|p| p.strip_prefix("i="))?
        .parse()
        .ok()?;
    let decode = |v: &str| {
        let v = v.replace('.', "+");
        let v = v.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(v)
            .ok()
    };
    let salt = decode(parts.next()?)?;
    let hash = decode(parts.next()?)?;
    if parts.next().is_some() || salt.is_empty() || hash.is_empty() {
        return None;
    }
    Some(PasswordHash::Pbkdf2 {
        digest,
        iterations,
        salt: Secret::new(salt),
        hash: Secret::new(hash),
    })
}

#[cfg(test)]
mod encoded_tests {
    use super::*;

    #[test]
    fn recognises_bcrypt_argon2_and_pbkdf2_and_never_guesses() {
        let b = PasswordHash::from_encoded(
            "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K",
        );
        assert!(matches!(b, PasswordHash::Bcrypt { cost: 10, .. }));
        let a = PasswordHash::from_encoded(
            "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        );
        assert_eq!(a.algorithm_name(), "argon2");
        let p = PasswordHash::from_encoded(
            "$pbkdf2-sha256$i=100000,l=32$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        );
        match p {
            PasswordHash::Pbkdf2 {
                digest,
                iterations,
                salt,
                hash,
            } => {
                assert_eq!((digest, iterations), (DigestAlgorithm::Sha256, 100_000));
                assert_eq!(salt.expose(), b"saltsalt");
                assert_eq!(hash.expose().len(), 32);
            }
            other => panic!("{other:?}"),
        }
        for raw in [
            "5f4dcc3b5aa765d61d8327deb882cf99",
            "$1$abc$def",
            "",
            "$2x$10$short",
        ] {
            assert!(
                matches!(
                    PasswordHash::from_encoded(raw),
                    PasswordHash::Unknown { .. }
                ),
                "{raw}"
            );
        }
    }
}
