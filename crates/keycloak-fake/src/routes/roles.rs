//! Realm roles (`/roles`) and role mappings of users and groups (keycloak-target.md §3
//! "Role mappings", §10 "Realm role", "Group role mappings").
//!
//! Mapping a role requires each entry to name an existing role AND carry its id:
//! `realm.getRole(name)` then `id.equals(...)`, else 404 "Role not found"; success is 204 and
//! mapping an already-mapped role changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kcm_keycloak_types::RoleRepresentation;
use serde_json::{json, Map, Value};

use crate::auth::Need;
use crate::error::ApiError;
use crate::model::{new_id, Realm, Role};
use crate::representation::role_value;
use crate::routes::{created, encode_segment, no_content, ok, page, parse_json, q_bool, Query};
use crate::server::Shared;
use crate::stats::lock;

fn role_not_found() -> ApiError {
    ApiError::not_found("Role not found")
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewRealm)?;
    let r = lock(&realm);
    let brief = q_bool(&q, "briefRepresentation").unwrap_or(true);
    let search = q.get("search").map(|s| s.to_lowercase());
    let roles: Vec<&Role> = r
        .roles
        .values()
        .filter(|role| {
            search
                .as_ref()
                .is_none_or(|s| role.name.to_lowercase().contains(s))
        })
        .collect();
    let roles = page(roles, &q)?;
    Ok(ok(Value::Array(
        roles
            .into_iter()
            .map(|x| role_value(&r, x, brief))
            .collect(),
    )))
}

/// Creates a role in a container (realm roles map or a client's roles).
pub fn create_role(
    roles: &mut BTreeMap<String, Role>,
    rep: &RoleRepresentation,
    client: Option<&str>,
) -> Result<String, ApiError> {
    let name = rep
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::message(StatusCode::BAD_REQUEST, "role has no name"))?;
    if roles.contains_key(&name) {
        return Err(ApiError::exists(format!(
            "Role with name {name} already exists"
        )));
    }
    roles.insert(
        name.clone(),
        Role {
            // Ids in the body are ignored (§10).
            id: new_id(),
            name: name.clone(),
            description: rep.description.clone(),
            composites: if rep.composite == Some(true) {
                rep.composites.clone()
            } else {
                None
            },
            attributes: rep.attributes.clone().unwrap_or_default(),
            client: client.map(str::to_string),
        },
    );
    Ok(name)
}

pub async fn create(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageRealm)?;
    let rep: RoleRepresentation = parse_json(&headers, &body)?;
    let mut r = lock(&realm);
    let name = create_role(&mut r.roles, &rep, None)?;
    // The Location ends with the role NAME, not an id (§10).
    Ok(created(&format!(
        "{}/admin/realms/{}/roles/{}",
        shared.base_url,
        encode_segment(&realm_name),
        encode_segment(&name)
    )))
}

pub async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path((realm, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewRealm)?;
    let r = lock(&realm);
    let role = r
        .roles
        .get(&name)
        .ok_or_else(|| ApiError::not_found("Could not find role"))?;
    Ok(ok(role_value(&r, role, false)))
}

pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((realm, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageRealm)?;
    let mut r = lock(&realm);
    if name == r.default_role_name() {
        return Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            "You cannot delete a default realm role",
        ));
    }
    let role = r
        .roles
        .remove(&name)
        .ok_or_else(|| ApiError::not_found("Could not find role"))?;
    r.drop_role_mappings(&role.id);
    Ok(no_content())
}

/// Whose mappings an endpoint works on.
#[derive(Clone, Copy)]
enum Target<'a> {
    User(&'a str),
    Group(&'a str),
}

/// Realm role ids and client internal id → client role ids.
type OwnedMappings = (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>);

type Mappings<'m> = (
    &'m mut BTreeSet<String>,
    &'m mut BTreeMap<String, BTreeSet<String>>,
);

