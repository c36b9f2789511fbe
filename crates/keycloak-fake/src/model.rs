//! The emulator's stored state of one realm: users with credentials and mappings, realm and
//! client roles, clients, groups, identity providers, user-profile configuration.
//!
//! Uniqueness rules follow Keycloak's storage: usernames are unique per realm and stored
//! lower-cased; emails are lower-cased and unique unless `duplicateEmailsAllowed`
//! (keycloak-target.md §3 "Conflict rules"); group names are unique among siblings (§10).
//! `Realm` is `Clone` so that a partialImport can work on a copy and swap it in only when
//! the whole request succeeded (§2 "Atomicity: all-or-nothing").

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use kcm_keycloak_types::{
    AttributeMap, ClientRepresentation, FederatedIdentityRepresentation,
    IdentityProviderRepresentation, UpConfig,
};
use serde_json::Value;

use crate::config::RealmSettings;

/// Built-in realm roles every realm has (besides `default-roles-<realm>`).
pub const BUILTIN_REALM_ROLES: [&str; 2] = ["offline_access", "uma_authorization"];
/// Roles of the built-in `account` client.
pub const ACCOUNT_CLIENT_ROLES: [&str; 8] = [
    "view-profile",
    "manage-account",
    "manage-account-links",
    "view-applications",
    "view-consent",
    "manage-consent",
    "delete-account",
    "view-groups",
];
/// Roles of the `realm-management` client (the admin roles of §1).
pub const REALM_MANAGEMENT_ROLES: [&str; 19] = [
    "realm-admin",
    "manage-users",
    "view-users",
    "query-users",
    "manage-realm",
    "view-realm",
    "manage-clients",
    "view-clients",
    "query-clients",
    "query-groups",
    "query-realms",
    "manage-identity-providers",
    "view-identity-providers",
    "manage-events",
    "view-events",
    "manage-authorization",
    "view-authorization",
    "create-client",
    "impersonation",
];

/// Identity-provider types (`providerId`) a stock Keycloak 26 accepts: the generic brokers
/// and the social providers registered in `org.keycloak.broker.social.SocialIdentityProviderFactory`.
/// Apple is not among them (it needs a community extension).
pub const IDENTITY_PROVIDER_TYPES: [&str; 15] = [
    "oidc",
    "keycloak-oidc",
    "saml",
    "google",
    "github",
    "facebook",
    "microsoft",
    "linkedin-openid-connect",
    "twitter",
    "gitlab",
    "bitbucket",
    "openshift-v3",
    "openshift-v4",
    "paypal",
    "stackoverflow",
];

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A stored credential. `secret_data` holds the hash and salt: never shown by `Debug`.
#[derive(Clone, PartialEq)]
pub struct Credential {
    pub id: String,
    pub type_: String,
    pub user_label: Option<String>,
    pub created_date: Option<i64>,
    pub secret_data: String,
    pub credential_data: String,
    pub priority: Option<i32>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("id", &self.id)
            .field("type", &self.type_)
            .field("user_label", &self.user_label)
            .field("created_date", &self.created_date)
            .field("secret_data", &"<redacted>")
            .field("credential_data", &self.credential_data)
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct User {
    pub id: String,
    /// Lower-cased.
    pub username: String,
    /// Lower-cased.
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_verified: bool,
    pub enabled: bool,
    pub created_timestamp: Option<i64>,
    /// Everything stored, including unmanaged attributes the Admin API hides (§6).
    pub attributes: AttributeMap,
    pub required_actions: Vec<String>,
    pub credentials: Vec<Credential>,
    pub federated_identities: Vec<FederatedIdentityRepresentation>,
    /// Realm role ids.
    pub realm_roles: BTreeSet<String>,
    /// Client internal id → client role ids.
    pub client_roles: BTreeMap<String, BTreeSet<String>>,
    /// Group ids (direct membership).
    pub groups: BTreeSet<String>,
    pub federation_link: Option<String>,
    pub service_account_client_id: Option<String>,
    pub not_before: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub composites: Option<Value>,
    pub attributes: AttributeMap,
    /// Internal id of the owning client; `None` for realm roles.
    pub client: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub client_id: String,
    /// The representation as created (with `id` and `clientId` filled in).
    pub rep: ClientRepresentation,
    /// Client roles by name.
    pub roles: BTreeMap<String, Role>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.rep.public_client.unwrap_or(false)
    }

