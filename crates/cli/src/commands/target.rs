//! What every command that talks to a live Keycloak shares: connection settings (secrets from
//! the environment or files only), the live hash-provider capability set, and the first pass
//! over the inputs that yields the plan, the roles/groups to create and the plan fingerprint.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use kcm_report::{PlanReportWriter, ReportOptions};

/// Title of a plan report.
pub fn plan_title(prepared: &Prepared) -> String {
    format!(
        "Migration plan: {} → Keycloak realm {}",
        crate::sources::kind(prepared.source),
        prepared.realm
    )
}
use kcm_sink_keycloak::{
    Auth, ConnectionSettings, KeycloakClient, LoadTargets, RetrySettings, RoleSpec,
    TrafficSettings, UserToLoad,
};
use kcm_transform::{HashCapabilities, Outcome as Planned, PlanSummary};
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};

use crate::args::{InputArgs, MappingArgs, TargetArgs};
use crate::commands::pipeline::{self, Prepared};

const PASSWORD_ENV: &str = "KEYCLOAK_PASSWORD";
const CLIENT_SECRET_ENV: &str = "KEYCLOAK_CLIENT_SECRET";

/// Read a secret from a file (first line, trailing newline dropped) or an environment variable.
fn secret(file: Option<&Path>, env: &str) -> anyhow::Result<Option<SecretString>> {
    if let Some(path) = file {
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("cannot read {}", path.display()))?;
        let first = text.lines().next().unwrap_or("").to_string();
        if first.is_empty() {
            bail!("{} is empty", path.display());
        }
        return Ok(Some(SecretString::from(first)));
    }
    Ok(std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from))
}

pub fn connection(args: &TargetArgs, realm: &str) -> anyhow::Result<ConnectionSettings> {
    let Some(url) = args.keycloak_url.clone() else {
        bail!("--keycloak-url (or KEYCLOAK_URL) is required");
    };
    let auth = match secret(args.client_secret_file.as_deref(), CLIENT_SECRET_ENV)? {
        Some(secret) => Auth::ClientCredentials { secret },
        None => {
            let Some(username) = args.username.clone() else {
                bail!("give --username (or KEYCLOAK_USER) with KEYCLOAK_PASSWORD or --password-file, or a service-account secret in KEYCLOAK_CLIENT_SECRET or --client-secret-file");
            };
            let Some(password) = secret(args.password_file.as_deref(), PASSWORD_ENV)? else {
                bail!(
                    "the admin password is missing: set KEYCLOAK_PASSWORD or use --password-file"
                );
            };
            Auth::Password { username, password }
        }
    };
    if let Some(host) = plain_http_remote_host(&url) {
        tracing::warn!("{url}: plain http to {host} sends the admin credentials and tokens unencrypted; use https");
    }
    if args.insecure {
        tracing::warn!("--insecure: the Keycloak server's TLS certificate is NOT verified");
    }
    let mut settings = ConnectionSettings::new(url, realm, auth);
    settings.auth_realm = args.auth_realm.clone();
    settings.client_id = args.client_id.clone();
    settings.ca_cert = args.ca_cert.clone();
    settings.insecure = args.insecure;
    settings.request_timeout = Duration::from_secs(args.request_timeout);
    settings.traffic = TrafficSettings {
        rate: args.rate,
        concurrency: args.concurrency,
        retry: RetrySettings {
            max_attempts: args.max_attempts,
            base_delay: Duration::from_millis(args.retry_base_delay_ms),
            max_delay: Duration::from_millis(args.retry_max_delay_ms),
            ..RetrySettings::default()
        },
    };
    settings.validate()?;
    Ok(settings)
}

