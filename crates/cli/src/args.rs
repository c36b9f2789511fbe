//! Command-line arguments as parsed by clap (the literal parse). Commands turn these into
//! validated settings before doing any work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Migrate users, roles and groups from Auth0, Okta and Firebase into Keycloak.
#[derive(Debug, Parser)]
#[command(name = "kc-migrate", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read exports and summarise what they contain, without mapping or loading anything.
    Inspect(InspectArgs),
    /// Dry run: read the exports, apply the mapping and write a plan report (report.md,
    /// report.html, report.json, rejected.ndjson). Touches no server.
    Plan(PlanArgs),
    /// Write files for `kc.sh import --dir`: <realm>-realm.json and <realm>-users-<N>.json.
    Export(ExportArgs),
    /// Load the planned users, roles and groups into a live Keycloak (Admin REST API,
    /// partialImport batches), rate limited, with retries, a journal and --resume.
    Apply(ApplyArgs),
    /// Compare a live Keycloak realm with the plan and report every difference.
    Verify(VerifyArgs),
    /// Undo an apply run: delete exactly the users (and, with --roles-and-groups, the roles,
    /// clients and groups) its journal records as created by it. Dry run unless --yes.
    Rollback(RollbackArgs),
    /// E-mail password-reset links (execute-actions-email UPDATE_PASSWORD) to the users of
    /// an apply run who must choose a new password. Dry run unless --yes; never twice.
    Notify(NotifyArgs),
    /// Check a known password against a user's hash in an export (bcrypt, PBKDF2, Argon2,
    /// Firebase scrypt with the project's hash parameters).
    CheckHash(CheckHashArgs),
}

/// Which identity provider the inputs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceArg {
    Auth0,
    Okta,
    Firebase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// The inputs of one source run, shared by every command that reads exports.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// A job file (TOML) naming the source, inputs, mapping, target and load settings.
    /// Flags and environment variables override its values.
    #[arg(long, value_name = "FILE")]
    pub job: Option<PathBuf>,
    /// The identity provider the export comes from (defaults to the mapping file's `source`).
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    /// User export files (JSON, NDJSON or CSV; gzip detected automatically).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Auth0 password-hash export (NDJSON) to merge into the users.
    #[arg(long, value_name = "FILE")]
    pub hashes: Option<PathBuf>,
    /// Roles file (Auth0 roles with their members, or an Authorization Extension export).
    #[arg(long, value_name = "FILE")]
    pub roles: Option<PathBuf>,
    /// Group-membership file (Okta group membership CSV).
    #[arg(long, value_name = "FILE")]
    pub memberships: Option<PathBuf>,
    /// Largest accepted record in bytes; larger records are rejected without being loaded.
    #[arg(long, value_name = "BYTES", default_value_t = kcm_source_io::DEFAULT_MAX_RECORD_BYTES)]
    pub max_record_size: usize,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format for the summary on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CheckHashArgs {
    /// The identity provider the export comes from.
    #[arg(long, value_enum)]
    pub source: SourceArg,
    /// The export holding the user (for Auth0, the users export; give --hashes too).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Auth0 password-hash export.
    #[arg(long, value_name = "FILE")]
    pub hashes: Option<PathBuf>,
    /// The user: source id (e.g. `auth0|abc`, a Firebase localId) or e-mail address.
    #[arg(long, value_name = "ID")]
    pub user: String,
    /// Firebase projects: the hash config's signer key and salt separator are secrets and are
    /// read only from the environment (FIREBASE_SIGNER_KEY, FIREBASE_SALT_SEPARATOR, base64).
    /// Read the password from standard input (one line; the trailing newline is dropped).
    /// Required: passwords are never taken from the command line.
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Firebase: scrypt rounds of the project's hash config.
    #[arg(long, env = "FIREBASE_ROUNDS", default_value_t = 8)]
    pub firebase_rounds: u32,
    /// Firebase: scrypt memory cost of the project's hash config.
    #[arg(long, env = "FIREBASE_MEM_COST", default_value_t = 14)]
    pub firebase_mem_cost: u32,
}

