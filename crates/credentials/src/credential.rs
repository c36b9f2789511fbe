//! Source hash → Keycloak `password` credential, per the target's hash providers.
//!
//! Shapes follow keycloak-target.md §4/§5 exactly: `secretData`/`credentialData` are JSON
//! strings with only the keys Keycloak's strict parser knows, base64 is standard and padded,
//! and no deprecated field (`value`, `hashedSaltedValue`, ...) is ever set.

use std::collections::BTreeMap;
use std::fmt;

use kcm_keycloak_types::{CredentialRepresentation, PasswordCredentialData, PasswordSecretData};
use kcm_model::{DigestAlgorithm, PasswordHash, SaltPosition};
use serde::Serialize;

use crate::capabilities::provider;
use crate::firebase::FirebaseScryptParams;
use crate::{b64, phc, HashCapabilities};

/// Keycloak's credential type for passwords.
const PASSWORD_TYPE: &str = "password";
/// The sha1 plugin ignores iterations; its own tests store 1.
const SHA1_PLUGIN_ITERATIONS: i64 = 1;
/// Firebase writes `UkVEQUNURUQ=` ("REDACTED") when an export was made without hash access.
const FIREBASE_REDACTED: &[u8] = b"REDACTED";

/// Why a user's hash cannot be carried over (the user then gets UPDATE_PASSWORD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnusableReason {
    NoHash,
    UnknownAlgorithm,
    NoProvider,
    MissingFirebaseParams,
    InvalidHash,
}

impl UnusableReason {
    /// Stable machine-readable code (same as the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            UnusableReason::NoHash => "no_hash",
            UnusableReason::UnknownAlgorithm => "unknown_algorithm",
            UnusableReason::NoProvider => "no_provider",
            UnusableReason::MissingFirebaseParams => "missing_firebase_params",
            UnusableReason::InvalidHash => "invalid_hash",
        }
    }

    /// One sentence for reports.
    pub fn describe(self) -> &'static str {
        match self {
            UnusableReason::NoHash => "the source has no password hash for this user",
            UnusableReason::UnknownAlgorithm => {
                "the hash format could not be recognised, so it is never guessed"
            }
            UnusableReason::NoProvider => {
                "the target Keycloak has no password-hash provider for this algorithm"
            }
            UnusableReason::MissingFirebaseParams => {
                "Firebase scrypt hashes need the project's hash parameters, which are not configured"
            }
            UnusableReason::InvalidHash => "the hash value is malformed",
        }
    }
}

impl fmt::Display for UnusableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hash that cannot become a credential, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unusable {
    pub reason: UnusableReason,
    /// the provider id that would be needed, if any
    pub provider: Option<String>,
    /// Never contains hash or salt bytes.
    pub message: String,
}

impl Unusable {
    pub fn new(
        reason: UnusableReason,
        provider: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            reason,
            provider,
            message: message.into(),
        }
    }

    /// For a user without any hash, so callers report every user the same way.
    pub fn no_hash() -> Self {
        Self::new(
            UnusableReason::NoHash,
            None,
            UnusableReason::NoHash.describe(),
        )
    }

    fn invalid(algorithm: &str, detail: &str) -> Self {
        Self::new(
            UnusableReason::InvalidHash,
            None,
            format!("malformed {algorithm} hash: {detail}"),
        )
    }
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl std::error::Error for Unusable {}

/// The Keycloak provider id a hash needs (bcrypt → "bcrypt", FirebaseScrypt →
/// "firebase-scrypt", Pbkdf2 sha1/sha256/sha512 → "pbkdf2"/"pbkdf2-sha256"/"pbkdf2-sha512",
/// Argon2 → "argon2", unsalted SHA-1 digest → "sha1", other digests, PBKDF2-MD5 and Unknown
/// → None).
pub fn provider_for(hash: &PasswordHash) -> Option<String> {
    provider_id(hash).map(str::to_string)
}

fn provider_id(hash: &PasswordHash) -> Option<&'static str> {
    match hash {
        PasswordHash::Bcrypt { .. } => Some(provider::BCRYPT),
        PasswordHash::FirebaseScrypt { .. } => Some(provider::FIREBASE_SCRYPT),
        PasswordHash::Pbkdf2 { digest, .. } => match digest {
            DigestAlgorithm::Sha1 => Some(provider::PBKDF2),
            DigestAlgorithm::Sha256 => Some(provider::PBKDF2_SHA256),
            DigestAlgorithm::Sha512 => Some(provider::PBKDF2_SHA512),
            DigestAlgorithm::Md5 => None,
        },
        PasswordHash::Argon2 { .. } => Some(provider::ARGON2),
        PasswordHash::Digest {
            digest: DigestAlgorithm::Sha1,
            salt,
            ..
        } if is_unsalted(salt.as_ref().map(|s| s.expose().as_slice())) => Some(provider::SHA1),
        PasswordHash::Digest { .. } | PasswordHash::Unknown { .. } => None,
    }
}

