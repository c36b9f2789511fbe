//! Groups and group membership (keycloak-target.md §10 "Groups", §3 "Group membership").
//!
//! Top-level names and sibling names are unique (409 "Top level group named 'X' already
//! exists." / "Sibling group named 'X' already exists."); a body with an existing `id` moves
//! that group (204). Joining a group is idempotent (204); an unknown group is 404
//! "Group not found".

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kcm_keycloak_types::GroupRepresentation;
use serde_json::{json, Value};

use crate::auth::Need;
use crate::error::ApiError;
use crate::model::{Group, Realm};
use crate::representation::{group_rep, group_value, to_json, user_rep};
use crate::routes::{
    created_with, encode_segment, no_content, ok, page, parse_json, q_bool, Query,
};
use crate::server::Shared;
use crate::stats::lock;

fn group_by_id_not_found() -> ApiError {
    ApiError::not_found("Could not find group by id")
}

/// A group and only the branches of its subtree that contain a match (`populateHierarchy`).
fn pruned(
    r: &Realm,
    group: &Group,
    brief: bool,
    matches: &dyn Fn(&Group) -> bool,
) -> Option<GroupRepresentation> {
    let children: Vec<GroupRepresentation> = r
        .children(Some(&group.id))
        .into_iter()
        .filter_map(|c| pruned(r, c, brief, matches))
        .collect();
    if matches(group) || !children.is_empty() {
        Some(group_rep(r, group, brief, children))
    } else {
        None
    }
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let brief = q_bool(&q, "briefRepresentation").unwrap_or(true);
    let top = r.children(None);
    let reps: Vec<GroupRepresentation> = match q.get("search") {
        Some(search) => {
            let exact = q_bool(&q, "exact").unwrap_or(false);
            let needle = search.to_lowercase();
            let matches = move |g: &Group| {
                let name = g.name.to_lowercase();
                if exact {
                    name == needle
                } else {
                    name.contains(&needle)
                }
            };
            top.into_iter()
                .filter_map(|g| pruned(&r, g, brief, &matches))
                .collect()
        }
        None => top
            .into_iter()
            .map(|g| group_rep(&r, g, brief, Vec::new()))
            .collect(),
    };
    let reps = page(reps, &q)?;
    Ok(ok(Value::Array(reps.iter().map(to_json).collect())))
}

pub async fn count(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let n = match q.get("search") {
        Some(s) => {
            let s = s.to_lowercase();
            r.groups
                .values()
                .filter(|g| g.name.to_lowercase().contains(&s))
                .count()
        }
        None if q_bool(&q, "top").unwrap_or(false) => r.children(None).len(),
        None => r.groups.len(),
    };
    Ok(ok(json!({ "count": n })))
}

fn apply_details(r: &mut Realm, id: &str, rep: &GroupRepresentation) {
    if let Some(group) = r.groups.get_mut(id) {
        if rep.description.is_some() {
            group.description = rep.description.clone();
        }
        if let Some(attrs) = &rep.attributes {
            group.attributes = attrs.clone();
        }
    }
}

/// Creates (201 + body + Location) or moves (204, when `id` names an existing group) a group
/// under `parent`.
fn create_or_move(
    shared: &Shared,
    realm_name: &str,
    r: &mut Realm,
    parent: Option<&str>,
    rep: &GroupRepresentation,
) -> Result<Response, ApiError> {
    if let Some(id) = &rep.id {
        let group = r
            .groups
            .get(id)
            .ok_or_else(|| ApiError::not_found("Could not find child by id"))?;
        if let Some(p) = parent {
            if r.subtree(id).iter().any(|g| g == p) {
                return Err(ApiError::message(
                    StatusCode::BAD_REQUEST,
                    "Cannot move group to its own subgroup",
                ));
            }
        }
        if r.sibling_named(parent, &group.name)
            .is_some_and(|other| other.id != *id)
        {
            let name = group.name.clone();
            return Err(ApiError::exists(match parent {
                None => format!("Top level group named '{name}' already exists."),
                Some(_) => format!("Sibling group named '{name}' already exists."),
            }));
        }
        if let Some(g) = r.groups.get_mut(id) {
            g.parent = parent.map(str::to_string);
        }
        return Ok(no_content());
    }
    let name = rep
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::message(StatusCode::BAD_REQUEST, "Group name is missing"))?;
    let id = r
        .add_group(None, &name, parent)
        .map_err(|d| ApiError::exists(d.0))?;
    apply_details(r, &id, rep);
    let body = r
        .groups
        .get(&id)
        .map(|g| group_value(r, g, false))
        .unwrap_or(Value::Null);
    Ok(created_with(
        &format!(
            "{}/admin/realms/{}/groups/{}",
            shared.base_url,
            encode_segment(realm_name),
            id
        ),
        body,
    ))
}

