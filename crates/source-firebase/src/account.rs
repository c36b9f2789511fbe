//! The Firebase account as read from either export format, and its conversion to a
//! [`kcm_model::User`].
//!
//! JSON and CSV readers only pick fields out of their syntax; every rule about what a value
//! means (redacted and emulator hashes, the JSON-in-a-string `customAttributes`, which
//! providers become linked identities, `disabled` → status) lives here so both formats agree.

use base64::Engine as _;
use kcm_model::{Attributes, Diagnostic, LinkedIdentity, PasswordHash, Provenance, Secret, User};

/// `base64("REDACTED")`: what the backend returns instead of a hash when the caller lacks the
/// permission to read hashes. The CLI writes it out unchanged.
pub(crate) const REDACTED_HASH: &str = "UkVEQUNURUQ=";

/// Prefix of the placeholder the Auth emulator stores instead of a hash; the rest of the
/// value contains the plaintext password, so it must never be shown.
pub(crate) const EMULATOR_FAKE_HASH_PREFIX: &str = "fakeHash:";

/// Providers whose `providerUserInfo` entries describe the account itself (e-mail/password,
/// phone number), not a federated identity. The CLI drops them; emulator exports keep them.
pub(crate) const NON_FEDERATED_PROVIDERS: [&str; 2] = ["password", "phone"];

/// Attribute name for the account's photo URL (the OpenID Connect claim name).
pub(crate) const PICTURE_ATTRIBUTE: &str = "picture";

/// Key of the parsed custom claims in [`User::metadata`] and of the raw string in
/// [`User::attributes`] when it is not valid JSON.
pub(crate) const CUSTOM_ATTRIBUTES_KEY: &str = "customAttributes";

/// Status values, in Firebase's vocabulary.
pub(crate) const STATUS_ACTIVE: &str = "active";
pub(crate) const STATUS_DISABLED: &str = "disabled";

/// Diagnostic codes attached to kept users.
pub(crate) mod codes {
    pub const HASH_REDACTED: &str = "hash_redacted";
    pub const HASH_FAKE_EMULATOR: &str = "hash_fake_emulator";
    pub const HASH_WITHOUT_SALT: &str = "hash_without_salt";
    pub const SALT_WITHOUT_HASH: &str = "salt_without_hash";
    pub const HASH_INVALID: &str = "hash_invalid";
    pub const CUSTOM_ATTRIBUTES_INVALID: &str = "custom_attributes_invalid";
    pub const PROVIDER_ENTRY_INVALID: &str = "provider_entry_invalid";
    pub const CSV_COLUMNS_REPAIRED: &str = "csv_columns_repaired";
}

/// `customAttributes` as found: the exports carry a JSON-encoded string; a hand-made or
/// third-party file may carry the object itself.
#[derive(Clone, PartialEq)]
pub(crate) enum CustomAttributes {
    Text(String),
    Value(serde_json::Value),
}

/// One Firebase account with the fields both export formats share. Empty strings have
/// already been turned into `None`.
#[derive(Default)]
pub(crate) struct Account {
    pub local_id: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub password_hash: Option<String>,
    pub salt: Option<String>,
    pub display_name: Option<String>,
    pub photo_url: Option<String>,
    pub created_at: Option<i64>,
    pub last_login_at: Option<i64>,
    pub phone: Option<String>,
    pub disabled: Option<bool>,
    pub custom_attributes: Option<CustomAttributes>,
    pub identities: Vec<LinkedIdentity>,
    /// Source fields with no dedicated place (`mfaInfo`, emulator-only keys, ...).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Observations made while reading the syntax (repaired CSV columns, odd provider entries).
    pub diagnostics: Vec<Diagnostic>,
}

/// `Some(s)` unless the string is empty.
pub(crate) fn non_empty(s: impl Into<String>) -> Option<String> {
    let s = s.into();
    (!s.is_empty()).then_some(s)
}

/// A linked identity for a provider entry, or `None` for the account's own password/phone
/// entries.
pub(crate) fn identity(
    provider: &str,
    raw_id: &str,
    email: Option<String>,
) -> Option<LinkedIdentity> {
    if NON_FEDERATED_PROVIDERS.contains(&provider) {
        return None;
    }
    Some(LinkedIdentity {
        provider: provider.to_string(),
        user_id: raw_id.to_string(),
        connection: None,
        username: None,
        email,
        primary: false,
    })
}

/// Digits only (no sign, no fraction), as the exports write them.
pub(crate) fn parse_millis(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Account {
    pub(crate) fn into_user(self, provenance: Provenance) -> User {
        let mut diagnostics = self.diagnostics;
        let mut attributes = Attributes::new();
        let mut metadata = self.metadata;
        if let Some(url) = self.photo_url {
            attributes.insert(PICTURE_ATTRIBUTE.to_string(), vec![url]);
        }
        let password_hash = password_hash(self.password_hash, self.salt, &mut diagnostics);
        match self.custom_attributes {
            Some(CustomAttributes::Value(v)) => {
                metadata.insert(CUSTOM_ATTRIBUTES_KEY.to_string(), v);
            }
            Some(CustomAttributes::Text(text)) => {
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(v) => {
                        metadata.insert(CUSTOM_ATTRIBUTES_KEY.to_string(), v);
                    }
                    Err(e) => {
                        diagnostics.push(Diagnostic::new(
                        codes::CUSTOM_ATTRIBUTES_INVALID,
                        format!(
                            "customAttributes is not valid JSON ({e}); kept as a raw string in attributes.{CUSTOM_ATTRIBUTES_KEY}"
                        ),
                    ));
                        attributes.insert(CUSTOM_ATTRIBUTES_KEY.to_string(), vec![text]);
                    }
                }
            }
            None => {}
        }
        let disabled = self.disabled.unwrap_or(false);
        User {
            source_id: self.local_id,
            username: None,
            email: self.email,
            email_verified: self.email_verified,
            first_name: None,
            last_name: None,
            display_name: self.display_name,
            phone: self.phone,
            enabled: !disabled,
            status: if disabled {
                STATUS_DISABLED
            } else {
                STATUS_ACTIVE
            }
            .to_string(),
            created_at: self.created_at,
            last_login_at: self.last_login_at,
            attributes,
            metadata,
            password_hash,
            identities: self.identities,
            roles: Vec::new(),
            groups: Vec::new(),
            diagnostics,
            provenance,
        }
    }
}

