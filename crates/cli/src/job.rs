//! Job files: one TOML file naming the source and its inputs, the mapping, the target and the
//! load settings, so a cutover script is `kc-migrate apply --job cutover.toml`.
//!
//! Precedence is flags > environment > job file > built-in defaults: a value given on the
//! command line or through its environment variable (KEYCLOAK_URL, ...) is kept; the job
//! file fills only what neither gave. Relative paths in a job file are relative to the job
//! file's own directory. Secrets never go in a job file: keys such as `password` or
//! `client_secret` are refused with a pointer to the environment variables.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::parser::ValueSource;
use clap::ArgMatches;
use serde::Deserialize;

use crate::args::{InputArgs, MappingArgs, OnExistingArg, SourceArg, TargetArgs, UserProfileArg};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// The mapping file.
    pub mapping: Option<PathBuf>,
    /// Output directory of the command.
    pub out: Option<PathBuf>,
    #[serde(default)]
    pub source: SourceSection,
    #[serde(default)]
    pub target: TargetSection,
    #[serde(default)]
    pub load: LoadSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    pub kind: Option<SourceArg>,
    #[serde(default)]
    pub files: Vec<PathBuf>,
    pub hashes: Option<PathBuf>,
    pub roles: Option<PathBuf>,
    pub memberships: Option<PathBuf>,
    pub max_record_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSection {
    pub url: Option<String>,
    pub realm: Option<String>,
    pub auth_realm: Option<String>,
    pub client_id: Option<String>,
    /// The admin username (not a secret; the password comes from the environment or a file).
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub client_secret_file: Option<PathBuf>,
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSection {
    pub batch_size: Option<usize>,
    pub rate: Option<f64>,
    pub concurrency: Option<usize>,
    pub on_existing: Option<OnExistingArg>,
    pub create_realm: Option<bool>,
    pub user_profile: Option<UserProfileArg>,
    #[serde(default)]
    pub hash_providers: Vec<String>,
}

/// Keys that would hold secrets; refused so nobody commits a password in a job file.
const SECRET_KEYS: &[&str] = &[
    "password",
    "client_secret",
    "secret",
    "token",
    "signer_key",
    "salt_separator",
];

impl Job {
    pub fn load(path: &Path) -> anyhow::Result<Job> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read job file {}", path.display()))?;
        let raw: toml::Table = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))?;
        for (section, value) in &raw {
            let keys: Vec<&String> = match value.as_table() {
                Some(t) => t.keys().collect(),
                None => vec![section],
            };
            if let Some(k) = keys.iter().find(|k| SECRET_KEYS.contains(&k.as_str())) {
                bail!(
                    "{}: `{k}` looks like a secret; job files never hold secrets — use KEYCLOAK_PASSWORD / --password-file, KEYCLOAK_CLIENT_SECRET / --client-secret-file, or `env:` references in the mapping",
                    path.display()
                );
            }
        }
        let mut job: Job = toml::from_str(&text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    (
                        before.matches('\n').count() + 1,
                        s.start - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                    )
                })
                .unwrap_or((0, 0));
            anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        job.resolve_paths(base);
        Ok(job)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.mapping.iter_mut().for_each(fix);
        self.out.iter_mut().for_each(fix);
        self.source.files.iter_mut().for_each(fix);
        self.source.hashes.iter_mut().for_each(fix);
        self.source.roles.iter_mut().for_each(fix);
        self.source.memberships.iter_mut().for_each(fix);
        self.target.password_file.iter_mut().for_each(fix);
        self.target.client_secret_file.iter_mut().for_each(fix);
        self.target.ca_cert.iter_mut().for_each(fix);
    }
}

/// True when the user gave this argument on the command line or through its environment
/// variable — those win over the job file.
fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Fill `slot` from the job file unless the user gave the argument.
fn fill<T>(m: &ArgMatches, id: &str, slot: &mut T, from_job: Option<T>) {
    if !given(m, id) {
        if let Some(v) = from_job {
            *slot = v;
        }
    }
}

