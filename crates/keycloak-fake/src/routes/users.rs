//! Users REST API (keycloak-target.md §3), user profile (§6), credentials listing, password
//! reset and execute-actions-email.
//!
//! REST create differs from the import path on purpose: `id`, `realmRoles`, `clientRoles`,
//! `clientConsents`, `notBefore` and `serviceAccountClientId` are ignored; username/email are
//! validated by the user profile and lower-cased; unmanaged attributes are dropped unless
//! the policy allows them; unknown required actions are dropped; `temporary` adds
//! `UPDATE_PASSWORD`; the default role is granted.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kcm_keycloak_types::{CredentialRepresentation, UpConfig, UserRepresentation};
use serde_json::{json, Value};

use crate::auth::Need;
use crate::error::ApiError;
use crate::import::{build_credentials, ImportEnv, ImportError};
use crate::model::{new_id, Realm, SentEmail, User};
use crate::profile::{self, FieldError};
use crate::representation::{credential_rep, user_rep};
use crate::routes::{created, encode_segment, no_content, ok, page, parse_json, q_bool, Query};
use crate::server::Shared;
use crate::stats::lock;

/// `ErrorResponse.errors`: one error as a plain `ErrorRepresentation`, several as `{errors}`.
fn validation_error(errors: &[FieldError]) -> ApiError {
    let one =
        |e: &FieldError| json!({"field": e.field, "errorMessage": e.message, "params": e.params});
    match errors {
        [single] => ApiError::new(StatusCode::BAD_REQUEST, one(single)),
        many => ApiError::new(
            StatusCode::BAD_REQUEST,
            json!({"errors": many.iter().map(one).collect::<Vec<_>>()}),
        ),
    }
}

fn normalized_email(email: Option<&str>) -> Option<String> {
    email
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_lowercase)
}

/// Case-insensitive match with `*` wildcards (greedy with backtracking).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<usize> = None;
    let mut mark = 0usize;
    while let Some(tc) = t.get(ti) {
        match p.get(pi) {
            Some('*') => {
                star = Some(pi);
                pi += 1;
                mark = ti;
            }
            Some(pc) if pc == tc => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

/// `search=`: prefix by default, `*x*` infix, `"x"` exact; several words must all match.
fn search_matches(user: &User, search: &str) -> bool {
    let fields = [
        Some(user.username.as_str()),
        user.email.as_deref(),
        user.first_name.as_deref(),
        user.last_name.as_deref(),
    ];
    search.split_whitespace().all(|term| {
        if term.len() >= 2 && term.starts_with('"') && term.ends_with('"') {
            let exact = &term[1..term.len() - 1];
            fields
                .iter()
                .flatten()
                .any(|f| f.eq_ignore_ascii_case(exact))
        } else {
            let pattern = if term.contains('*') {
                term.to_string()
            } else {
                format!("{term}*")
            };
            fields.iter().flatten().any(|f| wildcard_match(&pattern, f))
        }
    })
}

fn field_matches(value: Option<&str>, wanted: &str, exact: bool) -> bool {
    let Some(value) = value else {
        return false;
    };
    if exact {
        value.eq_ignore_ascii_case(wanted)
    } else {
        value.to_lowercase().contains(&wanted.to_lowercase())
    }
}

/// `q=key:value key2:value2`: every pair must match an attribute value exactly.
fn attribute_query_matches(user: &User, q: &str) -> bool {
    q.split_whitespace().all(|pair| match pair.split_once(':') {
        Some((k, v)) => user
            .attributes
            .get(k)
            .is_some_and(|vals| vals.iter().any(|x| x == v)),
        None => true,
    })
}

fn filtered<'a>(realm: &'a Realm, q: &HashMap<String, String>) -> Vec<&'a User> {
    let exact = q_bool(q, "exact").unwrap_or(false);
    let enabled = q_bool(q, "enabled");
    let email_verified = q_bool(q, "emailVerified");
    realm
        .users_sorted()
        .filter(|u| {
            if let Some(search) = q.get("search") {
                if let Some(id) = search.strip_prefix("id:") {
                    return u.id == id.trim();
                }
                if !search_matches(u, search.trim()) {
                    return false;
                }
            }
            let checks = [
                ("username", Some(u.username.as_str())),
                ("email", u.email.as_deref()),
                ("firstName", u.first_name.as_deref()),
                ("lastName", u.last_name.as_deref()),
            ];
            for (key, value) in checks {
                if let Some(wanted) = q.get(key) {
                    if !field_matches(value, wanted, exact) {
                        return false;
                    }
                }
            }
            if enabled.is_some_and(|e| e != u.enabled)
                || email_verified.is_some_and(|e| e != u.email_verified)
            {
                return false;
            }
            if let Some(alias) = q.get("idpAlias") {
                let user_id = q.get("idpUserId");
                if !u.federated_identities.iter().any(|f| {
                    f.identity_provider.as_deref() == Some(alias.as_str())
                        && user_id.is_none_or(|id| f.user_id.as_deref() == Some(id.as_str()))
                }) {
                    return false;
                }
            }
            if let Some(query) = q.get("q") {
                if !attribute_query_matches(u, query) {
                    return false;
                }
            }
            true
        })
        .collect()
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let brief = q_bool(&q, "briefRepresentation").unwrap_or(false);
    let users = page(filtered(&r, &q), &q)?;
    Ok(ok(Value::Array(
        users.into_iter().map(|u| user_rep(&r, u, brief)).collect(),
    )))
}