fn mappings_mut<'m>(r: &'m mut Realm, target: Target<'_>) -> Result<Mappings<'m>, ApiError> {
    match target {
        Target::User(id) => r
            .user_mut(id)
            .map(|u| (&mut u.realm_roles, &mut u.client_roles))
            .ok_or_else(ApiError::user_not_found),
        Target::Group(id) => r
            .groups
            .get_mut(id)
            .map(|g| (&mut g.realm_roles, &mut g.client_roles))
            .ok_or_else(|| ApiError::not_found("Could not find group by id")),
    }
}

fn mappings(r: &Realm, target: Target<'_>) -> Result<OwnedMappings, ApiError> {
    match target {
        Target::User(id) => r
            .user(id)
            .map(|u| (u.realm_roles.clone(), u.client_roles.clone()))
            .ok_or_else(ApiError::user_not_found),
        Target::Group(id) => r
            .groups
            .get(id)
            .map(|g| (g.realm_roles.clone(), g.client_roles.clone()))
            .ok_or_else(|| ApiError::not_found("Could not find group by id")),
    }
}

/// Resolves each entry by name and checks its id (`RoleMapperResource.addRealmRoleMappings`).
fn resolve(
    roles: &BTreeMap<String, Role>,
    reps: &[RoleRepresentation],
) -> Result<Vec<String>, ApiError> {
    reps.iter()
        .map(|rep| {
            let role = rep
                .name
                .as_deref()
                .and_then(|n| roles.get(n))
                .ok_or_else(role_not_found)?;
            if rep.id.as_deref() != Some(role.id.as_str()) {
                return Err(role_not_found());
            }
            Ok(role.id.clone())
        })
        .collect()
}

fn mapping_summary(r: &Realm, target: Target<'_>) -> Result<Value, ApiError> {
    let (realm_ids, client_ids) = mappings(r, target)?;
    let mut out = Map::new();
    let realm_list: Vec<Value> = r
        .roles
        .values()
        .filter(|role| realm_ids.contains(&role.id))
        .map(|role| role_value(r, role, true))
        .collect();
    if !realm_list.is_empty() {
        out.insert("realmMappings".into(), Value::Array(realm_list));
    }
    let mut clients = Map::new();
    for (cid, ids) in &client_ids {
        let Some(client) = r.clients.get(cid) else {
            continue;
        };
        let list: Vec<Value> = client
            .roles
            .values()
            .filter(|role| ids.contains(&role.id))
            .map(|role| role_value(r, role, true))
            .collect();
        if !list.is_empty() {
            clients.insert(
                client.client_id.clone(),
                json!({"id": client.id, "client": client.client_id, "mappings": list}),
            );
        }
    }
    if !clients.is_empty() {
        out.insert("clientMappings".into(), Value::Object(clients));
    }
    Ok(Value::Object(out))
}

fn realm_list(r: &Realm, target: Target<'_>) -> Result<Value, ApiError> {
    let (ids, _) = mappings(r, target)?;
    Ok(Value::Array(
        r.roles
            .values()
            .filter(|role| ids.contains(&role.id))
            .map(|role| role_value(r, role, true))
            .collect(),
    ))
}

fn realm_change(
    r: &mut Realm,
    target: Target<'_>,
    reps: &[RoleRepresentation],
    add: bool,
) -> Result<(), ApiError> {
    mappings(r, target)?;
    let ids = resolve(&r.roles, reps)?;
    let (realm_roles, _) = mappings_mut(r, target)?;
    for id in ids {
        if add {
            realm_roles.insert(id);
        } else {
            realm_roles.remove(&id);
        }
    }
    Ok(())
}

fn client_not_found() -> ApiError {
    ApiError::not_found("Client not found")
}

fn client_list(r: &Realm, target: Target<'_>, client: &str) -> Result<Value, ApiError> {
    let (_, client_ids) = mappings(r, target)?;
    let c = r.clients.get(client).ok_or_else(client_not_found)?;
    let ids = client_ids.get(client).cloned().unwrap_or_default();
    Ok(Value::Array(
        c.roles
            .values()
            .filter(|role| ids.contains(&role.id))
            .map(|role| role_value(r, role, true))
            .collect(),
    ))
}

