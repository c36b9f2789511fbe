//! The shared intermediate model of kc-migrate.
//!
//! Every source adapter turns its provider's export into the record kinds defined here, and
//! every later stage (transform, reports, sinks) reads only these types. The crate is plain
//! data plus invariants: no I/O, no parsing of provider formats.
//!
//! Record kinds travel separately ([`SourceItem`]) so that a roles file or a membership file
//! can be streamed alongside the users file; [`MembershipIndex`] joins them.
//!
//! Secrets: password hashes and salts live in [`Secret`] values whose `Debug`, `Display` and
//! `Serialize` never show the bytes. Code that really needs them calls [`Secret::expose`].

mod error;
mod hash;
mod membership;
mod secret;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use error::{Reason, RecordError};
pub use hash::{DigestAlgorithm, PasswordHash, SaltPosition};
pub use membership::{MemberRef, Membership, MembershipIndex, MembershipKind};
pub use secret::Secret;

/// Which identity provider a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Auth0,
    Okta,
    Firebase,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Auth0 => "auth0",
            SourceKind::Okta => "okta",
            SourceKind::Firebase => "firebase",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record came from: the file, the 1-based line its text starts on, and its 1-based
/// position among the records of that file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub file: Arc<str>,
    pub line: u64,
    pub record: u64,
}

impl Provenance {
    pub fn new(file: Arc<str>, line: u64, record: u64) -> Self {
        Self { file, line, record }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} (record {})", self.file, self.line, self.record)
    }
}

/// A non-fatal observation about a record that was kept (e.g. a redacted hash treated as none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Stable machine-readable code, e.g. `hash_redacted`.
    pub code: String,
    pub message: String,
}

impl Diagnostic {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// An identity from another provider linked to a user (Auth0 secondary identity, Firebase
/// `providerUserInfo` entry, ...). Becomes a Keycloak `federatedIdentities` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    /// The source's provider name, e.g. `google-oauth2`, `google.com`, `samlp`.
    pub provider: String,
    /// The user's id at that provider, always as a string (Auth0 sometimes sends numbers).
    pub user_id: String,
    /// The source connection name where the source has one (Auth0 `connection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether this is the user's primary identity at the source (Auth0 `identities[0]`).
    #[serde(default)]
    pub primary: bool,
}

/// Multi-valued string attributes, sorted by name so output is deterministic.
pub type Attributes = BTreeMap<String, Vec<String>>;

/// A user as read from a source, before any mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct User {
    /// The source's own id (`auth0|abc`, Okta `00u…`, Firebase `localId`).
    pub source_id: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    /// Whether the source lets this user sign in.
    pub enabled: bool,
    /// The source's lifecycle status, normalised to the source's API vocabulary:
    /// Auth0 `active`/`blocked`; Okta `ACTIVE`, `SUSPENDED`, ... (console labels translated);
    /// Firebase `active`/`disabled`.
    pub status: String,
    /// Milliseconds since the Unix epoch (UTC).
    pub created_at: Option<i64>,
    /// Milliseconds since the Unix epoch (UTC).
    pub last_login_at: Option<i64>,
    /// Flat source attributes (extra CSV columns, scalar profile fields).
    pub attributes: Attributes,
    /// Nested source data kept for mapping by path: Auth0 `app_metadata`/`user_metadata`,
    /// Okta `profile`, Firebase `customAttributes` (parsed), ... Keys are source field names.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub password_hash: Option<PasswordHash>,
    pub identities: Vec<LinkedIdentity>,
    /// Source role names (from a roles file, `app_metadata`, custom claims, ...).
    pub roles: Vec<String>,
    /// Source group names.
    pub groups: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub provenance: Provenance,
}

impl Default for Provenance {
    fn default() -> Self {
        Self {
            file: Arc::from(""),
            line: 0,
            record: 0,
        }
    }
}

impl User {
    /// True when the user signs in only through linked (social/enterprise) identities:
    /// it has linked identities, none of which is a database/password identity, and no hash.
    pub fn is_social_only(&self) -> bool {
        self.password_hash.is_none()
            && !self.identities.is_empty()
            && self
                .identities
                .iter()
                .all(|i| !is_password_provider(&i.provider))
    }

    /// Resolve a dotted path against the user's metadata (`app_metadata.roles`).
    pub fn metadata_path(&self, path: &str) -> Option<&serde_json::Value> {
        self.metadata_at(path.split('.'))
    }

    /// [`User::metadata_path`] with the path already split at its dots.
    pub fn metadata_at<'p>(
        &self,
        mut parts: impl Iterator<Item = &'p str>,
    ) -> Option<&serde_json::Value> {
        let first = parts.next()?;
        let mut cur = self.metadata.get(first)?;
        for part in parts {
            cur = match cur {
                serde_json::Value::Object(map) => map.get(part)?,
                serde_json::Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// Provider names that denote a username/password identity rather than a federated one.
pub fn is_password_provider(provider: &str) -> bool {
    matches!(provider, "auth0" | "password" | "okta" | "email")
}

/// A role defined at the source (Auth0 RBAC role, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// Source id where the source has one (`rol_…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub provenance: Provenance,
}

/// A group defined at the source, with its parent for nesting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    pub name: String,
    /// Name of the parent group, if nested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub provenance: Provenance,
}

/// One item produced by a source. Every input record ends as exactly one item, or as one
/// [`RecordError`]; auxiliary rows merged into a user (password-hash export lines) are
/// reported as [`SourceItem::Merged`] so counts add up.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceItem {
    User(Box<User>),
    Role(Role),
    Group(Group),
    Membership(Membership),
    /// A secondary record (e.g. a password-hash export row) that was merged into a user.
    Merged {
        /// What kind of secondary record it was, e.g. `password_hash`.
        what: String,
        /// The user it was merged into.
        into: String,
        provenance: Provenance,
    },
}

impl SourceItem {
    pub fn provenance(&self) -> &Provenance {
        match self {
            SourceItem::User(u) => &u.provenance,
            SourceItem::Role(r) => &r.provenance,
            SourceItem::Group(g) => &g.provenance,
            SourceItem::Membership(m) => &m.provenance,
            SourceItem::Merged { provenance, .. } => provenance,
        }
    }
}

/// What a source stream yields.
pub type SourceResult = Result<SourceItem, RecordError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_path_walks_objects_and_arrays() {
        let mut user = User::default();
        user.metadata.insert(
            "app_metadata".into(),
            serde_json::json!({"authorization": {"roles": ["a", "b"]}}),
        );
        assert_eq!(
            user.metadata_path("app_metadata.authorization.roles.1"),
            Some(&serde_json::json!("b"))
        );
        assert_eq!(user.metadata_path("app_metadata.missing"), None);
    }

    #[test]
    fn social_only_requires_identities_and_no_password_identity() {
        let mut user = User::default();
        assert!(!user.is_social_only());
        user.identities.push(LinkedIdentity {
            provider: "google-oauth2".into(),
            user_id: "1".into(),
            connection: None,
            username: None,
            email: None,
            primary: true,
        });
        assert!(user.is_social_only());
        user.identities[0].provider = "auth0".into();
        assert!(!user.is_social_only());
    }
}