    pub fn direct_access_grants(&self) -> bool {
        self.rep.direct_access_grants_enabled.unwrap_or(false)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub parent: Option<String>,
    pub attributes: AttributeMap,
    pub realm_roles: BTreeSet<String>,
    pub client_roles: BTreeMap<String, BTreeSet<String>>,
}

/// An identity provider with the internal id Keycloak gives it.
#[derive(Debug, Clone)]
pub struct StoredIdp {
    pub internal_id: String,
    pub rep: IdentityProviderRepresentation,
}

impl StoredIdp {
    pub fn new(mut rep: IdentityProviderRepresentation) -> StoredIdp {
        if rep.enabled.is_none() {
            rep.enabled = Some(true);
        }
        StoredIdp {
            internal_id: new_id(),
            rep,
        }
    }

    /// `IdentityProviderRepresentation` with `internalId`.
    pub fn value(&self) -> Value {
        let mut v = serde_json::to_value(&self.rep).unwrap_or(Value::Null);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("internalId".into(), Value::String(self.internal_id.clone()));
        }
        v
    }
}

/// One `execute-actions-email` the emulator "sent".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub user_id: String,
    pub email: String,
    pub actions: Vec<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub lifespan: Option<i64>,
}

/// A registered required action (`GET /authentication/required-actions`).
#[derive(Debug, Clone)]
pub struct RequiredAction {
    pub alias: &'static str,
    pub name: &'static str,
    pub enabled: bool,
    pub priority: i32,
}

/// Built-in required actions of Keycloak 24+ (§3 "Required actions / emails").
pub fn builtin_required_actions() -> Vec<RequiredAction> {
    let list: [(&'static str, &'static str, bool); 11] = [
        ("CONFIGURE_TOTP", "Configure OTP", true),
        ("TERMS_AND_CONDITIONS", "Terms and Conditions", false),
        ("UPDATE_PASSWORD", "Update Password", true),
        ("UPDATE_PROFILE", "Update Profile", true),
        ("VERIFY_EMAIL", "Verify Email", true),
        ("delete_account", "Delete Account", false),
        ("webauthn-register", "Webauthn Register", true),
        (
            "webauthn-register-passwordless",
            "Webauthn Register Passwordless",
            true,
        ),
        ("VERIFY_PROFILE", "Verify Profile", true),
        ("delete_credential", "Delete Credential", true),
        ("update_user_locale", "Update User Locale", true),
    ];
    list.iter()
        .enumerate()
        .map(|(i, (alias, name, enabled))| RequiredAction {
            alias,
            name,
            enabled: *enabled,
            priority: (i as i32 + 1) * 10,
        })
        .collect()
}

/// A conflict with a uniqueness rule; the text is the message Keycloak uses for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate(pub String);

#[derive(Debug, Clone)]
pub struct Realm {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub display_name: Option<String>,
    pub duplicate_emails_allowed: bool,
    pub registration_email_as_username: bool,
    pub login_with_email_allowed: bool,
    pub edit_username_allowed: bool,
    pub access_token_lifespan_secs: u64,
    pub password_policy: Option<String>,
    pub smtp_configured: bool,
    users: HashMap<String, User>,
    /// Lower-cased username → id; ordered, which gives Keycloak's listing order.
    by_username: BTreeMap<String, String>,
    /// Lower-cased email → ids.
    by_email: BTreeMap<String, BTreeSet<String>>,
    /// Realm roles by name.
    pub roles: BTreeMap<String, Role>,
    /// Clients by internal id.
    pub clients: BTreeMap<String, Client>,
    /// Groups by id.
    pub groups: BTreeMap<String, Group>,
    /// Identity providers by alias.
    pub idps: BTreeMap<String, StoredIdp>,
    pub profile: UpConfig,
    pub required_actions: Vec<RequiredAction>,
    pub sent_emails: Vec<SentEmail>,
}

