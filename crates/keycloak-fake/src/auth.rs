//! Tokens and Admin API permissions (keycloak-target.md §1).
//!
//! Tokens are opaque random strings mapped to who they belong to and when they expire. An
//! expired or unknown token on the Admin API is a 401; a valid token without the needed
//! `realm-management` role is a 403 (§1 "Required admin roles").

use std::collections::HashMap;

use axum::http::HeaderMap;
use rand::RngCore;

use crate::error::ApiError;

/// Who a token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The master admin user (full `admin` role).
    Admin,
    /// A service account; `roles: None` is full admin.
    Service {
        realm: String,
        client_id: String,
        roles: Option<Vec<String>>,
    },
    /// An ordinary user of a realm (login check): no admin rights.
    User { realm: String, user_id: String },
}

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub subject: Subject,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub realm: String,
    pub client_id: String,
    pub subject: Subject,
    pub expires_at_ms: i64,
    pub session_started_ms: i64,
}

/// Issued tokens. Expired entries are purged as new ones are issued.
#[derive(Default)]
pub struct TokenStore {
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
}

/// 32 random bytes as hex: opaque like Keycloak's tokens are to a client.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TokenStore {
    pub fn issue_access(&mut self, subject: Subject, expires_at_ms: i64, now_ms: i64) -> String {
        self.purge(now_ms);
        let token = random_token();
        self.access.insert(
            token.clone(),
            AccessToken {
                subject,
                expires_at_ms,
            },
        );
        token
    }

    pub fn issue_refresh(&mut self, refresh: RefreshToken) -> String {
        let token = random_token();
        self.refresh.insert(token.clone(), refresh);
        token
    }

    pub fn access(&self, token: &str, now_ms: i64) -> Option<&AccessToken> {
        self.access.get(token).filter(|t| now_ms < t.expires_at_ms)
    }

    pub fn refresh(&self, token: &str) -> Option<&RefreshToken> {
        self.refresh.get(token)
    }

    fn purge(&mut self, now_ms: i64) {
        // Keep a grace period so "expired" (401) stays distinguishable from "unknown" in
        // logs of a long test; both answer 401.
        const GRACE_MS: i64 = 24 * 3600 * 1000;
        if self.access.len() > 10_000 {
            self.access
                .retain(|_, t| t.expires_at_ms + GRACE_MS > now_ms);
            self.refresh
                .retain(|_, t| t.expires_at_ms + GRACE_MS > now_ms);
        }
    }
}

/// The role an Admin API operation needs (§1 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any admin role (`GET /users/profile`, serverinfo).
    AnyAdmin,
    ViewUsers,
    ManageUsers,
    ViewRealm,
    ManageRealm,
    ViewClients,
    ManageClients,
    ManageIdentityProviders,
    ViewIdentityProviders,
    /// Master `create-realm` or `admin`.
    CreateRealm,
}

fn role_satisfies(role: &str, need: Need) -> bool {
    match need {
        Need::AnyAdmin => true,
        Need::ViewUsers => matches!(role, "view-users" | "query-users" | "manage-users"),
        Need::ManageUsers => role == "manage-users",
        Need::ViewRealm => matches!(role, "view-realm" | "manage-realm"),
        Need::ManageRealm => role == "manage-realm",
        Need::ViewClients => matches!(role, "view-clients" | "query-clients" | "manage-clients"),
        Need::ManageClients => role == "manage-clients",
        Need::ViewIdentityProviders => {
            matches!(
                role,
                "view-identity-providers" | "manage-identity-providers"
            )
        }
        Need::ManageIdentityProviders => role == "manage-identity-providers",
        Need::CreateRealm => matches!(role, "create-realm" | "admin"),
    }
}

/// Does `subject` hold `need` for `realm` (`None` = not realm-specific, e.g. realm creation)?
pub fn permits(subject: &Subject, realm: Option<&str>, need: Need) -> bool {
    match subject {
        Subject::Admin => true,
        Subject::User { .. } => false,
        Subject::Service {
            realm: home, roles, ..
        } => {
            let realm_ok = home == "master" || realm == Some(home.as_str());
            if need == Need::CreateRealm && home != "master" {
                return false;
            }
            realm_ok
                && match roles {
                    None => true,
                    Some(roles) => roles
                        .iter()
                        .any(|r| r == "realm-admin" || r == "admin" || role_satisfies(r, need)),
                }
        }
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Admin API authentication: a known, unexpired token or 401.
pub fn authenticate(
    store: &TokenStore,
    headers: &HeaderMap,
    now_ms: i64,
) -> Result<Subject, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    store
        .access(token, now_ms)
        .map(|t| t.subject.clone())
        .ok_or_else(ApiError::unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_service_accounts_get_only_their_roles() {
        let svc = Subject::Service {
            realm: "acme".into(),
            client_id: "loader".into(),
            roles: Some(vec!["manage-users".into()]),
        };
        assert!(permits(&svc, Some("acme"), Need::ManageUsers));
        assert!(permits(&svc, Some("acme"), Need::ViewUsers));
        assert!(!permits(&svc, Some("acme"), Need::ManageRealm));
        assert!(!permits(&svc, Some("other"), Need::ManageUsers));
        assert!(!permits(&svc, None, Need::CreateRealm));
        assert!(permits(&Subject::Admin, None, Need::CreateRealm));
    }

    #[test]
    fn expired_tokens_are_not_returned() {
        let mut store = TokenStore::default();
        let t = store.issue_access(Subject::Admin, 1_000, 0);
        assert!(store.access(&t, 999).is_some());
        assert!(store.access(&t, 1_000).is_none());
        assert!(store.access("unknown", 0).is_none());
    }
}
