//! Password credentials as Keycloak stores and checks them (keycloak-target.md §4, §11
//! "Confirmed by running Keycloak 24.0.4").
//!
//! * `secretData` / `credentialData` are JSON strings parsed by a strict Jackson mapper:
//!   only `value`/`salt`/`additionalParameters|algorithmData` and
//!   `hashIterations`/`algorithm`/`additionalParameters|algorithmData`; anything else fails the
//!   import (500) — [`parse_password_data`].
//! * Base64 is decoded with Keycloak's (iharder) codec: standard alphabet, an unpadded final
//!   group is silently dropped, URL-safe characters throw — [`kc_base64_decode`]. The stored
//!   `value` is compared as Base64 text with the freshly computed hash.
//! * Login: no provider with the credential's algorithm id ⇒ invalid credentials; PBKDF2 takes
//!   the key length from the stored value; Argon2 reads all five parameters from
//!   `additionalParameters`; after a successful login a hash that fails the realm policy is
//!   re-encoded (`rehashPasswordIfRequired`).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::Hmac;
use rand::RngCore;
use serde_json::{json, Map, Value};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// Default iterations per PBKDF2 provider since Keycloak 24 (§4 "KC 24").
pub const PBKDF2_SHA1_ITERATIONS: u32 = 1_300_000;
pub const PBKDF2_SHA256_ITERATIONS: u32 = 600_000;
pub const PBKDF2_SHA512_ITERATIONS: u32 = 210_000;
/// Keycloak's PBKDF2 providers derive 512-bit keys.
pub const PBKDF2_KEY_BYTES: usize = 64;
/// `Argon2Parameters` defaults (§4 "KC 25").
pub const ARGON2_ITERATIONS: u32 = 5;
pub const ARGON2_MEMORY_KIB: u32 = 7168;
pub const ARGON2_PARALLELISM: u32 = 1;
pub const ARGON2_HASH_LENGTH: usize = 32;
/// Salt length Keycloak generates.
pub const SALT_BYTES: usize = 16;
/// Refuse Argon2 parameters that would make one verification allocate more than this
/// (a hostile credential must not exhaust the test machine).
pub const ARGON2_MAX_MEMORY_KIB: u32 = 256 * 1024;

/// Parsed `secretData` of a password credential.
#[derive(Clone, Default)]
pub struct SecretData {
    pub value: Option<String>,
    pub salt: Option<String>,
}

/// Parsed `credentialData` of a password credential.
#[derive(Debug, Clone, Default)]
pub struct CredentialData {
    pub hash_iterations: i64,
    pub algorithm: Option<String>,
    pub additional: BTreeMap<String, Vec<String>>,
}

/// Decodes like `org.keycloak.common.util.Base64.decode`: whitespace skipped, characters
/// outside the standard alphabet are an error, a final group of fewer than four characters
/// is dropped without error, decoding stops after a padded group.
pub fn kc_base64_decode(text: &str) -> Result<Vec<u8>, String> {
    fn sextet(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut quad = [0u8; 4];
    let mut n = 0;
    for c in text.bytes() {
        if c <= b' ' {
            continue;
        }
        if c != b'=' && sextet(c).is_none() {
            return Err(format!("Bad Base64 input character '{}'", c as char));
        }
        if let Some(slot) = quad.get_mut(n) {
            *slot = c;
        }
        n += 1;
        if n < 4 {
            continue;
        }
        n = 0;
        let [a, b, c2, d] = quad;
        let (Some(a), Some(b)) = (sextet(a), sextet(b)) else {
            return Err("Bad Base64 padding".into());
        };
        out.push((a << 2) | (b >> 4));
        if c2 == b'=' {
            break;
        }
        let c2 = sextet(c2).ok_or("Bad Base64 padding")?;
        out.push((b << 4) | (c2 >> 2));
        if d == b'=' {
            break;
        }
        let d = sextet(d).ok_or("Bad Base64 padding")?;
        out.push((c2 << 6) | d);
    }
    Ok(out)
}

fn parse_object(text: &str, what: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("{what} is not a JSON object")),
        Err(e) => Err(format!("{what} is not valid JSON: {e}")),
    }
}

fn string_field(value: &Value, key: &str) -> Result<Option<String>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        // Jackson coerces scalars to String.
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(format!("'{key}' must be a string")),
    }
}

