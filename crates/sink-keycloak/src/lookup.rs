//! Reads of the target realm shared by preflight, structure creation, existence checks and
//! verification. Responses are parsed leniently (unknown fields ignored) so that a newer server
//! adding fields never breaks a read; only what the sink sends is strict.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::client::{encode_segment, ApiRequest, KeycloakClient};
use crate::error::SinkError;
use crate::targets::GroupPath;

/// Page size for role listings.
const ROLE_PAGE_SIZE: usize = 500;
/// Upper bound of groups read per user when verifying.
pub(crate) const USER_GROUPS_MAX: usize = 1_000;

/// The realm settings the sink needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RealmInfo {
    #[serde(default)]
    pub(crate) duplicate_emails_allowed: Option<bool>,
    /// `{}` when no mail server is configured (older servers may omit it).
    #[serde(default)]
    pub(crate) smtp_server: Option<BTreeMap<String, serde_json::Value>>,
}

impl RealmInfo {
    /// Whether the realm can send e-mail: an SMTP map with a non-empty `host`.
    pub(crate) fn smtp_configured(&self) -> bool {
        self.smtp_server
            .as_ref()
            .and_then(|m| m.get("host"))
            .and_then(serde_json::Value::as_str)
            .is_some_and(|h| !h.trim().is_empty())
    }
}

/// A user as the server returns it (the fields the sink compares).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ServerUser {
    pub(crate) id: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) enabled: Option<bool>,
    pub(crate) email_verified: Option<bool>,
    #[serde(default)]
    pub(crate) required_actions: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) attributes: Option<BTreeMap<String, serde_json::Value>>,
}

/// A role as mappings need it: Keycloak matches mapping entries by name AND id (§3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RoleRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Named {
    #[serde(default)]
    pub(crate) name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientRef {
    pub(crate) id: Option<String>,
    pub(crate) client_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct GroupRef {
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) path: Option<String>,
}

/// `GET /admin/realms/{realm}`: `None` when the realm does not exist.
pub(crate) async fn realm_info(client: &KeycloakClient) -> Result<Option<RealmInfo>, SinkError> {
    let req = ApiRequest::get(client.realm_path(""));
    let resp = client.send(&req).await?;
    match resp.status {
        200 => resp.json(&req).map(Some),
        404 => Ok(None),
        _ => Err(resp.into_error(&req)),
    }
}

/// Every realm role name (paged).
pub(crate) async fn realm_role_names(
    client: &KeycloakClient,
) -> Result<BTreeSet<String>, SinkError> {
    paged_names(client, client.realm_path("/roles")).await
}

/// Every role name of a client (by internal id).
pub(crate) async fn client_role_names(
    client: &KeycloakClient,
    client_uuid: &str,
) -> Result<BTreeSet<String>, SinkError> {
    paged_names(
        client,
        client.realm_path(&format!("/clients/{}/roles", encode_segment(client_uuid))),
    )
    .await
}

async fn paged_names(client: &KeycloakClient, path: String) -> Result<BTreeSet<String>, SinkError> {
    let mut names = BTreeSet::new();
    let mut first = 0usize;
    loop {
        let req = ApiRequest::get(path.clone())
            .query("first", first.to_string())
            .query("max", ROLE_PAGE_SIZE.to_string())
            .query("briefRepresentation", "true");
        let page: Vec<Named> = client.get_json(&req).await?;
        let count = page.len();
        let before = names.len();
        names.extend(page.into_iter().filter_map(|r| r.name));
        // A server that ignores paging returns the same full list again: stop when nothing is new.
        if count < ROLE_PAGE_SIZE || names.len() == before {
            return Ok(names);
        }
        first += count;
    }
}

/// The id of a role by name, under a roles collection path (`.../roles` of the realm or of a
/// client); `None` when it does not exist.
pub(crate) async fn role_id(
    client: &KeycloakClient,
    roles_path: &str,
    name: &str,
) -> Result<Option<String>, SinkError> {
    Ok(role(client, roles_path, name).await?.and_then(|r| r.id))
}

/// A role (id and name) by name under a roles collection path; `None` when it does not exist.
pub(crate) async fn role(
    client: &KeycloakClient,
    roles_path: &str,
    name: &str,
) -> Result<Option<RoleRef>, SinkError> {
    let req = ApiRequest::get(format!("{roles_path}/{}", encode_segment(name)));
    let resp = client.send(&req).await?;
    match resp.status {
        200 => resp.json(&req).map(Some),
        404 => Ok(None),
        _ => Err(resp.into_error(&req)),
    }
}

/// The internal id of a client by `clientId` (exact match).
pub(crate) async fn find_client(
    client: &KeycloakClient,
    client_id: &str,
) -> Result<Option<String>, SinkError> {
    let req = ApiRequest::get(client.realm_path("/clients")).query("clientId", client_id);
    let found: Vec<ClientRef> = client.get_json(&req).await?;
    Ok(found
        .into_iter()
        .find(|c| c.client_id.as_deref() == Some(client_id))
        .and_then(|c| c.id))
}

/// The id of a group by path (`GET /group-by-path/{path}`), `None` when absent.
pub(crate) async fn find_group(
    client: &KeycloakClient,
    path: &GroupPath,
) -> Result<Option<String>, SinkError> {
    let encoded: Vec<String> = path
        .segments
        .iter()
        .map(|s| encode_segment(&s.replace('/', "\\/")))
        .collect();
    let req = ApiRequest::get(client.realm_path(&format!("/group-by-path/{}", encoded.join("/"))));
    let resp = client.send(&req).await?;
    match resp.status {
        200 => Ok(resp.json::<GroupRef>(&req)?.id),
        404 => Ok(None),
        _ => Err(resp.into_error(&req)),
    }
}

/// The user with exactly this username (`exact=true`; Keycloak stores usernames lower-cased).
pub(crate) async fn find_user_by_username(
    client: &KeycloakClient,
    username: &str,
) -> Result<Option<ServerUser>, SinkError> {
    let req = ApiRequest::get(client.realm_path("/users"))
        .query("username", username)
        .query("exact", "true")
        .query("briefRepresentation", "false");
    let found: Vec<ServerUser> = client.get_json(&req).await?;
    let wanted = username.to_lowercase();
    Ok(found
        .into_iter()
        .find(|u| u.username.as_deref().map(str::to_lowercase).as_deref() == Some(wanted.as_str())))
}

/// `GET /users/{id}`; `None` when the user does not exist.
pub(crate) async fn user_by_id(
    client: &KeycloakClient,
    id: &str,
) -> Result<Option<ServerUser>, SinkError> {
    let req = ApiRequest::get(client.realm_path(&format!("/users/{}", encode_segment(id))));
    let resp = client.send(&req).await?;
    match resp.status {
        200 => resp.json(&req).map(Some),
        404 => Ok(None),
        _ => Err(resp.into_error(&req)),
    }
}

/// A user with exactly this email.
pub(crate) async fn find_user_by_email(
    client: &KeycloakClient,
    email: &str,
) -> Result<Option<ServerUser>, SinkError> {
    let req = ApiRequest::get(client.realm_path("/users"))
        .query("email", email)
        .query("exact", "true")
        .query("briefRepresentation", "true");
    let found: Vec<ServerUser> = client.get_json(&req).await?;
    let wanted = email.to_lowercase();
    Ok(found
        .into_iter()
        .find(|u| u.email.as_deref().map(str::to_lowercase).as_deref() == Some(wanted.as_str())))
}