fn client_change(
    r: &mut Realm,
    target: Target<'_>,
    client: &str,
    reps: &[RoleRepresentation],
    add: bool,
) -> Result<(), ApiError> {
    mappings(r, target)?;
    let c = r.clients.get(client).ok_or_else(client_not_found)?;
    let ids = resolve(&c.roles, reps)?;
    let (_, client_roles) = mappings_mut(r, target)?;
    let set = client_roles.entry(client.to_string()).or_default();
    for id in ids {
        if add {
            set.insert(id);
        } else {
            set.remove(&id);
        }
    }
    if set.is_empty() {
        client_roles.remove(client);
    }
    Ok(())
}

/// Generates the GET/POST/DELETE handlers of one mapping family.
macro_rules! mapping_handlers {
    ($target:ident, $summary:ident, $rlist:ident, $radd:ident, $rremove:ident, $clist:ident, $cadd:ident, $cremove:ident) => {
        pub async fn $summary(
            State(shared): State<Arc<Shared>>,
            Path((realm, id)): Path<(String, String)>,
            headers: HeaderMap,
        ) -> Result<Response, ApiError> {
            let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
            let r = lock(&realm);
            Ok(ok(mapping_summary(&r, Target::$target(&id))?))
        }

        pub async fn $rlist(
            State(shared): State<Arc<Shared>>,
            Path((realm, id)): Path<(String, String)>,
            headers: HeaderMap,
        ) -> Result<Response, ApiError> {
            let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
            let r = lock(&realm);
            Ok(ok(realm_list(&r, Target::$target(&id))?))
        }

        pub async fn $radd(
            State(shared): State<Arc<Shared>>,
            Path((realm, id)): Path<(String, String)>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
            let reps: Vec<RoleRepresentation> = parse_json(&headers, &body)?;
            let mut r = lock(&realm);
            realm_change(&mut r, Target::$target(&id), &reps, true)?;
            Ok(no_content())
        }

        pub async fn $rremove(
            State(shared): State<Arc<Shared>>,
            Path((realm, id)): Path<(String, String)>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
            let reps: Vec<RoleRepresentation> = parse_json(&headers, &body)?;
            let mut r = lock(&realm);
            realm_change(&mut r, Target::$target(&id), &reps, false)?;
            Ok(no_content())
        }

        pub async fn $clist(
            State(shared): State<Arc<Shared>>,
            Path((realm, id, client)): Path<(String, String, String)>,
            headers: HeaderMap,
        ) -> Result<Response, ApiError> {
            let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
            let r = lock(&realm);
            Ok(ok(client_list(&r, Target::$target(&id), &client)?))
        }

        pub async fn $cadd(
            State(shared): State<Arc<Shared>>,
            Path((realm, id, client)): Path<(String, String, String)>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
            let reps: Vec<RoleRepresentation> = parse_json(&headers, &body)?;
            let mut r = lock(&realm);
            client_change(&mut r, Target::$target(&id), &client, &reps, true)?;
            Ok(no_content())
        }

        pub async fn $cremove(
            State(shared): State<Arc<Shared>>,
            Path((realm, id, client)): Path<(String, String, String)>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
            let reps: Vec<RoleRepresentation> = parse_json(&headers, &body)?;
            let mut r = lock(&realm);
            client_change(&mut r, Target::$target(&id), &client, &reps, false)?;
            Ok(no_content())
        }
    };
}

mapping_handlers!(
    User,
    user_mappings,
    user_realm_list,
    user_realm_add,
    user_realm_remove,
    user_client_list,
    user_client_add,
    user_client_remove
);
mapping_handlers!(
    Group,
    group_mappings,
    group_realm_list,
    group_realm_add,
    group_realm_remove,
    group_client_list,
    group_client_add,
    group_client_remove
);
