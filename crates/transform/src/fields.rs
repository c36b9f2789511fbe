//! Source field paths: how a mapping file names a piece of a source user (`email`,
//! `attributes.department`, `app_metadata.plan`, `email_domain`, ...) and how such a path is
//! read from a [`kcm_model::User`] as a list of string values.
//!
//! Every path resolves to zero or more strings so that single-valued fields, multi-valued
//! attributes and JSON arrays in metadata are handled by one rule: conditions match when any
//! value matches, templates use the first value, attribute mappings keep them all.

use std::fmt;

use kcm_model::User;
use serde_json::Value;

/// A parsed source path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldPath {
    SourceId,
    Username,
    Email,
    /// The part of the e-mail after the last `@`, lower-cased.
    EmailDomain,
    EmailVerified,
    FirstName,
    LastName,
    DisplayName,
    Phone,
    Status,
    Enabled,
    CreatedAt,
    LastLoginAt,
    /// The primary identity's connection (Auth0), else its provider.
    Connection,
    /// The primary identity's provider.
    Provider,
    /// Every linked identity's provider.
    Providers,
    Roles,
    Groups,
    /// `true` when the user has a password hash.
    HasPassword,
    /// `true` when the user signs in only through linked identities.
    SocialOnly,
    /// The password hash algorithm name (`bcrypt`, `firebase-scrypt`, ...).
    PasswordAlgorithm,
    /// `attributes.<name>`: a flat source attribute.
    Attribute(String),
    /// A dotted path into the user's metadata (`app_metadata.roles`, `profile.department`).
    Metadata(MetadataPath),
}

/// A dotted metadata path, split at its dots once, when the mapping is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataPath {
    text: String,
    parts: Vec<String>,
}

impl MetadataPath {
    fn new(text: &str) -> Self {
        MetadataPath {
            text: text.to_string(),
            parts: text.split('.').map(str::to_string).collect(),
        }
    }

    /// The path as written (`app_metadata.roles`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Why a path string is not a valid path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid field path `{path}`: {why}")]
pub struct PathError {
    pub path: String,
    pub why: &'static str,
}

impl FieldPath {
    /// Parse a path as written in a mapping file.
    pub fn parse(raw: &str) -> Result<FieldPath, PathError> {
        let path = raw.trim();
        let bad = |why| PathError {
            path: raw.to_string(),
            why,
        };
        if path.is_empty() {
            return Err(bad("empty path"));
        }
        if path.split('.').any(str::is_empty) {
            return Err(bad("empty path segment"));
        }
        if path
            .chars()
            .any(|c| c.is_whitespace() || c == '{' || c == '}')
        {
            return Err(bad("paths contain no spaces or braces"));
        }
        Ok(match path {
            "source_id" | "id" => FieldPath::SourceId,
            "username" | "login" => FieldPath::Username,
            "email" => FieldPath::Email,
            "email_domain" => FieldPath::EmailDomain,
            "email_verified" => FieldPath::EmailVerified,
            "first_name" => FieldPath::FirstName,
            "last_name" => FieldPath::LastName,
            "display_name" => FieldPath::DisplayName,
            "phone" => FieldPath::Phone,
            "status" => FieldPath::Status,
            "enabled" => FieldPath::Enabled,
            "created_at" => FieldPath::CreatedAt,
            "last_login_at" => FieldPath::LastLoginAt,
            "connection" => FieldPath::Connection,
            "provider" => FieldPath::Provider,
            "providers" => FieldPath::Providers,
            "roles" => FieldPath::Roles,
            "groups" => FieldPath::Groups,
            "has_password" => FieldPath::HasPassword,
            "social_only" => FieldPath::SocialOnly,
            "password_algorithm" => FieldPath::PasswordAlgorithm,
            "attributes" | "metadata" => return Err(bad("name a field inside it")),
            other => {
                if let Some(name) = other.strip_prefix("attributes.") {
                    FieldPath::Attribute(name.to_string())
                } else if let Some(rest) = other.strip_prefix("metadata.") {
                    FieldPath::Metadata(MetadataPath::new(rest))
                } else {
                    FieldPath::Metadata(MetadataPath::new(other))
                }
            }
        })
    }