/// `GET /users/count` → a bare integer.
pub async fn count(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let n = if q.is_empty() {
        // Without criteria service-account users are not counted.
        r.users_sorted()
            .filter(|u| u.service_account_client_id.is_none())
            .count()
    } else {
        filtered(&r, &q).len()
    };
    Ok(ok(json!(n)))
}

pub async fn create(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm_name, Need::ManageUsers)?;
    let rep: UserRepresentation = parse_json(&headers, &body)?;
    let fail_names = shared.fail_user_names();
    let env = ImportEnv {
        providers: &shared.config.hash_providers,
        now_ms: shared.now_ms(),
        fail_user_names: &fail_names,
        keep_client_ids: false,
    };
    let mut r = lock(&realm);
    let id = create_rest_user(&mut r, &rep, &env)?;
    Ok(created(&format!(
        "{}/admin/realms/{}/users/{}",
        shared.base_url,
        encode_segment(&realm_name),
        id
    )))
}

/// `UsersResource.createUser`: validation, then creation in one transaction.
pub fn create_rest_user(
    r: &mut Realm,
    rep: &UserRepresentation,
    env: &ImportEnv<'_>,
) -> Result<String, ApiError> {
    let raw_username = if r.registration_email_as_username {
        rep.email.clone()
    } else {
        rep.username.clone()
    };
    let username = raw_username
        .map(|u| u.trim().to_lowercase())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::message(StatusCode::BAD_REQUEST, "User name is missing"))?;
    let email = normalized_email(rep.email.as_deref());
    if r.user_by_username(&username).is_some() {
        return Err(ApiError::exists("User exists with same username"));
    }
    if let (Some(e), false) = (&email, r.duplicate_emails_allowed) {
        if r.user_by_email(e).is_some() {
            return Err(ApiError::exists("User exists with same email"));
        }
    }
    let mut errors = profile::validate_user(
        &username,
        email.as_deref(),
        rep.first_name.as_deref(),
        rep.last_name.as_deref(),
    );
    let attributes =
        profile::writable_attributes(&r.profile, &rep.attributes.clone().unwrap_or_default());
    errors.extend(profile::validate_unmanaged_lengths(r, &attributes));
    if !errors.is_empty() {
        return Err(validation_error(&errors));
    }
    if env
        .fail_user_names
        .iter()
        .any(|n| n.eq_ignore_ascii_case(&username))
    {
        return Err(ApiError::unknown());
    }
    let (credentials, temporary) =
        build_credentials(r, rep.credentials.as_deref().unwrap_or(&[]), env)
            .map_err(ApiError::from)?;
    let mut required_actions: Vec<String> = rep
        .required_actions
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter(|a| {
            r.required_actions
                .iter()
                .any(|known| known.alias == a.as_str())
        })
        .cloned()
        .collect();
    if temporary && !required_actions.iter().any(|a| a == "UPDATE_PASSWORD") {
        required_actions.push("UPDATE_PASSWORD".into());
    }
    let mut groups = std::collections::BTreeSet::new();
    for path in rep.groups.as_deref().unwrap_or(&[]) {
        // RuntimeException "Unable to find group specified by path" → 500, nothing created.
        let group = r.find_group_by_path(path).ok_or_else(ApiError::unknown)?;
        groups.insert(group.id.clone());
    }
    let mut realm_roles = std::collections::BTreeSet::new();
    if let Some(role) = r.roles.get(&r.default_role_name()) {
        realm_roles.insert(role.id.clone());
    }
    let id = new_id();
    let user = User {
        id: id.clone(),
        username,
        email,
        first_name: rep.first_name.clone(),
        last_name: rep.last_name.clone(),
        email_verified: rep.email_verified.unwrap_or(false),
        enabled: rep.enabled.unwrap_or(false),
        created_timestamp: Some(rep.created_timestamp.unwrap_or(env.now_ms)),
        attributes,
        required_actions,
        credentials,
        federated_identities: rep.federated_identities.clone().unwrap_or_default(),
        realm_roles,
        groups,
        federation_link: rep.federation_link.clone(),
        ..Default::default()
    };
    r.insert_user(user).map_err(|d| ApiError::exists(d.0))?;
    Ok(id)
}

