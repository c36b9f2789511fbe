//! `verify`: reads planned users back and compares what Keycloak stored — existence, username,
//! email, names, enabled, emailVerified, required actions, visible attributes, realm and client
//! role mappings, groups, federated identities and whether a password credential exists. A
//! seeded reservoir sample keeps memory bounded to the sample size; without a sample, users
//! stream through with bounded concurrency.
//!
//! Roles, groups and federated identities are compared when the planned user specifies them
//! (each costs one request per user). Links to an identity provider the realm does not have are
//! stored by Keycloak but never listed (keycloak-target.md §3; `UserResource` filters them), so
//! they are not compared and their aliases are reported instead. Credentials are compared by
//! presence only: the sink never reads or prints secret data.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinSet;

use crate::client::{encode_segment, ApiRequest, KeycloakClient};
use crate::error::SinkError;
use crate::lookup::{self, ServerUser};
use crate::progress::{Phase, Progress};
use crate::targets::{GroupPath, UserToLoad};
use crate::user_profile;

/// Most missing users and differences listed in the report (the counters stay exact).
pub const MAX_LISTED: usize = 1_000;

/// A user that was not found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyUser {
    pub key: String,
    pub username: String,
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub key: String,
    pub username: String,
    pub field: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Users compared (the sample size when sampling).
    pub checked: u64,
    /// Users read from the input (more than `checked` when sampling).
    pub read: u64,
    pub matching: u64,
    pub missing_count: u64,
    pub with_differences: u64,
    pub missing: Vec<VerifyUser>,
    pub differences: Vec<Difference>,
    /// Attributes hidden by the user profile (not declared, no unmanaged policy): not compared.
    pub attributes_not_checked: BTreeSet<String>,
    /// Identity-provider aliases the realm lacks: links to them are invisible, not compared.
    pub identity_links_not_checked: BTreeSet<String>,
    /// True when `missing`/`differences` were cut at [`MAX_LISTED`].
    pub truncated: bool,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.missing_count == 0 && self.with_differences == 0
    }
}

struct Context {
    /// The unmanaged policy exposes every attribute.
    all_attributes_visible: bool,
    declared: BTreeSet<String>,
    default_role: String,
    /// Identity providers of the realm (`None`: not listable, every link is compared).
    identity_providers: Option<BTreeSet<String>>,
}

struct UserCheck {
    key: String,
    username: String,
    missing: bool,
    differences: Vec<Difference>,
    unchecked_attributes: Vec<String>,
    unchecked_links: Vec<String>,
}

