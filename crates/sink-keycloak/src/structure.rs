//! Creates what users refer to, in Keycloak's dependency order (keycloak-target.md §10): realm
//! roles → clients that own client roles → client roles → groups top-down. Every step is
//! idempotent: existing objects are counted, a 409 on create means "exists" and is looked up.
//! Each object this run creates is written to the journal (with its id) as soon as Keycloak
//! confirms it, so that a rollback can remove exactly those; a 409 (someone else created it)
//! is not recorded.

use std::collections::{BTreeMap, BTreeSet};

use kcm_keycloak_types::{ClientRepresentation, GroupRepresentation, RoleRepresentation};
use reqwest::Method;

use crate::client::{encode_segment, ApiRequest, KeycloakClient};
use crate::error::SinkError;
use crate::journal::{CreatedKind, CreatedObject, Entry, JournalWriter};
use crate::lookup;
use crate::progress::{Phase, Progress};
use crate::report::{Counts, StructureReport};
use crate::targets::{GroupPath, LoadTargets, RoleSpec};

/// Creates missing realm roles, clients, client roles and groups; fills the counters of `report`.
pub(crate) async fn ensure_structure(
    client: &KeycloakClient,
    targets: &LoadTargets,
    report: &mut StructureReport,
    journal: &mut JournalWriter,
    progress: &dyn Progress,
) -> Result<(), SinkError> {
    if !targets.realm_roles.is_empty() {
        let existing = lookup::realm_role_names(client).await?;
        report.realm_roles = ensure_roles(
            client,
            client.realm_path("/roles"),
            None,
            &targets.realm_roles,
            &existing,
            journal,
        )
        .await?;
        progress.advance(
            Phase::Structure,
            report.realm_roles.created + report.realm_roles.existing,
        );
    }
    let mut client_ids: BTreeMap<String, String> = BTreeMap::new();
    for client_id in targets.all_clients() {
        let (uuid, created) = ensure_client(client, &client_id).await?;
        if created {
            report.clients.created += 1;
            journal.append(&Entry::Created(
                CreatedObject::new(CreatedKind::Client, client_id.clone())
                    .with_id(Some(uuid.clone())),
            ))?;
        } else {
            report.clients.existing += 1;
        }
        client_ids.insert(client_id, uuid);
        progress.advance(Phase::Structure, 1);
    }
    for (client_id, roles) in &targets.client_roles {
        let Some(uuid) = client_ids.get(client_id) else {
            continue;
        };
        let existing = lookup::client_role_names(client, uuid).await?;
        let path = client.realm_path(&format!("/clients/{}/roles", encode_segment(uuid)));
        let counts = ensure_roles(client, path, Some(client_id), roles, &existing, journal).await?;
        report.client_roles.created += counts.created;
        report.client_roles.existing += counts.existing;
        progress.advance(Phase::Structure, counts.created + counts.existing);
    }
    let mut group_ids: BTreeMap<GroupPath, String> = BTreeMap::new();
    for path in targets.all_group_paths() {
        let parent_id = match path.parent() {
            Some(parent) => match group_ids.get(&parent) {
                Some(id) => Some(id.clone()),
                // The parent path could not be resolved; the child cannot be created either.
                None => continue,
            },
            None => None,
        };
        let (id, created) = ensure_group(client, &path, parent_id.as_deref()).await?;
        if created {
            report.groups.created += 1;
            journal.append(&Entry::Created(
                CreatedObject::new(CreatedKind::Group, path.render()).with_id(Some(id.clone())),
            ))?;
        } else {
            report.groups.existing += 1;
        }
        group_ids.insert(path, id);
        progress.advance(Phase::Structure, 1);
    }
    Ok(())
}

