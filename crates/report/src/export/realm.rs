//! What the `<realm>-realm.json` file of an export holds: the realm's roles, the clients that
//! carry client roles, and the group tree, built from the plan (or from the users written) and
//! serialised as a `RealmRepresentation` that uses only fields Keycloak knows.

use std::collections::{BTreeMap, BTreeSet};

use kcm_keycloak_types::{
    ClientRepresentation, GroupRepresentation, RoleRepresentation, RolesRepresentation,
    UserRepresentation,
};
use kcm_transform::PlanSummary;
use serde::Serialize;

use crate::groups::{self, GroupNode};

/// Clients Keycloak creates in every new realm, with their roles. Defining them in the realm
/// file would replace Keycloak's own (and break the admin console), so they are never
/// written: users may still hold their roles, which exist after the import.
pub const BUILTIN_CLIENTS: &[&str] = &[
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// Realm roles Keycloak sets up itself when the realm file does not define them (defining
/// them skips that setup, e.g. `offline_access` would no longer be a default role). The
/// realm's `default-roles-<realm>` role is treated the same way.
pub const BUILTIN_REALM_ROLES: &[&str] = &["offline_access", "uma_authorization"];

/// Prefix of the realm's default role (`default-roles-<realm in lower case>`).
const DEFAULT_ROLES_PREFIX: &str = "default-roles-";

/// Whether Keycloak creates this client in every realm (it is never written to a realm file).
pub fn is_builtin_client(client_id: &str) -> bool {
    BUILTIN_CLIENTS.contains(&client_id)
}

/// Whether Keycloak sets this realm role up itself in realm `realm` (it is never written to a
/// realm file).
pub fn is_builtin_realm_role(realm: &str, role: &str) -> bool {
    BUILTIN_REALM_ROLES.contains(&role)
        || role == format!("{DEFAULT_ROLES_PREFIX}{}", realm.to_lowercase())
}

/// Protocol of the clients created to hold client roles.
const ROLE_CLIENT_PROTOCOL: &str = "openid-connect";
/// Description of those clients, so administrators know where they came from.
const ROLE_CLIENT_DESCRIPTION: &str = "Holds client roles migrated by kc-migrate";

/// Realm settings carried into the realm file; `None` leaves Keycloak's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealmSettings {
    pub display_name: Option<String>,
    pub duplicate_emails_allowed: Option<bool>,
    pub login_with_email_allowed: Option<bool>,
    pub registration_email_as_username: Option<bool>,
    /// E.g. `hashAlgorithm(argon2) and length(8)`.
    pub password_policy: Option<String>,
}

/// The roles, clients and groups the realm file defines. The realm itself is always
/// `enabled: true`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealmContents {
    pub realm_roles: BTreeSet<String>,
    /// `clientId` → role names.
    pub client_roles: BTreeMap<String, BTreeSet<String>>,
    /// `clientId`s of clients to create (every key of `client_roles` is added on writing).
    pub clients: BTreeSet<String>,
    /// Group paths (`/parent/child`); parents are created too.
    pub groups: BTreeSet<String>,
    pub settings: RealmSettings,
}

impl RealmContents {
    /// The roles, clients and groups the plan grants.
    pub fn from_summary(summary: &PlanSummary) -> Self {
        Self {
            realm_roles: summary.realm_roles.keys().cloned().collect(),
            client_roles: summary
                .client_roles
                .iter()
                .map(|(client, roles)| (client.clone(), roles.keys().cloned().collect()))
                .collect(),
            clients: summary.client_roles.keys().cloned().collect(),
            groups: summary.groups.keys().cloned().collect(),
            settings: RealmSettings::default(),
        }
    }

    /// Adds what `user` refers to.
    pub(crate) fn add_user_references(&mut self, user: &UserRepresentation) {
        for role in user.realm_roles.iter().flatten() {
            if !self.realm_roles.contains(role) {
                self.realm_roles.insert(role.clone());
            }
        }
        for (client, roles) in user.client_roles.iter().flatten() {
            if !self.clients.contains(client) {
                self.clients.insert(client.clone());
            }
            let known = self.client_roles.entry(client.clone()).or_default();
            for role in roles {
                if !known.contains(role) {
                    known.insert(role.clone());
                }
            }
        }
        for group in user.groups.iter().flatten() {
            if !self.groups.contains(group) {
                self.groups.insert(group.clone());
            }
        }
    }

    /// Adds everything `other` defines (settings stay those of `self`).
    pub(crate) fn merge(&mut self, other: RealmContents) {
        self.realm_roles.extend(other.realm_roles);
        for (client, roles) in other.client_roles {
            self.client_roles.entry(client).or_default().extend(roles);
        }
        self.clients.extend(other.clients);
        self.groups.extend(other.groups);
    }