/// Load the job named by `--job` (if any) and merge it into the input arguments.
pub fn merge_input(m: &ArgMatches, input: &mut InputArgs) -> anyhow::Result<Option<Job>> {
    let job = match &input.job {
        Some(path) => Job::load(path)?,
        None => {
            if input.files.is_empty() {
                bail!("no input files: give FILE... or a job file with --job");
            }
            return Ok(None);
        }
    };
    let s = &job.source;
    fill(m, "source", &mut input.source, s.kind.map(Some));
    if !given(m, "files") && !s.files.is_empty() {
        input.files = s.files.clone();
    }
    fill(m, "hashes", &mut input.hashes, s.hashes.clone().map(Some));
    fill(m, "roles", &mut input.roles, s.roles.clone().map(Some));
    fill(
        m,
        "memberships",
        &mut input.memberships,
        s.memberships.clone().map(Some),
    );
    fill(
        m,
        "max_record_size",
        &mut input.max_record_size,
        s.max_record_size,
    );
    if input.files.is_empty() {
        bail!("no input files: give FILE... or `files` under [source] in the job file");
    }
    Ok(Some(job))
}

pub fn merge_mapping(
    m: &ArgMatches,
    args: &mut MappingArgs,
    job: Option<&Job>,
) -> anyhow::Result<()> {
    if let Some(job) = job {
        fill(
            m,
            "mapping",
            &mut args.mapping,
            job.mapping.clone().map(Some),
        );
        fill(
            m,
            "realm",
            &mut args.realm,
            job.target.realm.clone().map(Some),
        );
        if !given(m, "hash_providers") && !job.load.hash_providers.is_empty() {
            args.hash_providers = job.load.hash_providers.clone();
        }
    }
    if args.mapping.is_none() {
        bail!("no mapping file: give --mapping FILE or `mapping` in the job file");
    }
    Ok(())
}

pub fn merge_target(m: &ArgMatches, args: &mut TargetArgs, job: Option<&Job>) {
    let Some(job) = job else { return };
    let t = &job.target;
    fill(
        m,
        "keycloak_url",
        &mut args.keycloak_url,
        t.url.clone().map(Some),
    );
    fill(m, "auth_realm", &mut args.auth_realm, t.auth_realm.clone());
    fill(m, "client_id", &mut args.client_id, t.client_id.clone());
    fill(
        m,
        "username",
        &mut args.username,
        t.username.clone().map(Some),
    );
    fill(
        m,
        "password_file",
        &mut args.password_file,
        t.password_file.clone().map(Some),
    );
    fill(
        m,
        "client_secret_file",
        &mut args.client_secret_file,
        t.client_secret_file.clone().map(Some),
    );
    fill(m, "ca_cert", &mut args.ca_cert, t.ca_cert.clone().map(Some));
    fill(m, "rate", &mut args.rate, job.load.rate);
    fill(
        m,
        "concurrency",
        &mut args.concurrency,
        job.load.concurrency,
    );
}

pub fn merge_out(m: &ArgMatches, out: &mut PathBuf, job: Option<&Job>) {
    if let Some(job) = job {
        fill(m, "out", out, job.out.clone());
    }
}

/// `out` for commands where it has no default (export).
pub fn merge_out_opt(m: &ArgMatches, out: &mut Option<PathBuf>, job: Option<&Job>) {
    if let Some(job) = job {
        fill(m, "out", out, job.out.clone().map(Some));
    }
}

pub fn merge_load(
    m: &ArgMatches,
    job: Option<&Job>,
    batch_size: &mut usize,
    on_existing: &mut OnExistingArg,
    create_realm: &mut bool,
    user_profile: &mut UserProfileArg,
) {
    let Some(job) = job else { return };
    let l = &job.load;
    fill(m, "batch_size", batch_size, l.batch_size);
    fill(m, "on_existing", on_existing, l.on_existing);
    fill(m, "create_realm", create_realm, l.create_realm);
    fill(m, "user_profile", user_profile, l.user_profile);
}