impl Realm {
    /// A realm as Keycloak creates it: built-in roles, `default-roles-<realm>`, built-in
    /// clients (§10; §3 "default role").
    pub fn new(
        settings: &RealmSettings,
        id: Option<String>,
        access_token_lifespan_secs: u64,
        smtp: bool,
    ) -> Realm {
        let mut realm = Realm {
            id: id.unwrap_or_else(new_id),
            name: settings.name.clone(),
            enabled: settings.enabled,
            display_name: None,
            duplicate_emails_allowed: settings.duplicate_emails_allowed,
            registration_email_as_username: settings.registration_email_as_username,
            login_with_email_allowed: settings.login_with_email_allowed,
            edit_username_allowed: false,
            access_token_lifespan_secs,
            password_policy: settings.password_policy.clone(),
            smtp_configured: settings.smtp_configured.unwrap_or(smtp),
            users: HashMap::new(),
            by_username: BTreeMap::new(),
            by_email: BTreeMap::new(),
            roles: BTreeMap::new(),
            clients: BTreeMap::new(),
            groups: BTreeMap::new(),
            idps: BTreeMap::new(),
            profile: crate::profile::default_config(),
            required_actions: builtin_required_actions(),
            sent_emails: Vec::new(),
        };
        realm.profile.unmanaged_attribute_policy = settings.unmanaged_attribute_policy.clone();
        for name in BUILTIN_REALM_ROLES {
            realm.add_realm_role(name, None);
        }
        if realm.name == "master" {
            realm.add_realm_role("admin", Some("${role_admin}".into()));
            realm.add_realm_role("create-realm", Some("${role_create-realm}".into()));
        }
        let account = realm.add_builtin_client("account", false, false);
        for role in ACCOUNT_CLIENT_ROLES {
            realm.add_client_role(&account, role);
        }
        realm.add_builtin_client("account-console", true, false);
        realm.add_builtin_client("admin-cli", true, true);
        let broker = realm.add_builtin_client("broker", false, false);
        realm.add_client_role(&broker, "read-token");
        let management_name = if realm.name == "master" {
            "master-realm".to_string()
        } else {
            "realm-management".to_string()
        };
        let management = realm.add_builtin_client(&management_name, false, false);
        for role in REALM_MANAGEMENT_ROLES {
            realm.add_client_role(&management, role);
        }
        realm.add_builtin_client("security-admin-console", true, false);
        let default_role = realm.default_role_name();
        realm.add_realm_role(&default_role, Some(format!("${{role_{default_role}}}")));
        if let Some(role) = realm.roles.get_mut(&default_role) {
            role.composites = Some(serde_json::json!({
                "realm": BUILTIN_REALM_ROLES,
                "client": { "account": ["view-profile", "manage-account"] }
            }));
        }
        realm
    }

    fn add_builtin_client(&mut self, client_id: &str, public: bool, direct_grants: bool) -> String {
        let id = new_id();
        let rep = ClientRepresentation {
            id: Some(id.clone()),
            client_id: Some(client_id.to_string()),
            enabled: Some(true),
            public_client: Some(public),
            bearer_only: Some(false),
            direct_access_grants_enabled: Some(direct_grants),
            standard_flow_enabled: Some(!direct_grants),
            service_accounts_enabled: Some(false),
            protocol: Some("openid-connect".to_string()),
            ..Default::default()
        };
        self.clients.insert(
            id.clone(),
            Client {
                id: id.clone(),
                client_id: client_id.to_string(),
                rep,
                roles: BTreeMap::new(),
            },
        );
        id
    }

