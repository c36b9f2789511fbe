//! Stored state → the representations the Admin API returns (`ModelToRepresentation`).
//!
//! Reads apply the user profile (unmanaged attributes hidden unless the policy is set,
//! keycloak-target.md §6) and never include credentials; the test-side helpers use
//! [`user_full`], which shows everything that is stored.

use std::collections::BTreeMap;

use kcm_keycloak_types::{
    ClientRepresentation, CredentialRepresentation, GroupRepresentation, RoleRepresentation,
    UserRepresentation,
};
use serde_json::{json, Value};

use crate::model::{Client, Credential, Group, Realm, Role, User};
use crate::profile;

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `GET /users`, `GET /users/{id}`: profile-filtered, without credentials.
pub fn user_rep(realm: &Realm, user: &User, brief: bool) -> Value {
    let mut rep = UserRepresentation {
        id: Some(user.id.clone()),
        username: Some(user.username.clone()),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        email_verified: Some(user.email_verified),
        enabled: Some(user.enabled),
        created_timestamp: user.created_timestamp,
        federation_link: user.federation_link.clone(),
        service_account_client_id: user.service_account_client_id.clone(),
        ..Default::default()
    };
    if !brief {
        let attributes = profile::readable_attributes(&realm.profile, &user.attributes);
        if !attributes.is_empty() {
            rep.attributes = Some(attributes);
        }
        rep.totp = Some(false);
        rep.disableable_credential_types = Some(Vec::new());
        rep.required_actions = Some(user.required_actions.clone());
        rep.not_before = Some(user.not_before.unwrap_or(0));
        rep.access = Some(json!({
            "manageGroupMembership": true, "view": true, "mapRoles": true, "impersonate": true, "manage": true
        }));
    }
    to_value(&rep)
}

/// Credential as `GET /users/{id}/credentials` returns it: `secretData` removed
/// (`UserResource.credentials`: `peek(c -> c.setSecretData(null))`).
pub fn credential_rep(credential: &Credential) -> Value {
    to_value(&CredentialRepresentation {
        id: Some(credential.id.clone()),
        type_: Some(credential.type_.clone()),
        user_label: credential.user_label.clone(),
        created_date: credential.created_date,
        credential_data: Some(credential.credential_data.clone()),
        ..Default::default()
    })
}

/// Everything stored about a user, for test assertions: all attributes (also hidden ones),
/// credentials with `secretData`, role names, group paths.
pub fn user_full(realm: &Realm, user: &User) -> UserRepresentation {
    let realm_roles: Vec<String> = user
        .realm_roles
        .iter()
        .filter_map(|id| realm.role_by_id(id))
        .map(|r| r.name.clone())
        .collect();
    let mut client_roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (client_id, ids) in &user.client_roles {
        if let Some(client) = realm.clients.get(client_id) {
            let names: Vec<String> = ids
                .iter()
                .filter_map(|id| client.roles.values().find(|r| r.id == *id))
                .map(|r| r.name.clone())
                .collect();
            if !names.is_empty() {
                client_roles.insert(client.client_id.clone(), names);
            }
        }
    }
    UserRepresentation {
        id: Some(user.id.clone()),
        username: Some(user.username.clone()),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        email_verified: Some(user.email_verified),
        enabled: Some(user.enabled),
        created_timestamp: user.created_timestamp,
        attributes: Some(user.attributes.clone()),
        federation_link: user.federation_link.clone(),
        service_account_client_id: user.service_account_client_id.clone(),
        credentials: Some(
            user.credentials
                .iter()
                .map(|c| CredentialRepresentation {
                    id: Some(c.id.clone()),
                    type_: Some(c.type_.clone()),
                    user_label: c.user_label.clone(),
                    created_date: c.created_date,
                    secret_data: Some(c.secret_data.clone()),
                    credential_data: Some(c.credential_data.clone()),
                    priority: c.priority,
                    ..Default::default()
                })
                .collect(),
        ),
        required_actions: Some(user.required_actions.clone()),
        federated_identities: Some(user.federated_identities.clone()),
        realm_roles: Some(realm_roles),
        client_roles: Some(client_roles),
        groups: Some(user.groups.iter().map(|g| realm.group_path(g)).collect()),
        not_before: user.not_before,
        ..Default::default()
    }
}

pub fn role_rep(realm: &Realm, role: &Role, brief: bool) -> RoleRepresentation {
    RoleRepresentation {
        id: Some(role.id.clone()),
        name: Some(role.name.clone()),
        description: role.description.clone(),
        composite: Some(role.composites.is_some()),
        client_role: Some(role.client.is_some()),
        container_id: Some(role.client.clone().unwrap_or_else(|| realm.id.clone())),
        attributes: if brief {
            None
        } else {
            Some(role.attributes.clone())
        },
        ..Default::default()
    }
}

pub fn role_value(realm: &Realm, role: &Role, brief: bool) -> Value {
    to_value(&role_rep(realm, role, brief))
}

fn mapped_role_names(realm: &Realm, group: &Group) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let realm_roles = group
        .realm_roles
        .iter()
        .filter_map(|id| realm.role_by_id(id))
        .map(|r| r.name.clone())
        .collect();
    let mut client_roles = BTreeMap::new();
    for (cid, ids) in &group.client_roles {
        if let Some(client) = realm.clients.get(cid) {
            let names: Vec<String> = ids
                .iter()
                .filter_map(|id| client.roles.values().find(|r| r.id == *id))
                .map(|r| r.name.clone())
                .collect();
            if !names.is_empty() {
                client_roles.insert(client.client_id.clone(), names);
            }
        }
    }
    (realm_roles, client_roles)
}

/// `GroupRepresentation`; `sub_groups` as computed by the caller (empty unless searching).
pub fn group_rep(
    realm: &Realm,
    group: &Group,
    brief: bool,
    sub_groups: Vec<GroupRepresentation>,
) -> GroupRepresentation {
    let mut rep = GroupRepresentation {
        id: Some(group.id.clone()),
        name: Some(group.name.clone()),
        description: group.description.clone(),
        path: Some(realm.group_path(&group.id)),
        parent_id: group.parent.clone(),
        sub_group_count: Some(realm.children(Some(&group.id)).len() as i64),
        sub_groups: Some(sub_groups),
        ..Default::default()
    };
    if !brief {
        let (realm_roles, client_roles) = mapped_role_names(realm, group);
        rep.attributes = Some(group.attributes.clone());
        rep.realm_roles = Some(realm_roles);
        rep.client_roles = Some(client_roles);
        rep.access = Some(
            json!({"view": true, "viewMembers": true, "manageMembers": true, "manage": true, "manageMembership": true}),
        );
    }
    rep
}

pub fn group_value(realm: &Realm, group: &Group, brief: bool) -> Value {
    to_value(&group_rep(realm, group, brief, Vec::new()))
}

pub fn client_rep(client: &Client) -> ClientRepresentation {
    let mut rep = client.rep.clone();
    rep.id = Some(client.id.clone());
    rep.client_id = Some(client.client_id.clone());
    if rep.enabled.is_none() {
        rep.enabled = Some(true);
    }
    rep
}

pub fn client_value(client: &Client) -> Value {
    let mut value = to_value(&client_rep(client));
    // Keycloak never returns a confidential client's secret in listings without the
    // dedicated endpoint; keep the emulator from echoing it.
    if let Some(obj) = value.as_object_mut() {
        obj.remove("secret");
    }
    value
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Value {
    to_value(value)
}
