//! `GET /admin/serverinfo`, `GET /authentication/required-actions` and identity providers
//! (`IdentityProvidersResource`: the provider type must be one the server ships — otherwise
//! `RepresentationToModel.toModel` throws "Invalid identity provider id [x]" → 400, checked
//! before the alias conflict; deleting a provider also deletes every user's link to it, as
//! `UserProvider.preRemove(realm, provider)` does).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kcm_keycloak_types::IdentityProviderRepresentation;
use serde_json::{json, Map, Value};

use crate::auth::Need;
use crate::error::ApiError;
use crate::model::{StoredIdp, IDENTITY_PROVIDER_TYPES};
use crate::routes::{created, encode_segment, no_content, ok, parse_json};
use crate::server::Shared;
use crate::stats::lock;

/// The parts of `ServerInfoRepresentation` a client reads: the version and the
/// `password-hashing` providers (the capability set the sink must use, §11 "Confirmed"),
/// plus a few keys so the body is shaped like the real one.
pub async fn serverinfo(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    shared.authenticate(&headers)?;
    let mut providers = Map::new();
    for id in &shared.config.hash_providers {
        providers.insert(id.clone(), json!({ "order": 0 }));
    }
    Ok(ok(json!({
        "systemInfo": {
            "version": shared.config.keycloak_version,
            "serverTime": shared.now_ms().to_string(),
            "uptime": "0 days, 0 hours, 0 minutes",
            "javaVersion": "21",
            "fileEncoding": "UTF-8"
        },
        "memoryInfo": {"total": 0, "used": 0, "free": 0},
        "profileInfo": {"name": "community", "disabledFeatures": [], "previewFeatures": [], "experimentalFeatures": []},
        "cryptoInfo": {"cryptoProvider": "DefaultCryptoProvider"},
        "providers": {
            "password-hashing": {"internal": true, "providers": Value::Object(providers)}
        },
        "builtinProtocolMappers": {},
        "enums": {}
    })))
}

pub async fn required_actions(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewRealm)?;
    let r = lock(&realm);
    let list: Vec<Value> = r
        .required_actions
        .iter()
        .map(|a| {
            json!({
                "alias": a.alias, "name": a.name, "providerId": a.alias, "enabled": a.enabled,
                "defaultAction": false, "priority": a.priority, "config": {}
            })
        })
        .collect();
    Ok(ok(Value::Array(list)))
}

pub async fn idp_list(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewIdentityProviders)?;
    let r = lock(&realm);
    let list: Vec<Value> = r.idps.values().map(StoredIdp::value).collect();
    Ok(ok(Value::Array(list)))
}

pub async fn idp_create(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageIdentityProviders)?;
    let rep: IdentityProviderRepresentation = parse_json(&headers, &body)?;
    let provider = rep.provider_id.as_deref().unwrap_or("null");
    if !IDENTITY_PROVIDER_TYPES.contains(&provider) {
        return Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            format!("Invalid identity provider id [{provider}]"),
        ));
    }
    let alias = rep.alias.clone().filter(|a| !a.is_empty()).ok_or_else(|| {
        ApiError::message(
            StatusCode::BAD_REQUEST,
            "Identity Provider alias is missing",
        )
    })?;
    let mut r = lock(&realm);
    if r.idps.contains_key(&alias) {
        return Err(ApiError::exists(format!(
            "Identity Provider {alias} already exists"
        )));
    }
    r.idps.insert(alias.clone(), StoredIdp::new(rep));
    Ok(created(&format!(
        "{}/admin/realms/{}/identity-provider/instances/{}",
        shared.base_url,
        encode_segment(&realm_name),
        encode_segment(&alias)
    )))
}

pub async fn idp_get(
    State(shared): State<Arc<Shared>>,
    Path((realm, alias)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewIdentityProviders)?;
    let r = lock(&realm);
    let idp = r
        .idps
        .get(&alias)
        .ok_or_else(|| ApiError::not_found("Could not find identity provider"))?;
    Ok(ok(idp.value()))
}

pub async fn idp_delete(
    State(shared): State<Arc<Shared>>,
    Path((realm, alias)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageIdentityProviders)?;
    let mut r = lock(&realm);
    r.remove_identity_provider(&alias)
        .ok_or_else(|| ApiError::not_found("Could not find identity provider"))?;
    Ok(no_content())
}