/// Verifies `users` (or a seeded sample of `sample` of them).
pub async fn verify(
    client: &KeycloakClient,
    users: impl Iterator<Item = UserToLoad> + Send,
    sample: Option<usize>,
    seed: u64,
    progress: &dyn Progress,
) -> Result<VerifyReport, SinkError> {
    let profile = user_profile::read(client).await?;
    let context = Arc::new(Context {
        // Without a user-profile endpoint (old servers) attributes are always readable.
        all_attributes_visible: match &profile {
            None => true,
            Some(p) => p.unmanaged_attribute_policy.is_some(),
        },
        declared: profile
            .iter()
            .flat_map(|p| p.attributes.iter().map(|a| a.name.clone()))
            .collect(),
        default_role: format!("default-roles-{}", client.realm().to_lowercase()),
        identity_providers: match crate::preflight::identity_provider_aliases(client).await {
            Ok(aliases) => Some(aliases),
            Err(SinkError::Forbidden { .. }) => None,
            Err(e) => return Err(e),
        },
    });
    let mut report = VerifyReport::default();
    let mut tasks: JoinSet<Result<UserCheck, SinkError>> = JoinSet::new();
    match sample {
        Some(size) => {
            let (picked, read) = reservoir(users, size, seed);
            report.read = read;
            progress.start(Phase::Verify, Some(picked.len() as u64));
            for user in picked {
                spawn_bounded(client, &context, &mut tasks, &mut report, user, progress).await?;
            }
        }
        None => {
            progress.start(Phase::Verify, None);
            for user in users {
                report.read += 1;
                spawn_bounded(client, &context, &mut tasks, &mut report, user, progress).await?;
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        absorb(&mut report, joined, progress)?;
    }
    progress.finish(Phase::Verify);
    report.missing.sort_by(|a, b| a.key.cmp(&b.key));
    report
        .differences
        .sort_by(|a, b| (&a.key, &a.field).cmp(&(&b.key, &b.field)));
    Ok(report)
}

async fn spawn_bounded(
    client: &KeycloakClient,
    context: &Arc<Context>,
    tasks: &mut JoinSet<Result<UserCheck, SinkError>>,
    report: &mut VerifyReport,
    user: UserToLoad,
    progress: &dyn Progress,
) -> Result<(), SinkError> {
    while tasks.len() >= client.concurrency() {
        if let Some(joined) = tasks.join_next().await {
            absorb(report, joined, progress)?;
        }
    }
    let client = client.clone();
    let context = Arc::clone(context);
    tasks.spawn(async move { check_user(&client, &context, user).await });
    Ok(())
}

fn absorb(
    report: &mut VerifyReport,
    joined: Result<Result<UserCheck, SinkError>, tokio::task::JoinError>,
    progress: &dyn Progress,
) -> Result<(), SinkError> {
    let check = joined.map_err(|e| SinkError::HttpClient(format!("verify task failed: {e}")))??;
    report.checked += 1;
    progress.advance(Phase::Verify, 1);
    report
        .attributes_not_checked
        .extend(check.unchecked_attributes);
    report
        .identity_links_not_checked
        .extend(check.unchecked_links);
    if check.missing {
        report.missing_count += 1;
        if report.missing.len() < MAX_LISTED {
            report.missing.push(VerifyUser {
                key: check.key,
                username: check.username,
            });
        } else {
            report.truncated = true;
        }
    } else if check.differences.is_empty() {
        report.matching += 1;
    } else {
        report.with_differences += 1;
        for d in check.differences {
            if report.differences.len() < MAX_LISTED {
                report.differences.push(d);
            } else {
                report.truncated = true;
            }
        }
    }
    Ok(())
}

/// Algorithm R with a seeded RNG: a uniform sample of `size` users in one pass.
fn reservoir(
    users: impl Iterator<Item = UserToLoad>,
    size: usize,
    seed: u64,
) -> (Vec<UserToLoad>, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut picked: Vec<UserToLoad> = Vec::with_capacity(size.min(1 << 16));
    let mut read: u64 = 0;
    for user in users {
        read += 1;
        if picked.len() < size {
            picked.push(user);
        } else {
            let j = rng.random_range(0..read);
            if let Some(slot) = usize::try_from(j).ok().and_then(|j| picked.get_mut(j)) {
                *slot = user;
            }
        }
    }
    (picked, read)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleMappings {
    #[serde(default)]
    realm_mappings: Option<Vec<lookup::Named>>,
    #[serde(default)]
    client_mappings: Option<BTreeMap<String, ClientMapping>>,
}

#[derive(Deserialize)]
struct ClientMapping {
    #[serde(default)]
    client: Option<String>,
    #[serde(default)]
    mappings: Option<Vec<lookup::Named>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FederatedLink {
    identity_provider: Option<String>,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct Credential {
    #[serde(rename = "type")]
    type_: Option<String>,
}

async fn check_user(
    client: &KeycloakClient,
    context: &Context,
    user: UserToLoad,
) -> Result<UserCheck, SinkError> {
    let planned = &user.user;
    let username = user.import_name().unwrap_or_default().to_string();
    let mut check = UserCheck {
        key: user.key.clone(),
        username: username.clone(),
        missing: false,
        differences: vec![],
        unchecked_attributes: vec![],
        unchecked_links: vec![],
    };
    let Some(actual) = lookup::find_user_by_username(client, &username).await? else {
        check.missing = true;
        return Ok(check);
    };
    let mut diff = |field: &str, expected: String, actual: String| {
        if expected != actual {
            check.differences.push(Difference {
                key: user.key.clone(),
                username: username.clone(),
                field: field.to_string(),
                expected,
                actual,
            });
        }
    };
    compare_scalars(planned, &actual, &mut diff);

    if let Some(attrs) = &planned.attributes {
        for (name, values) in attrs {
            if !context.all_attributes_visible && !context.declared.contains(name) {
                check.unchecked_attributes.push(name.clone());
                continue;
            }
            let actual_values = actual
                .attributes
                .as_ref()
                .and_then(|a| a.get(name))
                .map(strings)
                .unwrap_or_default();
            diff(
                &format!("attributes.{name}"),
                render(values),
                render(&actual_values),
            );
        }
    }

    let Some(id) = actual.id.clone() else {
        return Ok(check);
    };
    let user_path = client.realm_path(&format!("/users/{}", encode_segment(&id)));
    if planned.realm_roles.is_some() || planned.client_roles.is_some() {
        let req = ApiRequest::get(format!("{user_path}/role-mappings"));
        let mappings: RoleMappings = client.get_json(&req).await?;
        if let Some(expected) = &planned.realm_roles {
            let expected: BTreeSet<String> = expected.iter().cloned().collect();
            let mut got: BTreeSet<String> = mappings
                .realm_mappings
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.name)
                .collect();
            if !expected.contains(&context.default_role) {
                got.remove(&context.default_role);
            }
            diff("realmRoles", render(&expected), render(&got));
        }
        if let Some(expected) = &planned.client_roles {
            let expected: BTreeMap<String, BTreeSet<String>> = expected
                .iter()
                .filter(|(_, roles)| !roles.is_empty())
                .map(|(c, roles)| (c.clone(), roles.iter().cloned().collect()))
                .collect();
            let got: BTreeMap<String, BTreeSet<String>> = mappings
                .client_mappings
                .unwrap_or_default()
                .into_iter()
                .map(|(key, m)| {
                    (
                        m.client.unwrap_or(key),
                        m.mappings
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|r| r.name)
                            .collect(),
                    )
                })
                .filter(|(_, roles): &(String, BTreeSet<String>)| !roles.is_empty())
                .collect();
            diff("clientRoles", json_text(&expected), json_text(&got));
        }
    }
    if let Some(expected) = &planned.groups {
        let req = ApiRequest::get(format!("{user_path}/groups"))
            .query("first", "0")
            .query("max", lookup::USER_GROUPS_MAX.to_string());
        let groups: Vec<lookup::GroupRef> = client.get_json(&req).await?;
        let canonical = |p: &str| {
            GroupPath::parse(p)
                .map(|g| g.render())
                .unwrap_or_else(|| p.to_string())
        };
        let expected: BTreeSet<String> = expected.iter().map(|p| canonical(p)).collect();
        let got: BTreeSet<String> = groups
            .into_iter()
            .filter_map(|g| g.path)
            .map(|p| canonical(&p))
            .collect();
        diff("groups", render(&expected), render(&got));
    }
    if let Some(expected) = &planned.federated_identities {
        let req = ApiRequest::get(format!("{user_path}/federated-identity"));
        let links: Vec<FederatedLink> = client.get_json(&req).await?;
        let expected: BTreeSet<String> = expected
            .iter()
            .filter(|f| {
                let alias = f.identity_provider.as_deref().unwrap_or_default();
                let visible = context
                    .identity_providers
                    .as_ref()
                    .is_none_or(|known| known.contains(alias));
                if !visible {
                    check.unchecked_links.push(alias.to_string());
                }
                visible
            })
            .map(|f| {
                format!(
                    "{}:{}",
                    f.identity_provider.as_deref().unwrap_or(""),
                    f.user_id.as_deref().unwrap_or("")
                )
            })
            .collect();
        let got: BTreeSet<String> = links
            .into_iter()
            .map(|f| {
                format!(
                    "{}:{}",
                    f.identity_provider.unwrap_or_default(),
                    f.user_id.unwrap_or_default()
                )
            })
            .collect();
        diff("federatedIdentities", render(&expected), render(&got));
    }
    let req = ApiRequest::get(format!("{user_path}/credentials"));
    let credentials: Vec<Credential> = client.get_json(&req).await?;
    let expected = planned
        .credentials
        .as_ref()
        .is_some_and(|c| c.iter().any(|c| c.type_.as_deref() == Some("password")));
    let got = credentials
        .iter()
        .any(|c| c.type_.as_deref() == Some("password"));
    diff("password", presence(expected), presence(got));
    Ok(check)
}

fn compare_scalars(
    planned: &kcm_keycloak_types::UserRepresentation,
    actual: &ServerUser,
    diff: &mut impl FnMut(&str, String, String),
) {
    let lower = |s: Option<&str>| s.unwrap_or_default().to_lowercase();
    if planned.username.is_some() {
        diff(
            "username",
            lower(planned.username.as_deref()),
            lower(actual.username.as_deref()),
        );
    }
    if planned.email.is_some() {
        diff(
            "email",
            lower(planned.email.as_deref()),
            lower(actual.email.as_deref()),
        );
    }
    let text = |s: Option<&str>| s.unwrap_or_default().to_string();
    if planned.first_name.is_some() {
        diff(
            "firstName",
            text(planned.first_name.as_deref()),
            text(actual.first_name.as_deref()),
        );
    }
    if planned.last_name.is_some() {
        diff(
            "lastName",
            text(planned.last_name.as_deref()),
            text(actual.last_name.as_deref()),
        );
    }
    // The import path stores an absent flag as false (keycloak-target.md §7).
    diff(
        "enabled",
        planned.enabled.unwrap_or(false).to_string(),
        actual.enabled.unwrap_or(false).to_string(),
    );
    diff(
        "emailVerified",
        planned.email_verified.unwrap_or(false).to_string(),
        actual.email_verified.unwrap_or(false).to_string(),
    );
    let expected: BTreeSet<String> = planned.required_actions.iter().flatten().cloned().collect();
    let got: BTreeSet<String> = actual.required_actions.iter().flatten().cloned().collect();
    diff("requiredActions", render(&expected), render(&got));
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect(),
        Value::String(s) => vec![s.clone()],
        other => vec![other.to_string()],
    }
}

fn render<T: Serialize + ?Sized>(v: &T) -> String {
    json_text(v)
}

fn json_text<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn presence(p: bool) -> String {
    if p { "present" } else { "absent" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcm_keycloak_types::UserRepresentation;

    fn user(i: usize) -> UserToLoad {
        UserToLoad::new(
            format!("k{i}"),
            UserRepresentation {
                username: Some(format!("u{i}")),
                ..Default::default()
            },
        )
    }

    #[test]
    fn reservoir_is_seeded_and_bounded() {
        let (a, read) = reservoir((0..1_000).map(user), 10, 42);
        let (b, _) = reservoir((0..1_000).map(user), 10, 42);
        let (c, _) = reservoir((0..1_000).map(user), 10, 43);
        assert_eq!(read, 1_000);
        assert_eq!(a.len(), 10);
        let keys = |v: &[UserToLoad]| v.iter().map(|u| u.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&a), keys(&b));
        assert_ne!(keys(&a), keys(&c));
        let (small, _) = reservoir((0..3).map(user), 10, 1);
        assert_eq!(small.len(), 3);
    }

    #[test]
    fn scalar_comparison_applies_import_defaults_and_case_folding() {
        let planned = UserRepresentation {
            username: Some("Ada".into()),
            email: Some("ADA@example.com".into()),
            first_name: Some("Ada".into()),
            required_actions: Some(vec!["UPDATE_PASSWORD".into()]),
            ..Default::default()
        };
        let actual = ServerUser {
            username: Some("ada".into()),
            email: Some("ada@example.com".into()),
            first_name: Some("Ada".into()),
            enabled: Some(false),
            required_actions: Some(vec!["UPDATE_PASSWORD".into()]),
            ..Default::default()
        };
        let mut diffs = Vec::new();
        compare_scalars(&planned, &actual, &mut |f, e, a| {
            if e != a {
                diffs.push(f.to_string())
            }
        });
        assert!(diffs.is_empty(), "{diffs:?}");
        let actual = ServerUser {
            enabled: Some(true),
            ..actual
        };
        compare_scalars(&planned, &actual, &mut |f, e, a| {
            if e != a {
                diffs.push(f.to_string())
            }
        });
        assert_eq!(diffs, vec!["enabled"]);
    }
}