    /// The realm file's content.
    pub(crate) fn to_realm_file(&self, realm: &str) -> RealmFile {
        let realm_roles: Vec<RoleRepresentation> = self
            .realm_roles
            .iter()
            .filter(|r| !is_builtin_realm_role(realm, r))
            .map(|name| role(name))
            .collect();
        let mut client_ids: BTreeSet<&String> = self.clients.iter().collect();
        client_ids.extend(self.client_roles.keys());
        let client_ids: Vec<&String> = client_ids
            .into_iter()
            .filter(|c| !is_builtin_client(c))
            .collect();
        let client_roles: BTreeMap<String, Vec<RoleRepresentation>> = client_ids
            .iter()
            .filter_map(|c| {
                let roles = self.client_roles.get(*c)?;
                (!roles.is_empty()).then(|| ((*c).clone(), roles.iter().map(|r| role(r)).collect()))
            })
            .collect();
        let clients: Vec<ClientRepresentation> =
            client_ids.iter().map(|c| role_client(c)).collect();
        let tree = groups::build_tree(self.groups.iter().map(|g| (g.as_str(), 0)));
        let groups: Vec<GroupRepresentation> = tree.values().map(group).collect();
        let roles =
            (!realm_roles.is_empty() || !client_roles.is_empty()).then(|| RolesRepresentation {
                realm: (!realm_roles.is_empty()).then_some(realm_roles),
                client: (!client_roles.is_empty()).then_some(client_roles),
                application: None,
            });
        let s = &self.settings;
        RealmFile {
            realm: realm.to_string(),
            enabled: true,
            display_name: s.display_name.clone(),
            duplicate_emails_allowed: s.duplicate_emails_allowed,
            login_with_email_allowed: s.login_with_email_allowed,
            registration_email_as_username: s.registration_email_as_username,
            password_policy: s.password_policy.clone(),
            roles,
            clients,
            groups,
        }
    }
}

fn role(name: &str) -> RoleRepresentation {
    RoleRepresentation {
        name: Some(name.to_string()),
        ..RoleRepresentation::default()
    }
}

/// A client that exists only to hold client roles: no sign-in flow is enabled.
fn role_client(client_id: &str) -> ClientRepresentation {
    ClientRepresentation {
        client_id: Some(client_id.to_string()),
        description: Some(ROLE_CLIENT_DESCRIPTION.to_string()),
        enabled: Some(true),
        protocol: Some(ROLE_CLIENT_PROTOCOL.to_string()),
        public_client: Some(false),
        standard_flow_enabled: Some(false),
        direct_access_grants_enabled: Some(false),
        service_accounts_enabled: Some(false),
        ..ClientRepresentation::default()
    }
}

fn group(node: &GroupNode) -> GroupRepresentation {
    let children: Vec<GroupRepresentation> = node.children.values().map(group).collect();
    GroupRepresentation {
        name: Some(node.name.clone()),
        path: Some(node.path.clone()),
        sub_groups: (!children.is_empty()).then_some(children),
        ..GroupRepresentation::default()
    }
}

/// `RealmRepresentation`, limited to the fields an export sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RealmFile {
    pub realm: String,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_emails_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_with_email_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_email_as_username: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<RolesRepresentation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientRepresentation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupRepresentation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_left_to_keycloak() {
        let mut contents = RealmContents::default();
        contents.realm_roles.extend([
            "offline_access".to_string(),
            "default-roles-acme".to_string(),
            "staff".to_string(),
        ]);
        contents.client_roles.insert(
            "realm-management".to_string(),
            BTreeSet::from(["view-users".to_string()]),
        );
        contents
            .client_roles
            .insert("billing".to_string(), BTreeSet::from(["payer".to_string()]));
        let file = contents.to_realm_file("Acme");
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(
            json["roles"]["realm"],
            serde_json::json!([{"name": "staff"}])
        );
        assert_eq!(
            json["roles"]["client"],
            serde_json::json!({"billing": [{"name": "payer"}]})
        );
        let clients: Vec<&str> = json["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["clientId"].as_str().unwrap())
            .collect();
        assert_eq!(clients, vec!["billing"]);
    }

    #[test]
    fn nested_groups_carry_paths() {
        let contents = RealmContents {
            groups: BTreeSet::from(["/staff/eng".to_string(), "/R\\/D".to_string()]),
            ..RealmContents::default()
        };
        let json = serde_json::to_value(contents.to_realm_file("acme")).unwrap();
        assert_eq!(
            json["groups"],
            serde_json::json!([
                {"name": "R/D", "path": "/R\\/D"},
                {"name": "staff", "path": "/staff", "subGroups": [{"name": "eng", "path": "/staff/eng"}]}
            ])
        );
        assert_eq!(json.get("roles"), None);
        assert_eq!(json["enabled"], true);
    }
}