pub async fn create(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageUsers)?;
    let rep: GroupRepresentation = parse_json(&headers, &body)?;
    let mut r = lock(&realm);
    create_or_move(&shared, &realm_name, &mut r, None, &rep)
}

pub async fn add_child(
    State(shared): State<Arc<Shared>>,
    Path((realm_name, parent)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageUsers)?;
    let rep: GroupRepresentation = parse_json(&headers, &body)?;
    let mut r = lock(&realm);
    if !r.groups.contains_key(&parent) {
        return Err(group_by_id_not_found());
    }
    create_or_move(&shared, &realm_name, &mut r, Some(&parent), &rep)
}

pub async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let group = r.groups.get(&id).ok_or_else(group_by_id_not_found)?;
    Ok(ok(group_value(&r, group, false)))
}

pub async fn update(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let rep: GroupRepresentation = parse_json(&headers, &body)?;
    let mut r = lock(&realm);
    let group = r
        .groups
        .get(&id)
        .cloned()
        .ok_or_else(group_by_id_not_found)?;
    if let Some(name) = rep.name.clone().filter(|n| *n != group.name) {
        if r.sibling_named(group.parent.as_deref(), &name).is_some() {
            return Err(ApiError::exists(match group.parent {
                None => format!("Top level group named '{name}' already exists."),
                Some(_) => format!("Sibling group named '{name}' already exists."),
            }));
        }
        if let Some(g) = r.groups.get_mut(&id) {
            g.name = name;
        }
    }
    apply_details(&mut r, &id, &rep);
    Ok(no_content())
}

pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let mut r = lock(&realm);
    if !r.groups.contains_key(&id) {
        return Err(group_by_id_not_found());
    }
    r.remove_group(&id);
    Ok(no_content())
}

pub async fn children(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    if !r.groups.contains_key(&id) {
        return Err(group_by_id_not_found());
    }
    let brief = q_bool(&q, "briefRepresentation").unwrap_or(false);
    let list = page(r.children(Some(&id)), &q)?;
    Ok(ok(Value::Array(
        list.into_iter()
            .map(|g| group_value(&r, g, brief))
            .collect(),
    )))
}

pub async fn members(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    if !r.groups.contains_key(&id) {
        return Err(group_by_id_not_found());
    }
    let brief = q_bool(&q, "briefRepresentation").unwrap_or(false);
    let list = page(r.group_members(&id), &q)?;
    Ok(ok(Value::Array(
        list.into_iter().map(|u| user_rep(&r, u, brief)).collect(),
    )))
}

pub async fn by_path(
    State(shared): State<Arc<Shared>>,
    Path((realm, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let group = r
        .find_group_by_path(&path)
        .ok_or_else(|| ApiError::not_found("Group path does not exist"))?;
    Ok(ok(group_value(&r, group, false)))
}

pub async fn user_groups(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let user = r.user(&id).ok_or_else(ApiError::user_not_found)?;
    let brief = q_bool(&q, "briefRepresentation").unwrap_or(true);
    let search = q.get("search").map(|s| s.to_lowercase());
    let mut groups: Vec<&Group> = user
        .groups
        .iter()
        .filter_map(|g| r.groups.get(g))
        .filter(|g| {
            search
                .as_ref()
                .is_none_or(|s| g.name.to_lowercase().contains(s))
        })
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let groups = page(groups, &q)?;
    Ok(ok(Value::Array(
        groups
            .into_iter()
            .map(|g| group_value(&r, g, brief))
            .collect(),
    )))
}

pub async fn user_groups_count(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let user = r.user(&id).ok_or_else(ApiError::user_not_found)?;
    Ok(ok(json!({ "count": user.groups.len() })))
}

fn membership(r: &mut Realm, user: &str, group: &str, join: bool) -> Result<(), ApiError> {
    if r.user(user).is_none() {
        return Err(ApiError::user_not_found());
    }
    if !r.groups.contains_key(group) {
        return Err(ApiError::not_found("Group not found"));
    }
    if let Some(u) = r.user_mut(user) {
        if join {
            u.groups.insert(group.to_string());
        } else {
            u.groups.remove(group);
        }
    }
    Ok(())
}

pub async fn join(
    State(shared): State<Arc<Shared>>,
    Path((realm, user, group)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let mut r = lock(&realm);
    membership(&mut r, &user, &group, true)?;
    Ok(no_content())
}

pub async fn leave(
    State(shared): State<Arc<Shared>>,
    Path((realm, user, group)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let mut r = lock(&realm);
    membership(&mut r, &user, &group, false)?;
    Ok(no_content())
}