fn multimap_field(value: &Value, key: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    match value {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(map) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                // Jackson does not accept a single value for a List without
                // ACCEPT_SINGLE_VALUE_AS_ARRAY, which Keycloak's mapper does not enable.
                let Value::Array(items) = v else {
                    return Err(format!("'{key}.{k}' must be an array"));
                };
                let mut list = Vec::new();
                for item in items {
                    list.push(string_field(item, key)?.unwrap_or_default());
                }
                out.insert(k.clone(), list);
            }
            Ok(out)
        }
        _ => Err(format!("'{key}' must be an object")),
    }
}

/// Strictly parses a password credential's `secretData` and `credentialData`, like
/// `PasswordCredentialModel.createFromCredentialModel` with Keycloak's strict mapper.
pub fn parse_password_data(
    secret_data: &str,
    credential_data: &str,
) -> Result<(SecretData, CredentialData), String> {
    let secret = parse_object(secret_data, "secretData")?;
    let mut parsed_secret = SecretData::default();
    for (key, value) in &secret {
        match key.as_str() {
            "value" => parsed_secret.value = string_field(value, key)?,
            "salt" => {
                let salt = string_field(value, key)?;
                // PasswordSecretData treats "__SALT__" as "no salt".
                parsed_secret.salt = salt.filter(|s| s != "__SALT__");
            }
            "additionalParameters" | "algorithmData" => {
                multimap_field(value, key)?;
            }
            other => return Err(format!("Unrecognized field \"{other}\" in secretData")),
        }
    }
    let data = parse_object(credential_data, "credentialData")?;
    let mut parsed = CredentialData::default();
    for (key, value) in &data {
        match key.as_str() {
            "hashIterations" => {
                parsed.hash_iterations = match value {
                    Value::Null => 0,
                    Value::Number(n) => n
                        .as_i64()
                        .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
                        .ok_or("'hashIterations' is not an int")?,
                    // Jackson coerces numeric strings to int.
                    Value::String(s) => s
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| "'hashIterations' is not an int")?,
                    _ => return Err("'hashIterations' is not an int".into()),
                };
                if i32::try_from(parsed.hash_iterations).is_err() {
                    return Err("'hashIterations' is out of range for an int".into());
                }
            }
            "algorithm" => parsed.algorithm = string_field(value, key)?,
            "additionalParameters" | "algorithmData" => {
                parsed.additional = multimap_field(value, key)?
            }
            other => return Err(format!("Unrecognized field \"{other}\" in credentialData")),
        }
    }
    Ok((parsed_secret, parsed))
}

/// `convertDeprecatedCredentialsFormat`: `hashedSaltedValue`/`salt`/`hashIterations`/`algorithm`
/// become `secretData`/`credentialData` by string concatenation (a missing salt becomes the
/// text `null`). `None` when the credential is not in the deprecated form.
pub fn convert_deprecated(
    hashed_salted_value: Option<&str>,
    salt: Option<&str>,
    hash_iterations: Option<i32>,
    algorithm: Option<&str>,
) -> Result<(String, String), String> {
    let iterations = hash_iterations.ok_or("hashIterations is null (NullPointerException)")?;
    let credential_data = json!({
        "hashIterations": iterations,
        "algorithm": algorithm,
        "additionalParameters": {}
    })
    .to_string();
    let secret_data = format!(
        "{{\"value\":\"{}\",\"salt\":\"{}\"}}",
        hashed_salted_value.unwrap_or("null"),
        salt.unwrap_or("null")
    );
    Ok((secret_data, credential_data))
}

/// The realm's hashing policy (`hashAlgorithm(...)`, `hashIterations(...)`, `length(...)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashPolicy {
    pub algorithm: String,
    /// `None`: the provider default.
    pub iterations: Option<u32>,
    pub min_length: Option<usize>,
}

