//! Clients and client roles (keycloak-target.md §10 "Client role"): `GET /clients?clientId=`,
//! `POST /clients` (201, `Location` with the internal id), `/clients/{uuid}/roles`, and their
//! deletion (`ClientResource.deleteClient`, `RoleContainerResource.deleteRole`: 204, every
//! user and group mapping to the deleted roles disappears with them).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kcm_keycloak_types::{ClientRepresentation, RoleRepresentation};
use serde_json::Value;

use crate::auth::Need;
use crate::error::ApiError;
use crate::import::{import_client, ImportError};
use crate::representation::{client_value, role_value};
use crate::routes::roles::create_role;
use crate::routes::{created, encode_segment, no_content, ok, page, parse_json, q_bool, Query};
use crate::server::Shared;
use crate::stats::lock;

fn client_not_found() -> ApiError {
    ApiError::not_found("Could not find client")
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewClients)?;
    let r = lock(&realm);
    let substring = q_bool(&q, "search").unwrap_or(false);
    let wanted = q.get("clientId");
    let mut clients: Vec<_> = r
        .clients
        .values()
        .filter(|c| match wanted {
            None => true,
            Some(w) if substring => c.client_id.to_lowercase().contains(&w.to_lowercase()),
            Some(w) => c.client_id == *w,
        })
        .collect();
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    let clients = page(clients, &q)?;
    Ok(ok(Value::Array(
        clients.into_iter().map(client_value).collect(),
    )))
}

pub async fn create(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageClients)?;
    let rep: ClientRepresentation = parse_json(&headers, &body)?;
    if rep.client_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            "Client id is missing",
        ));
    }
    let mut r = lock(&realm);
    let id = import_client(&mut r, &rep, true).map_err(|e| match e {
        ImportError::Conflict(m) => ApiError::exists(m),
        other => ApiError::from(other),
    })?;
    Ok(created(&format!(
        "{}/admin/realms/{}/clients/{}",
        shared.base_url,
        encode_segment(&realm_name),
        id
    )))
}

pub async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewClients)?;
    let r = lock(&realm);
    let client = r.clients.get(&id).ok_or_else(client_not_found)?;
    Ok(ok(client_value(client)))
}

pub async fn roles_list(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewClients)?;
    let r = lock(&realm);
    let client = r.clients.get(&id).ok_or_else(client_not_found)?;
    let brief = q_bool(&q, "briefRepresentation").unwrap_or(true);
    let roles = page(client.roles.values().collect(), &q)?;
    Ok(ok(Value::Array(
        roles
            .into_iter()
            .map(|x| role_value(&r, x, brief))
            .collect(),
    )))
}

pub async fn roles_create(
    State(shared): State<Arc<Shared>>,
    Path((realm_name, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageClients)?;
    let rep: RoleRepresentation = parse_json(&headers, &body)?;
    let mut r = lock(&realm);
    let client = r.clients.get_mut(&id).ok_or_else(client_not_found)?;
    let name = create_role(&mut client.roles, &rep, Some(&id))?;
    Ok(created(&format!(
        "{}/admin/realms/{}/clients/{}/roles/{}",
        shared.base_url,
        encode_segment(&realm_name),
        id,
        encode_segment(&name)
    )))
}

pub async fn role_get(
    State(shared): State<Arc<Shared>>,
    Path((realm, id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewClients)?;
    let r = lock(&realm);
    let client = r.clients.get(&id).ok_or_else(client_not_found)?;
    let role = client
        .roles
        .get(&name)
        .ok_or_else(|| ApiError::not_found("Could not find role"))?;
    Ok(ok(role_value(&r, role, false)))
}

/// `DELETE /clients/{uuid}`: the client, its roles and every mapping to them.
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageClients)?;
    let mut r = lock(&realm);
    if !r.clients.contains_key(&id) {
        return Err(client_not_found());
    }
    r.remove_client(&id);
    Ok(no_content())
}

/// `DELETE /clients/{uuid}/roles/{role-name}`: the role and every mapping to it.
pub async fn role_delete(
    State(shared): State<Arc<Shared>>,
    Path((realm, id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageClients)?;
    let mut r = lock(&realm);
    let client = r.clients.get_mut(&id).ok_or_else(client_not_found)?;
    let role = client
        .roles
        .remove(&name)
        .ok_or_else(|| ApiError::not_found("Could not find role"))?;
    r.drop_role_mappings(&role.id);
    Ok(no_content())
}
