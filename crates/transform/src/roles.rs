//! Source roles and groups → Keycloak realm roles, client roles and group paths.
//!
//! Source names are gathered from configurable places (`roles` = the user's role list built
//! by the source and membership files, `groups` likewise, or metadata paths such as
//! `app_metadata.roles` / `customAttributes.role`). Each name is matched against the rules
//! (exact name, case-insensitive, or a `*`/`?` glob); every matching rule grants its targets.
//! Rules with `when` test a condition on the user instead (Firebase boolean claims such as
//! `customAttributes.admin = true`). Names no rule matched are "unmapped": reported, and with
//! `unmapped = "create"` granted as a realm role / top-level group of the same name.

use std::collections::{BTreeMap, BTreeSet};

use kcm_model::User;

use crate::condition::{glob_match, is_glob, Condition};
use crate::fields::FieldPath;

/// Which side of the mapping a spec belongs to; decides what `unmapped = "create"` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipSide {
    Roles,
    Groups,
}

/// What happens to a source name no rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmapped {
    Drop,
    Create,
}

/// How a rule selects users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Exact source name, compared case-insensitively (stored lower-cased).
    Name(String),
    /// Glob over source names (stored lower-cased).
    Glob(String),
    /// A condition on the user.
    When(Condition),
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub matcher: Matcher,
    pub realm_roles: Vec<String>,
    pub client_roles: BTreeMap<String, Vec<String>>,
    /// Normalised group paths (`/a/b`).
    pub groups: Vec<String>,
}

/// A compiled `[roles]` or `[groups]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipSpec {
    pub side: MembershipSide,
    pub from: Vec<FieldPath>,
    pub rules: Vec<Rule>,
    pub unmapped: Unmapped,
    pub default_realm_roles: Vec<String>,
    pub default_client_roles: BTreeMap<String, Vec<String>>,
    pub default_groups: Vec<String>,
}

/// Everything granted to one user.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Grants {
    pub realm_roles: BTreeSet<String>,
    pub client_roles: BTreeMap<String, BTreeSet<String>>,
    pub groups: BTreeSet<String>,
    /// Source role names no rule matched.
    pub unmapped_roles: BTreeSet<String>,
    /// Source group names no rule matched.
    pub unmapped_groups: BTreeSet<String>,
}

impl Grants {
    fn add_rule(&mut self, rule: &Rule) {
        self.realm_roles.extend(rule.realm_roles.iter().cloned());
        for (client, roles) in &rule.client_roles {
            self.client_roles
                .entry(client.clone())
                .or_default()
                .extend(roles.iter().cloned());
        }
        self.groups.extend(rule.groups.iter().cloned());
    }
}

/// Normalise a group path: leading `/`, no trailing `/`, no empty segment.
pub fn normalize_group_path(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let body = trimmed.strip_prefix('/').unwrap_or(trimmed);
    let body = body.strip_suffix('/').unwrap_or(body);
    if body.is_empty() {
        return Err(format!("group path `{raw}` names no group"));
    }
    if body.split('/').any(|s| s.trim().is_empty()) {
        return Err(format!("group path `{raw}` has an empty segment"));
    }
    Ok(format!("/{body}"))
}

/// The path of a top-level group named `name`: a `/` inside the name is escaped as `\/`, as
/// Keycloak (23+) writes such paths.
pub fn top_level_group_path(name: &str) -> String {
    format!("/{}", name.trim().replace('/', "\\/"))
}

impl MembershipSpec {
    /// Source names for `user`, deduplicated in first-seen order.
    pub fn source_names(&self, user: &User) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut names = Vec::new();
        for path in &self.from {
            for v in path.values(user) {
                let v = v.trim().to_string();
                if !v.is_empty() && seen.insert(v.clone()) {
                    names.push(v);
                }
            }
        }
        names
    }

    /// Add this section's grants for `user` to `grants`.
    pub fn apply(&self, user: &User, grants: &mut Grants) {
        for name in self.source_names(user) {
            let folded = name.to_lowercase();
            let mut matched = false;
            for rule in &self.rules {
                let hit = match &rule.matcher {
                    Matcher::Name(n) => *n == folded,
                    Matcher::Glob(g) => glob_match(g, &folded),
                    Matcher::When(_) => false,
                };
                if hit {
                    matched = true;
                    grants.add_rule(rule);
                }
            }
            if !matched {
                match (self.side, self.unmapped) {
                    (MembershipSide::Roles, Unmapped::Create) => {
                        grants.realm_roles.insert(name.clone());
                    }
                    (MembershipSide::Groups, Unmapped::Create) => {
                        grants.groups.insert(top_level_group_path(&name));
                    }
                    (_, Unmapped::Drop) => {}
                }
                match self.side {
                    MembershipSide::Roles => grants.unmapped_roles.insert(name),
                    MembershipSide::Groups => grants.unmapped_groups.insert(name),
                };
            }
        }
        for rule in &self.rules {
            if let Matcher::When(cond) = &rule.matcher {
                if cond.matches(user) {
                    grants.add_rule(rule);
                }
            }
        }
        grants
            .realm_roles
            .extend(self.default_realm_roles.iter().cloned());
        for (client, roles) in &self.default_client_roles {
            grants
                .client_roles
                .entry(client.clone())
                .or_default()
                .extend(roles.iter().cloned());
        }
        grants.groups.extend(self.default_groups.iter().cloned());
    }
}

/// Build a name matcher from a rule's `source`.
pub fn name_matcher(source: &str) -> Matcher {
    let folded = source.trim().to_lowercase();
    if is_glob(&folded) {
        Matcher::Glob(folded)
    } else {
        Matcher::Name(folded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_paths() {
        assert_eq!(normalize_group_path("staff/eng/").unwrap(), "/staff/eng");
        assert_eq!(normalize_group_path("/a").unwrap(), "/a");
        assert!(normalize_group_path("/").is_err());
        assert!(normalize_group_path("/a//b").is_err());
        assert_eq!(top_level_group_path("R/D"), "/R\\/D");
    }
}
