//! Realms: `GET/POST /admin/realms`, `GET/PUT/DELETE /admin/realms/{realm}`
//! (keycloak-target.md §10 "Realm").
//!
//! `POST` takes a `RealmRepresentation`; embedded `clients`, `roles`, `groups`,
//! `identityProviders` and `users` go through the import path, and a declarative user
//! profile can come as the `UserProfileProvider` component (§6). Top-level realm fields the
//! emulator does not model are accepted and ignored (the full field list is not typed).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kcm_keycloak_types::{PartialImportRepresentation, Policy, UpConfig};
use serde_json::{json, Map, Value};

use crate::auth::{self, Need, Subject};
use crate::config::{RealmSettings, DEFAULT_REALM_ACCESS_TOKEN_LIFESPAN};
use crate::error::ApiError;
use crate::import::{self, ImportEnv, ImportError, TxBudget};
use crate::model::Realm;
use crate::routes::{created, encode_segment, no_content, ok, parse_json};
use crate::server::Shared;
use crate::stats::lock;

/// Key of the user-profile component in a realm representation (§6).
const UP_PROVIDER: &str = "org.keycloak.userprofile.UserProfileProvider";
const UP_CONFIG_KEY: &str = "kc.user.profile.config";

pub fn realm_value(realm: &Realm) -> Value {
    let default_role = realm.roles.get(&realm.default_role_name());
    let mut v = json!({
        "id": realm.id,
        "realm": realm.name,
        "enabled": realm.enabled,
        "duplicateEmailsAllowed": realm.duplicate_emails_allowed,
        "registrationEmailAsUsername": realm.registration_email_as_username,
        "loginWithEmailAllowed": realm.login_with_email_allowed,
        "editUsernameAllowed": realm.edit_username_allowed,
        "accessTokenLifespan": realm.access_token_lifespan_secs,
        "defaultRole": default_role.map(|r| json!({
            "id": r.id, "name": r.name, "composite": true, "clientRole": false, "containerId": realm.id
        })),
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(name) = &realm.display_name {
            obj.insert("displayName".into(), json!(name));
        }
        if let Some(policy) = &realm.password_policy {
            obj.insert("passwordPolicy".into(), json!(policy));
        }
        // `ModelToRepresentation` always copies the SMTP map: `{}` when nothing is configured.
        let smtp = if realm.smtp_configured {
            json!({"host": "localhost", "port": "25", "from": "keycloak@localhost"})
        } else {
            json!({})
        };
        obj.insert("smtpServer".into(), smtp);
    }
    v
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let subject = shared.authenticate(&headers)?;
    let realms: Vec<_> = lock(&shared.realms).values().cloned().collect();
    let mut out = Vec::new();
    for realm in realms {
        let r = lock(&realm);
        if auth::permits(&subject, Some(&r.name), Need::AnyAdmin) {
            out.push(realm_value(&r));
        }
    }
    if out.is_empty() {
        return Err(ApiError::forbidden());
    }
    Ok(ok(Value::Array(out)))
}

pub async fn get_one(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::AnyAdmin)?;
    let r = lock(&realm);
    Ok(ok(realm_value(&r)))
}

fn bool_field(obj: &Map<String, Value>, key: &str) -> Option<bool> {
    obj.get(key).and_then(Value::as_bool)
}

/// Applies the modelled realm settings present in a representation.
fn apply_settings(realm: &mut Realm, obj: &Map<String, Value>) -> Result<(), ApiError> {
    if let Some(v) = bool_field(obj, "enabled") {
        realm.enabled = v;
    }
    if let Some(v) = bool_field(obj, "duplicateEmailsAllowed") {
        realm.duplicate_emails_allowed = v;
    }
    if let Some(v) = bool_field(obj, "registrationEmailAsUsername") {
        realm.registration_email_as_username = v;
    }
    if let Some(v) = bool_field(obj, "loginWithEmailAllowed") {
        realm.login_with_email_allowed = v;
    }
    if let Some(v) = bool_field(obj, "editUsernameAllowed") {
        realm.edit_username_allowed = v;
    }
    if let Some(v) = obj.get("displayName").and_then(Value::as_str) {
        realm.display_name = Some(v.to_string());
    }
    if let Some(v) = obj.get("passwordPolicy").and_then(Value::as_str) {
        realm.password_policy = Some(v.to_string()).filter(|p| !p.is_empty());
    }
    if let Some(v) = obj.get("accessTokenLifespan").and_then(Value::as_u64) {
        realm.access_token_lifespan_secs = v;
    }
    if let Some(smtp) = obj.get("smtpServer").and_then(Value::as_object) {
        realm.smtp_configured = smtp
            .get("host")
            .and_then(Value::as_str)
            .is_some_and(|h| !h.is_empty());
    }
    if let Some(text) = obj
        .get("components")
        .and_then(|c| c.get(UP_PROVIDER))
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .and_then(|c| c.get("config"))
        .and_then(|c| c.get(UP_CONFIG_KEY))
        .and_then(Value::as_array)
        .and_then(|v| v.first())
        .and_then(Value::as_str)
    {
        let config: UpConfig =
            serde_json::from_str(text).map_err(|_| ApiError::json(StatusCode::BAD_REQUEST))?;
        crate::profile::validate_config(&config)
            .map_err(|m| ApiError::message(StatusCode::BAD_REQUEST, m))?;
        realm.profile = config;
    }
    Ok(())
}

