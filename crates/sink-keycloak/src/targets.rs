//! The sink's input types: what the realm must contain before users load ([`LoadTargets`]) and
//! the users themselves ([`UserToLoad`]), plus Keycloak group-path handling.

use std::collections::{BTreeMap, BTreeSet};

use kcm_keycloak_types::{AttributeMap, UserRepresentation};
use serde::Serialize;

/// A realm or client role to create when missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleSpec {
    pub name: String,
    pub description: Option<String>,
    pub attributes: Option<AttributeMap>,
}

impl RoleSpec {
    pub fn named(name: impl Into<String>) -> Self {
        RoleSpec {
            name: name.into(),
            ..Default::default()
        }
    }
}

/// Everything the users refer to, created (or found) before the first user batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadTargets {
    pub realm_roles: Vec<RoleSpec>,
    /// `clientId`s the client roles live in (created as bearer-only role containers when missing).
    pub clients: Vec<String>,
    /// Client roles by `clientId`.
    pub client_roles: BTreeMap<String, Vec<RoleSpec>>,
    /// Group paths (`/a/b`; a `/` inside a name is written `\/`). Ancestors are implied.
    pub groups: Vec<String>,
    /// Identity providers named in users' federated identities (`apply` never creates them; see
    /// `create_identity_providers`).
    pub identity_provider_aliases: BTreeSet<String>,
    /// Custom user attribute names the users carry (checked against the user profile).
    pub attribute_names: BTreeSet<String>,
}

impl LoadTargets {
    /// Every client id needed: the listed ones plus those owning client roles.
    pub(crate) fn all_clients(&self) -> BTreeSet<String> {
        self.clients
            .iter()
            .chain(self.client_roles.keys())
            .filter(|c| !c.is_empty())
            .cloned()
            .collect()
    }

    /// Every group path to ensure, ancestors included, parents before children.
    pub(crate) fn all_group_paths(&self) -> Vec<GroupPath> {
        let mut all = BTreeSet::new();
        for raw in &self.groups {
            if let Some(path) = GroupPath::parse(raw) {
                for depth in 1..=path.segments.len() {
                    all.insert(GroupPath {
                        segments: path.segments[..depth].to_vec(),
                    });
                }
            }
        }
        let mut list: Vec<GroupPath> = all.into_iter().collect();
        list.sort_by(|a, b| {
            a.segments
                .len()
                .cmp(&b.segments.len())
                .then_with(|| a.segments.cmp(&b.segments))
        });
        list
    }
}

/// One planned user. `key` is stable across runs (the source id) and is what the journal
/// records; the representation may hold password hashes, so `Debug` omits it.
#[derive(Clone, PartialEq)]
pub struct UserToLoad {
    pub key: String,
    pub user: UserRepresentation,
}

impl UserToLoad {
    pub fn new(key: impl Into<String>, user: UserRepresentation) -> Self {
        UserToLoad {
            key: key.into(),
            user,
        }
    }

    /// The name partialImport reports this user under: the username, or the email when the
    /// username is absent (`UsersPartialImport.getName`, keycloak-target.md §2).
    pub fn import_name(&self) -> Option<&str> {
        self.user
            .username
            .as_deref()
            .filter(|u| !u.is_empty())
            .or_else(|| self.user.email.as_deref().filter(|e| !e.is_empty()))
    }
}

impl std::fmt::Debug for UserToLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserToLoad")
            .field("key", &self.key)
            .field("username", &self.user.username)
            .field(
                "credentials",
                &self.user.credentials.as_ref().map(|c| c.len()),
            )
            .finish_non_exhaustive()
    }
}

/// A group path split into unescaped names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct GroupPath {
    pub(crate) segments: Vec<String>,
}

impl GroupPath {
    /// Parses `/a/b`; `\/` is a slash inside a name (`KeycloakModelUtils.escapeSlashesInGroupPath`,
    /// §10). `None` for an empty path or an empty segment.
    pub(crate) fn parse(raw: &str) -> Option<GroupPath> {
        let raw = raw.strip_prefix('/').unwrap_or(raw);
        let mut segments = Vec::new();
        let mut current = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'/') => {
                    current.push('/');
                    chars.next();
                }
                '/' => segments.push(std::mem::take(&mut current)),
                c => current.push(c),
            }
        }
        segments.push(current);
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        Some(GroupPath { segments })
    }

    pub(crate) fn name(&self) -> &str {
        self.segments.last().map(String::as_str).unwrap_or_default()
    }

    pub(crate) fn parent(&self) -> Option<GroupPath> {
        (self.segments.len() > 1).then(|| GroupPath {
            segments: self.segments[..self.segments.len() - 1].to_vec(),
        })
    }

    /// The canonical text form (`/a/b`, slashes in names escaped).
    pub(crate) fn render(&self) -> String {
        self.segments
            .iter()
            .map(|s| format!("/{}", s.replace('/', "\\/")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcm_keycloak_types::CredentialRepresentation;

    #[test]
    fn group_paths_parse_with_escaped_slashes() {
        let p = GroupPath::parse("/eng/back\\/end").unwrap();
        assert_eq!(p.segments, vec!["eng", "back/end"]);
        assert_eq!(p.render(), "/eng/back\\/end");
        assert_eq!(p.parent().unwrap().render(), "/eng");
        assert_eq!(p.name(), "back/end");
        assert!(GroupPath::parse("/").is_none());
        assert!(GroupPath::parse("/a//b").is_none());
        assert_eq!(GroupPath::parse("top").unwrap().render(), "/top");
    }

    #[test]
    fn group_targets_include_ancestors_parents_first() {
        let t = LoadTargets {
            groups: vec!["/a/b/c".into(), "/z".into(), "/a/x".into()],
            ..Default::default()
        };
        let order: Vec<String> = t.all_group_paths().iter().map(GroupPath::render).collect();
        assert_eq!(order, vec!["/a", "/z", "/a/b", "/a/x", "/a/b/c"]);
    }

    #[test]
    fn clients_include_role_owners() {
        let mut t = LoadTargets {
            clients: vec!["app".into()],
            ..Default::default()
        };
        t.client_roles
            .insert("api".into(), vec![RoleSpec::named("read")]);
        assert_eq!(
            t.all_clients(),
            BTreeSet::from(["api".to_string(), "app".to_string()])
        );
    }

    #[test]
    fn debug_omits_credentials_and_import_name_falls_back_to_email() {
        let user = UserRepresentation {
            email: Some("ada@example.com".into()),
            credentials: Some(vec![CredentialRepresentation {
                secret_data: Some("{\"value\":\"hash-canary-77\"}".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let u = UserToLoad::new("src-1", user);
        let text = format!("{u:?}");
        assert!(!text.contains("hash-canary-77"), "{text}");
        assert!(text.contains("src-1"));
        assert_eq!(u.import_name(), Some("ada@example.com"));
    }
}
