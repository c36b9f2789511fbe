//! The "import path" (keycloak-target.md §7 "The import path", §11 checklist 6–8) and the
//! `partialImport` transaction (§2).
//!
//! Import-path users get no user-profile validation, keep attributes verbatim and their
//! `id`, are disabled unless `enabled: true`, get no default role, ignore `temporary`, and
//! auto-create unknown realm roles and client roles; an unknown client or group path is an
//! error. partialImport runs handlers in the order clients → roles → identity providers →
//! groups → users, checks existence against the state before the request (FAIL ⇒ 409 before
//! any write), and works on a copy of the realm that replaces the stored realm only when the
//! whole request succeeded.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::time::Duration;

use axum::http::StatusCode;
use kcm_keycloak_types::{
    ClientRepresentation, CredentialRepresentation, GroupRepresentation,
    IdentityProviderRepresentation, ImportAction, PartialImportRepresentation, PartialImportResult,
    PartialImportResults, Policy, ResourceType, RoleRepresentation, UserRepresentation,
};
use serde_json::Value;

use crate::error::ApiError;
use crate::model::{new_id, Client, Credential, Realm, Role, StoredIdp, User};
use crate::password::{self, HashPolicy};

/// Enum-backed required actions that `getDefaultRequiredActionCaseInsensitively` maps to their
/// canonical spelling; other ids are kept as given.
const CANONICAL_REQUIRED_ACTIONS: [&str; 7] = [
    "VERIFY_EMAIL",
    "UPDATE_PROFILE",
    "CONFIGURE_TOTP",
    "UPDATE_PASSWORD",
    "TERMS_AND_CONDITIONS",
    "VERIFY_PROFILE",
    "UPDATE_EMAIL",
];

/// Size of Keycloak's `USER_ENTITY.USERNAME` / `EMAIL` columns.
const DB_COLUMN_MAX: usize = 255;

/// What the import code needs from the server.
pub struct ImportEnv<'a> {
    pub providers: &'a [String],
    pub now_ms: i64,
    /// Usernames that fail like a record-level problem (fault injection).
    pub fail_user_names: &'a [String],
    /// Realm import (`POST /admin/realms`, kc.sh) keeps client ids; partialImport gives
    /// every client a fresh id (`ClientsPartialImport.create`).
    pub keep_client_ids: bool,
}

/// Why an import step failed, mapped to Keycloak's answers.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportError {
    /// `ModelDuplicateException` / `ErrorResponse.exists` → 409 `{"errorMessage": ...}`.
    Conflict(String),
    /// Any other exception → 500 `unknown_error`. The text is for the emulator's log only.
    Server(String),
    /// Password policy not met on a plaintext credential → 400 (REST create).
    PolicyNotMet(String, Vec<Value>),
    /// `ErrorResponse.error(message, PRECONDITION_FAILED)` → 412 `{"errorMessage": ...}`.
    Precondition(String),
}

impl From<ImportError> for ApiError {
    fn from(err: ImportError) -> ApiError {
        match err {
            ImportError::Conflict(m) => ApiError::exists(m),
            ImportError::Server(m) => {
                tracing::debug!(reason = %m, "import failed: answering 500 unknown_error");
                ApiError::unknown()
            }
            ImportError::Precondition(m) => ApiError::message(StatusCode::PRECONDITION_FAILED, m),
            ImportError::PolicyNotMet(m, params) => ApiError::new(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "errorMessage": m, "params": params }),
            ),
        }
    }
}

fn server(msg: impl Into<String>) -> ImportError {
    ImportError::Server(msg.into())
}