/// Creates the missing roles of one container (`client_id` `None`: the realm). A created role
/// is read back by name for its id (the `Location` of a created role ends with its name, §10).
async fn ensure_roles(
    client: &KeycloakClient,
    path: String,
    client_id: Option<&str>,
    roles: &[RoleSpec],
    existing: &BTreeSet<String>,
    journal: &mut JournalWriter,
) -> Result<Counts, SinkError> {
    let mut counts = Counts::default();
    let mut seen = BTreeSet::new();
    for role in roles {
        if role.name.is_empty() || !seen.insert(role.name.as_str()) {
            continue;
        }
        if existing.contains(&role.name) {
            counts.existing += 1;
            continue;
        }
        let body = RoleRepresentation {
            name: Some(role.name.clone()),
            description: role.description.clone(),
            attributes: role.attributes.clone(),
            ..Default::default()
        };
        let req = ApiRequest::with_json(Method::POST, path.clone(), &body)?;
        let resp = client.send(&req).await?;
        match resp.status {
            201 | 204 => {
                counts.created += 1;
                let id = lookup::role_id(client, &path, &role.name).await?;
                let kind = match client_id {
                    None => CreatedKind::RealmRole,
                    Some(_) => CreatedKind::ClientRole,
                };
                let mut object = CreatedObject::new(kind, role.name.clone()).with_id(id);
                object.client_id = client_id.map(str::to_string);
                journal.append(&Entry::Created(object))?;
            }
            409 => counts.existing += 1,
            _ => return Err(resp.into_error(&req)),
        }
    }
    Ok(counts)
}

/// The client's internal id, creating a role-container client when missing. The created client
/// is confidential and bearer-only with every login flow off: it exists to own roles and cannot
/// be used to obtain tokens.
async fn ensure_client(
    client: &KeycloakClient,
    client_id: &str,
) -> Result<(String, bool), SinkError> {
    if let Some(uuid) = lookup::find_client(client, client_id).await? {
        return Ok((uuid, false));
    }
    let body = ClientRepresentation {
        client_id: Some(client_id.to_string()),
        enabled: Some(true),
        public_client: Some(false),
        bearer_only: Some(true),
        standard_flow_enabled: Some(false),
        direct_access_grants_enabled: Some(false),
        service_accounts_enabled: Some(false),
        protocol: Some("openid-connect".into()),
        ..Default::default()
    };
    let req = ApiRequest::with_json(Method::POST, client.realm_path("/clients"), &body)?;
    let resp = client.send(&req).await?;
    let created = match resp.status {
        201 | 204 => true,
        409 => false,
        _ => return Err(resp.into_error(&req)),
    };
    match lookup::find_client(client, client_id).await? {
        Some(uuid) => Ok((uuid, created)),
        None => Err(SinkError::Api {
            method: "GET".into(),
            path: client.realm_path("/clients"),
            status: 404,
            message: format!("client {client_id} not found after creating it"),
        }),
    }
}

async fn ensure_group(
    client: &KeycloakClient,
    path: &GroupPath,
    parent_id: Option<&str>,
) -> Result<(String, bool), SinkError> {
    if let Some(id) = lookup::find_group(client, path).await? {
        return Ok((id, false));
    }
    let target = match parent_id {
        Some(parent) => client.realm_path(&format!("/groups/{}/children", encode_segment(parent))),
        None => client.realm_path("/groups"),
    };
    let body = GroupRepresentation {
        name: Some(path.name().to_string()),
        ..Default::default()
    };
    let req = ApiRequest::with_json(Method::POST, target, &body)?;
    let resp = client.send(&req).await?;
    let created = match resp.status {
        201 | 200 => {
            let id = resp.location_id().or_else(|| {
                serde_json::from_slice::<lookup::GroupRef>(&resp.body)
                    .ok()
                    .and_then(|g| g.id)
            });
            if let Some(id) = id {
                return Ok((id, true));
            }
            true
        }
        409 => false,
        _ => return Err(resp.into_error(&req)),
    };
    match lookup::find_group(client, path).await? {
        Some(id) => Ok((id, created)),
        None => Err(SinkError::Api {
            method: "GET".into(),
            path: client.realm_path("/group-by-path"),
            status: 404,
            message: format!("group {} not found after creating it", path.render()),
        }),
    }
}