impl HashPolicy {
    /// Parses a Keycloak password-policy string; the default algorithm is `argon2` when that
    /// provider exists (Keycloak 25+ non-FIPS), otherwise `pbkdf2-sha512` (Keycloak 24).
    pub fn parse(policy: Option<&str>, providers: &[String]) -> HashPolicy {
        let default_algorithm = if providers.iter().any(|p| p == "argon2") {
            "argon2"
        } else {
            "pbkdf2-sha512"
        };
        let mut out = HashPolicy {
            algorithm: default_algorithm.to_string(),
            iterations: None,
            min_length: None,
        };
        for part in policy.unwrap_or("").split(" and ") {
            let part = part.trim();
            let Some((name, rest)) = part.split_once('(') else {
                continue;
            };
            let arg = rest.trim_end_matches(')').trim();
            match name.trim() {
                "hashAlgorithm" => out.algorithm = arg.to_string(),
                "hashIterations" => out.iterations = arg.parse().ok(),
                "length" => out.min_length = arg.parse().ok(),
                _ => {}
            }
        }
        out
    }

    pub fn effective_iterations(&self) -> u32 {
        self.iterations.unwrap_or(match self.algorithm.as_str() {
            "pbkdf2" => PBKDF2_SHA1_ITERATIONS,
            "pbkdf2-sha256" => PBKDF2_SHA256_ITERATIONS,
            "argon2" => ARGON2_ITERATIONS,
            _ => PBKDF2_SHA512_ITERATIONS,
        })
    }
}

fn pbkdf2_derive(
    algorithm: &str,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
) -> bool {
    match algorithm {
        "pbkdf2" => pbkdf2::pbkdf2::<Hmac<Sha1>>(password, salt, iterations, out).is_ok(),
        "pbkdf2-sha256" => pbkdf2::pbkdf2::<Hmac<Sha256>>(password, salt, iterations, out).is_ok(),
        "pbkdf2-sha512" => pbkdf2::pbkdf2::<Hmac<Sha512>>(password, salt, iterations, out).is_ok(),
        _ => false,
    }
}

fn argon2_params(
    data: &CredentialData,
) -> Option<(argon2::Algorithm, argon2::Version, argon2::Params)> {
    let get = |k: &str| {
        data.additional
            .get(k)
            .and_then(|v| v.first())
            .map(String::as_str)
    };
    let algorithm = match get("type")? {
        "id" => argon2::Algorithm::Argon2id,
        "d" => argon2::Algorithm::Argon2d,
        "i" => argon2::Algorithm::Argon2i,
        _ => return None,
    };
    let version = match get("version")? {
        "1.3" => argon2::Version::V0x13,
        "1.0" => argon2::Version::V0x10,
        _ => return None,
    };
    let hash_length: usize = get("hashLength")?.parse().ok()?;
    let memory: u32 = get("memory")?.parse().ok()?;
    let parallelism: u32 = get("parallelism")?.parse().ok()?;
    let iterations = u32::try_from(data.hash_iterations).ok()?;
    if memory > ARGON2_MAX_MEMORY_KIB {
        return None;
    }
    let params = argon2::Params::new(memory, iterations, parallelism, Some(hash_length)).ok()?;
    Some((algorithm, version, params))
}

/// `PasswordCredentialProvider.isValid` for one stored credential: the provider must be
/// configured; any failure inside verification counts as "invalid" (never an error).
pub fn verify(
    providers: &[String],
    secret_data: &str,
    credential_data: &str,
    password: &str,
) -> bool {
    let Ok((secret, data)) = parse_password_data(secret_data, credential_data) else {
        return false;
    };
    let Some(algorithm) = data.algorithm.clone() else {
        return false;
    };
    if !providers.contains(&algorithm) {
        return false;
    }
    let Some(value) = secret.value.as_deref() else {
        return false;
    };
    match algorithm.as_str() {
        "pbkdf2" | "pbkdf2-sha256" | "pbkdf2-sha512" => {
            // Keycloak NUL-pads passwords shorter than 14 characters before PBKDF2; HMAC
            // zero-pads short keys anyway, so the unpadded password gives the same hash.
            let Some(salt) = secret.salt.as_deref() else {
                return false;
            };
            let Ok(salt) = kc_base64_decode(salt) else {
                return false;
            };
            let Ok(expected) = kc_base64_decode(value) else {
                return false;
            };
            let Ok(iterations) = u32::try_from(data.hash_iterations) else {
                return false;
            };
            if salt.is_empty() || expected.is_empty() || iterations == 0 {
                return false;
            }
            let mut derived = vec![0u8; expected.len()];
            pbkdf2_derive(
                &algorithm,
                password.as_bytes(),
                &salt,
                iterations,
                &mut derived,
            ) && STANDARD.encode(&derived) == value
        }
        "argon2" => {
            let Some((alg, version, params)) = argon2_params(&data) else {
                return false;
            };
            let Some(salt) = secret.salt.as_deref() else {
                return false;
            };
            let Ok(salt) = kc_base64_decode(salt) else {
                return false;
            };
            let len = params.output_len().unwrap_or(ARGON2_HASH_LENGTH);
            let mut out = vec![0u8; len];
            argon2::Argon2::new(alg, version, params)
                .hash_password_into(password.as_bytes(), &salt, &mut out)
                .is_ok()
                && STANDARD.encode(&out) == value
        }
        // The community bcrypt provider keeps the whole modular string in `value` (§5).
        "bcrypt" => bcrypt::verify(password, value).unwrap_or(false),
        _ => false,
    }
}