    /// Every value of this field for `user`, in source order. Empty strings and JSON nulls
    /// count as absent.
    pub fn values(&self, user: &User) -> Vec<String> {
        let one = |v: Option<&String>| -> Vec<String> {
            v.filter(|s| !s.is_empty()).cloned().into_iter().collect()
        };
        let flag = |b: bool| vec![b.to_string()];
        match self {
            FieldPath::SourceId => one(Some(&user.source_id)),
            FieldPath::Username => one(user.username.as_ref()),
            FieldPath::Email => one(user.email.as_ref()),
            FieldPath::EmailDomain => user
                .email
                .as_deref()
                .and_then(|e| e.trim().rsplit_once('@'))
                .map(|(_, d)| d.to_lowercase())
                .filter(|d| !d.is_empty())
                .into_iter()
                .collect(),
            FieldPath::EmailVerified => user
                .email_verified
                .map(|b| b.to_string())
                .into_iter()
                .collect(),
            FieldPath::FirstName => one(user.first_name.as_ref()),
            FieldPath::LastName => one(user.last_name.as_ref()),
            FieldPath::DisplayName => one(user.display_name.as_ref()),
            FieldPath::Phone => one(user.phone.as_ref()),
            FieldPath::Status => one(Some(&user.status)),
            FieldPath::Enabled => flag(user.enabled),
            FieldPath::CreatedAt => user.created_at.map(|t| t.to_string()).into_iter().collect(),
            FieldPath::LastLoginAt => user
                .last_login_at
                .map(|t| t.to_string())
                .into_iter()
                .collect(),
            FieldPath::Connection => primary_identity(user)
                .map(|i| i.connection.clone().unwrap_or_else(|| i.provider.clone()))
                .into_iter()
                .collect(),
            FieldPath::Provider => primary_identity(user)
                .map(|i| i.provider.clone())
                .into_iter()
                .collect(),
            FieldPath::Providers => user.identities.iter().map(|i| i.provider.clone()).collect(),
            FieldPath::Roles => user
                .roles
                .iter()
                .filter(|r| !r.is_empty())
                .cloned()
                .collect(),
            FieldPath::Groups => user
                .groups
                .iter()
                .filter(|g| !g.is_empty())
                .cloned()
                .collect(),
            FieldPath::HasPassword => flag(user.password_hash.is_some()),
            FieldPath::SocialOnly => flag(user.is_social_only()),
            FieldPath::PasswordAlgorithm => user
                .password_hash
                .as_ref()
                .map(|h| h.algorithm_name())
                .into_iter()
                .collect(),
            FieldPath::Attribute(name) => user
                .attributes
                .get(name)
                .map(|vs| vs.iter().filter(|v| !v.is_empty()).cloned().collect())
                .unwrap_or_default(),
            FieldPath::Metadata(path) => user
                .metadata_at(path.parts.iter().map(String::as_str))
                .map(json_strings)
                .unwrap_or_default(),
        }
    }