pub async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let user = r.user(&id).ok_or_else(ApiError::user_not_found)?;
    Ok(ok(user_rep(&r, user, false)))
}

pub async fn update(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let rep: UserRepresentation = parse_json(&headers, &body)?;
    let mut r = lock(&realm);
    let mut user = r.user(&id).cloned().ok_or_else(ApiError::user_not_found)?;
    let wanted_username = if r.registration_email_as_username {
        rep.email.clone()
    } else {
        rep.username.clone()
    };
    if let Some(new_name) = wanted_username.map(|u| u.trim().to_lowercase()) {
        if new_name != user.username {
            if !r.edit_username_allowed && !r.registration_email_as_username {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    json!({"field": "username", "errorMessage": "error-user-attribute-read-only", "params": ["username"]}),
                ));
            }
            if r.user_by_username(&new_name).is_some() {
                return Err(ApiError::exists("User exists with same username"));
            }
            user.username = new_name;
        }
    }
    if rep.email.is_some() {
        let email = normalized_email(rep.email.as_deref());
        if let (Some(e), false) = (&email, r.duplicate_emails_allowed) {
            if r.user_by_email(e).is_some_and(|other| other.id != user.id) {
                return Err(ApiError::exists("User exists with same email"));
            }
        }
        user.email = email;
    }
    if rep.first_name.is_some() {
        user.first_name = rep.first_name.clone();
    }
    if rep.last_name.is_some() {
        user.last_name = rep.last_name.clone();
    }
    let errors = profile::validate_user(
        &user.username,
        user.email.as_deref(),
        user.first_name.as_deref(),
        user.last_name.as_deref(),
    );
    if !errors.is_empty() {
        return Err(validation_error(&errors));
    }
    if let Some(enabled) = rep.enabled {
        user.enabled = enabled;
    }
    if let Some(v) = rep.email_verified {
        user.email_verified = v;
    }
    if let Some(given) = &rep.attributes {
        let writable = profile::writable_attributes(&r.profile, given);
        let errors = profile::validate_unmanaged_lengths(&r, &writable);
        if !errors.is_empty() {
            return Err(validation_error(&errors));
        }
        // Attributes the admin cannot write (hidden unmanaged ones) stay as they are.
        let probe: kcm_keycloak_types::AttributeMap = user.attributes.clone();
        let writable_names = profile::writable_attributes(&r.profile, &probe);
        user.attributes
            .retain(|k, _| !writable_names.contains_key(k));
        user.attributes.extend(writable);
    }
    if let Some(actions) = &rep.required_actions {
        user.required_actions = actions
            .iter()
            .filter(|a| {
                r.required_actions
                    .iter()
                    .any(|known| known.alias == a.as_str())
            })
            .cloned()
            .collect();
    }
    // `RepresentationToModel.createCredentials(rep, ..., adminRequest=true)` runs on update
    // too: given credentials are added (a plaintext one replaces the password); without
    // `credentials` the stored ones are untouched.
    if let Some(reps) = rep.credentials.as_deref().filter(|c| !c.is_empty()) {
        let env = ImportEnv {
            providers: &shared.config.hash_providers,
            now_ms: shared.now_ms(),
            fail_user_names: &[],
            keep_client_ids: false,
        };
        let (created, temporary) = build_credentials(&r, reps, &env).map_err(|e| match e {
            ImportError::PolicyNotMet(m, params) => ApiError::new(
                StatusCode::BAD_REQUEST,
                json!({"error": m, "error_description": params.first()}),
            ),
            other => ApiError::from(other),
        })?;
        let plaintext = reps
            .iter()
            .any(|c| c.value.as_deref().is_some_and(|v| !v.is_empty()));
        if plaintext {
            user.credentials.retain(|c| c.type_ != "password");
        }
        for credential in created {
            if !user.credentials.iter().any(|c| c.id == credential.id) {
                user.credentials.push(credential);
            }
        }
        if temporary && !user.required_actions.iter().any(|a| a == "UPDATE_PASSWORD") {
            user.required_actions.push("UPDATE_PASSWORD".into());
        }
    }
    r.replace_user(user).map_err(|d| ApiError::exists(d.0))?;
    Ok(no_content())
}

pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let mut r = lock(&realm);
    r.remove_user(&id).ok_or_else(ApiError::user_not_found)?;
    Ok(no_content())
}

/// `GET /users/{id}/credentials`: `secretData` is never returned.
pub async fn credentials(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let user = r.user(&id).ok_or_else(ApiError::user_not_found)?;
    Ok(ok(Value::Array(
        user.credentials.iter().map(credential_rep).collect(),
    )))
}

/// `GET /users/{id}/federated-identity`: the user's identity-provider links
/// (`FederatedIdentityRepresentation` list; `UserResource.getFederatedIdentities`). Links to an
/// alias the realm has no identity provider for are stored (the import path never checks) but
/// left out here, exactly like Keycloak's filter on `identityProviders().getByAlias(...)`.
pub async fn federated_identities(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ViewUsers)?;
    let r = lock(&realm);
    let user = r.user(&id).ok_or_else(ApiError::user_not_found)?;
    let visible: Vec<_> = user
        .federated_identities
        .iter()
        .filter(|f| {
            f.identity_provider
                .as_deref()
                .is_some_and(|alias| r.idps.contains_key(alias))
        })
        .collect();
    let links = serde_json::to_value(&visible).map_err(|_| ApiError::unknown())?;
    Ok(ok(links))
}

pub async fn reset_password(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let rep: CredentialRepresentation = parse_json(&headers, &body)?;
    if rep.value.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            "Missing password",
        ));
    }
    let env = ImportEnv {
        providers: &shared.config.hash_providers,
        now_ms: shared.now_ms(),
        fail_user_names: &[],
        keep_client_ids: false,
    };
    let mut r = lock(&realm);
    if r.user(&id).is_none() {
        return Err(ApiError::user_not_found());
    }
    let (mut creds, temporary) =
        build_credentials(&r, std::slice::from_ref(&rep), &env).map_err(|e| match e {
            ImportError::PolicyNotMet(m, params) => ApiError::new(
                StatusCode::BAD_REQUEST,
                json!({"error": m, "error_description": params.first()}),
            ),
            other => ApiError::from(other),
        })?;
    let user = r.user_mut(&id).ok_or_else(ApiError::user_not_found)?;
    user.credentials.retain(|c| c.type_ != "password");
    user.credentials.append(&mut creds);
    if temporary && !user.required_actions.iter().any(|a| a == "UPDATE_PASSWORD") {
        user.required_actions.push("UPDATE_PASSWORD".into());
    }
    Ok(no_content())
}

