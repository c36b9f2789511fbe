//! Source lifecycle status → Keycloak `enabled` flag and required actions, with per-source
//! defaults that a mapping file can override status by status.
//!
//! Defaults (documented in docs/mapping.md):
//! - Auth0: `active` enabled; `blocked` disabled.
//! - Okta: `ACTIVE` enabled; `STAGED` and `PROVISIONED` (never activated) enabled with
//!   UPDATE_PASSWORD, so the activation e-mail lets them set a first password (as is the
//!   transitional `ACTIVATING`);
//!   `RECOVERY` and `PASSWORD_EXPIRED` enabled with UPDATE_PASSWORD; `LOCKED_OUT` enabled
//!   (a lockout is a transient brute-force state, and Keycloak applies its own detection);
//!   `SUSPENDED` and `DEPROVISIONED` disabled.
//! - Firebase: `active` enabled; `disabled` disabled.
//!
//! A status that no rule names keeps the source's own `enabled` flag.

use std::collections::BTreeMap;

use kcm_model::{SourceKind, User};

/// Keycloak's required action that makes a user choose a new password.
pub const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";
/// Keycloak's required action that makes a user verify the e-mail address.
pub const VERIFY_EMAIL: &str = "VERIFY_EMAIL";

/// What one status means in Keycloak. `enabled: None` keeps the source flag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusRule {
    pub enabled: Option<bool>,
    pub required_actions: Vec<String>,
}

/// Status rules keyed by lower-cased status name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusTable {
    rules: BTreeMap<String, StatusRule>,
}

fn rule(enabled: bool, actions: &[&str]) -> StatusRule {
    StatusRule {
        enabled: Some(enabled),
        required_actions: actions.iter().map(|a| a.to_string()).collect(),
    }
}

impl StatusTable {
    /// The built-in rules for a source.
    pub fn defaults(kind: SourceKind) -> StatusTable {
        let entries: Vec<(&str, StatusRule)> = match kind {
            SourceKind::Auth0 => vec![("active", rule(true, &[])), ("blocked", rule(false, &[]))],
            SourceKind::Okta => vec![
                ("ACTIVE", rule(true, &[])),
                ("STAGED", rule(true, &[UPDATE_PASSWORD])),
                ("PROVISIONED", rule(true, &[UPDATE_PASSWORD])),
                ("ACTIVATING", rule(true, &[UPDATE_PASSWORD])),
                ("RECOVERY", rule(true, &[UPDATE_PASSWORD])),
                ("PASSWORD_EXPIRED", rule(true, &[UPDATE_PASSWORD])),
                ("LOCKED_OUT", rule(true, &[])),
                ("SUSPENDED", rule(false, &[])),
                ("DEPROVISIONED", rule(false, &[])),
            ],
            SourceKind::Firebase => {
                vec![("active", rule(true, &[])), ("disabled", rule(false, &[]))]
            }
        };
        StatusTable {
            rules: entries
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
        }
    }

    /// Apply an override: the fields it sets replace the default's.
    pub fn set(
        &mut self,
        status: &str,
        enabled: Option<bool>,
        required_actions: Option<Vec<String>>,
    ) {
        let entry = self.rules.entry(status.trim().to_lowercase()).or_default();
        if enabled.is_some() {
            entry.enabled = enabled;
        }
        if let Some(actions) = required_actions {
            entry.required_actions = actions;
        }
    }

    /// The rule for a status, if any names it.
    pub fn get(&self, status: &str) -> Option<&StatusRule> {
        self.rules.get(&status.trim().to_lowercase())
    }

    /// `enabled` and the status's required actions for `user`; `known` is false when no rule
    /// names the status.
    pub fn resolve(&self, user: &User) -> (bool, Vec<String>, bool) {
        match self.get(&user.status) {
            Some(rule) => (
                rule.enabled.unwrap_or(user.enabled),
                rule.required_actions.clone(),
                true,
            ),
            None => (user.enabled, Vec::new(), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_defaults_and_override() {
        let mut t = StatusTable::defaults(SourceKind::Okta);
        let user = |s: &str| User {
            status: s.into(),
            enabled: true,
            ..User::default()
        };
        assert_eq!(t.resolve(&user("SUSPENDED")), (false, vec![], true));
        assert_eq!(t.resolve(&user("RECOVERY")).1, vec![UPDATE_PASSWORD]);
        assert_eq!(t.resolve(&user("WEIRD")), (true, vec![], false));
        t.set("suspended", None, Some(vec!["VERIFY_EMAIL".into()]));
        assert_eq!(
            t.resolve(&user("SUSPENDED")),
            (false, vec!["VERIFY_EMAIL".to_string()], true)
        );
    }
}
