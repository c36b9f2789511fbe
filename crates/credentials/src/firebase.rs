//! Firebase's modified scrypt: the project's hash parameters and the hash computation
//! (firebase/scrypt; export-formats.md §3.4).

use std::fmt;

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use kcm_model::Secret;

use crate::b64;

/// Firebase's CLI accepts `--rounds` 1..=8 (FT-IMP validation).
pub(crate) const ROUNDS_RANGE: (u32, u32) = (1, 8);
/// Firebase's CLI accepts `--mem-cost` 1..=14 (FT-IMP validation).
pub(crate) const MEM_COST_RANGE: (u32, u32) = (1, 14);
/// Firebase runs scrypt with p = 1.
const SCRYPT_PARALLELISM: u32 = 1;
/// Firebase derives 64 bytes and keys AES-256 with the first 32.
const DERIVED_KEY_LEN: usize = 64;
const AES_KEY_LEN: usize = 32;
/// AES-CTR starts from an all-zero counter block.
const ZERO_IV: [u8; 16] = [0; 16];

type Aes256Ctr = ctr::Ctr128BE<Aes256>;

/// Firebase project hash parameters (hash_config), all secret except rounds/mem_cost.
#[derive(Clone)]
pub struct FirebaseScryptParams {
    pub signer_key: Secret<Vec<u8>>,
    pub salt_separator: Secret<Vec<u8>>,
    pub rounds: u32,
    pub mem_cost: u32,
}

/// Why Firebase hash parameters were refused. Names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("{field} is not valid standard base64")]
    InvalidBase64 { field: &'static str },
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} must be between {min} and {max} (got {value})")]
    OutOfRange {
        field: &'static str,
        value: u32,
        min: u32,
        max: u32,
    },
}

const SIGNER_KEY_FIELD: &str = "base64_signer_key";
const SALT_SEPARATOR_FIELD: &str = "base64_salt_separator";

impl FirebaseScryptParams {
    /// From the console's base64 values; errors name the field, never the value.
    pub fn from_base64(
        signer_key: &str,
        salt_separator: &str,
        rounds: u32,
        mem_cost: u32,
    ) -> Result<Self, ParamsError> {
        let signer_key = b64::decode(signer_key).ok_or(ParamsError::InvalidBase64 {
            field: SIGNER_KEY_FIELD,
        })?;
        let salt_separator = b64::decode(salt_separator).ok_or(ParamsError::InvalidBase64 {
            field: SALT_SEPARATOR_FIELD,
        })?;
        let params = Self {
            signer_key: Secret::new(signer_key),
            salt_separator: Secret::new(salt_separator),
            rounds,
            mem_cost,
        };
        params.validate()?;
        Ok(params)
    }

    /// Check values set directly on the public fields. The salt separator may be empty
    /// (Firebase allows it); the signer key may not, since it is what gets encrypted.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.signer_key.expose().is_empty() {
            return Err(ParamsError::Empty {
                field: SIGNER_KEY_FIELD,
            });
        }
        check_range("rounds", self.rounds, ROUNDS_RANGE)?;
        check_range("mem_cost", self.mem_cost, MEM_COST_RANGE)
    }

    /// Length of every hash this project produces (AES-CTR keeps the signer key's length).
    pub(crate) fn hash_len(&self) -> usize {
        self.signer_key.expose().len()
    }
}

impl fmt::Debug for FirebaseScryptParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirebaseScryptParams")
            .field("signer_key", &self.signer_key)
            .field("salt_separator", &self.salt_separator)
            .field("rounds", &self.rounds)
            .field("mem_cost", &self.mem_cost)
            .finish()
    }
}

fn check_range(field: &'static str, value: u32, (min, max): (u32, u32)) -> Result<(), ParamsError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ParamsError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

/// Compute the Firebase hash of `password` with the user's raw salt:
/// `AES-256-CTR(key = scrypt(pw, salt ‖ sep, 2^mem_cost, rounds, 1, 64)[..32], iv = 0)`
/// applied to the signer key.
pub(crate) fn compute(
    password: &[u8],
    user_salt: &[u8],
    params: &FirebaseScryptParams,
) -> Result<Vec<u8>, ParamsError> {
    params.validate()?;
    let mut salt = Vec::with_capacity(user_salt.len() + params.salt_separator.expose().len());
    salt.extend_from_slice(user_salt);
    salt.extend_from_slice(params.salt_separator.expose());

    // validate() bounds mem_cost to 1..=14 and rounds to 1..=8, which scrypt always accepts;
    // the mapping only guards against a future change of those bounds.
    let out_of_range = || ParamsError::OutOfRange {
        field: "mem_cost",
        value: params.mem_cost,
        min: MEM_COST_RANGE.0,
        max: MEM_COST_RANGE.1,
    };
    let log_n = u8::try_from(params.mem_cost).map_err(|_| out_of_range())?;
    let scrypt_params =
        scrypt::Params::new(log_n, params.rounds, SCRYPT_PARALLELISM, DERIVED_KEY_LEN)
            .map_err(|_| out_of_range())?;
    let mut derived = [0u8; DERIVED_KEY_LEN];
    scrypt::scrypt(password, &salt, &scrypt_params, &mut derived).map_err(|_| out_of_range())?;

    let mut cipher = Aes256Ctr::new(derived[..AES_KEY_LEN].into(), &ZERO_IV.into());
    let mut hash = params.signer_key.expose().clone();
    cipher.apply_keystream(&mut hash);
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNER_KEY: &str =
        "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";

    #[test]
    fn params_errors_name_the_field_not_the_value() {
        let err = FirebaseScryptParams::from_base64("not base64!!", "Bw==", 8, 14).unwrap_err();
        assert_eq!(
            err,
            ParamsError::InvalidBase64 {
                field: "base64_signer_key"
            }
        );
        assert!(!err.to_string().contains("not base64"), "{err}");
        let err = FirebaseScryptParams::from_base64(SIGNER_KEY, "B*==", 8, 14).unwrap_err();
        assert_eq!(
            err.to_string(),
            "base64_salt_separator is not valid standard base64"
        );
        let err = FirebaseScryptParams::from_base64("", "Bw==", 8, 14).unwrap_err();
        assert_eq!(
            err,
            ParamsError::Empty {
                field: "base64_signer_key"
            }
        );
        let err = FirebaseScryptParams::from_base64(SIGNER_KEY, "Bw==", 9, 14).unwrap_err();
        assert_eq!(err.to_string(), "rounds must be between 1 and 8 (got 9)");
        let err = FirebaseScryptParams::from_base64(SIGNER_KEY, "Bw==", 8, 0).unwrap_err();
        assert!(matches!(
            err,
            ParamsError::OutOfRange {
                field: "mem_cost",
                ..
            }
        ));
    }

    #[test]
    fn debug_redacts_key_and_separator() {
        let p = FirebaseScryptParams::from_base64(SIGNER_KEY, "Bw==", 8, 14).unwrap();
        assert_eq!(p.hash_len(), 64);
        let shown = format!("{p:?}");
        assert_eq!(
            shown,
            "FirebaseScryptParams { signer_key: [redacted], salt_separator: [redacted], rounds: 8, mem_cost: 14 }"
        );
    }
}