/// `RepresentationToModel.createCredentials`. Returns the credentials to store and whether a
/// plaintext credential asked for `temporary` (honoured only by REST create).
pub fn build_credentials(
    realm: &Realm,
    reps: &[CredentialRepresentation],
    env: &ImportEnv<'_>,
) -> Result<(Vec<Credential>, bool), ImportError> {
    let mut out: Vec<Credential> = Vec::new();
    let mut temporary = false;
    for rep in reps {
        if let Some(id) = &rep.id {
            if out.iter().any(|c| c.id == *id) {
                continue;
            }
        }
        let type_ = rep.type_.clone();
        if let Some(value) = rep.value.as_deref().filter(|v| !v.is_empty()) {
            // A plaintext value is always hashed as a password with the realm policy.
            let policy = HashPolicy::parse(realm.password_policy.as_deref(), env.providers);
            if let Some(min) = policy.min_length {
                if value.chars().count() < min {
                    return Err(ImportError::PolicyNotMet(
                        "invalidPasswordMinLengthMessage".into(),
                        vec![Value::from(min)],
                    ));
                }
            }
            let (secret_data, credential_data) =
                password::encode(&policy, env.providers, value).map_err(server)?;
            temporary |= rep.temporary.unwrap_or(false);
            out.retain(|c| c.type_ != "password");
            out.push(Credential {
                id: new_id(),
                type_: "password".into(),
                user_label: rep.user_label.clone(),
                created_date: Some(env.now_ms),
                secret_data,
                credential_data,
                priority: Some(10),
            });
            continue;
        }
        let (secret_data, credential_data) = match (&rep.secret_data, &rep.credential_data) {
            (Some(s), Some(c)) => (s.clone(), c.clone()),
            _ if matches!(
                type_.as_deref(),
                Some("password") | Some("password-history")
            ) =>
            {
                password::convert_deprecated(
                    rep.hashed_salted_value.as_deref(),
                    rep.salt.as_deref(),
                    rep.hash_iterations,
                    rep.algorithm.as_deref(),
                )
                .map_err(server)?
            }
            // No provider handles a credential without data: nothing is created.
            _ => continue,
        };
        match type_.as_deref() {
            Some("password") | Some("password-history") => {
                password::parse_password_data(&secret_data, &credential_data)
                    .map_err(|e| server(format!("bad password credential: {e}")))?;
            }
            Some(_) => {
                if serde_json::from_str::<Value>(&secret_data).is_err()
                    || serde_json::from_str::<Value>(&credential_data).is_err()
                {
                    return Err(server("credential data is not JSON"));
                }
            }
            None => continue,
        }
        out.push(Credential {
            id: rep.id.clone().unwrap_or_else(new_id),
            type_: type_.unwrap_or_default(),
            user_label: rep.user_label.clone(),
            created_date: Some(rep.created_date.unwrap_or(env.now_ms)),
            secret_data,
            credential_data,
            priority: rep.priority,
        });
    }
    Ok((out, temporary))
}

fn canonical_required_action(action: &str) -> String {
    CANONICAL_REQUIRED_ACTIONS
        .iter()
        .find(|a| a.eq_ignore_ascii_case(action))
        .map(|a| a.to_string())
        .unwrap_or_else(|| action.to_string())
}

/// Finds a realm role by name or creates it (`createRoleMappings` auto-creates).
fn realm_role_or_create(realm: &mut Realm, name: &str) -> String {
    match realm.roles.get(name) {
        Some(role) => role.id.clone(),
        None => realm.add_realm_role(name, None),
    }
}

/// Resolves `clientRoles` (keys are clientIds): unknown client is an error, unknown client
/// role is created.
fn client_roles_or_create(
    realm: &mut Realm,
    client_roles: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, BTreeSet<String>>, ImportError> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (client_id, names) in client_roles {
        let internal = realm
            .client_by_client_id(client_id)
            .map(|c| c.id.clone())
            .ok_or_else(|| {
                server(format!(
                    "Unable to find client role mappings for client: {client_id}"
                ))
            })?;
        for name in names {
            let existing = realm
                .clients
                .get(&internal)
                .and_then(|c| c.roles.get(name))
                .map(|r| r.id.clone());
            let id = match existing {
                Some(id) => id,
                None => realm
                    .add_client_role(&internal, name)
                    .ok_or_else(|| server("client vanished"))?,
            };
            out.entry(internal.clone()).or_default().insert(id);
        }
    }
    Ok(out)
}

