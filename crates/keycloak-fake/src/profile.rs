//! Declarative user profile (keycloak-target.md §6) and the user-profile validation that the
//! REST user endpoints apply (§3 "User-profile validation applies").
//!
//! New realms have no `unmanagedAttributePolicy`: REST create/update silently drops
//! attributes that are not declared, and reads hide them (`DefaultAttributes.
//! normalizeAttributes` / `getReadable`). The import path bypasses all of this.

use kcm_keycloak_types::{AttributeMap, UpAttribute, UpConfig};
use serde_json::{json, Value};

use crate::model::Realm;

/// Attributes that are root fields of `UserRepresentation`, not entries of `attributes`.
pub const ROOT_ATTRIBUTES: [&str; 4] = ["username", "email", "firstName", "lastName"];
/// Username length bounds of the default profile (`length: {min: 3, max: 255}`).
pub const USERNAME_MIN_LENGTH: usize = 3;
pub const NAME_MAX_LENGTH: usize = 255;
/// Keycloak's limit for an unmanaged attribute value.
pub const UNMANAGED_VALUE_MAX_LENGTH: usize = 2048;

/// The configuration of `keycloak-default-user-profile.json` (username, email, firstName,
/// lastName with their validators), without `unmanagedAttributePolicy`.
pub fn default_config() -> UpConfig {
    let attr = |name: &str, rest: Value| UpAttribute {
        name: name.to_string(),
        rest: match rest {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
    };
    let person = json!({
        "displayName": "",
        "required": {"roles": ["user"]},
        "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
        "validations": {"length": {"max": 255}, "person-name-prohibited-characters": {}},
        "multivalued": false
    });
    let with_display = |mut v: Value, display: &str| {
        if let Some(obj) = v.as_object_mut() {
            obj.insert("displayName".into(), Value::String(display.into()));
        }
        v
    };
    UpConfig {
        attributes: vec![
            attr(
                "username",
                json!({
                    "displayName": "${username}",
                    "validations": {"length": {"min": 3, "max": 255}, "username-prohibited-characters": {}, "up-username-not-idn-homograph": {}},
                    "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
                    "multivalued": false
                }),
            ),
            attr(
                "email",
                json!({
                    "displayName": "${email}",
                    "validations": {"email": {}, "length": {"max": 255}},
                    "required": {"roles": ["user"]},
                    "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]},
                    "multivalued": false
                }),
            ),
            attr("firstName", with_display(person.clone(), "${firstName}")),
            attr("lastName", with_display(person, "${lastName}")),
        ],
        groups: vec![json!({
            "name": "user-metadata",
            "displayHeader": "User metadata",
            "displayDescription": "Attributes, which refer to user metadata"
        })],
        unmanaged_attribute_policy: None,
    }
}

fn is_managed(config: &UpConfig, name: &str) -> bool {
    config.attributes.iter().any(|a| a.name == name)
}

fn policy(config: &UpConfig) -> Option<&str> {
    config.unmanaged_attribute_policy.as_deref()
}

/// Attributes a REST create/update keeps: declared ones, plus unmanaged ones when the policy
/// lets an admin write them (`ENABLED`, `ADMIN_EDIT`). Root attributes never go into the map.
pub fn writable_attributes(config: &UpConfig, given: &AttributeMap) -> AttributeMap {
    let unmanaged_ok = matches!(policy(config), Some("ENABLED") | Some("ADMIN_EDIT"));
    given
        .iter()
        .filter(|(name, _)| !ROOT_ATTRIBUTES.contains(&name.as_str()))
        .filter(|(name, _)| is_managed(config, name) || unmanaged_ok)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Attributes an Admin API read shows: declared ones, plus unmanaged ones when the policy
/// is set (`ENABLED`, `ADMIN_VIEW`, `ADMIN_EDIT`).
pub fn readable_attributes(config: &UpConfig, stored: &AttributeMap) -> AttributeMap {
    let unmanaged_ok = policy(config).is_some();
    stored
        .iter()
        .filter(|(name, _)| !ROOT_ATTRIBUTES.contains(&name.as_str()))
        .filter(|(name, _)| is_managed(config, name) || unmanaged_ok)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Validates a `PUT /users/profile` body (invalid configuration → 400,
/// `ComponentValidationException`). Returns the message on failure.
pub fn validate_config(config: &UpConfig) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for attr in &config.attributes {
        if attr.name.is_empty() {
            return Err("Attribute configuration without name".into());
        }
        if !attr
            .name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(format!("Invalid attribute name '{}'", attr.name));
        }
        if !seen.insert(attr.name.as_str()) {
            return Err(format!("Duplicated attribute name '{}'", attr.name));
        }
    }
    for required in ["username", "email"] {
        if !seen.contains(required) {
            return Err(format!("The attribute '{required}' can not be removed"));
        }
    }
    match policy(config) {
        None | Some("ENABLED") | Some("ADMIN_VIEW") | Some("ADMIN_EDIT") => Ok(()),
        Some(other) => Err(format!("Invalid unmanagedAttributePolicy '{other}'")),
    }
}

/// One user-profile validation error (`ErrorRepresentation {field, errorMessage, params}`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: &'static str,
    pub params: Vec<Value>,
}

/// `UsernameProhibitedCharactersValidator`: no `<>&"'`, whitespace, `$%!#?§,;:*~/\|^=[]{}()`,
/// backtick or control characters.
fn username_has_prohibited(username: &str) -> bool {
    username.chars().any(|c| {
        c.is_whitespace() || c.is_control() || "<>&\"'$%!#?§,;:*~/\\|^=[]{}()`".contains(c)
    })
}

/// `PersonNameProhibitedCharactersValidator`.
fn person_name_has_prohibited(name: &str) -> bool {
    name.chars()
        .any(|c| c.is_control() || "<>&\"$%!#?§;*~/\\|^=[]{}()".contains(c) || c == '\u{000B}')
}

/// A pragmatic form of Keycloak's email validator: one `@`, non-empty local part and a
/// domain without spaces.
fn email_is_valid(email: &str) -> bool {
    let mut parts = email.splitn(2, '@');
    let (Some(local), Some(domain)) = (parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The default profile's validators for a REST create/update (not for the import path).
pub fn validate_user(
    username: &str,
    email: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let len = username.chars().count();
    if !(USERNAME_MIN_LENGTH..=NAME_MAX_LENGTH).contains(&len) {
        errors.push(FieldError {
            field: "username",
            message: "error-invalid-length",
            params: vec![
                json!("username"),
                json!(USERNAME_MIN_LENGTH),
                json!(NAME_MAX_LENGTH),
            ],
        });
    }
    if username_has_prohibited(username) {
        errors.push(FieldError {
            field: "username",
            message: "error-username-invalid-character",
            params: vec![json!("username")],
        });
    }
    if let Some(email) = email.filter(|e| !e.is_empty()) {
        if !email_is_valid(email) {
            errors.push(FieldError {
                field: "email",
                message: "invalid-email",
                params: vec![json!("email")],
            });
        }
        if email.chars().count() > NAME_MAX_LENGTH {
            errors.push(FieldError {
                field: "email",
                message: "error-invalid-length",
                params: vec![json!("email"), json!(0), json!(NAME_MAX_LENGTH)],
            });
        }
    }
    for (field, value) in [("firstName", first), ("lastName", last)] {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        if value.chars().count() > NAME_MAX_LENGTH {
            errors.push(FieldError {
                field,
                message: "error-invalid-length",
                params: vec![json!(field), json!(0), json!(NAME_MAX_LENGTH)],
            });
        }
        if person_name_has_prohibited(value) {
            errors.push(FieldError {
                field,
                message: "error-person-name-invalid-character",
                params: vec![json!(field)],
            });
        }
    }
    errors
}

/// Unmanaged attribute values longer than 2048 characters are rejected when stored
/// through the REST API with the policy enabled (§6).
pub fn validate_unmanaged_lengths(realm: &Realm, attributes: &AttributeMap) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (name, values) in attributes {
        if is_managed(&realm.profile, name) {
            continue;
        }
        if values
            .iter()
            .any(|v| v.chars().count() > UNMANAGED_VALUE_MAX_LENGTH)
        {
            errors.push(FieldError {
                field: "attributes",
                message: "error-invalid-length",
                params: vec![json!(name), json!(0), json!(UNMANAGED_VALUE_MAX_LENGTH)],
            });
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmanaged_attributes_follow_the_policy() {
        let mut config = default_config();
        let mut given = AttributeMap::new();
        given.insert("department".into(), vec!["x".into()]);
        assert!(writable_attributes(&config, &given).is_empty());
        assert!(readable_attributes(&config, &given).is_empty());
        config.unmanaged_attribute_policy = Some("ADMIN_VIEW".into());
        assert!(writable_attributes(&config, &given).is_empty());
        assert_eq!(readable_attributes(&config, &given).len(), 1);
        config.unmanaged_attribute_policy = Some("ADMIN_EDIT".into());
        assert_eq!(writable_attributes(&config, &given).len(), 1);
    }

    #[test]
    fn username_rules_match_the_default_profile() {
        assert!(validate_user("ab", None, None, None)
            .iter()
            .any(|e| e.message == "error-invalid-length"));
        assert!(validate_user("a b", None, None, None)
            .iter()
            .any(|e| e.message == "error-username-invalid-character"));
        assert!(validate_user(
            "ada.lovelace@example.com",
            Some("ada@example.com"),
            Some("Ada"),
            None
        )
        .is_empty());
        assert!(validate_user("ada", Some("not-an-email"), None, None)
            .iter()
            .any(|e| e.message == "invalid-email"));
    }

    #[test]
    fn config_validation_rejects_odd_names_and_missing_username() {
        let mut config = default_config();
        assert!(validate_config(&config).is_ok());
        config.attributes.push(UpAttribute {
            name: "some:attribute".into(),
            rest: Default::default(),
        });
        assert!(validate_config(&config).is_err());
        let mut config = default_config();
        config.attributes.retain(|a| a.name != "username");
        assert!(validate_config(&config).is_err());
    }
}