/// An empty salt hashes exactly like no salt.
pub(crate) fn is_unsalted(salt: Option<&[u8]>) -> bool {
    salt.unwrap_or_default().is_empty()
}

/// The pieces of a password credential before serialisation.
struct Parts {
    value: String,
    salt: String,
    iterations: i64,
    algorithm: &'static str,
    params: BTreeMap<String, Vec<String>>,
}

/// Build the `password` credential for `hash`, or say why it cannot be used on a target with
/// `caps`. `created_date`: ms since epoch for `createdDate` (None → omitted).
///
/// Checks run from the most to the least intrinsic problem: an unrecognised or malformed
/// hash is reported as such even when the provider is also missing, because installing a
/// plugin would not help it.
pub fn to_credential(
    hash: &PasswordHash,
    caps: &HashCapabilities,
    firebase: Option<&FirebaseScryptParams>,
    created_date: Option<i64>,
) -> Result<CredentialRepresentation, Unusable> {
    let parts = match hash {
        // The model's `note` is not repeated: for a value like `$<bytes>` it quotes input.
        PasswordHash::Unknown { .. } => {
            return Err(Unusable::new(
                UnusableReason::UnknownAlgorithm,
                None,
                UnusableReason::UnknownAlgorithm.describe(),
            ))
        }
        PasswordHash::Bcrypt { mcf, .. } => bcrypt_parts(mcf.expose())?,
        PasswordHash::FirebaseScrypt { hash: h, salt } => {
            firebase_parts(h.expose(), salt.expose(), caps, firebase)?
        }
        PasswordHash::Pbkdf2 {
            digest,
            iterations,
            salt,
            hash: h,
        } => pbkdf2_parts(*digest, *iterations, salt.expose(), h.expose())?,
        PasswordHash::Argon2 { phc } => argon2_parts(phc.expose())?,
        PasswordHash::Digest {
            digest,
            salt,
            salt_position,
            hash: h,
        } => digest_parts(
            *digest,
            salt.as_ref().map(|s| s.expose().as_slice()),
            *salt_position,
            h.expose(),
        )?,
    };
    require_provider(parts.algorithm, caps)?;
    build(parts, created_date)
}

fn require_provider(id: &str, caps: &HashCapabilities) -> Result<(), Unusable> {
    if caps.contains(id) {
        Ok(())
    } else {
        Err(no_provider(id))
    }
}

fn no_provider(id: &str) -> Unusable {
    Unusable::new(
        UnusableReason::NoProvider,
        Some(id.to_string()),
        format!("the target Keycloak has no `{id}` password-hash provider (native or plugin)"),
    )
}

fn build(parts: Parts, created_date: Option<i64>) -> Result<CredentialRepresentation, Unusable> {
    let secret = PasswordSecretData {
        value: parts.value,
        salt: Some(parts.salt),
        additional_parameters: Some(BTreeMap::new()),
    };
    let data = PasswordCredentialData {
        hash_iterations: parts.iterations,
        algorithm: parts.algorithm.to_string(),
        additional_parameters: Some(parts.params),
    };
    // Serialising maps of strings cannot fail; the mapping keeps this path panic-free and
    // deliberately drops serde's message, which could quote the value.
    let failed = || Unusable::invalid(parts.algorithm, "credential could not be serialised");
    let secret_data = serde_json::to_string(&secret).map_err(|_| failed())?;
    let credential_data = serde_json::to_string(&data).map_err(|_| failed())?;
    Ok(CredentialRepresentation {
        type_: Some(PASSWORD_TYPE.to_string()),
        created_date,
        secret_data: Some(secret_data),
        credential_data: Some(credential_data),
        ..CredentialRepresentation::default()
    })
}