/// `DefaultExportImportManager.createUser` — the import path. Returns the new user's id.
pub fn import_user(
    realm: &mut Realm,
    rep: &UserRepresentation,
    env: &ImportEnv<'_>,
) -> Result<String, ImportError> {
    // addUser lower-cases the username; a null username fails (NullPointerException).
    let username = rep
        .username
        .as_deref()
        .ok_or_else(|| server("username is null"))?
        .to_lowercase();
    if env
        .fail_user_names
        .iter()
        .any(|n| n.eq_ignore_ascii_case(&username))
    {
        return Err(server(format!("injected failure for user {username}")));
    }
    // No user-profile validation on this path, only the database column sizes.
    let too_long = |v: &str| v.chars().count() > DB_COLUMN_MAX;
    if too_long(&username) || rep.email.as_deref().is_some_and(too_long) {
        return Err(server("value too long for a USER_ENTITY column"));
    }
    let id = rep.id.clone().unwrap_or_else(new_id);
    let email = rep
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(str::to_lowercase);
    let (credentials, _temporary_is_ignored) =
        build_credentials(realm, rep.credentials.as_deref().unwrap_or(&[]), env)?;
    let mut user = User {
        id: id.clone(),
        username,
        email,
        first_name: rep.first_name.clone(),
        last_name: rep.last_name.clone(),
        email_verified: rep.email_verified.unwrap_or(false),
        enabled: rep.enabled == Some(true),
        created_timestamp: rep.created_timestamp,
        attributes: rep.attributes.clone().unwrap_or_default(),
        required_actions: rep
            .required_actions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(|a| canonical_required_action(a))
            .collect(),
        credentials,
        federated_identities: rep.federated_identities.clone().unwrap_or_default(),
        federation_link: rep.federation_link.clone(),
        not_before: rep.not_before,
        ..Default::default()
    };
    for name in rep.realm_roles.as_deref().unwrap_or(&[]) {
        let role = realm_role_or_create(realm, name);
        user.realm_roles.insert(role);
    }
    if let Some(client_roles) = &rep.client_roles {
        user.client_roles = client_roles_or_create(realm, client_roles)?;
    }
    if let Some(client_id) = &rep.service_account_client_id {
        if realm.client_by_client_id(client_id).is_none() {
            return Err(server(format!(
                "Unable to find client specified for service account link: {client_id}"
            )));
        }
        user.service_account_client_id = Some(client_id.clone());
    }
    for path in rep.groups.as_deref().unwrap_or(&[]) {
        let group = realm
            .find_group_by_path(path)
            .ok_or_else(|| server(format!("Unable to find group specified by path: {path}")))?;
        user.groups.insert(group.id.clone());
    }
    realm
        .insert_user(user)
        .map_err(|d| ImportError::Conflict(d.0))?;
    Ok(id)
}

/// `RepresentationToModel.importGroup`: the group, its attributes and role mappings, and its
/// subgroups recursively; ids are kept.
pub fn import_group(
    realm: &mut Realm,
    parent: Option<&str>,
    rep: &GroupRepresentation,
) -> Result<String, ImportError> {
    let name = rep
        .name
        .as_deref()
        .ok_or_else(|| server("group name is null"))?;
    let id = realm
        .add_group(rep.id.clone(), name, parent)
        .map_err(|d| ImportError::Conflict(d.0))?;
    let mut realm_roles = BTreeSet::new();
    for role in rep.realm_roles.as_deref().unwrap_or(&[]) {
        realm_roles.insert(realm_role_or_create(realm, role));
    }
    let client_roles = match &rep.client_roles {
        Some(map) => client_roles_or_create(realm, map)?,
        None => BTreeMap::new(),
    };
    if let Some(group) = realm.groups.get_mut(&id) {
        group.description = rep.description.clone();
        group.attributes = rep.attributes.clone().unwrap_or_default();
        group.realm_roles = realm_roles;
        group.client_roles = client_roles;
    }
    for sub in rep.sub_groups.as_deref().unwrap_or(&[]) {
        import_group(realm, Some(&id), sub)?;
    }
    Ok(id)
}

/// `RepresentationToModel.createClient`: the id is kept when given and `keep_id`.
pub fn import_client(
    realm: &mut Realm,
    rep: &ClientRepresentation,
    keep_id: bool,
) -> Result<String, ImportError> {
    let client_id = rep
        .client_id
        .clone()
        .ok_or_else(|| server("clientId is null"))?;
    if realm.client_by_client_id(&client_id).is_some() {
        return Err(ImportError::Conflict(format!(
            "Client {client_id} already exists"
        )));
    }
    let id = rep.id.clone().filter(|_| keep_id).unwrap_or_else(new_id);
    if realm.clients.contains_key(&id) {
        return Err(ImportError::Conflict(format!(
            "Client with id {id} already exists"
        )));
    }
    let mut stored = rep.clone();
    stored.id = Some(id.clone());
    if stored.enabled.is_none() {
        stored.enabled = Some(true);
    }
    realm.clients.insert(
        id.clone(),
        Client {
            id: id.clone(),
            client_id,
            rep: stored,
            roles: BTreeMap::new(),
        },
    );
    Ok(id)
}

