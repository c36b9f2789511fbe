//! Identity-provider placeholders: users keep their links to Google, GitHub, ... only if the
//! realm has an identity provider with that alias — Keycloak stores links to a missing alias
//! (the import path never checks) but hides them (`GET /users/{id}/federated-identity` filters
//! on existing providers) and nobody can sign in through them. [`create_identity_providers`]
//! creates each missing alias as a *disabled* provider of the matching type with an empty
//! configuration (no client id, no secret): the links become visible and an administrator
//! completes and enables the provider before cutover.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kcm_keycloak_types::IdentityProviderRepresentation;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::applied::check_target;
use crate::client::{encode_segment, ApiRequest, KeycloakClient};
use crate::error::SinkError;
use crate::journal::{CreatedKind, CreatedObject, Entry, JournalLines, JournalWriter};

/// The generic OpenID Connect broker: the type for aliases Keycloak has no built-in provider
/// for (Apple among them).
pub const GENERIC_PROVIDER_ID: &str = "oidc";

/// Alias → `providerId` of the social providers Keycloak ships (the factories registered as
/// `SocialIdentityProviderFactory`; LinkedIn's current one is OpenID Connect based).
const PROVIDER_IDS: [(&str, &str); 12] = [
    ("google", "google"),
    ("github", "github"),
    ("facebook", "facebook"),
    ("microsoft", "microsoft"),
    ("twitter", "twitter"),
    ("linkedin", "linkedin-openid-connect"),
    ("linkedin-openid-connect", "linkedin-openid-connect"),
    ("gitlab", "gitlab"),
    ("bitbucket", "bitbucket"),
    ("paypal", "paypal"),
    ("stackoverflow", "stackoverflow"),
    ("openshift-v4", "openshift-v4"),
];

/// The provider type a placeholder for `alias` gets (case-insensitive; unknown → `oidc`).
pub fn provider_id_for(alias: &str) -> &'static str {
    PROVIDER_IDS
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(alias))
        .map(|(_, id)| *id)
        .unwrap_or(GENERIC_PROVIDER_ID)
}

/// One alias handled by [`create_identity_providers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedIdp {
    pub alias: String,
    pub provider_id: String,
    /// False when the provider already existed (left exactly as it was).
    pub created: bool,
    /// Keycloak's internal id.
    pub internal_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExistingIdp {
    alias: Option<String>,
    provider_id: Option<String>,
    internal_id: Option<String>,
}

/// Creates a disabled placeholder for every alias the realm lacks; existing providers are
/// reported unchanged, so a second call creates nothing. With `record_in` (the journal of the
/// apply run that loaded the linked users; it must belong to this realm) each creation is
/// appended there as a `created` entry, so that a rollback of that run removes it.
pub async fn create_identity_providers(
    client: &KeycloakClient,
    aliases: &BTreeSet<String>,
    record_in: Option<&Path>,
) -> Result<Vec<CreatedIdp>, SinkError> {
    let mut journal = match record_in {
        Some(path) => Some(open_apply_journal(client, path)?),
        None => None,
    };
    let mut existing = list(client).await?;
    let mut out = Vec::new();
    for alias in aliases.iter().filter(|a| !a.trim().is_empty()) {
        if let Some(found) = existing.remove(alias) {
            out.push(CreatedIdp {
                alias: alias.clone(),
                provider_id: found.provider_id.unwrap_or_default(),
                created: false,
                internal_id: found.internal_id,
            });
            continue;
        }
        let provider_id = provider_id_for(alias);
        let body = IdentityProviderRepresentation {
            alias: Some(alias.clone()),
            display_name: None,
            provider_id: Some(provider_id.to_string()),
            enabled: Some(false),
            config: Some(BTreeMap::new()),
        };
        let req = ApiRequest::with_json(
            Method::POST,
            client.realm_path("/identity-provider/instances"),
            &body,
        )?;
        let resp = client.send(&req).await?;
        let created = match resp.status {
            201 | 204 => true,
            // Created meanwhile (another process, or our own request whose answer was lost).
            409 => false,
            _ => return Err(resp.into_error(&req)),
        };
        let found = get(client, alias).await?;
        let internal_id = found.as_ref().and_then(|f| f.internal_id.clone());
        if created {
            tracing::info!(alias = %alias, provider = provider_id, "created a disabled identity-provider placeholder");
            if let Some(w) = journal.as_mut() {
                w.append(&Entry::Created(
                    CreatedObject::new(CreatedKind::IdentityProvider, alias.clone())
                        .with_id(internal_id.clone()),
                ))?;
            }
        }
        out.push(CreatedIdp {
            alias: alias.clone(),
            provider_id: found
                .and_then(|f| f.provider_id)
                .unwrap_or_else(|| provider_id.to_string()),
            created,
            internal_id,
        });
    }
    Ok(out)
}

/// Checks that `path` is an apply journal of this realm and opens it for appending.
fn open_apply_journal(client: &KeycloakClient, path: &Path) -> Result<JournalWriter, SinkError> {
    match JournalLines::<Entry>::open(path)?.next() {
        Some(Ok(Entry::Header(h))) => check_target(path, client, &h.realm, &h.url)?,
        Some(Err(e)) => return Err(e),
        _ => {
            return Err(SinkError::JournalCorrupt {
                path: path.to_path_buf(),
                line: 1,
                message: "not an apply journal: the first entry is not a header".into(),
            })
        }
    }
    JournalWriter::append_to(path)
}

async fn list(client: &KeycloakClient) -> Result<BTreeMap<String, ExistingIdp>, SinkError> {
    let req = ApiRequest::get(client.realm_path("/identity-provider/instances"));
    let found: Vec<ExistingIdp> = client.get_json(&req).await?;
    Ok(found
        .into_iter()
        .filter_map(|i| i.alias.clone().map(|a| (a, i)))
        .collect())
}

async fn get(client: &KeycloakClient, alias: &str) -> Result<Option<ExistingIdp>, SinkError> {
    let req = ApiRequest::get(client.realm_path(&format!(
        "/identity-provider/instances/{}",
        encode_segment(alias)
    )));
    let resp = client.send(&req).await?;
    match resp.status {
        200 => resp.json(&req).map(Some),
        404 => Ok(None),
        _ => Err(resp.into_error(&req)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_the_provider_types_keycloak_ships() {
        assert_eq!(provider_id_for("google"), "google");
        assert_eq!(provider_id_for("GitHub"), "github");
        assert_eq!(provider_id_for("microsoft"), "microsoft");
        assert_eq!(provider_id_for("linkedin"), "linkedin-openid-connect");
        assert_eq!(provider_id_for("twitter"), "twitter");
        assert_eq!(provider_id_for("facebook"), "facebook");
        assert_eq!(
            provider_id_for("apple"),
            "oidc",
            "no built-in Apple provider"
        );
        assert_eq!(provider_id_for("corp-saml"), "oidc");
    }
}