    pub fn default_role_name(&self) -> String {
        format!("default-roles-{}", self.name)
    }

    // ---- users ------------------------------------------------------------------------

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.get_mut(id)
    }

    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Users in username order.
    pub fn users_sorted(&self) -> impl Iterator<Item = &User> {
        self.by_username
            .values()
            .filter_map(|id| self.users.get(id))
    }

    pub fn user_by_username(&self, username: &str) -> Option<&User> {
        self.by_username
            .get(&username.to_lowercase())
            .and_then(|id| self.users.get(id))
    }

    /// The first user with this email (Keycloak's `getUserByEmail` fails when several
    /// share it; with duplicates disallowed there is at most one).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.by_email
            .get(&email.to_lowercase())
            .and_then(|ids| ids.iter().next())
            .and_then(|id| self.users.get(id))
    }

    pub fn email_owners(&self, email: &str) -> usize {
        self.by_email
            .get(&email.to_lowercase())
            .map_or(0, |ids| ids.len())
    }

    /// Checks the storage uniqueness rules for a user about to be stored under `id`.
    pub fn check_user_unique(
        &self,
        id: &str,
        username: &str,
        email: Option<&str>,
    ) -> Result<(), Duplicate> {
        if let Some(other) = self.by_username.get(username) {
            if other != id {
                return Err(Duplicate("User exists with same username".into()));
            }
        }
        if let (Some(email), false) = (email, self.duplicate_emails_allowed) {
            if let Some(ids) = self.by_email.get(email) {
                if ids.iter().any(|other| other != id) {
                    return Err(Duplicate("User exists with same email".into()));
                }
            }
        }
        Ok(())
    }

    /// Stores a new user (username and email must already be lower-cased).
    pub fn insert_user(&mut self, user: User) -> Result<(), Duplicate> {
        if self.users.contains_key(&user.id) {
            return Err(Duplicate(format!(
                "User with id {} already exists",
                user.id
            )));
        }
        self.check_user_unique(&user.id, &user.username, user.email.as_deref())?;
        self.index_user(&user);
        self.users.insert(user.id.clone(), user);
        Ok(())
    }

    /// Replaces a stored user after an update, keeping the indexes right.
    pub fn replace_user(&mut self, user: User) -> Result<(), Duplicate> {
        self.check_user_unique(&user.id, &user.username, user.email.as_deref())?;
        if let Some(old) = self.users.remove(&user.id) {
            self.unindex_user(&old);
        }
        self.index_user(&user);
        self.users.insert(user.id.clone(), user);
        Ok(())
    }

    pub fn remove_user(&mut self, id: &str) -> Option<User> {
        let user = self.users.remove(id)?;
        self.unindex_user(&user);
        Some(user)
    }

    fn index_user(&mut self, user: &User) {
        self.by_username
            .insert(user.username.clone(), user.id.clone());
        if let Some(email) = &user.email {
            self.by_email
                .entry(email.clone())
                .or_default()
                .insert(user.id.clone());
        }
    }

    fn unindex_user(&mut self, user: &User) {
        if self.by_username.get(&user.username) == Some(&user.id) {
            self.by_username.remove(&user.username);
        }
        if let Some(email) = &user.email {
            if let Some(ids) = self.by_email.get_mut(email) {
                ids.remove(&user.id);
                if ids.is_empty() {
                    self.by_email.remove(email);
                }
            }
        }
    }

    // ---- roles ------------------------------------------------------------------------

    pub fn add_realm_role(&mut self, name: &str, description: Option<String>) -> String {
        let id = new_id();
        self.roles.insert(
            name.to_string(),
            Role {
                id: id.clone(),
                name: name.to_string(),
                description,
                ..Default::default()
            },
        );
        id
    }

    pub fn add_client_role(&mut self, client: &str, name: &str) -> Option<String> {
        let id = new_id();
        let c = self.clients.get_mut(client)?;
        c.roles.insert(
            name.to_string(),
            Role {
                id: id.clone(),
                name: name.to_string(),
                client: Some(client.to_string()),
                ..Default::default()
            },
        );
        Some(id)
    }

    pub fn client_by_client_id(&self, client_id: &str) -> Option<&Client> {
        self.clients.values().find(|c| c.client_id == client_id)
    }

    /// A realm or client role by id.
    pub fn role_by_id(&self, id: &str) -> Option<&Role> {
        self.roles.values().find(|r| r.id == id).or_else(|| {
            self.clients
                .values()
                .flat_map(|c| c.roles.values())
                .find(|r| r.id == id)
        })
    }

    /// Removes a role id from every user and group mapping (role deleted or overwritten).
    pub fn drop_role_mappings(&mut self, role_id: &str) {
        for user in self.users.values_mut() {
            user.realm_roles.remove(role_id);
            for ids in user.client_roles.values_mut() {
                ids.remove(role_id);
            }
        }
        for group in self.groups.values_mut() {
            group.realm_roles.remove(role_id);
            for ids in group.client_roles.values_mut() {
                ids.remove(role_id);
            }
        }
    }

    pub fn remove_client(&mut self, id: &str) {
        if let Some(client) = self.clients.remove(id) {
            for role in client.roles.values() {
                self.drop_role_mappings(&role.id);
            }
            for user in self.users.values_mut() {
                user.client_roles.remove(id);
            }
            for group in self.groups.values_mut() {
                group.client_roles.remove(id);
            }
        }
    }

    // ---- groups -----------------------------------------------------------------------

    pub fn children(&self, parent: Option<&str>) -> Vec<&Group> {
        let mut list: Vec<&Group> = self
            .groups
            .values()
            .filter(|g| g.parent.as_deref() == parent)
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        list
    }

    pub fn sibling_named(&self, parent: Option<&str>, name: &str) -> Option<&Group> {
        self.groups
            .values()
            .find(|g| g.parent.as_deref() == parent && g.name == name)
    }

    /// Creates a group under `parent` (GroupResource/RealmAdmin sibling-name rule, §10).
    pub fn add_group(
        &mut self,
        id: Option<String>,
        name: &str,
        parent: Option<&str>,
    ) -> Result<String, Duplicate> {
        if self.sibling_named(parent, name).is_some() {
            return Err(Duplicate(match parent {
                None => format!("Top level group named '{name}' already exists."),
                Some(_) => format!("Sibling group named '{name}' already exists."),
            }));
        }
        let id = id.unwrap_or_else(new_id);
        if self.groups.contains_key(&id) {
            return Err(Duplicate(format!("Group with id {id} already exists")));
        }
        self.groups.insert(
            id.clone(),
            Group {
                id: id.clone(),
                name: name.to_string(),
                parent: parent.map(str::to_string),
                ..Default::default()
            },
        );
        Ok(id)
    }

    /// `/a/b`, with a `/` inside a name escaped as `\/` (§10).
    pub fn group_path(&self, id: &str) -> String {
        let mut segments = Vec::new();
        let mut current = self.groups.get(id);
        let mut guard = 0;
        while let Some(group) = current {
            segments.push(group.name.replace('/', "\\/"));
            current = group.parent.as_deref().and_then(|p| self.groups.get(p));
            guard += 1;
            if guard > self.groups.len() {
                break;
            }
        }
        segments.reverse();
        format!("/{}", segments.join("/"))
    }

    /// `KeycloakModelUtils.findGroupByPath`: a leading and a trailing `/` are optional.
    pub fn find_group_by_path(&self, path: &str) -> Option<&Group> {
        let segments = split_group_path(path)?;
        let mut parent: Option<&str> = None;
        let mut found: Option<&Group> = None;
        for segment in &segments {
            let group = self.sibling_named(parent, segment)?;
            parent = Some(group.id.as_str());
            found = Some(group);
        }
        found
    }

    /// Ids of a group and all its descendants.
    pub fn subtree(&self, id: &str) -> Vec<String> {
        let mut out = vec![id.to_string()];
        let mut i = 0;
        while let Some(current) = out.get(i).cloned() {
            for child in self
                .groups
                .values()
                .filter(|g| g.parent.as_deref() == Some(current.as_str()))
            {
                out.push(child.id.clone());
            }
            i += 1;
        }
        out
    }

    /// Deletes a group with its subgroups and their memberships.
    pub fn remove_group(&mut self, id: &str) {
        for gid in self.subtree(id) {
            self.groups.remove(&gid);
            for user in self.users.values_mut() {
                user.groups.remove(&gid);
            }
        }
    }

    /// Deletes an identity provider and every user's link to it.
    pub fn remove_identity_provider(&mut self, alias: &str) -> Option<StoredIdp> {
        let idp = self.idps.remove(alias)?;
        for user in self.users.values_mut() {
            user.federated_identities
                .retain(|f| f.identity_provider.as_deref() != Some(alias));
        }
        Some(idp)
    }

    pub fn group_members(&self, id: &str) -> Vec<&User> {
        self.users_sorted()
            .filter(|u| u.groups.contains(id))
            .collect()
    }
}