/// Creates a role from a representation (ids are always fresh: `setUniqueIds`).
fn role_from_rep(rep: &RoleRepresentation, client: Option<&str>) -> Result<Role, ImportError> {
    let name = rep
        .name
        .clone()
        .ok_or_else(|| server("role name is null"))?;
    Ok(Role {
        id: new_id(),
        name,
        description: rep.description.clone(),
        composites: rep.composites.clone().filter(|c| !c.is_null()),
        attributes: rep.attributes.clone().unwrap_or_default(),
        client: client.map(str::to_string),
    })
}

/// Composite roles are resolved after creation; a missing one is a RuntimeException.
fn check_composites(realm: &Realm, composites: &Value) -> Result<(), ImportError> {
    if let Some(names) = composites.get("realm").and_then(Value::as_array) {
        for name in names {
            let name = name.as_str().unwrap_or_default();
            if !realm.roles.contains_key(name) {
                return Err(server(format!(
                    "Unable to find composite realm role: {name}"
                )));
            }
        }
    }
    if let Some(map) = composites.get("client").and_then(Value::as_object) {
        for (client_id, names) in map {
            let client = realm.client_by_client_id(client_id).ok_or_else(|| {
                server(format!("Unable to find client for composite: {client_id}"))
            })?;
            for name in names.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let name = name.as_str().unwrap_or_default();
                if !client.roles.contains_key(name) {
                    return Err(server(format!(
                        "Unable to find composite client role: {name}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// What partialImport decided in phase 1 for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Add,
    Skip,
    Overwrite,
}

fn decide(
    exists: bool,
    policy: Policy,
    message: impl FnOnce() -> String,
) -> Result<Decision, ImportError> {
    if !exists {
        return Ok(Decision::Add);
    }
    match policy {
        Policy::Skip => Ok(Decision::Skip),
        Policy::Overwrite => Ok(Decision::Overwrite),
        Policy::Fail => Err(ImportError::Conflict(message())),
    }
}

fn result(
    action: Decision,
    resource_type: ResourceType,
    name: &str,
    id: Option<String>,
) -> PartialImportResult {
    PartialImportResult {
        action: match action {
            Decision::Add => ImportAction::Added,
            Decision::Skip => ImportAction::Skipped,
            Decision::Overwrite => ImportAction::Overwritten,
        },
        resource_type,
        resource_name: name.to_string(),
        id,
    }
}

/// `UsersPartialImport.exists`: by username, or by email when duplicates are not allowed.
fn existing_user<'a>(realm: &'a Realm, rep: &UserRepresentation) -> Option<&'a User> {
    rep.username
        .as_deref()
        .and_then(|u| realm.user_by_username(u))
        .or_else(|| match (&rep.email, realm.duplicate_emails_allowed) {
            (Some(email), false) => realm.user_by_email(email),
            _ => None,
        })
}

fn user_name(rep: &UserRepresentation) -> String {
    rep.username
        .clone()
        .or_else(|| rep.email.clone())
        .unwrap_or_default()
}

/// `UsersPartialImport.existsMessage`, verbatim including its odd condition.
fn user_exists_message(realm: &Realm, rep: &UserRepresentation) -> String {
    let name = user_name(rep);
    match (&rep.email, realm.duplicate_emails_allowed) {
        (Some(email), true) => {
            format!("User with user name {name} or with email {email} already exists.")
        }
        _ => format!("User with user name {name} already exists."),
    }
}

/// Number of resources a request imports (for the simulated transaction time).
fn resource_count(rep: &PartialImportRepresentation) -> u64 {
    fn groups(list: &[GroupRepresentation]) -> u64 {
        list.iter()
            .map(|g| 1 + groups(g.sub_groups.as_deref().unwrap_or(&[])))
            .sum()
    }
    let roles = rep.roles.as_ref().map_or(0, |r| {
        r.realm.as_ref().map_or(0, Vec::len) as u64
            + r.client
                .as_ref()
                .map_or(0, |m| m.values().map(|v| v.len() as u64).sum())
    });
    rep.users.as_ref().map_or(0, Vec::len) as u64
        + rep.clients.as_ref().map_or(0, Vec::len) as u64
        + rep.identity_providers.as_ref().map_or(0, Vec::len) as u64
        + groups(rep.groups.as_deref().unwrap_or(&[]))
        + roles
}

/// Budget of one transaction (§2 "Transaction timeout").
pub struct TxBudget {
    pub timeout: Duration,
    pub cost_per_resource: Duration,
}

/// `POST /partialImport` on `realm`: all or nothing.
pub fn partial_import(
    realm: &mut Realm,
    rep: &PartialImportRepresentation,
    env: &ImportEnv<'_>,
    budget: &TxBudget,
) -> Result<PartialImportResults, ImportError> {
    let policy = rep.if_resource_exists.unwrap_or(Policy::Fail);
    let empty_clients = Vec::new();
    let clients = rep.clients.as_ref().unwrap_or(&empty_clients);
    let empty_roles = Vec::new();
    let realm_roles = rep
        .roles
        .as_ref()
        .and_then(|r| r.realm.as_ref())
        .unwrap_or(&empty_roles);
    let empty_client_roles = BTreeMap::new();
    let client_roles = rep
        .roles
        .as_ref()
        .and_then(|r| r.client.as_ref())
        .unwrap_or(&empty_client_roles);
    let empty_idps = Vec::new();
    let idps: &Vec<IdentityProviderRepresentation> =
        rep.identity_providers.as_ref().unwrap_or(&empty_idps);
    let empty_groups = Vec::new();
    let groups = rep.groups.as_ref().unwrap_or(&empty_groups);
    let empty_users = Vec::new();
    let users = rep.users.as_ref().unwrap_or(&empty_users);

    // Phase 1 (`prepare`): existence against the state before the request; FAIL answers 409
    // before anything is written.
    let before: &Realm = realm;
    let client_decisions = clients
        .iter()
        .map(|c| {
            let id = c.client_id.clone().unwrap_or_default();
            decide(before.client_by_client_id(&id).is_some(), policy, || {
                format!("Client id '{id}' already exists")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let realm_role_decisions = realm_roles
        .iter()
        .map(|r| {
            let name = r.name.clone().unwrap_or_default();
            decide(before.roles.contains_key(&name), policy, || {
                format!("Realm role '{name}' already exists.")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut client_role_decisions: BTreeMap<&String, Vec<Decision>> = BTreeMap::new();
    for (client_id, roles) in client_roles {
        let in_request = clients
            .iter()
            .any(|c| c.client_id.as_deref() == Some(client_id));
        let existing = before.client_by_client_id(client_id);
        if existing.is_none() && !in_request {
            return Err(ImportError::Precondition(format!(
                "Can not import client roles for nonexistent client named {client_id}"
            )));
        }
        let mut list = Vec::new();
        for role in roles {
            let name = role.name.clone().unwrap_or_default();
            let exists = existing.is_some_and(|c| c.roles.contains_key(&name));
            list.push(decide(exists, policy, || {
                format!("Client role '{name}' for client '{client_id}' already exists.")
            })?);
        }
        client_role_decisions.insert(client_id, list);
    }
    let idp_decisions = idps
        .iter()
        .map(|i| {
            let alias = i.alias.clone().unwrap_or_default();
            decide(before.idps.contains_key(&alias), policy, || {
                format!("Identity Provider '{alias}' already exists.")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let group_decisions = groups
        .iter()
        .map(|g| {
            let exists = g
                .path
                .as_deref()
                .is_some_and(|p| before.find_group_by_path(p).is_some());
            let path = g.path.clone().unwrap_or_default();
            decide(exists, policy, || format!("Group '{path}' already exists"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let user_decisions = users
        .iter()
        .map(|u| {
            decide(existing_user(before, u).is_some(), policy, || {
                user_exists_message(before, u)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    // The Narayana reaper aborts a transaction that runs too long; simulated from the size
    // of the request so that tests are deterministic.
    let simulated = budget
        .cost_per_resource
        .saturating_mul(u32::try_from(resource_count(rep)).unwrap_or(u32::MAX));
    if simulated > budget.timeout {
        return Err(server(format!(
            "transaction timeout: {simulated:?} > {:?} (ARJUNA012117)",
            budget.timeout
        )));
    }

    let mut work = realm.clone();
    let mut results: Vec<PartialImportResult> = Vec::new();

    // Clients.
    for (c, decision) in clients.iter().zip(&client_decisions) {
        let name = c.client_id.clone().unwrap_or_default();
        let existing = work.client_by_client_id(&name).map(|x| x.id.clone());
        match decision {
            Decision::Skip => results.push(result(
                Decision::Skip,
                ResourceType::Client,
                &name,
                existing,
            )),
            Decision::Overwrite | Decision::Add => {
                if *decision == Decision::Overwrite {
                    if let Some(id) = existing {
                        work.remove_client(&id);
                    }
                }
                let id = import_client(&mut work, c, env.keep_client_ids)?;
                results.push(result(*decision, ResourceType::Client, &name, Some(id)));
            }
        }
    }

    // Realm roles, then client roles; composites resolved once all exist.
    let mut created_composites: Vec<Value> = Vec::new();
    for (r, decision) in realm_roles.iter().zip(&realm_role_decisions) {
        let name = r.name.clone().unwrap_or_default();
        if *decision == Decision::Skip {
            let id = work.roles.get(&name).map(|x| x.id.clone());
            results.push(result(Decision::Skip, ResourceType::RealmRole, &name, id));
            continue;
        }
        if *decision == Decision::Overwrite {
            if let Some(old) = work.roles.remove(&name) {
                work.drop_role_mappings(&old.id);
            }
        }
        let role = role_from_rep(r, None)?;
        if work.roles.contains_key(&role.name) {
            return Err(ImportError::Conflict(format!(
                "Role with name {} already exists",
                role.name
            )));
        }
        if let Some(c) = &role.composites {
            created_composites.push(c.clone());
        }
        let id = role.id.clone();
        work.roles.insert(role.name.clone(), role);
        results.push(result(*decision, ResourceType::RealmRole, &name, Some(id)));
    }
    for (client_id, roles) in client_roles {
        let internal = work
            .client_by_client_id(client_id)
            .map(|c| c.id.clone())
            .ok_or_else(|| {
                server(format!(
                    "App doesn't exist in role definitions: {client_id}"
                ))
            })?;
        let decisions = client_role_decisions
            .get(client_id)
            .cloned()
            .unwrap_or_default();
        for (r, decision) in roles.iter().zip(decisions) {
            let name = r.name.clone().unwrap_or_default();
            // Results name client roles `<clientId>--><role>` (`getCombinedName`).
            let combined = format!("{client_id}-->{name}");
            let existing = work
                .clients
                .get(&internal)
                .and_then(|c| c.roles.get(&name))
                .map(|x| x.id.clone());
            if decision == Decision::Skip {
                results.push(result(
                    Decision::Skip,
                    ResourceType::ClientRole,
                    &combined,
                    existing,
                ));
                continue;
            }
            if decision == Decision::Overwrite {
                if let Some(old) = existing.clone() {
                    if let Some(c) = work.clients.get_mut(&internal) {
                        c.roles.remove(&name);
                    }
                    work.drop_role_mappings(&old);
                }
            }
            let role = role_from_rep(r, Some(&internal))?;
            let id = role.id.clone();
            if let Some(c) = &role.composites {
                created_composites.push(c.clone());
            }
            let client = work
                .clients
                .get_mut(&internal)
                .ok_or_else(|| server("client vanished"))?;
            if client.roles.contains_key(&role.name) {
                return Err(ImportError::Conflict(format!(
                    "Role with name {} already exists",
                    role.name
                )));
            }
            client.roles.insert(role.name.clone(), role);
            results.push(result(
                decision,
                ResourceType::ClientRole,
                &combined,
                Some(id),
            ));
        }
    }
    for composites in &created_composites {
        check_composites(&work, composites)?;
    }

    // Identity providers (results carry the internal id).
    for (i, decision) in idps.iter().zip(&idp_decisions) {
        let alias = i
            .alias
            .clone()
            .ok_or_else(|| server("identity provider alias is null"))?;
        if *decision == Decision::Skip {
            let id = work.idps.get(&alias).map(|x| x.internal_id.clone());
            results.push(result(Decision::Skip, ResourceType::Idp, &alias, id));
            continue;
        }
        if *decision == Decision::Overwrite {
            work.idps.remove(&alias);
        }
        if work.idps.contains_key(&alias) {
            return Err(ImportError::Conflict(format!(
                "Identity Provider {alias} already exists"
            )));
        }
        let stored = StoredIdp::new(i.clone());
        let id = stored.internal_id.clone();
        work.idps.insert(alias.clone(), stored);
        results.push(result(*decision, ResourceType::Idp, &alias, Some(id)));
    }

    // Groups: every top-level group needs `path`; without it the lookup after creation
    // dereferences null (500).
    for (g, decision) in groups.iter().zip(&group_decisions) {
        let name = g.name.clone().unwrap_or_default();
        if *decision == Decision::Skip {
            let id = g
                .path
                .as_deref()
                .and_then(|p| work.find_group_by_path(p))
                .map(|x| x.id.clone());
            results.push(result(Decision::Skip, ResourceType::Group, &name, id));
            continue;
        }
        if *decision == Decision::Overwrite {
            if let Some(id) = g
                .path
                .as_deref()
                .and_then(|p| work.find_group_by_path(p))
                .map(|x| x.id.clone())
            {
                work.remove_group(&id);
            }
        }
        import_group(&mut work, None, g)?;
        let id = g
            .path
            .as_deref()
            .and_then(|p| work.find_group_by_path(p))
            .map(|x| x.id.clone())
            .ok_or_else(|| {
                server("NullPointerException: group not found by its path after creation")
            })?;
        results.push(result(*decision, ResourceType::Group, &name, Some(id)));
    }

    // Users: overwrites are removed first, then every non-skipped user is created.
    for (u, decision) in users.iter().zip(&user_decisions) {
        if *decision != Decision::Overwrite {
            continue;
        }
        let victim = u
            .username
            .as_deref()
            .and_then(|n| work.user_by_username(n))
            .or_else(|| match (&u.email, work.duplicate_emails_allowed) {
                (Some(e), false) => work.user_by_email(e),
                _ => None,
            })
            .map(|x| x.id.clone());
        if let Some(id) = victim {
            work.remove_user(&id);
        }
    }
    for (u, decision) in users.iter().zip(&user_decisions) {
        let name = user_name(u);
        if *decision == Decision::Skip {
            let id = existing_user(&work, u).map(|x| x.id.clone());
            results.push(result(Decision::Skip, ResourceType::User, &name, id));
            continue;
        }
        let id = import_user(&mut work, u, env)?;
        results.push(result(*decision, ResourceType::User, &name, Some(id)));
    }

    // `PartialImportResults` keeps results in a HashSet: the order carries no meaning.
    results.sort_by_key(|r| {
        let mut h = DefaultHasher::new();
        (
            r.resource_name.as_str(),
            r.resource_type as u8,
            r.id.as_deref(),
        )
            .hash(&mut h);
        h.finish()
    });
    let count = |a: ImportAction| results.iter().filter(|r| r.action == a).count() as u64;
    let out = PartialImportResults {
        added: count(ImportAction::Added),
        skipped: count(ImportAction::Skipped),
        overwritten: count(ImportAction::Overwritten),
        results,
    };
    *realm = work;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RealmSettings;

    fn env() -> (Vec<String>, Vec<String>) {
        (vec!["pbkdf2-sha256".to_string()], Vec::new())
    }

    #[test]
    fn import_path_keeps_id_and_attributes_and_creates_roles() {
        let mut realm = Realm::new(&RealmSettings::new("acme"), None, 300, false);
        let (providers, fails) = env();
        let env = ImportEnv {
            providers: &providers,
            now_ms: 1,
            fail_user_names: &fails,
            keep_client_ids: false,
        };
        let rep: UserRepresentation = serde_json::from_value(serde_json::json!({
            "id": "u-1", "username": "Ada", "email": "ADA@example.com",
            "attributes": {"dept": ["x"]}, "realmRoles": ["brand-new"], "requiredActions": ["update_password", "custom"]
        }))
        .unwrap();
        let id = import_user(&mut realm, &rep, &env).unwrap();
        assert_eq!(id, "u-1");
        let user = realm.user("u-1").unwrap();
        assert_eq!(user.username, "ada");
        assert_eq!(user.email.as_deref(), Some("ada@example.com"));
        assert!(!user.enabled);
        assert_eq!(user.required_actions, vec!["UPDATE_PASSWORD", "custom"]);
        assert!(realm.roles.contains_key("brand-new"));
        let default_role = realm.roles.get("default-roles-acme").unwrap().id.clone();
        assert!(!realm
            .user("u-1")
            .unwrap()
            .realm_roles
            .contains(&default_role));
    }
}
