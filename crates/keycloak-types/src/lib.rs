//! Keycloak Admin REST API representations, as far as kc-migrate sends or reads them.
//!
//! Field names and sets follow Keycloak's published OpenAPI description
//! (`keycloak-26.6-openapi.json`, component schemas of the same names); partialImport follows
//! Keycloak's `PartialImportRepresentation`/`PartialImportResults` (not in the spec).
//!
//! Keycloak parses nested representations with a plain Jackson `ObjectMapper` that fails on
//! unknown properties (keycloak-target.md §3 "Unknown JSON fields → 400"), so the types that
//! Keycloak parses strictly carry `deny_unknown_fields`: the emulator rejects what Keycloak
//! would reject, and the sink cannot serialise a field Keycloak does not know. Every field is
//! optional and omitted when `None`. Fields kc-migrate never interprets are kept as raw JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Multi-valued attributes (`{"name": ["v1", "v2"]}`).
pub type AttributeMap = BTreeMap<String, Vec<String>>;

/// `UserRepresentation` (26.6 field set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AttributeMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_profile_metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federation_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<CredentialRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disableable_credential_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_actions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federated_identities: Option<Vec<FederatedIdentityRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_consents: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_roles: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_links: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Value>,
}

/// `CredentialRepresentation`. `federation_link` exists only from Keycloak 26 on; older
/// servers reject it, so kc-migrate never sets it. `Debug` hides the secret fields
/// (`secretData`, `value`, `hashedSaltedValue`, `salt`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<i64>,
    /// JSON text of [`PasswordSecretData`] for passwords.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_data: Option<String>,
    /// JSON text of [`PasswordCredentialData`] for passwords.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashed_salted_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_iterations: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digits: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federation_link: Option<String>,
}

impl std::fmt::Debug for CredentialRepresentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("CredentialRepresentation")
            .field("id", &self.id)
            .field("type", &self.type_)
            .field("created_date", &self.created_date)
            .field("credential_data", &self.credential_data)
            .field("secret_data", &hidden(&self.secret_data))
            .field("value", &hidden(&self.value))
            .field("hashed_salted_value", &hidden(&self.hashed_salted_value))
            .field("salt", &hidden(&self.salt))
            .field("temporary", &self.temporary)
            .finish_non_exhaustive()
    }
}

/// The JSON held (as a string) in a password credential's `secretData`
/// (`PasswordSecretData`: `value`, `salt`, `additionalParameters`; keycloak-target.md §4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordSecretData {
    pub value: String,
    /// Standard padded base64 of the raw salt bytes; `""` when the algorithm has none.
    #[serde(default)]
    pub salt: Option<String>,
    #[serde(default, alias = "algorithmData")]
    pub additional_parameters: Option<BTreeMap<String, Vec<String>>>,
}

/// The JSON held (as a string) in a password credential's `credentialData`
/// (`PasswordCredentialData`: `hashIterations`, `algorithm`, `additionalParameters`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordCredentialData {
    pub hash_iterations: i64,
    pub algorithm: String,
    #[serde(default, alias = "algorithmData")]
    pub additional_parameters: Option<BTreeMap<String, Vec<String>>>,
}

/// `FederatedIdentityRepresentation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedIdentityRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// `RoleRepresentation`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_param_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composite: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composites: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_role: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AttributeMap>,
}

/// `RolesRepresentation`: realm roles and client roles keyed by `clientId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolesRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<Vec<RoleRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<BTreeMap<String, Vec<RoleRepresentation>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<Value>,
}

/// `GroupRepresentation` (26.6 adds `description`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_group_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_groups: Option<Vec<GroupRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AttributeMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Value>,
}

/// `ClientRepresentation`: the fields kc-migrate sets are typed; the rest of Keycloak's field
/// set is accepted as raw JSON so that the strict parse matches Keycloak's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_client: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard_flow_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_access_grants_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_accounts_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_url: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_url: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surrogate_auth_required: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_display_in_console: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_authenticator_type: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_roles: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_origins: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_required: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit_flow_enabled: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_services_enabled: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_grants_only: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_flow_binding_overrides: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_scope_allowed: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_re_registration_timeout: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_nodes: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_mappers: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_template: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_template_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_template_scope: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_template_mappers: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_client_scopes: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optional_client_scopes: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_settings: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Value>,
}