/// leroyguillaume/keycloak-bcrypt: the whole modular string is the value, the salt is empty
/// (the plugin stores `new byte[0]`), `hashIterations` is the cost (used by `policyCheck`).
fn bcrypt_parts(mcf: &str) -> Result<Parts, Unusable> {
    let mcf = mcf.trim();
    let cost = bcrypt_mcf_cost(mcf).map_err(|detail| Unusable::invalid("bcrypt", detail))?;
    Ok(Parts {
        value: mcf.to_string(),
        salt: String::new(),
        iterations: i64::from(cost),
        algorithm: provider::BCRYPT,
        params: BTreeMap::new(),
    })
}

/// bcrypt alphabet (`./A-Za-z0-9`).
fn is_bcrypt_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'/'
}

const BCRYPT_BODY_LEN: usize = 53;
const BCRYPT_COST_RANGE: std::ops::RangeInclusive<u32> = 4..=31;

/// `$2a$`/`$2b$`/`$2y$` + two-digit cost + 22 salt chars + 31 hash chars.
pub(crate) fn bcrypt_mcf_cost(mcf: &str) -> Result<u32, &'static str> {
    let rest = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|prefix| mcf.strip_prefix(prefix))
        .ok_or("not a $2a$/$2b$/$2y$ modular crypt string")?;
    let (cost, body) = rest.split_once('$').ok_or("missing cost separator")?;
    let cost = if cost.len() == 2 && cost.bytes().all(|b| b.is_ascii_digit()) {
        cost.parse::<u32>().map_err(|_| "cost is not a number")?
    } else {
        return Err("cost is not two digits");
    };
    if !BCRYPT_COST_RANGE.contains(&cost) {
        return Err("cost outside 4..=31");
    }
    if body.len() != BCRYPT_BODY_LEN || !body.bytes().all(is_bcrypt_char) {
        return Err("salt and hash are not 53 bcrypt base64 characters");
    }
    Ok(cost)
}

/// keycloak-firebase-scrypt: value = the Firebase hash, salt = the user's salt, both
/// canonical base64 (the plugin decodes the salt bytes and re-encodes them).
///
/// `hashIterations` = the project's `rounds`: the plugin never reads it (the project
/// parameters live server-side, registered through its `scrypt-parameters` resource), but
/// Keycloak requires an integer there, and `rounds` is the one cost parameter of the hash,
/// which keeps reports and `policyCheck`-style inspection meaningful. 0 or -1 would look like
/// a missing value.
fn firebase_parts(
    hash: &str,
    salt: &str,
    caps: &HashCapabilities,
    firebase: Option<&FirebaseScryptParams>,
) -> Result<Parts, Unusable> {
    const ALG: &str = "Firebase scrypt";
    let hash =
        b64::decode(hash).ok_or_else(|| Unusable::invalid(ALG, "hash is not valid base64"))?;
    let salt =
        b64::decode(salt).ok_or_else(|| Unusable::invalid(ALG, "salt is not valid base64"))?;
    if hash == FIREBASE_REDACTED {
        return Err(Unusable::invalid(
            ALG,
            "the export redacted the hash (exported without hash access)",
        ));
    }
    if hash.is_empty() {
        return Err(Unusable::invalid(ALG, "empty hash"));
    }
    if salt.is_empty() {
        return Err(Unusable::invalid(ALG, "empty salt"));
    }
    require_provider(provider::FIREBASE_SCRYPT, caps)?;
    let missing = |detail: String| {
        Unusable::new(
            UnusableReason::MissingFirebaseParams,
            Some(provider::FIREBASE_SCRYPT.to_string()),
            detail,
        )
    };
    let params = firebase.ok_or_else(|| {
        missing(
            "Firebase project hash parameters (signer key, salt separator, rounds, mem cost) are not configured"
                .to_string(),
        )
    })?;
    params.validate().map_err(|e| {
        missing(format!(
            "configured Firebase hash parameters are invalid: {e}"
        ))
    })?;
    if hash.len() != params.hash_len() {
        return Err(Unusable::invalid(
            ALG,
            "hash length differs from the signer key length (corrupted hash or another project's parameters)",
        ));
    }
    Ok(Parts {
        value: b64::encode(&hash),
        salt: b64::encode(&salt),
        iterations: i64::from(params.rounds),
        algorithm: provider::FIREBASE_SCRYPT,
        params: BTreeMap::new(),
    })
}