/// `PUT /users/{id}/execute-actions-email` with the checks of `UserResource.executeActionsEmail`.
pub async fn execute_actions_email(
    State(shared): State<Arc<Shared>>,
    Path((realm, id)): Path<(String, String)>,
    axum::extract::Query(q): Query,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageUsers)?;
    let actions: Vec<String> = parse_json(&headers, &body)?;
    let mut r = lock(&realm);
    let user = r.user(&id).ok_or_else(ApiError::user_not_found)?;
    let bad = |m: &str| ApiError::message(StatusCode::BAD_REQUEST, m);
    let email = user
        .email
        .clone()
        .ok_or_else(|| bad("User email missing"))?;
    if !user.enabled {
        return Err(bad("User is disabled"));
    }
    let client_id = q.get("client_id").cloned();
    let redirect_uri = q.get("redirect_uri").cloned();
    if redirect_uri.is_some() && client_id.is_none() {
        return Err(bad("Client id missing"));
    }
    let effective_client = client_id.clone().unwrap_or_else(|| "account".to_string());
    let client = r
        .client_by_client_id(&effective_client)
        .ok_or_else(|| bad("Client doesn't exist"))?;
    if client.rep.enabled == Some(false) {
        return Err(bad("Client is not enabled"));
    }
    if actions.iter().any(|a| {
        !r.required_actions
            .iter()
            .any(|k| k.alias == a.as_str() && k.enabled)
    }) {
        return Err(bad("Provided invalid required actions"));
    }
    if !r.smtp_configured {
        return Err(ApiError::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Failed to send execute actions email: Please provide a valid address",
        ));
    }
    let lifespan = q.get("lifespan").and_then(|l| l.parse().ok());
    let user_id = user.id.clone();
    r.sent_emails.push(SentEmail {
        user_id,
        email,
        actions,
        client_id,
        redirect_uri,
        lifespan,
    });
    Ok(no_content())
}

pub async fn get_profile(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::AnyAdmin)?;
    let r = lock(&realm);
    Ok(ok(serde_json::to_value(&r.profile).unwrap_or(Value::Null)))
}

/// `PUT /users/profile` replaces the whole configuration (§6).
pub async fn put_profile(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageRealm)?;
    let config: UpConfig = parse_json(&headers, &body)?;
    profile::validate_config(&config).map_err(|m| ApiError::message(StatusCode::BAD_REQUEST, m))?;
    let mut r = lock(&realm);
    r.profile = config;
    Ok(ok(serde_json::to_value(&r.profile).unwrap_or(Value::Null)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_is_prefix_by_default_and_supports_infix_and_exact() {
        let user = User {
            username: "ada.lovelace".into(),
            email: Some("ada@example.com".into()),
            ..Default::default()
        };
        assert!(search_matches(&user, "ada"));
        assert!(!search_matches(&user, "love"));
        assert!(search_matches(&user, "*love*"));
        assert!(search_matches(&user, "\"ada@example.com\""));
        assert!(!search_matches(&user, "\"ada\""));
    }

    #[test]
    fn wildcard_matching() {
        assert!(wildcard_match("a*", "abc"));
        assert!(wildcard_match("*b*", "abc"));
        assert!(wildcard_match("*c", "abc"));
        assert!(!wildcard_match("*d*", "abc"));
        assert!(wildcard_match("abc", "ABC"));
        assert!(!wildcard_match("ab", "abc"));
    }
}
