//! Preflight: reads the target before anything is written — server version and password-hash
//! providers (the capability set for credential conversion, keycloak-target.md §4 and §11),
//! the realm, which planned roles, clients and groups exist, missing identity providers and
//! what the user profile would hide. Also realm creation.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use crate::client::{ApiRequest, KeycloakClient};
use crate::error::SinkError;
use crate::lookup;
use crate::targets::LoadTargets;
use crate::user_profile::{self, UserProfileCheck};

/// What the target looks like.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preflight {
    /// `systemInfo.version` from `/admin/serverinfo` (hidden from non-master admins on newer servers).
    pub server_version: Option<String>,
    /// Password-hashing provider ids the server has (`pbkdf2-sha512`, `argon2`, plugins...).
    pub hash_providers: BTreeSet<String>,
    pub realm_exists: bool,
    pub duplicate_emails_allowed: bool,
    /// Planned realm roles that exist.
    pub existing_realm_roles: BTreeSet<String>,
    /// Planned clients (by clientId) that exist.
    pub existing_clients: BTreeSet<String>,
    /// Planned client roles that exist, by clientId.
    pub existing_client_roles: BTreeMap<String, BTreeSet<String>>,
    /// Planned group paths (ancestors included) that exist.
    pub existing_groups: BTreeSet<String>,
    /// Identity providers users link to that the realm lacks (`create_identity_providers`
    /// creates disabled placeholders for them on request).
    pub missing_identity_providers: BTreeSet<String>,
    pub user_profile: UserProfileCheck,
    /// Things that could not be read (e.g. serverinfo forbidden) — not fatal.
    pub warnings: Vec<String>,
}

/// Reads the target. Only reads: nothing is created.
pub async fn preflight(
    client: &KeycloakClient,
    targets: &LoadTargets,
) -> Result<Preflight, SinkError> {
    let mut out = Preflight::default();
    read_server_info(client, &mut out).await?;
    let Some(realm) = lookup::realm_info(client).await? else {
        out.warnings
            .push(format!("realm {} does not exist", client.realm()));
        return Ok(out);
    };
    out.realm_exists = true;
    out.duplicate_emails_allowed = realm.duplicate_emails_allowed.unwrap_or(false);

    if !targets.realm_roles.is_empty() {
        let existing = lookup::realm_role_names(client).await?;
        out.existing_realm_roles = targets
            .realm_roles
            .iter()
            .map(|r| r.name.clone())
            .filter(|n| existing.contains(n))
            .collect();
    }
    for client_id in targets.all_clients() {
        let Some(uuid) = lookup::find_client(client, &client_id).await? else {
            continue;
        };
        out.existing_clients.insert(client_id.clone());
        if let Some(planned) = targets.client_roles.get(&client_id) {
            let existing = lookup::client_role_names(client, &uuid).await?;
            let present: BTreeSet<String> = planned
                .iter()
                .map(|r| r.name.clone())
                .filter(|n| existing.contains(n))
                .collect();
            out.existing_client_roles.insert(client_id.clone(), present);
        }
    }
    for path in targets.all_group_paths() {
        if lookup::find_group(client, &path).await?.is_some() {
            out.existing_groups.insert(path.render());
        }
    }
    if !targets.identity_provider_aliases.is_empty() {
        match identity_provider_aliases(client).await {
            Ok(existing) => {
                out.missing_identity_providers = targets
                    .identity_provider_aliases
                    .difference(&existing)
                    .cloned()
                    .collect();
            }
            Err(SinkError::Forbidden { .. }) => out
                .warnings
                .push("identity providers cannot be listed (forbidden): links not checked".into()),
            Err(e) => return Err(e),
        }
    }
    let config = user_profile::read(client).await?;
    out.user_profile = user_profile::check(config.as_ref(), &targets.attribute_names);
    Ok(out)
}

async fn read_server_info(client: &KeycloakClient, out: &mut Preflight) -> Result<(), SinkError> {
    let req = ApiRequest::get("/admin/serverinfo".to_string());
    let resp = client.send(&req).await?;
    match resp.status {
        200 => {
            let info: Value = resp.json(&req)?;
            let (version, providers) = parse_server_info(&info);
            out.server_version = version;
            out.hash_providers = providers;
            if out.hash_providers.is_empty() {
                out.warnings
                    .push("serverinfo lists no password-hashing providers".into());
            }
        }
        403 => out.warnings.push(
            "serverinfo is forbidden for this admin: server version and hash providers unknown"
                .into(),
        ),
        _ => return Err(resp.into_error(&req)),
    }
    Ok(())
}

/// `systemInfo.version` and the keys of `providers["password-hashing"].providers`.
pub(crate) fn parse_server_info(info: &Value) -> (Option<String>, BTreeSet<String>) {
    let version = info
        .pointer("/systemInfo/version")
        .and_then(Value::as_str)
        .map(str::to_string);
    let providers = info
        .pointer("/providers/password-hashing/providers")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    (version, providers)
}

pub(crate) async fn identity_provider_aliases(
    client: &KeycloakClient,
) -> Result<BTreeSet<String>, SinkError> {
    #[derive(serde::Deserialize)]
    struct Idp {
        alias: Option<String>,
    }
    let req = ApiRequest::get(client.realm_path("/identity-provider/instances"));
    let list: Vec<Idp> = client.get_json(&req).await?;
    Ok(list.into_iter().filter_map(|i| i.alias).collect())
}

/// Creates the realm (`{"realm": name, "enabled": true}`, §10) unless it exists. Returns
/// whether it was created by this call.
pub async fn create_realm_if_missing(client: &KeycloakClient) -> Result<bool, SinkError> {
    if lookup::realm_info(client).await?.is_some() {
        return Ok(false);
    }
    let body = serde_json::json!({"realm": client.realm(), "enabled": true});
    let req = ApiRequest::with_json(Method::POST, "/admin/realms".to_string(), &body)?;
    let resp = client.send(&req).await?;
    match resp.status {
        201 | 204 => {
            tracing::info!(realm = client.realm(), "created realm");
            Ok(true)
        }
        // Another process (or a lost response to our own earlier attempt) created it.
        409 => Ok(false),
        _ => Err(resp.into_error(&req)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_info_yields_version_and_hash_providers() {
        let info = json!({
            "systemInfo": {"version": "26.0.7"},
            "providers": {"password-hashing": {"providers": {
                "argon2": {"order": 0}, "pbkdf2-sha512": {}, "pbkdf2": {}, "pbkdf2-sha256": {}
            }}}
        });
        let (v, p) = parse_server_info(&info);
        assert_eq!(v.as_deref(), Some("26.0.7"));
        assert_eq!(
            p.into_iter().collect::<Vec<_>>(),
            vec!["argon2", "pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512"]
        );
        let (v, p) = parse_server_info(&json!({}));
        assert!(v.is_none() && p.is_empty());
    }
}