/// Mapping and target settings shared by `plan` and `export`.
#[derive(Debug, Args)]
pub struct MappingArgs {
    /// The mapping file (TOML; see docs/mapping.md and mappings/).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Target realm name (defaults to the mapping file's `realm`).
    #[arg(long, env = "KEYCLOAK_REALM")]
    pub realm: Option<String>,
    /// A password-hash provider installed on the target besides Keycloak's native ones
    /// (pbkdf2, pbkdf2-sha256, pbkdf2-sha512, argon2), e.g. `bcrypt`, `firebase-scrypt`.
    /// Repeatable; adds to the mapping's `[passwords] providers`.
    #[arg(long = "hash-provider", value_name = "ID")]
    pub hash_providers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Directory for the report files (created if missing).
    #[arg(long, value_name = "DIR", default_value = "kc-migrate-out/plan")]
    pub out: PathBuf,
    /// Show personal data (e-mails, names) in report examples instead of masking them.
    #[arg(long)]
    pub unmasked: bool,
    /// Users per partialImport request assumed by the load-time estimate.
    #[arg(long, default_value_t = kcm_sink_keycloak::DEFAULT_BATCH_SIZE)]
    pub batch_size: usize,
    /// Plan without contacting Keycloak even when a URL is configured (flag, environment or
    /// job file).
    #[arg(long)]
    pub offline: bool,
    /// With --keycloak-url: a target-aware plan. The server's own password-hash providers
    /// decide who keeps a password, and the plan says which users, roles and groups already
    /// exist (read-only: nothing is changed). --rate also sets the load-time estimate.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format for the summary on stdout.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    /// Directory for the kc.sh import files (must not already hold an export); the plan
    /// report goes to its `report/` subdirectory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Users per `<realm>-users-<N>.json` file (Keycloak's own export uses 50).
    #[arg(long, default_value_t = kcm_report::DEFAULT_USERS_PER_FILE)]
    pub users_per_file: usize,
    /// Show personal data in the report examples instead of masking them.
    #[arg(long)]
    pub unmasked: bool,
}

/// How to reach and authenticate to the target Keycloak. Secrets are read only from the
/// environment or from files, never from the command line.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Keycloak base URL, e.g. https://sso.example.com (no /auth on Keycloak 17+).
    #[arg(long, env = "KEYCLOAK_URL", value_name = "URL")]
    pub keycloak_url: Option<String>,
    /// Realm to authenticate against.
    #[arg(long, env = "KEYCLOAK_AUTH_REALM", default_value = kcm_sink_keycloak::DEFAULT_AUTH_REALM)]
    pub auth_realm: String,
    /// Client used to obtain admin tokens.
    #[arg(long, env = "KEYCLOAK_CLIENT_ID", default_value = kcm_sink_keycloak::DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Admin username (password grant). The password comes from the KEYCLOAK_PASSWORD
    /// environment variable or --password-file.
    #[arg(long, env = "KEYCLOAK_USER", value_name = "NAME")]
    pub username: Option<String>,
    /// File holding the admin password (instead of KEYCLOAK_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// File holding a service-account client secret (instead of KEYCLOAK_CLIENT_SECRET);
    /// selects the client_credentials grant.
    #[arg(long, value_name = "FILE")]
    pub client_secret_file: Option<PathBuf>,
    /// Extra CA certificate (PEM) to trust for the Keycloak TLS connection.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate. For throw-away test servers only.
    #[arg(long)]
    pub insecure: bool,
    /// Requests per second sent to Keycloak (all requests, retries included).
    #[arg(long, default_value_t = kcm_sink_keycloak::DEFAULT_RATE)]
    pub rate: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = kcm_sink_keycloak::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Attempts per request before giving up (transient failures only).
    #[arg(long, default_value_t = kcm_sink_keycloak::DEFAULT_MAX_ATTEMPTS)]
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubles per attempt, with jitter; Retry-After wins).
    #[arg(long, value_name = "MS", default_value_t = kcm_sink_keycloak::DEFAULT_BASE_DELAY.as_millis() as u64)]
    pub retry_base_delay_ms: u64,
    /// Longest retry delay in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = kcm_sink_keycloak::DEFAULT_MAX_DELAY.as_millis() as u64)]
    pub retry_max_delay_ms: u64,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = kcm_sink_keycloak::DEFAULT_REQUEST_TIMEOUT.as_secs())]
    pub request_timeout: u64,
}

