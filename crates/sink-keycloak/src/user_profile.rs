//! User-profile handling (keycloak-target.md §6): which custom attributes Keycloak would hide,
//! and making them visible by declaring them or by setting the unmanaged-attribute policy.
//! The configuration is read, modified and written back whole (`PUT` replaces it).

use std::collections::BTreeSet;

use kcm_keycloak_types::{UpAttribute, UpConfig};
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use crate::client::{ApiRequest, KeycloakClient};
use crate::config::UserProfileMode;
use crate::error::SinkError;
use crate::report::UserProfileChange;

/// The unmanaged-attribute policy the sink sets: the narrowest that lets the Admin API read and
/// write the attributes (§6 recommendation).
pub const UNMANAGED_POLICY: &str = "ADMIN_EDIT";

/// What the user profile does to the planned attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserProfileCheck {
    /// False when the server has no user-profile endpoint (before Keycloak 24 it is optional).
    pub supported: bool,
    pub unmanaged_attribute_policy: Option<String>,
    /// Planned attributes already declared.
    pub declared: BTreeSet<String>,
    /// Planned attributes not declared.
    pub undeclared: BTreeSet<String>,
    /// Undeclared and not allowed by the policy: stored by the import but invisible to the
    /// Admin API and console.
    pub invisible: BTreeSet<String>,
    /// Names Keycloak refuses to declare (characters outside `[A-Za-z0-9._-]`); only the
    /// unmanaged policy can expose them.
    pub not_declarable: BTreeSet<String>,
}

