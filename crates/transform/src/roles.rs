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

/// Longest group name Keycloak stores (`KEYCLOAK_GROUP.NAME` is a 255-character column; a
/// longer name fails the group's creation with a server error).
pub const MAX_GROUP_NAME_CHARS: usize = 255;

/// Splits a path body (no leading `/`) at its unescaped `/`s: `a/b\/c` → `["a", "b\/c"]`.
fn escaped_segments(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_backslash = false;
    for (i, c) in body.char_indices() {
        if c == '/' && !prev_backslash {
            out.push(&body[start..i]);
            start = i + 1;
        }
        prev_backslash = c == '\\';
    }
    out.push(&body[start..]);
    out
}

/// Normalise a group path: leading `/`, no trailing `/`, every segment a group name Keycloak
/// can create. A `/` inside a name is written `\/` (as Keycloak 23+ does); an escaped
/// trailing `/` belongs to the last name and stays.
///
/// Refused: a path naming no group, empty segments (`/a//b`), `.` and `..` segments (group
/// paths are not file paths: `/a/../a` would create a group literally named `..` under `/a`,
/// never "go up"), and names longer than [`MAX_GROUP_NAME_CHARS`].
pub fn normalize_group_path(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    let body = trimmed.strip_prefix('/').unwrap_or(trimmed);
    let body = match body.strip_suffix('/') {
        Some(rest) if !rest.ends_with('\\') => rest,
        _ => body,
    };
    if body.is_empty() {
        return Err(format!("group path `{raw}` names no group"));
    }
    for segment in escaped_segments(body) {
        let name = segment.replace("\\/", "/");
        if name.trim().is_empty() {
            return Err(format!("group path `{raw}` has an empty segment"));
        }
        if name == "." || name == ".." {
            return Err(format!(
                "group path `{raw}` has a `{name}` segment: group paths are not file paths, and Keycloak would create a group literally named `{name}`"
            ));
        }
        let chars = name.chars().count();
        if chars > MAX_GROUP_NAME_CHARS {
            return Err(format!(
                "group path `{raw}` has a group name of {chars} characters; Keycloak stores at most {MAX_GROUP_NAME_CHARS}"
            ));
        }
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

    #[test]
    fn group_paths_keycloak_would_not_create_are_refused() {
        for bad in ["//", "/a/../a", "/a/./b", "..", "/a/ /b", "/\\/..//"] {
            assert!(normalize_group_path(bad).is_err(), "{bad}");
        }
        let dots = normalize_group_path("/staff/../staff").unwrap_err();
        assert!(dots.contains("`..` segment"), "{dots}");
        let long = format!("/a/{}", "n".repeat(MAX_GROUP_NAME_CHARS + 1));
        assert!(normalize_group_path(&long).unwrap_err().contains("255"));
        let longest = format!("/a/{}", "n".repeat(MAX_GROUP_NAME_CHARS));
        assert_eq!(normalize_group_path(&longest).unwrap(), longest);
        // Dots inside a name are ordinary characters.
        assert_eq!(normalize_group_path("/v1.2/...x").unwrap(), "/v1.2/...x");
    }

    #[test]
    fn escaped_slashes_stay_part_of_the_name() {
        assert_eq!(normalize_group_path("/R\\/D/eng").unwrap(), "/R\\/D/eng");
        // `\/` at the end is a name ending in a slash, not a trailing separator.
        assert_eq!(normalize_group_path("/a\\/").unwrap(), "/a\\/");
        assert_eq!(normalize_group_path("/\\/").unwrap(), "/\\/");
        assert_eq!(normalize_group_path("a/b/").unwrap(), "/a/b");
    }
}