/// What to do with a planned user that already exists in the realm (same username, or same
/// e-mail when the realm forbids duplicate e-mails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExistingArg {
    /// Leave the existing user untouched and report it as skipped.
    Skip,
    /// DELETE the existing user and create it again from the export: its credentials,
    /// sessions, consents and role/group mappings are lost. Needs --allow-overwrite.
    Overwrite,
    /// Reject the planned user (Keycloak answers 409 for its batch; the batch is bisected).
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserProfileArg {
    /// Declare the custom attributes in the realm's user profile (read, modify, write back).
    Declare,
    /// Set the realm's unmanagedAttributePolicy to ADMIN_EDIT.
    Unmanaged,
    /// Change nothing; warn about attributes Keycloak will hide or drop.
    Leave,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Directory for the plan report, the journal and apply-report.{md,json}.
    #[arg(long, value_name = "DIR", default_value = "kc-migrate-out/apply")]
    pub out: PathBuf,
    /// Users per partialImport request (one Keycloak transaction each).
    #[arg(long, default_value_t = kcm_sink_keycloak::DEFAULT_BATCH_SIZE)]
    pub batch_size: usize,
    /// Policy for users that already exist. `overwrite` deletes and recreates them (losing
    /// their credentials and sessions) and requires --allow-overwrite.
    #[arg(long, value_enum, default_value_t = OnExistingArg::Skip)]
    pub on_existing: OnExistingArg,
    /// Confirms `--on-existing overwrite`: existing users are deleted and recreated.
    #[arg(long)]
    pub allow_overwrite: bool,
    /// The journal file (append-only, mode 0600). Default: OUT/journal.ndjson.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Continue the run recorded in the journal: completed batches are not sent again.
    #[arg(long)]
    pub resume: bool,
    /// Create the realm if it does not exist.
    #[arg(long)]
    pub create_realm: bool,
    /// How to make custom attributes visible under Keycloak's declarative user profile.
    #[arg(long, value_enum, default_value_t = UserProfileArg::Declare)]
    pub user_profile: UserProfileArg,
    /// Show personal data in the report examples instead of masking them.
    #[arg(long)]
    pub unmasked: bool,
    /// Stop after this many user batches (a trial run; finish it later with --resume).
    #[arg(long, value_name = "N")]
    pub max_batches: Option<u64>,
    /// After loading new users, bring users that already existed in line with the export:
    /// profile fields, attributes, enabled flag, required actions, role mappings and groups.
    /// Credentials and sessions are never touched. Add-only unless --prune.
    #[arg(long)]
    pub update_existing: bool,
    /// With --update-existing: also remove role mappings, groups and attributes the plan no
    /// longer has.
    #[arg(long, requires = "update_existing")]
    pub prune: bool,
    /// With --update-existing: update journals of earlier delta runs; users unchanged since
    /// then are not even read.
    #[arg(
        long = "previous-journal",
        value_name = "FILE",
        requires = "update_existing"
    )]
    pub previous_journals: Vec<PathBuf>,
    /// Create identity providers that planned federated identities refer to but the realm
    /// lacks, as DISABLED placeholders of the right type (no secrets; configure them before
    /// enabling). Recorded in the journal, so a rollback removes them.
    #[arg(long)]
    pub create_identity_providers: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The journal of the apply run to undo.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Realm (defaults to the one recorded in the journal).
    #[arg(long, env = "KEYCLOAK_REALM")]
    pub realm: Option<String>,
    /// Also delete the realm roles, clients, client roles, groups and identity providers the
    /// run created (Keycloak drops every mapping to them).
    #[arg(long)]
    pub roles_and_groups: bool,
    /// Leave users whose creation was only confirmed by a lookup after an unknown outcome.
    #[arg(long)]
    pub keep_unconfirmed: bool,
    /// Really delete. Without it, only report what would be deleted.
    #[arg(long)]
    pub yes: bool,
    /// Continue an interrupted rollback (its own journal, next to the apply journal).
    #[arg(long)]
    pub resume: bool,
    /// Directory for rollback-report.{md,json} (default: the apply journal's directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// The journal of the apply run whose users are to be notified.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Realm (defaults to the one recorded in the journal).
    #[arg(long, env = "KEYCLOAK_REALM")]
    pub realm: Option<String>,
    /// Validity of the e-mailed link, in seconds (Keycloak's default otherwise).
    #[arg(long, value_name = "SECS")]
    pub lifespan: Option<u64>,
    /// Client the user is sent to after resetting (execute-actions-email `client_id`).
    #[arg(long, value_name = "CLIENT_ID")]
    pub email_client_id: Option<String>,
    /// Where the user lands after resetting (needs --email-client-id).
    #[arg(long, value_name = "URI", requires = "email_client_id")]
    pub redirect_uri: Option<String>,
    /// Really send. Without it, only count who would get an e-mail.
    #[arg(long)]
    pub yes: bool,
    /// Continue an interrupted notify run: nobody is e-mailed twice.
    #[arg(long)]
    pub resume: bool,
    /// Send at most N e-mails, then stop (a trial batch: check they arrive, then run again
    /// to send the rest).
    #[arg(long, value_name = "N")]
    pub max_sends: Option<u64>,
    /// Directory for notify-report.json (default: the apply journal's directory).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Check every planned user instead of a sample.
    #[arg(long, conflicts_with = "sample")]
    pub all: bool,
    /// How many planned users to check (a seeded random sample).
    #[arg(long, default_value_t = 200)]
    pub sample: usize,
    /// Seed of the sample, so a verification can be repeated exactly.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory for verify-report.json.
    #[arg(long, value_name = "DIR", default_value = "kc-migrate-out/verify")]
    pub out: PathBuf,
}
