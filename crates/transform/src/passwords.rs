//! Password continuity: which users keep their password hash (as a Keycloak credential
//! built by `kcm-credentials`), which must choose a new one (UPDATE_PASSWORD, with the reason
//! recorded) and which need none (social-only users).
//!
//! Also the `[passwords]` section's settings and the [`TransformOptions`] built from them:
//! the target's hash-provider capabilities and the Firebase project hash parameters, whose
//! secrets are read from environment variables (`env:NAME`) or, discouraged, literals.

use kcm_credentials::{
    provider_for, to_credential, FirebaseScryptParams, HashCapabilities, ParamsError,
    UnusableReason,
};
use kcm_keycloak_types::CredentialRepresentation;
use kcm_model::{Secret, User};
use serde::Serialize;

use crate::mapping::Mapping;

/// Prefix that makes a secret setting name an environment variable.
pub const ENV_PREFIX: &str = "env:";

/// A secret setting: an environment variable name, or the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    Literal(Secret<String>),
}

impl SecretRef {
    pub(crate) fn parse(raw: &str) -> SecretRef {
        match raw.trim().strip_prefix(ENV_PREFIX) {
            Some(var) => SecretRef::Env(var.trim().to_string()),
            None => SecretRef::Literal(Secret::new(raw.trim().to_string())),
        }
    }
}

/// `[passwords.firebase]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirebaseSettings {
    pub signer_key: SecretRef,
    pub salt_separator: SecretRef,
    pub rounds: u32,
    pub mem_cost: u32,
}

/// The compiled `[passwords]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordSettings {
    /// Plugin provider ids added to Keycloak's native set.
    pub providers: Vec<String>,
    /// Give social-only users UPDATE_PASSWORD anyway (default: no).
    pub social_only_update_password: bool,
    pub firebase: Option<FirebaseSettings>,
}

/// Settings the transform needs beyond the mapping file; the command line may override
/// what [`TransformOptions::from_mapping`] derives from the file.
#[derive(Debug, Clone)]
pub struct TransformOptions {
    /// Hash providers of the target Keycloak.
    pub capabilities: HashCapabilities,
    /// Firebase project hash parameters, needed to carry Firebase scrypt hashes.
    pub firebase: Option<FirebaseScryptParams>,
}

impl Default for TransformOptions {
    fn default() -> Self {
        Self {
            capabilities: HashCapabilities::keycloak_default(),
            firebase: None,
        }
    }
}

/// Why the mapping's password settings could not be turned into options. Never contains a
/// secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("passwords.firebase.{key}: environment variable `{var}` is not set")]
    MissingEnv { key: &'static str, var: String },
    #[error("passwords.firebase: {0}")]
    Firebase(#[from] ParamsError),
}

impl TransformOptions {
    /// Keycloak's native providers plus the mapping's `[passwords] providers`, and the
    /// Firebase parameters with `env:` references read from the process environment.
    pub fn from_mapping(mapping: &Mapping) -> Result<Self, OptionsError> {
        Self::from_mapping_with_env(mapping, |var| std::env::var(var).ok())
    }

    /// As [`TransformOptions::from_mapping`], with environment lookups through `env`.
    pub fn from_mapping_with_env(
        mapping: &Mapping,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, OptionsError> {
        let settings = mapping.passwords();
        let mut capabilities = HashCapabilities::keycloak_default();
        for p in &settings.providers {
            capabilities = capabilities.with(p.clone());
        }
        let firebase = match &settings.firebase {
            None => None,
            Some(fb) => {
                let resolve =
                    |key: &'static str, r: &SecretRef| -> Result<Secret<String>, OptionsError> {
                        match r {
                            SecretRef::Literal(s) => Ok(s.clone()),
                            SecretRef::Env(var) => env(var)
                                .map(|v| Secret::new(v.trim().to_string()))
                                .ok_or_else(|| OptionsError::MissingEnv {
                                    key,
                                    var: var.clone(),
                                }),
                        }
                    };
                let key = resolve("signer_key", &fb.signer_key)?;
                let sep = resolve("salt_separator", &fb.salt_separator)?;
                Some(FirebaseScryptParams::from_base64(
                    key.expose(),
                    sep.expose(),
                    fb.rounds,
                    fb.mem_cost,
                )?)
            }
        };
        Ok(Self {
            capabilities,
            firebase,
        })
    }
}

/// What happened to a user's password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PasswordOutcome {
    /// The hash became a credential for this Keycloak provider id.
    Carried { provider: String },
    /// The user must choose a new password (UPDATE_PASSWORD).
    Reset {
        reason: UnusableReason,
        message: String,
    },
    /// Social-only user: signs in through a linked identity.
    NotNeeded,
}

/// Decide the password outcome and build the credential for a usable hash. `social_only`:
/// the user signs in only through linked identities that map to Keycloak identity providers.
pub(crate) fn decide(
    user: &User,
    options: &TransformOptions,
    social_only: bool,
) -> (Option<CredentialRepresentation>, PasswordOutcome) {
    if social_only {
        return (None, PasswordOutcome::NotNeeded);
    }
    let Some(hash) = &user.password_hash else {
        return (
            None,
            PasswordOutcome::Reset {
                reason: UnusableReason::NoHash,
                message: UnusableReason::NoHash.describe().to_string(),
            },
        );
    };
    match to_credential(
        hash,
        &options.capabilities,
        options.firebase.as_ref(),
        user.created_at,
    ) {
        Ok(credential) => {
            let provider = provider_for(hash).unwrap_or_else(|| hash.algorithm_name());
            (Some(credential), PasswordOutcome::Carried { provider })
        }
        Err(unusable) => (
            None,
            PasswordOutcome::Reset {
                reason: unusable.reason,
                message: unusable.message,
            },
        ),
    }
}
