//! `POST /realms/{realm}/protocol/openid-connect/token` (keycloak-target.md §1): password,
//! refresh_token and client_credentials grants with Keycloak's error bodies, and the
//! password check of imported users (§4 "Login with an imported hash").

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::json;

use crate::auth::{RefreshToken, Subject};
use crate::error::ApiError;
use crate::password::{self, HashPolicy};
use crate::routes::ok;
use crate::server::Shared;
use crate::stats::lock;

fn invalid_credentials() -> ApiError {
    ApiError::oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_grant",
        "Invalid user credentials",
    )
}

fn invalid_client() -> ApiError {
    ApiError::oauth(
        StatusCode::UNAUTHORIZED,
        "unauthorized_client",
        "Invalid client or Invalid client credentials",
    )
}

/// Client id and secret from the form or from HTTP Basic (`client_secret_basic`).
fn client_auth(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|text| {
            text.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        ),
    }
}

pub async fn token(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let realm = shared
        .realm(&realm_name)
        .ok_or_else(|| ApiError::web(StatusCode::NOT_FOUND, "Realm does not exist"))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| {
        ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Malformed form body",
        )
    })?;
    let form: HashMap<String, String> = pairs.into_iter().collect();
    let grant = form.get("grant_type").ok_or_else(|| {
        ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing form parameter: grant_type",
        )
    })?;
    let (client_id, client_secret) = client_auth(&headers, &form);
    let now = shared.now_ms();
    let lifespan_secs = lock(&realm).access_token_lifespan_secs;

    match grant.as_str() {
        "password" => {
            let client_id = client_id.ok_or_else(invalid_client)?;
            {
                let r = lock(&realm);
                let client = r
                    .client_by_client_id(&client_id)
                    .ok_or_else(invalid_client)?;
                if !client.is_public() {
                    // Confidential clients would need their secret; the emulator's only
                    // confidential clients are the configured service clients.
                    let known = shared.config.service_clients.iter().any(|s| {
                        s.realm == realm_name
                            && s.client_id == client_id
                            && Some(&s.secret) == client_secret.as_ref()
                    });
                    if !known {
                        return Err(invalid_client());
                    }
                } else if !client.direct_access_grants() {
                    return Err(ApiError::oauth(
                        StatusCode::BAD_REQUEST,
                        "unauthorized_client",
                        "Client not allowed for direct access grants",
                    ));
                }
            }
            let username = form.get("username").cloned().unwrap_or_default();
            let pw = form.get("password").cloned().unwrap_or_default();
            let subject = if realm_name == "master"
                && username.eq_ignore_ascii_case(&shared.config.admin_username)
            {
                if pw != shared.config.admin_password {
                    return Err(invalid_credentials());
                }
                Subject::Admin
            } else {
                let user_id = login(&shared, &realm, &username, &pw)?;
                Subject::User {
                    realm: realm_name.clone(),
                    user_id,
                }
            };
            Ok(issue(
                &shared,
                &realm_name,
                &client_id,
                subject,
                lifespan_secs,
                now,
                now,
                true,
            ))
        }
        "refresh_token" => {
            let presented = form.get("refresh_token").ok_or_else(|| {
                ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "No refresh token",
                )
            })?;
            let stored = lock(&shared.tokens).refresh(presented).cloned();
            let stored = stored.filter(|t| t.realm == realm_name).ok_or_else(|| {
                ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token",
                )
            })?;
            if client_id.as_deref() != Some(stored.client_id.as_str()) {
                return Err(ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid refresh token. Token client and authorized client don't match",
                ));
            }
            if now >= stored.expires_at_ms {
                return Err(ApiError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Token is not active",
                ));
            }
            Ok(issue(
                &shared,
                &realm_name,
                &stored.client_id,
                stored.subject,
                lifespan_secs,
                now,
                stored.session_started_ms,
                true,
            ))
        }
        "client_credentials" => {
            let (Some(client_id), Some(secret)) = (client_id, client_secret) else {
                return Err(invalid_client());
            };
            let service = shared
                .config
                .service_clients
                .iter()
                .find(|s| s.realm == realm_name && s.client_id == client_id && s.secret == secret)
                .ok_or_else(invalid_client)?;
            let subject = Subject::Service {
                realm: service.realm.clone(),
                client_id: service.client_id.clone(),
                roles: service.roles.clone(),
            };
            // `client_credentials.use_refresh_token` is false by default: no refresh token.
            Ok(issue(
                &shared,
                &realm_name,
                &client_id,
                subject,
                lifespan_secs,
                now,
                now,
                false,
            ))
        }
        _ => Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant_type",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