/// Native PBKDF2: base64 derived key and salt; Keycloak takes the key length from the value.
fn pbkdf2_parts(
    digest: DigestAlgorithm,
    iterations: u32,
    salt: &[u8],
    hash: &[u8],
) -> Result<Parts, Unusable> {
    let algorithm = match digest {
        DigestAlgorithm::Sha1 => provider::PBKDF2,
        DigestAlgorithm::Sha256 => provider::PBKDF2_SHA256,
        DigestAlgorithm::Sha512 => provider::PBKDF2_SHA512,
        DigestAlgorithm::Md5 => {
            return Err(Unusable::new(
                UnusableReason::NoProvider,
                None,
                "no Keycloak password-hash provider exists for PBKDF2 with HMAC-MD5",
            ))
        }
    };
    // Keycloak keeps iterations in a Java int, and an empty salt makes its PBEKeySpec throw
    // at every login.
    if iterations == 0 || i32::try_from(iterations).is_err() {
        return Err(Unusable::invalid(
            algorithm,
            "iterations outside 1..=2147483647",
        ));
    }
    if salt.is_empty() {
        return Err(Unusable::invalid(algorithm, "empty salt"));
    }
    if hash.is_empty() {
        return Err(Unusable::invalid(algorithm, "empty derived key"));
    }
    Ok(Parts {
        value: b64::encode(hash),
        salt: b64::encode(salt),
        iterations: i64::from(iterations),
        algorithm,
        params: BTreeMap::new(),
    })
}

/// Native Argon2: the PHC string taken apart; all five parameters are always written
/// because Keycloak's verify parses each one and fails the login on a missing key.
fn argon2_parts(phc_text: &str) -> Result<Parts, Unusable> {
    let phc = phc::parse_argon2(phc_text).map_err(|detail| Unusable::invalid("Argon2", detail))?;
    let one = |v: String| vec![v];
    let params = BTreeMap::from([
        (
            "type".to_string(),
            one(phc.kind.keycloak_name().to_string()),
        ),
        (
            "version".to_string(),
            one(phc.keycloak_version().to_string()),
        ),
        ("hashLength".to_string(), one(phc.hash.len().to_string())),
        ("memory".to_string(), one(phc.memory_kib.to_string())),
        ("parallelism".to_string(), one(phc.parallelism.to_string())),
    ]);
    Ok(Parts {
        value: b64::encode(&phc.hash),
        salt: b64::encode(&phc.salt),
        iterations: i64::from(phc.iterations),
        algorithm: provider::ARGON2,
        params,
    })
}

/// Only unsalted SHA-1 has a provider (jcschaff/keycloak-sha1: lowercase hex, empty salt).
fn digest_parts(
    digest: DigestAlgorithm,
    salt: Option<&[u8]>,
    position: SaltPosition,
    hash: &[u8],
) -> Result<Parts, Unusable> {
    let name = if is_unsalted(salt) {
        digest.as_str().to_uppercase()
    } else {
        let position = match position {
            SaltPosition::Prefix => "prefix",
            SaltPosition::Suffix => "suffix",
        };
        format!("salted ({position}) {}", digest.as_str().to_uppercase())
    };
    if hash.len() != digest.output_len() {
        return Err(Unusable::invalid(
            &name,
            "digest length does not match the algorithm",
        ));
    }
    if digest != DigestAlgorithm::Sha1 || !is_unsalted(salt) {
        return Err(Unusable::new(
            UnusableReason::NoProvider,
            None,
            format!("no Keycloak password-hash provider exists for {name} digests"),
        ));
    }
    Ok(Parts {
        value: hex::encode(hash),
        salt: String::new(),
        iterations: SHA1_PLUGIN_ITERATIONS,
        algorithm: provider::SHA1,
        params: BTreeMap::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_mcf_shape_is_checked() {
        let ok = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";
        assert_eq!(bcrypt_mcf_cost(ok), Ok(10));
        assert_eq!(bcrypt_mcf_cost(&ok.replace("$2b$", "$2y$")), Ok(10));
        for bad in [
            ok.replace("$2b$", "$2x$"),
            ok.replace("$10$", "$3$"),
            ok.replace("$10$", "$03$"),
            ok.replace("$10$", "$32$"),
            ok[..ok.len() - 1].to_string(),
            ok.replace('n', "-"),
            String::new(),
        ] {
            assert!(bcrypt_mcf_cost(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reasons_have_stable_codes() {
        let all = [
            UnusableReason::NoHash,
            UnusableReason::UnknownAlgorithm,
            UnusableReason::NoProvider,
            UnusableReason::MissingFirebaseParams,
            UnusableReason::InvalidHash,
        ];
        for r in all {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert!(!r.describe().is_empty());
        }
        assert_eq!(Unusable::no_hash().reason, UnusableReason::NoHash);
    }
}
