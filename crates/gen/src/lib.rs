//! `kcm-gen`: deterministic, streaming generator of synthetic Auth0, Okta and Firebase user
//! exports, for tests and benchmarks of kc-migrate. Not part of the user-facing binary.
//!
//! Every provider's files use that provider's real export layout (see
//! `shared/reference/export-formats.md`):
//! - Auth0: `users.ndjson[.gz]` (bulk export), `password-hashes.ndjson` (support export),
//!   `roles.json` (`{"roles":[{"id","name","description","users":[…]}]}`).
//! - Okta: `users.csv[.gz]` (API variable-name header), `group-memberships.csv`
//!   (`group,login`).
//! - Firebase: `users.json[.gz]` (`firebase auth:export` JSON).
//!
//! Guarantees:
//! - **Streaming**: each user is written as soon as it is generated; memory does not grow
//!   with the number of users (nothing collects users; side files are written by
//!   recomputation, see [`person`]).
//! - **Deterministic**: ChaCha seeded from `--seed`; no wall clock, no hash-map ordering,
//!   so the same seed and size give byte-identical files (gzip included).
//! - **Realistic mix**: ~72% password users, ~25% social-only (Google/GitHub/Apple), ~4%
//!   password users with a linked social identity, ~3% blocked/disabled/suspended (every
//!   Okta status appears), ~1% duplicate e-mail addresses (a user reusing the previous
//!   user's address), many non-ASCII names, one to three roles/groups per user from a pool
//!   of 20 (see [`names::POOL`]), Auth0 records of roughly 600–900 bytes.
//!
//! **Password hashes are fake.** Auth0 hashes are syntactically valid bcrypt MCF strings
//! (`$2b$10$` + 22-char salt + 31-char hash in bcrypt's base-64 alphabet) made of random
//! bytes, and Firebase hashes are 64 random bytes with 10-byte salts: real bcrypt at cost 10
//! takes tens of milliseconds per user, far too slow for millions. No password verifies
//! against them.

pub mod auth0;
pub mod firebase;
pub mod names;
pub mod okta;
pub mod output;
pub mod person;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use output::WrittenFile;

/// Seed used when none is given.
pub const DEFAULT_SEED: u64 = 1;

/// Which provider's export format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Auth0,
    Okta,
    Firebase,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Auth0 => "auth0",
            Provider::Okta => "okta",
            Provider::Firebase => "firebase",
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub provider: Provider,
    pub users: u64,
    pub seed: u64,
    /// Output directory; created if missing. Existing files of the same names are replaced.
    pub out_dir: PathBuf,
    /// Gzip the main users file (side files stay plain, like the real ones).
    pub gzip: bool,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct GenReport {
    pub provider: Provider,
    pub users: u64,
    pub files: Vec<WrittenFile>,
    pub elapsed: Duration,
}

impl GenReport {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// The one-line summary printed on stderr.
    pub fn summary_line(&self) -> String {
        let files: Vec<String> = self
            .files
            .iter()
            .map(|f| format!("{} ({} bytes)", f.path.display(), f.bytes))
            .collect();
        format!(
            "kcm-gen: {} users ({}) in {:.2} s, {} bytes: {}",
            self.users,
            self.provider.as_str(),
            self.elapsed.as_secs_f64(),
            self.total_bytes(),
            files.join(", ")
        )
    }
}

/// Why generation failed. Generated data is never invalid, so only writing can fail.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV write failed: {0}")]
    Csv(#[from] csv::Error),
    #[error("JSON write failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// Generate the files for `opts`, streaming.
pub fn generate(opts: &GenOptions) -> Result<GenReport, GenError> {
    let start = Instant::now();
    fs_err::create_dir_all(&opts.out_dir)?;
    let dir = opts.out_dir.as_path();
    let files = match opts.provider {
        Provider::Auth0 => auth0::write(dir, opts.users, opts.seed, opts.gzip)?,
        Provider::Okta => okta::write(dir, opts.users, opts.seed, opts.gzip)?,
        Provider::Firebase => firebase::write(dir, opts.users, opts.seed, opts.gzip)?,
    };
    Ok(GenReport {
        provider: opts.provider,
        users: opts.users,
        files,
        elapsed: start.elapsed(),
    })
}