/// Splits a group path into names, honouring `\/` escapes; `None` for an empty path.
pub fn split_group_path(path: &str) -> Option<Vec<String>> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = if trimmed.ends_with('/') && !trimmed.ends_with("\\/") {
        &trimmed[..trimmed.len() - 1]
    } else {
        trimmed
    };
    if trimmed.is_empty() {
        return None;
    }
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                current.push('/');
                chars.next();
            }
            '/' => segments.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    segments.push(current);
    Some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn realm() -> Realm {
        Realm::new(&RealmSettings::new("acme"), None, 300, false)
    }

    #[test]
    fn new_realm_has_default_role_and_builtin_clients() {
        let r = realm();
        assert!(r.roles.contains_key("default-roles-acme"));
        assert!(r.roles.contains_key("offline_access"));
        assert!(r
            .client_by_client_id("admin-cli")
            .is_some_and(|c| c.is_public()));
        assert!(r.client_by_client_id("realm-management").is_some());
    }

    #[test]
    fn group_paths_round_trip_with_escaped_slashes() {
        let mut r = realm();
        let a = r.add_group(None, "a", None).unwrap();
        let b = r.add_group(None, "b/c", Some(&a)).unwrap();
        assert_eq!(r.group_path(&b), "/a/b\\/c");
        assert_eq!(
            r.find_group_by_path("/a/b\\/c").map(|g| g.id.clone()),
            Some(b.clone())
        );
        assert_eq!(
            r.find_group_by_path("a/").map(|g| g.id.clone()),
            Some(a.clone())
        );
        assert!(r.find_group_by_path("/a/missing").is_none());
        assert_eq!(
            r.add_group(None, "a", None).unwrap_err().0,
            "Top level group named 'a' already exists."
        );
        assert_eq!(
            r.add_group(None, "b/c", Some(&a)).unwrap_err().0,
            "Sibling group named 'b/c' already exists."
        );
        r.remove_group(&a);
        assert!(r.groups.is_empty());
    }

    #[test]
    fn credential_debug_hides_secret_data() {
        let c = Credential {
            id: "1".into(),
            type_: "password".into(),
            user_label: None,
            created_date: None,
            secret_data: "{\"value\":\"SECRETHASH\"}".into(),
            credential_data: "{}".into(),
            priority: None,
        };
        assert!(!format!("{c:?}").contains("SECRETHASH"));
    }
}