/// Decide whether the exported hash and salt make a usable Firebase-scrypt hash. Anything
/// unusable becomes "no hash" plus a diagnostic whose message never contains either value.
fn password_hash(
    hash: Option<String>,
    salt: Option<String>,
    diags: &mut Vec<Diagnostic>,
) -> Option<PasswordHash> {
    let hash = hash.filter(|h| !h.trim().is_empty());
    let salt = salt.filter(|s| !s.trim().is_empty());
    match (hash, salt) {
        (None, None) => None,
        (Some(h), _) if h.starts_with(EMULATOR_FAKE_HASH_PREFIX) => {
            diags.push(Diagnostic::new(
                codes::HASH_FAKE_EMULATOR,
                "the Auth emulator stores a placeholder instead of a password hash; the user has no usable password",
            ));
            None
        }
        (Some(h), _) if h.trim() == REDACTED_HASH => {
            diags.push(Diagnostic::new(
                codes::HASH_REDACTED,
                "password hash is redacted (base64 \"REDACTED\"): the export was made without permission to read hashes; treated as no password",
            ));
            None
        }
        (Some(_), None) => {
            diags.push(Diagnostic::new(
                codes::HASH_WITHOUT_SALT,
                "password hash without a salt cannot be verified; treated as no password",
            ));
            None
        }
        (None, Some(_)) => {
            diags.push(Diagnostic::new(
                codes::SALT_WITHOUT_HASH,
                "salt without a password hash; treated as no password",
            ));
            None
        }
        (Some(h), Some(s)) => {
            let (Some(hash), Some(salt)) = (standard_base64(&h), standard_base64(&s)) else {
                diags.push(Diagnostic::new(
                    codes::HASH_INVALID,
                    "password hash or salt is not base64; treated as no password",
                ));
                return None;
            };
            Some(PasswordHash::FirebaseScrypt {
                hash: Secret::new(hash),
                salt: Secret::new(salt),
            })
        }
    }
}

/// The value in padded standard base64, if it decodes. The raw API sends base64url (the CLI
/// converts `_`→`/` and `-`→`+`); both are accepted, padded or not.
fn standard_base64(value: &str) -> Option<String> {
    let mut s: String = value
        .trim()
        .chars()
        .map(|c| match c {
            '_' => '/',
            '-' => '+',
            c => c,
        })
        .collect();
    let padding = (4 - s.len() % 4) % 4;
    for _ in 0..padding {
        s.push('=');
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(&s).ok()?;
    (!decoded.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(hash: Option<&str>, salt: Option<&str>) -> (Option<PasswordHash>, Vec<String>) {
        let mut diags = Vec::new();
        let h = password_hash(hash.map(String::from), salt.map(String::from), &mut diags);
        (h, diags.into_iter().map(|d| d.code).collect())
    }

    #[test]
    fn usable_hash_is_kept_in_standard_base64() {
        let (h, d) = hash_of(Some("lSrfV15cpx95_sZS2W9c9A"), Some("42xEC-ixf3L2lw"));
        assert!(d.is_empty());
        match h {
            Some(PasswordHash::FirebaseScrypt { hash, salt }) => {
                assert_eq!(hash.expose(), "lSrfV15cpx95/sZS2W9c9A==");
                assert_eq!(salt.expose(), "42xEC+ixf3L2lw==");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unusable_hashes_become_diagnostics_without_the_value() {
        let fake = "fakeHash:salt=fakeSaltX:password=hunter2";
        let cases = [
            (Some(fake), Some("fakeSaltX"), codes::HASH_FAKE_EMULATOR),
            (Some(REDACTED_HASH), Some("c2FsdA=="), codes::HASH_REDACTED),
            (Some("aGFzaA=="), None, codes::HASH_WITHOUT_SALT),
            (None, Some("c2FsdA=="), codes::SALT_WITHOUT_HASH),
            (Some("not base64 !"), Some("c2FsdA=="), codes::HASH_INVALID),
        ];
        for (hash, salt, code) in cases {
            let mut diags = Vec::new();
            let h = password_hash(hash.map(String::from), salt.map(String::from), &mut diags);
            assert!(h.is_none(), "{code}");
            assert_eq!(diags.len(), 1);
            assert_eq!(diags[0].code, code);
            assert!(!diags[0].message.contains("hunter2"));
        }
        assert_eq!(hash_of(Some(""), Some("")), (None, vec![]));
    }

    #[test]
    fn invalid_custom_attributes_keep_the_raw_string() {
        let account = Account {
            local_id: "u1".into(),
            custom_attributes: Some(CustomAttributes::Text("{\"role\":".into())),
            ..Account::default()
        };
        let user = account.into_user(Provenance::default());
        assert_eq!(
            user.attributes[CUSTOM_ATTRIBUTES_KEY],
            vec!["{\"role\":".to_string()]
        );
        assert_eq!(user.diagnostics[0].code, codes::CUSTOM_ATTRIBUTES_INVALID);
        assert!(!user.metadata.contains_key(CUSTOM_ATTRIBUTES_KEY));
    }
}
