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
    /// Check a known password against a user's hash in an export (bcrypt, PBKDF2, Argon2,
    /// Firebase scrypt with the project's hash parameters).
    CheckHash(CheckHashArgs),
}

/// Which identity provider the inputs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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
    /// The identity provider the export comes from (defaults to the mapping file's `source`).
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    /// User export files (JSON, NDJSON or CSV; gzip detected automatically).
    #[arg(required = true, value_name = "FILE")]
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
    pub mapping: PathBuf,
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
    /// Request rate assumed by the load-time estimate (requests per second).
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Users per partialImport request assumed by the load-time estimate.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
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
    pub out: PathBuf,
    /// Users per `<realm>-users-<N>.json` file (Keycloak's own export uses 50).
    #[arg(long, default_value_t = kcm_report::DEFAULT_USERS_PER_FILE)]
    pub users_per_file: usize,
    /// Show personal data in the report examples instead of masking them.
    #[arg(long)]
    pub unmasked: bool,
}