fn issue(
    shared: &Shared,
    realm: &str,
    client_id: &str,
    subject: Subject,
    lifespan_secs: u64,
    now: i64,
    session_started_ms: i64,
    with_refresh: bool,
) -> Response {
    let lifespan_ms = i64::try_from(lifespan_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let mut tokens = lock(&shared.tokens);
    let access = tokens.issue_access(subject.clone(), now.saturating_add(lifespan_ms), now);
    let mut body = json!({
        "access_token": access,
        "expires_in": lifespan_secs,
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": "profile email",
    });
    if with_refresh {
        let idle =
            i64::try_from(shared.config.refresh_token_lifespan.as_millis()).unwrap_or(i64::MAX);
        let max = i64::try_from(shared.config.sso_max_lifespan.as_millis()).unwrap_or(i64::MAX);
        let expires = now
            .saturating_add(idle)
            .min(session_started_ms.saturating_add(max));
        let refresh = tokens.issue_refresh(RefreshToken {
            realm: realm.to_string(),
            client_id: client_id.to_string(),
            subject,
            expires_at_ms: expires,
            session_started_ms,
        });
        if let Some(obj) = body.as_object_mut() {
            obj.insert("refresh_token".into(), json!(refresh));
            obj.insert(
                "refresh_expires_in".into(),
                json!((expires - now).max(0) / 1000),
            );
            obj.insert(
                "session_state".into(),
                json!(uuid::Uuid::new_v4().to_string()),
            );
        }
    }
    ok(body)
}

/// Direct-grant login of a realm user: username (or email when allowed) and password
/// checked the way Keycloak does; on success a hash that fails the realm policy is
/// re-encoded (`rehashPasswordIfRequired`, §4).
fn login(
    shared: &Shared,
    realm: &std::sync::Mutex<crate::model::Realm>,
    username: &str,
    pw: &str,
) -> Result<String, ApiError> {
    let providers = &shared.config.hash_providers;
    let mut r = lock(realm);
    let user = r
        .user_by_username(username)
        .or_else(|| {
            if r.login_with_email_allowed && r.email_owners(username) == 1 {
                r.user_by_email(username)
            } else {
                None
            }
        })
        .ok_or_else(invalid_credentials)?;
    if !user.enabled {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Account disabled",
        ));
    }
    let matched = user.credentials.iter().position(|c| {
        c.type_ == "password" && password::verify(providers, &c.secret_data, &c.credential_data, pw)
    });
    let Some(index) = matched else {
        return Err(invalid_credentials());
    };
    if !user.required_actions.is_empty() {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Account is not fully set up",
        ));
    }
    let user_id = user.id.clone();
    let policy = HashPolicy::parse(r.password_policy.as_deref(), providers);
    if let Some(user) = r.user_mut(&user_id) {
        if let Some(cred) = user.credentials.get_mut(index) {
            if !password::policy_check(&policy, &cred.credential_data, &cred.secret_data) {
                if let Ok((secret, data)) = password::encode(&policy, providers, pw) {
                    cred.secret_data = secret;
                    cred.credential_data = data;
                }
            }
        }
    }
    Ok(user_id)
}