/// `policyCheck` of the realm's provider: does the stored credential already match the
/// policy (algorithm, iterations, key size / Argon2 parameters)?
pub fn policy_check(policy: &HashPolicy, credential_data: &str, secret_data: &str) -> bool {
    let Ok((secret, data)) = parse_password_data(secret_data, credential_data) else {
        return false;
    };
    if data.algorithm.as_deref() != Some(policy.algorithm.as_str()) {
        return false;
    }
    if i64::from(policy.effective_iterations()) != data.hash_iterations {
        return false;
    }
    match policy.algorithm.as_str() {
        "argon2" => argon2_params(&data).is_some_and(|(alg, version, params)| {
            alg == argon2::Algorithm::Argon2id
                && version == argon2::Version::V0x13
                && params.m_cost() == ARGON2_MEMORY_KIB
                && params.p_cost() == ARGON2_PARALLELISM
                && params.output_len() == Some(ARGON2_HASH_LENGTH)
        }),
        _ => secret
            .value
            .as_deref()
            .and_then(|v| kc_base64_decode(v).ok())
            .is_some_and(|k| k.len() == PBKDF2_KEY_BYTES),
    }
}

/// Hashes a plaintext password with the realm policy; returns `(secretData, credentialData)`.
/// `Err` when the policy names an algorithm the server has no provider for.
pub fn encode(
    policy: &HashPolicy,
    providers: &[String],
    password: &str,
) -> Result<(String, String), String> {
    if !providers.contains(&policy.algorithm) {
        return Err(format!(
            "Hash algorithm provider '{}' not found",
            policy.algorithm
        ));
    }
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    let iterations = policy.effective_iterations();
    match policy.algorithm.as_str() {
        "pbkdf2" | "pbkdf2-sha256" | "pbkdf2-sha512" => {
            let mut key = [0u8; PBKDF2_KEY_BYTES];
            if !pbkdf2_derive(
                &policy.algorithm,
                password.as_bytes(),
                &salt,
                iterations,
                &mut key,
            ) {
                return Err("PBKDF2 failed".into());
            }
            Ok((
                json!({"value": STANDARD.encode(key), "salt": STANDARD.encode(salt), "additionalParameters": {}})
                    .to_string(),
                json!({"hashIterations": iterations, "algorithm": policy.algorithm, "additionalParameters": {}})
                    .to_string(),
            ))
        }
        "argon2" => {
            let params = argon2::Params::new(
                ARGON2_MEMORY_KIB,
                iterations,
                ARGON2_PARALLELISM,
                Some(ARGON2_HASH_LENGTH),
            )
            .map_err(|e| e.to_string())?;
            let mut out = [0u8; ARGON2_HASH_LENGTH];
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password_into(password.as_bytes(), &salt, &mut out)
                .map_err(|e| e.to_string())?;
            Ok((
                json!({"value": STANDARD.encode(out), "salt": STANDARD.encode(salt), "additionalParameters": {}})
                    .to_string(),
                json!({
                    "hashIterations": iterations,
                    "algorithm": "argon2",
                    "additionalParameters": {
                        "hashLength": [ARGON2_HASH_LENGTH.to_string()],
                        "memory": [ARGON2_MEMORY_KIB.to_string()],
                        "type": ["id"],
                        "version": ["1.3"],
                        "parallelism": [ARGON2_PARALLELISM.to_string()]
                    }
                })
                .to_string(),
            ))
        }
        "bcrypt" => {
            let cost = iterations.clamp(4, 31);
            let hash = bcrypt::hash(password, cost).map_err(|e| e.to_string())?;
            Ok((
                json!({"value": hash, "salt": ""}).to_string(),
                json!({"hashIterations": cost, "algorithm": "bcrypt", "additionalParameters": {}})
                    .to_string(),
            ))
        }
        other => Err(format!(
            "Hash algorithm '{other}' cannot be encoded by the emulator"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers() -> Vec<String> {
        crate::config::DEFAULT_HASH_PROVIDERS
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn keycloak_base64_drops_an_unpadded_final_group_and_rejects_url_safe() {
        let salt = [7u8; 16];
        let padded = STANDARD.encode(salt);
        assert_eq!(kc_base64_decode(&padded).unwrap(), salt.to_vec());
        let unpadded = padded.trim_end_matches('=');
        assert_eq!(kc_base64_decode(unpadded).unwrap().len(), 15);
        assert!(kc_base64_decode("ab-_").is_err());
    }

    #[test]
    fn strict_parse_rejects_unknown_keys_and_objects_in_lists() {
        assert!(parse_password_data(
            r#"{"value":"x","salt":"","additionalParameters":{}}"#,
            r#"{"hashIterations":1,"algorithm":"pbkdf2"}"#
        )
        .is_ok());
        assert!(
            parse_password_data(r#"{"value":"x","pepper":"y"}"#, r#"{"hashIterations":1}"#)
                .is_err()
        );
        assert!(parse_password_data(
            r#"{"value":"x"}"#,
            r#"{"hashIterations":1,"algorithm":"a","extra":1}"#
        )
        .is_err());
        assert!(
            parse_password_data(r#"{"value":"x"}"#, r#"{"additionalParameters":{"k":"v"}}"#)
                .is_err()
        );
        assert!(parse_password_data(r#"{"value":"x"}"#, r#"{"hashIterations":"27500"}"#).is_ok());
    }

    #[test]
    fn pbkdf2_verifies_any_key_length_and_fails_without_provider() {
        let salt = b"0123456789abcdef";
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2::<Hmac<Sha256>>("pässword".as_bytes(), salt, 1000, &mut key).unwrap();
        let secret =
            json!({"value": STANDARD.encode(key), "salt": STANDARD.encode(salt)}).to_string();
        let data = json!({"hashIterations": 1000, "algorithm": "pbkdf2-sha256"}).to_string();
        assert!(verify(&providers(), &secret, &data, "pässword"));
        assert!(!verify(&providers(), &secret, &data, "password"));
        assert!(!verify(&["pbkdf2".to_string()], &secret, &data, "pässword"));
    }

    #[test]
    fn encoded_passwords_verify_and_pass_the_policy_check() {
        let policy = HashPolicy::parse(
            Some("hashAlgorithm(pbkdf2-sha512) and hashIterations(10)"),
            &providers(),
        );
        let (secret, data) = encode(&policy, &providers(), "hunter2").unwrap();
        assert!(verify(&providers(), &secret, &data, "hunter2"));
        assert!(policy_check(&policy, &data, &secret));
        let other = HashPolicy::parse(
            Some("hashAlgorithm(pbkdf2-sha256) and hashIterations(10)"),
            &providers(),
        );
        assert!(!policy_check(&other, &data, &secret));
    }

    #[test]
    fn default_algorithm_depends_on_providers() {
        assert_eq!(HashPolicy::parse(None, &providers()).algorithm, "argon2");
        assert_eq!(
            HashPolicy::parse(None, &["pbkdf2-sha512".to_string()]).algorithm,
            "pbkdf2-sha512"
        );
    }

    #[test]
    fn deprecated_format_is_converted_by_concatenation() {
        let (secret, data) =
            convert_deprecated(Some("abc"), None, Some(5), Some("md5-crypt")).unwrap();
        assert_eq!(secret, r#"{"value":"abc","salt":"null"}"#);
        assert!(data.contains("\"md5-crypt\""));
        assert!(convert_deprecated(Some("abc"), None, None, None).is_err());
    }
}