/// The host of an `http://` URL that is not a loopback address (where plain HTTP is only
/// acceptable for local test servers).
fn plain_http_remote_host(url: &str) -> Option<String> {
    let rest = url.trim().strip_prefix("http://")?;
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    let local = host.eq_ignore_ascii_case("localhost") || host.starts_with("127.") || host == "::1";
    (!local).then(|| host.to_string())
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Replace the offline capability set with the live server's password-hash providers, so
/// `UPDATE_PASSWORD` is set exactly when this target cannot verify a user's hash.
pub fn use_live_capabilities(
    prepared: &mut Prepared,
    live: &BTreeSet<String>,
    warnings: &[String],
) {
    if live.is_empty() {
        tracing::warn!(
            "could not read the server's password-hash providers ({}); using the mapping's list",
            warnings.join("; ")
        );
        return;
    }
    tracing::info!(
        "target hash providers: {}",
        live.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    prepared.options.capabilities = HashCapabilities::from_ids(live.iter().cloned());
}

/// The result of the first pass over the inputs.
pub struct FirstPass {
    pub summary: PlanSummary,
    pub targets: LoadTargets,
    pub report: kcm_report::ReportPaths,
}

/// Pass one: transform everything, write the plan report to `out`, and collect what must
/// exist before users are loaded (roles, clients, groups, identity providers, attributes).
pub fn first_pass(
    input: &InputArgs,
    prepared: Prepared,
    out: &Path,
    options: ReportOptions,
) -> anyhow::Result<FirstPass> {
    let mut writer = PlanReportWriter::create(out, options)?;
    let mut attributes = BTreeSet::new();
    let summary = pipeline::run(input, prepared, |outcome| {
        if let Planned::Planned(p) = outcome {
            for name in p.user.attributes.iter().flat_map(|a| a.keys()) {
                if !attributes.contains(name) {
                    attributes.insert(name.clone());
                }
            }
        }
        Ok(writer.record(outcome)?)
    })?;
    let report = writer.finish(&summary)?;
    let targets = LoadTargets {
        realm_roles: summary.realm_roles.keys().map(RoleSpec::named).collect(),
        clients: summary.client_roles.keys().cloned().collect(),
        client_roles: summary
            .client_roles
            .iter()
            .map(|(client, roles)| (client.clone(), roles.keys().map(RoleSpec::named).collect()))
            .collect(),
        groups: summary.groups.keys().cloned().collect(),
        identity_provider_aliases: summary.identities.keys().cloned().collect(),
        attribute_names: attributes,
    };
    Ok(FirstPass {
        summary,
        targets,
        report,
    })
}

/// Pass two: the planned users again, as the sink loads them. The transform is deterministic,
/// so this yields exactly the users of pass one.
pub fn planned_users(
    input: &InputArgs,
    prepared: Prepared,
) -> anyhow::Result<impl Iterator<Item = UserToLoad> + Send> {
    let stream = crate::sources::open(input, prepared.source)?;
    let mut transformer = kcm_transform::Transformer::new(prepared.mapping, prepared.options);
    Ok(stream.flat_map(move |item| {
        transformer
            .push(item)
            .into_iter()
            .filter_map(|o| match o {
                Planned::Planned(p) => Some(UserToLoad::new(p.source_id, p.user)),
                _ => None,
            })
            .collect::<Vec<_>>()
    }))
}

/// Identifies a plan: the mapping file's bytes, the effective capability set, and each input's
/// path, size and modification time. A resume with a different fingerprint is refused.
pub fn fingerprint(
    input: &InputArgs,
    mapping: &MappingArgs,
    caps: &HashCapabilities,
) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    let path = mapping.mapping.as_deref().context("no mapping file")?;
    h.update(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?);
    for id in caps.ids() {
        h.update(id.as_bytes());
        h.update([0]);
    }
    let files = input
        .files
        .iter()
        .chain(&input.hashes)
        .chain(&input.roles)
        .chain(&input.memberships);
    for f in files {
        let meta = std::fs::metadata(f).with_context(|| format!("cannot read {}", f.display()))?;
        h.update(f.display().to_string().as_bytes());
        h.update(meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified() {
            if let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH) {
                h.update(since.as_nanos().to_le_bytes());
            }
        }
    }
    Ok(hex::encode(&h.finalize()[..16]))
}

pub async fn connect(settings: ConnectionSettings) -> anyhow::Result<KeycloakClient> {
    let url = settings.url.clone();
    KeycloakClient::connect(settings)
        .await
        .with_context(|| format!("cannot connect to Keycloak at {url}"))
}

#[cfg(test)]
mod tests {
    use super::plain_http_remote_host;

    #[test]
    fn plain_http_is_flagged_only_for_remote_hosts() {
        assert_eq!(
            plain_http_remote_host("http://sso.example.com/").as_deref(),
            Some("sso.example.com")
        );
        assert_eq!(
            plain_http_remote_host("http://10.0.0.5:8080").as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(plain_http_remote_host("http://localhost:8080"), None);
        assert_eq!(plain_http_remote_host("http://127.0.0.1:1234"), None);
        assert_eq!(plain_http_remote_host("http://[::1]:8080"), None);
        assert_eq!(plain_http_remote_host("https://sso.example.com"), None);
    }
}