    /// The first value, if any.
    pub fn first(&self, user: &User) -> Option<String> {
        let text = |v: Option<&String>| v.filter(|s| !s.is_empty()).cloned();
        match self {
            // The common single-valued fields, without building the list of all values.
            FieldPath::SourceId => text(Some(&user.source_id)),
            FieldPath::Username => text(user.username.as_ref()),
            FieldPath::Email => text(user.email.as_ref()),
            FieldPath::FirstName => text(user.first_name.as_ref()),
            FieldPath::LastName => text(user.last_name.as_ref()),
            FieldPath::DisplayName => text(user.display_name.as_ref()),
            FieldPath::Phone => text(user.phone.as_ref()),
            FieldPath::Status => text(Some(&user.status)),
            FieldPath::Attribute(name) => text(
                user.attributes
                    .get(name)
                    .and_then(|vs| vs.iter().find(|v| !v.is_empty())),
            ),
            _ => self.values(user).into_iter().next(),
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            FieldPath::SourceId => "source_id",
            FieldPath::Username => "username",
            FieldPath::Email => "email",
            FieldPath::EmailDomain => "email_domain",
            FieldPath::EmailVerified => "email_verified",
            FieldPath::FirstName => "first_name",
            FieldPath::LastName => "last_name",
            FieldPath::DisplayName => "display_name",
            FieldPath::Phone => "phone",
            FieldPath::Status => "status",
            FieldPath::Enabled => "enabled",
            FieldPath::CreatedAt => "created_at",
            FieldPath::LastLoginAt => "last_login_at",
            FieldPath::Connection => "connection",
            FieldPath::Provider => "provider",
            FieldPath::Providers => "providers",
            FieldPath::Roles => "roles",
            FieldPath::Groups => "groups",
            FieldPath::HasPassword => "has_password",
            FieldPath::SocialOnly => "social_only",
            FieldPath::PasswordAlgorithm => "password_algorithm",
            FieldPath::Attribute(name) => return write!(f, "attributes.{name}"),
            FieldPath::Metadata(path) => path.as_str(),
        };
        f.write_str(s)
    }
}

/// The identity the user primarily signs in with: the one flagged primary, else the first.
pub(crate) fn primary_identity(user: &User) -> Option<&kcm_model::LinkedIdentity> {
    user.identities
        .iter()
        .find(|i| i.primary)
        .or_else(|| user.identities.first())
}

/// Flatten a JSON value into strings: scalars become one string, arrays contribute each
/// element, objects (and arrays nested in arrays) are kept as compact JSON text.
pub(crate) fn json_strings(value: &Value) -> Vec<String> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(_) | Value::Object(_) => Some(v.to_string()),
        }
    }
    match value {
        Value::Array(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcm_model::LinkedIdentity;
    use serde_json::json;

    fn user() -> User {
        let mut u = User {
            source_id: "auth0|1".into(),
            email: Some("Ada@Example.COM".into()),
            status: "active".into(),
            ..User::default()
        };
        u.attributes
            .insert("dept".into(), vec!["eng".into(), "".into()]);
        u.metadata.insert(
            "app_metadata".into(),
            json!({"roles": ["a", "b", null], "plan": "gold", "n": 3, "o": {"x": 1}}),
        );
        u.identities.push(LinkedIdentity {
            provider: "samlp".into(),
            user_id: "x".into(),
            connection: Some("corp".into()),
            username: None,
            email: None,
            primary: true,
        });
        u
    }

    #[test]
    fn resolves_model_fields_attributes_and_metadata() {
        let u = user();
        let get = |p: &str| FieldPath::parse(p).unwrap().values(&u);
        assert_eq!(get("email_domain"), vec!["example.com"]);
        assert_eq!(get("attributes.dept"), vec!["eng"]);
        assert_eq!(get("app_metadata.roles"), vec!["a", "b"]);
        assert_eq!(get("metadata.app_metadata.plan"), vec!["gold"]);
        assert_eq!(get("app_metadata.n"), vec!["3"]);
        assert_eq!(get("app_metadata.o"), vec![r#"{"x":1}"#]);
        assert_eq!(get("connection"), vec!["corp"]);
        assert_eq!(get("provider"), vec!["samlp"]);
        assert_eq!(get("has_password"), vec!["false"]);
        assert!(get("app_metadata.missing").is_empty());
    }

    #[test]
    fn rejects_malformed_paths() {
        for p in ["", "a..b", "attributes", "{x}", "a b"] {
            assert!(FieldPath::parse(p).is_err(), "{p}");
        }
        assert_eq!(
            FieldPath::parse("attributes.x").unwrap().to_string(),
            "attributes.x"
        );
    }
}
