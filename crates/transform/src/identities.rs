//! Linked identities → Keycloak `federatedIdentities`: the source provider (or Auth0
//! connection) name is mapped to a Keycloak identity-provider alias.
//!
//! Password identities (`auth0`, `password`, `email`, `okta`) and passwordless channels
//! (`sms`, `phone`) are not federated identities and are skipped without comment. Keycloak
//! allows one link per identity provider and user, so a second identity mapping to the same
//! alias is dropped with a diagnostic.

use std::collections::{BTreeMap, BTreeSet};

use kcm_keycloak_types::FederatedIdentityRepresentation;
use kcm_model::{is_password_provider, Diagnostic, LinkedIdentity};

/// Built-in provider → alias pairs (Auth0 names, then Firebase names).
pub const DEFAULT_ALIASES: [(&str, &str); 14] = [
    ("google-oauth2", "google"),
    ("google.com", "google"),
    ("github", "github"),
    ("github.com", "github"),
    ("facebook", "facebook"),
    ("facebook.com", "facebook"),
    ("apple", "apple"),
    ("apple.com", "apple"),
    ("windowslive", "microsoft"),
    ("microsoft.com", "microsoft"),
    ("twitter", "twitter"),
    ("twitter.com", "twitter"),
    ("linkedin", "linkedin"),
    ("linkedin.com", "linkedin"),
];

/// Sign-in channels that are neither passwords nor federation.
const NON_FEDERATED: [&str; 3] = ["sms", "phone", "anonymous"];

/// What to do with a provider no alias names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownProvider {
    /// Drop the link, with a diagnostic.
    Drop,
    /// Keep it under its own name (connection name where the source has one).
    Keep,
}

/// The compiled `[identities]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentitySpec {
    pub aliases: BTreeMap<String, String>,
    pub ignore: BTreeSet<String>,
    pub unknown: UnknownProvider,
}

impl Default for IdentitySpec {
    fn default() -> Self {
        Self {
            aliases: DEFAULT_ALIASES
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ignore: BTreeSet::new(),
            unknown: UnknownProvider::Drop,
        }
    }
}

/// The result of mapping one user's identities.
#[derive(Debug, Default)]
pub struct MappedIdentities {
    pub links: Vec<FederatedIdentityRepresentation>,
    /// Providers whose links were dropped (unknown or ignored), for the summary.
    pub dropped: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl IdentitySpec {
    fn alias_for(&self, identity: &LinkedIdentity) -> Option<String> {
        // A connection name is the more specific key (Auth0 enterprise connections all share
        // a provider such as `samlp`), so it is tried first.
        identity
            .connection
            .as_deref()
            .and_then(|c| self.aliases.get(c))
            .or_else(|| self.aliases.get(&identity.provider))
            .cloned()
    }

    fn ignored(&self, identity: &LinkedIdentity) -> bool {
        self.ignore.contains(&identity.provider)
            || identity
                .connection
                .as_ref()
                .is_some_and(|c| self.ignore.contains(c))
    }

    /// Map a user's identities.
    pub fn map(&self, identities: &[LinkedIdentity]) -> MappedIdentities {
        let mut out = MappedIdentities::default();
        for identity in identities {
            if is_password_provider(&identity.provider)
                || NON_FEDERATED.contains(&identity.provider.as_str())
            {
                continue;
            }
            if self.ignored(identity) {
                out.dropped.push(identity.provider.clone());
                continue;
            }
            let alias = match (self.alias_for(identity), self.unknown) {
                (Some(alias), _) => alias,
                (None, UnknownProvider::Keep) => identity
                    .connection
                    .clone()
                    .unwrap_or_else(|| identity.provider.clone()),
                (None, UnknownProvider::Drop) => {
                    out.diagnostics.push(Diagnostic::new(
                        "identity_unmapped",
                        format!(
                            "linked identity from provider `{}` dropped: no identity-provider alias is mapped for it",
                            identity.provider
                        ),
                    ));
                    out.dropped.push(identity.provider.clone());
                    continue;
                }
            };
            if identity.user_id.trim().is_empty() {
                out.diagnostics.push(Diagnostic::new(
                    "identity_without_id",
                    format!(
                        "linked identity from provider `{}` has no user id; dropped",
                        identity.provider
                    ),
                ));
                out.dropped.push(identity.provider.clone());
                continue;
            }
            if out
                .links
                .iter()
                .any(|l| l.identity_provider.as_deref() == Some(alias.as_str()))
            {
                out.diagnostics.push(Diagnostic::new(
                    "identity_duplicate_alias",
                    format!(
                        "a second linked identity maps to identity provider `{alias}`; Keycloak allows one per user, kept the first"
                    ),
                ));
                out.dropped.push(identity.provider.clone());
                continue;
            }
            out.links.push(FederatedIdentityRepresentation {
                identity_provider: Some(alias),
                user_id: Some(identity.user_id.clone()),
                user_name: identity.username.clone().or_else(|| identity.email.clone()),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(provider: &str, connection: Option<&str>, uid: &str) -> LinkedIdentity {
        LinkedIdentity {
            provider: provider.into(),
            user_id: uid.into(),
            connection: connection.map(Into::into),
            username: None,
            email: Some("a@b.c".into()),
            primary: false,
        }
    }

    #[test]
    fn maps_defaults_skips_passwords_and_drops_unknown() {
        let spec = IdentitySpec::default();
        let m = spec.map(&[
            id("auth0", Some("Username-Password-Authentication"), "1"),
            id("google-oauth2", Some("google-oauth2"), "g1"),
            id("samlp", Some("corp"), "s1"),
            id("google.com", None, "g2"),
        ]);
        assert_eq!(m.links.len(), 1);
        assert_eq!(m.links[0].identity_provider.as_deref(), Some("google"));
        assert_eq!(m.links[0].user_name.as_deref(), Some("a@b.c"));
        assert_eq!(m.dropped, vec!["samlp", "google.com"]);
        let codes: Vec<_> = m.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec!["identity_unmapped", "identity_duplicate_alias"]);
    }

    #[test]
    fn connection_alias_and_keep_policy() {
        let mut spec = IdentitySpec::default();
        spec.aliases.insert("corp".into(), "corp-saml".into());
        spec.unknown = UnknownProvider::Keep;
        let m = spec.map(&[
            id("samlp", Some("corp"), "s1"),
            id("oidc", Some("partner"), "p1"),
        ]);
        let aliases: Vec<_> = m
            .links
            .iter()
            .filter_map(|l| l.identity_provider.clone())
            .collect();
        assert_eq!(aliases, vec!["corp-saml", "partner"]);
    }
}