/// Whether Keycloak accepts `name` as a declared attribute (letters, digits, `.`, `_`, `-`).
pub(crate) fn declarable(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Whether a policy lets the Admin API see unmanaged attributes (every defined policy does).
fn policy_exposes(policy: Option<&str>) -> bool {
    matches!(policy, Some("ENABLED" | "ADMIN_VIEW" | "ADMIN_EDIT"))
}

pub(crate) fn check(config: Option<&UpConfig>, names: &BTreeSet<String>) -> UserProfileCheck {
    let Some(config) = config else {
        return UserProfileCheck {
            supported: false,
            ..Default::default()
        };
    };
    let declared_names: BTreeSet<&str> =
        config.attributes.iter().map(|a| a.name.as_str()).collect();
    let policy = config.unmanaged_attribute_policy.clone();
    let mut out = UserProfileCheck {
        supported: true,
        unmanaged_attribute_policy: policy.clone(),
        ..Default::default()
    };
    for name in names {
        if declared_names.contains(name.as_str()) {
            out.declared.insert(name.clone());
            continue;
        }
        out.undeclared.insert(name.clone());
        if !declarable(name) {
            out.not_declarable.insert(name.clone());
        }
        if !policy_exposes(policy.as_deref()) {
            out.invisible.insert(name.clone());
        }
    }
    out
}

/// `GET /users/profile`; `None` when the endpoint does not exist.
pub(crate) async fn read(client: &KeycloakClient) -> Result<Option<UpConfig>, SinkError> {
    let req = ApiRequest::get(client.realm_path("/users/profile"));
    let resp = client.send(&req).await?;
    match resp.status {
        200 => resp.json(&req).map(Some),
        404 => Ok(None),
        _ => Err(resp.into_error(&req)),
    }
}

/// `PUT /users/profile`: replaces the whole configuration.
pub(crate) async fn write(client: &KeycloakClient, config: &UpConfig) -> Result<(), SinkError> {
    let req = ApiRequest::with_json(Method::PUT, client.realm_path("/users/profile"), config)?;
    let resp = client.send(&req).await?;
    if !(200..300).contains(&resp.status) {
        return Err(resp.into_error(&req));
    }
    Ok(())
}

/// An attribute declaration readable and writable by admins only; multivalued because imported
/// attributes may carry several values.
fn declaration(name: &str) -> UpAttribute {
    let rest = json!({
        "displayName": name,
        "permissions": {"view": ["admin"], "edit": ["admin"]},
        "multivalued": true,
        "annotations": {},
        "validations": {}
    });
    let rest = match rest {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    UpAttribute {
        name: name.to_string(),
        rest,
    }
}

/// The configuration after applying `mode`, or `None` when nothing changes.
pub(crate) fn plan_change(
    config: &UpConfig,
    mode: UserProfileMode,
    check: &UserProfileCheck,
) -> Option<UpConfig> {
    let mut next = config.clone();
    let wants_policy = |c: &UpConfig| {
        !matches!(
            c.unmanaged_attribute_policy.as_deref(),
            Some("ENABLED" | "ADMIN_EDIT")
        )
    };
    match mode {
        UserProfileMode::Leave => return None,
        UserProfileMode::Declare => {
            for name in check.undeclared.iter().filter(|n| declarable(n)) {
                next.attributes.push(declaration(name));
            }
            if !check.not_declarable.is_empty() && wants_policy(&next) {
                next.unmanaged_attribute_policy = Some(UNMANAGED_POLICY.to_string());
            }
        }
        UserProfileMode::Unmanaged => {
            if !check.undeclared.is_empty() && wants_policy(&next) {
                next.unmanaged_attribute_policy = Some(UNMANAGED_POLICY.to_string());
            }
        }
    }
    (next != *config).then_some(next)
}

/// Applies `mode` for `names` and reports what changed.
pub(crate) async fn ensure(
    client: &KeycloakClient,
    mode: UserProfileMode,
    names: &BTreeSet<String>,
) -> Result<UserProfileChange, SinkError> {
    let config = read(client).await?;
    let before = check(config.as_ref(), names);
    let mut change = UserProfileChange {
        mode: Some(mode),
        supported: before.supported,
        policy_before: before.unmanaged_attribute_policy.clone(),
        policy_after: before.unmanaged_attribute_policy.clone(),
        invisible: before.invisible.clone(),
        ..Default::default()
    };
    let Some(config) = config else {
        return Ok(change);
    };
    let Some(next) = plan_change(&config, mode, &before) else {
        if !before.invisible.is_empty() {
            tracing::warn!(
                attributes = ?before.invisible,
                "user attributes are not declared in the user profile: Keycloak stores them but hides them from the Admin API"
            );
        }
        return Ok(change);
    };
    write(client, &next).await?;
    let after = check(Some(&next), names);
    let before_declared: BTreeSet<&String> = config.attributes.iter().map(|a| &a.name).collect();
    change.declared = next
        .attributes
        .iter()
        .map(|a| &a.name)
        .filter(|n| !before_declared.contains(n))
        .cloned()
        .collect();
    change.policy_after = after.unmanaged_attribute_policy;
    change.invisible = after.invisible;
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(names: &[&str], policy: Option<&str>) -> UpConfig {
        UpConfig {
            attributes: names
                .iter()
                .map(|n| UpAttribute {
                    name: n.to_string(),
                    rest: Default::default(),
                })
                .collect(),
            groups: vec![],
            unmanaged_attribute_policy: policy.map(str::to_string),
        }
    }

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn undeclared_attributes_are_invisible_without_a_policy() {
        let c = config(&["username", "email", "dept"], None);
        let r = check(Some(&c), &names(&["dept", "plan", "a:b"]));
        assert_eq!(r.declared, names(&["dept"]));
        assert_eq!(r.undeclared, names(&["plan", "a:b"]));
        assert_eq!(r.invisible, names(&["plan", "a:b"]));
        assert_eq!(r.not_declarable, names(&["a:b"]));
        let r = check(Some(&config(&[], Some("ADMIN_VIEW"))), &names(&["plan"]));
        assert!(r.invisible.is_empty());
        assert!(!check(None, &names(&["plan"])).supported);
    }

    #[test]
    fn declare_adds_admin_only_attributes_and_falls_back_to_the_policy() {
        let c = config(&["username"], None);
        let r = check(Some(&c), &names(&["plan", "a:b"]));
        let next = plan_change(&c, UserProfileMode::Declare, &r).unwrap();
        let plan = next.attributes.iter().find(|a| a.name == "plan").unwrap();
        assert_eq!(plan.rest["permissions"]["edit"], json!(["admin"]));
        assert!(next.attributes.iter().all(|a| a.name != "a:b"));
        assert_eq!(
            next.unmanaged_attribute_policy.as_deref(),
            Some(UNMANAGED_POLICY)
        );
        assert!(check(Some(&next), &names(&["plan", "a:b"]))
            .invisible
            .is_empty());
    }

    #[test]
    fn unmanaged_sets_admin_edit_and_leave_changes_nothing() {
        let c = config(&["username"], None);
        let r = check(Some(&c), &names(&["plan"]));
        let next = plan_change(&c, UserProfileMode::Unmanaged, &r).unwrap();
        assert_eq!(
            next.unmanaged_attribute_policy.as_deref(),
            Some("ADMIN_EDIT")
        );
        assert_eq!(next.attributes.len(), 1);
        assert!(plan_change(&c, UserProfileMode::Leave, &r).is_none());
        let enabled = config(&["username"], Some("ENABLED"));
        let r = check(Some(&enabled), &names(&["plan"]));
        assert!(
            plan_change(&enabled, UserProfileMode::Unmanaged, &r).is_none(),
            "ENABLED already exposes them"
        );
    }
}