pub async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let subject = shared.authenticate(&headers)?;
    let value: Value = parse_json(&headers, &body)?;
    let Value::Object(obj) = value else {
        return Err(ApiError::json(StatusCode::BAD_REQUEST));
    };
    if !auth::permits(&subject, None, Need::CreateRealm) {
        return Err(ApiError::forbidden());
    }
    let name = obj
        .get("realm")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::message(StatusCode::BAD_REQUEST, "Realm name cannot be empty"))?
        .to_string();
    // Embedded resources are strict representations, like everywhere else.
    let mut embedded = Map::new();
    for key in ["users", "groups", "clients", "identityProviders", "roles"] {
        if let Some(v) = obj.get(key) {
            embedded.insert(key.to_string(), v.clone());
        }
    }
    let mut import_rep: PartialImportRepresentation =
        serde_json::from_value(Value::Object(embedded))
            .map_err(|_| ApiError::json(StatusCode::BAD_REQUEST))?;
    // Roles, clients named in the representation define the realm's own (exports list the
    // built-in ones too), so they replace the built-ins instead of conflicting.
    import_rep.if_resource_exists = Some(Policy::Overwrite);

    let mut settings = RealmSettings::new(name.clone());
    settings.enabled = false;
    let mut realm = Realm::new(
        &settings,
        obj.get("id").and_then(Value::as_str).map(str::to_string),
        DEFAULT_REALM_ACCESS_TOKEN_LIFESPAN.as_secs(),
        shared.config.smtp_configured,
    );
    apply_settings(&mut realm, &obj)?;
    let fail_names = shared.fail_user_names();
    let env = ImportEnv {
        providers: &shared.config.hash_providers,
        now_ms: shared.now_ms(),
        fail_user_names: &fail_names,
        keep_client_ids: true,
    };
    let budget = TxBudget {
        timeout: Duration::MAX,
        cost_per_resource: Duration::ZERO,
    };
    import::partial_import(&mut realm, &import_rep, &env, &budget).map_err(|e| match e {
        ImportError::Conflict(_) => ApiError::exists("Conflict detected. See logs for details"),
        ImportError::PolicyNotMet(..) => ApiError::message(
            StatusCode::BAD_REQUEST,
            "Password policy not met. See logs for details",
        ),
        other => ApiError::from(other),
    })?;
    if !shared.add_realm(realm) {
        return Err(ApiError::exists("Conflict detected. See logs for details"));
    }
    Ok(created(&format!(
        "{}/admin/realms/{}",
        shared.base_url,
        encode_segment(&name)
    )))
}

pub async fn update(
    State(shared): State<Arc<Shared>>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, realm) = shared.admin(&headers, &realm, Need::ManageRealm)?;
    let value: Value = parse_json(&headers, &body)?;
    let Value::Object(obj) = value else {
        return Err(ApiError::json(StatusCode::BAD_REQUEST));
    };
    let mut r = lock(&realm);
    apply_settings(&mut r, &obj)?;
    Ok(no_content())
}

pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(realm_name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (subject, _) = shared.admin(&headers, &realm_name, Need::ManageRealm)?;
    if realm_name == "master" || !matches!(subject, Subject::Admin | Subject::Service { .. }) {
        return Err(ApiError::forbidden());
    }
    shared.remove_realm(&realm_name);
    Ok(no_content())
}