/// `IdentityProviderRepresentation` (the fields kc-migrate uses; others kept raw).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProviderRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, String>>,
}

/// What `partialImport` does with a resource that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Policy {
    Fail,
    Skip,
    Overwrite,
}

/// `PartialImportRepresentation`. Keycloak ignores unknown keys at this level only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialImportRepresentation {
    /// Case-sensitive; absent means FAIL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_resource_exists: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<ClientRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_providers: Option<Vec<IdentityProviderRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<RolesRepresentation>,
}

/// `PartialImportResult.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ImportAction {
    Added,
    Skipped,
    Overwritten,
}

/// `PartialImportResult.resourceType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceType {
    User,
    Group,
    Client,
    Idp,
    RealmRole,
    ClientRole,
}

/// One entry of `PartialImportResults.results` (order is arbitrary: correlate by
/// `(resourceType, resourceName)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialImportResult {
    pub action: ImportAction,
    pub resource_type: ResourceType,
    pub resource_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `PartialImportResults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialImportResults {
    pub added: u64,
    pub skipped: u64,
    pub overwritten: u64,
    pub results: Vec<PartialImportResult>,
}

/// `ErrorRepresentation` (`{"errorMessage": ...}`), and the OAuth-style error body
/// (`{"error": ..., "error_description": ...}`) that Keycloak's error handler writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRepresentation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ErrorRepresentation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(rename = "error_description", skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl ErrorRepresentation {
    /// The most specific human-readable message in the body.
    pub fn message(&self) -> Option<String> {
        self.error_message
            .clone()
            .or_else(|| self.error_description.clone())
            .or_else(|| self.error.clone())
            .or_else(|| {
                self.errors.as_ref().map(|es| {
                    es.iter()
                        .filter_map(|e| e.message())
                        .collect::<Vec<_>>()
                        .join("; ")
                })
            })
    }
}

/// Token endpoint response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_in: Option<u64>,
    #[serde(default)]
    pub token_type: String,
}

/// User-profile configuration (`UPConfig`), read–modify–written whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpConfig {
    #[serde(default)]
    pub attributes: Vec<UpAttribute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Value>,
    /// `ENABLED`, `ADMIN_VIEW` or `ADMIN_EDIT`; absent means unmanaged attributes are dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmanaged_attribute_policy: Option<String>,
}

/// `UPAttribute`: the name is typed, everything else is kept as given so a round trip does
/// not lose configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpAttribute {
    pub name: String,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_nested_fields_are_rejected_like_keycloak() {
        let err = serde_json::from_str::<UserRepresentation>(r#"{"username":"a","nickname":"x"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("unknown field `nickname`"));
        let ok: PartialImportRepresentation = serde_json::from_str(
            r#"{"ifResourceExists":"SKIP","somethingNew":1,"users":[{"username":"a"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.if_resource_exists, Some(Policy::Skip));
        assert!(
            serde_json::from_str::<PasswordSecretData>(r#"{"value":"x","salt":"","extra":1}"#)
                .is_err()
        );
    }

    #[test]
    fn credential_debug_hides_secret_data() {
        let c = CredentialRepresentation {
            type_: Some("password".into()),
            secret_data: Some(r#"{"value":"SECRETHASH","salt":""}"#.into()),
            value: Some("plaintext".into()),
            ..Default::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("SECRETHASH") && !shown.contains("plaintext"),
            "{shown}"
        );
    }

    #[test]
    fn serialises_only_present_fields() {
        let u = UserRepresentation {
            username: Some("ada".into()),
            enabled: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"username":"ada","enabled":true}"#
        );
        let r = PartialImportResult {
            action: ImportAction::Added,
            resource_type: ResourceType::RealmRole,
            resource_name: "admin".into(),
            id: None,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"action":"ADDED","resourceType":"REALM_ROLE","resourceName":"admin"}"#
        );
    }
}
