//! Which password-hash provider ids a target Keycloak has, native and plugin.

use std::collections::BTreeSet;

/// Provider ids known to kc-migrate. Keycloak looks a credential's `algorithm` up by exactly
/// this id at login, so these strings must match the provider factories' `ID`s.
pub mod provider {
    /// Native PBKDF2 with HMAC-SHA1.
    pub const PBKDF2: &str = "pbkdf2";
    /// Native PBKDF2 with HMAC-SHA256.
    pub const PBKDF2_SHA256: &str = "pbkdf2-sha256";
    /// Native PBKDF2 with HMAC-SHA512.
    pub const PBKDF2_SHA512: &str = "pbkdf2-sha512";
    /// Native Argon2 (Keycloak 25 and later, non-FIPS).
    pub const ARGON2: &str = "argon2";
    /// leroyguillaume/keycloak-bcrypt plugin.
    pub const BCRYPT: &str = "bcrypt";
    /// keycloak-firebase-scrypt plugin (technis-hq / SmartMoveSystems and forks).
    pub const FIREBASE_SCRYPT: &str = "firebase-scrypt";
    /// jcschaff/keycloak-sha1 plugin: unsalted SHA-1, lowercase hex.
    pub const SHA1: &str = "sha1";

    /// The providers every supported Keycloak ships (argon2 from 25 on).
    pub const KEYCLOAK_NATIVE: [&str; 4] = [PBKDF2, PBKDF2_SHA256, PBKDF2_SHA512, ARGON2];
}

/// The password-hash provider ids the target Keycloak has (native + plugins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashCapabilities {
    ids: BTreeSet<String>,
}

impl HashCapabilities {
    /// Keycloak's native providers: pbkdf2, pbkdf2-sha256, pbkdf2-sha512, argon2.
    ///
    /// Keycloak 24 has no `argon2`; when the live server is reachable, build the set from its
    /// `serverinfo` with [`HashCapabilities::from_ids`] instead.
    pub fn keycloak_default() -> Self {
        Self::from_ids(provider::KEYCLOAK_NATIVE)
    }

    pub fn from_ids<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Self {
            ids: ids.into_iter().map(Into::into).collect(),
        }
    }

    /// Add a plugin id (bcrypt, firebase-scrypt, md5crypt, ...).
    pub fn with(mut self, id: impl Into<String>) -> Self {
        self.ids.insert(id.into());
        self
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// The ids in sorted order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_native_set_and_plugins_add() {
        let caps = HashCapabilities::keycloak_default();
        assert_eq!(
            caps.ids().collect::<Vec<_>>(),
            ["argon2", "pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"]
        );
        assert!(!caps.contains("bcrypt"));
        let caps = caps.with("bcrypt").with("bcrypt");
        assert!(caps.contains("bcrypt"));
        assert_eq!(caps.ids().count(), 5);
        let kc24 = HashCapabilities::from_ids(["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"]);
        assert!(!kc24.contains("argon2"));
        assert_ne!(kc24, HashCapabilities::keycloak_default());
    }
}
