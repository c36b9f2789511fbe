//! Role and group memberships that arrive in their own files, and the index that joins them
//! to users as the users stream past.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Provenance, User};

/// Whether a membership grants a role or puts the user in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipKind {
    Role,
    Group,
}

/// How a membership row names its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "lowercase")]
pub enum MemberRef {
    /// The source user id (exact match).
    Id(String),
    /// An e-mail address (case-insensitive).
    Email(String),
    /// A login/username (case-insensitive).
    Login(String),
    /// Unknown which: matched against id, e-mail and username.
    Any(String),
}

/// "User X has role/group Y", from a roles or membership file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub kind: MembershipKind,
    /// Role or group name.
    pub name: String,
    pub member: MemberRef,
    pub provenance: Provenance,
}

/// Joins memberships to users. Memberships are added first (they come from small side
/// files); then each user is passed through [`MembershipIndex::attach`]. Memory grows with
/// the number of memberships, which must be remembered anyway.
#[derive(Debug, Default)]
pub struct MembershipIndex {
    entries: Vec<(Membership, bool)>,
    by_key: HashMap<String, Vec<usize>>,
}

fn key(prefix: &str, value: &str, fold: bool) -> String {
    let value = value.trim();
    if fold {
        format!("{prefix}:{}", value.to_lowercase())
    } else {
        format!("{prefix}:{value}")
    }
}

impl MembershipIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn add(&mut self, membership: Membership) {
        let idx = self.entries.len();
        let keys = match &membership.member {
            MemberRef::Id(v) => vec![key("id", v, false)],
            MemberRef::Email(v) => vec![key("mail", v, true)],
            MemberRef::Login(v) => vec![key("login", v, true)],
            MemberRef::Any(v) => vec![
                key("id", v, false),
                key("mail", v, true),
                key("login", v, true),
            ],
        };
        for k in keys {
            self.by_key.entry(k).or_default().push(idx);
        }
        self.entries.push((membership, false));
    }

    /// Add the roles and groups of every membership that names this user. Returns how many
    /// memberships matched.
    pub fn attach(&mut self, user: &mut User) -> usize {
        if self.entries.is_empty() {
            return 0;
        }
        let mut keys = vec![key("id", &user.source_id, false)];
        if let Some(email) = &user.email {
            keys.push(key("mail", email, true));
        }
        if let Some(username) = &user.username {
            keys.push(key("login", username, true));
        }
        let mut matched: Vec<usize> = keys
            .iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .copied()
            .collect();
        matched.sort_unstable();
        matched.dedup();
        for &i in &matched {
            let (m, used) = &mut self.entries[i];
            *used = true;
            let list = match m.kind {
                MembershipKind::Role => &mut user.roles,
                MembershipKind::Group => &mut user.groups,
            };
            if !list.iter().any(|n| n == &m.name) {
                list.push(m.name.clone());
            }
        }
        matched.len()
    }

    /// Memberships that matched no user, in input order.
    pub fn unmatched(&self) -> impl Iterator<Item = &Membership> {
        self.entries
            .iter()
            .filter(|(_, used)| !used)
            .map(|(m, _)| m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn membership(kind: MembershipKind, name: &str, member: MemberRef) -> Membership {
        Membership {
            kind,
            name: name.into(),
            member,
            provenance: Provenance::default(),
        }
    }

    #[test]
    fn attaches_by_id_email_and_login_once_each() {
        let mut index = MembershipIndex::new();
        index.add(membership(
            MembershipKind::Role,
            "admin",
            MemberRef::Id("auth0|1".into()),
        ));
        index.add(membership(
            MembershipKind::Group,
            "Eng",
            MemberRef::Email("ADA@example.com".into()),
        ));
        index.add(membership(
            MembershipKind::Group,
            "Eng",
            MemberRef::Any("ada".into()),
        ));
        index.add(membership(
            MembershipKind::Group,
            "Ops",
            MemberRef::Login("nobody".into()),
        ));
        let mut user = User {
            source_id: "auth0|1".into(),
            email: Some("ada@example.com".into()),
            username: Some("Ada".into()),
            ..User::default()
        };
        assert_eq!(index.attach(&mut user), 3);
        assert_eq!(user.roles, vec!["admin"]);
        assert_eq!(user.groups, vec!["Eng"]);
        let left: Vec<_> = index.unmatched().map(|m| m.name.as_str()).collect();
        assert_eq!(left, vec!["Ops"]);
    }
}
