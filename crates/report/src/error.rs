//! Errors of the report and export writers. They name the file involved and never carry user
//! data or secrets.

use std::io;
use std::path::PathBuf;

/// Why a report or export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create directory {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },

    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },

    #[error("cannot inspect {path}: {source}")]
    Inspect { path: PathBuf, source: io::Error },

    #[error("cannot serialise {what} for {path}: {source}")]
    Serialize {
        what: &'static str,
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error("realm name {realm:?} cannot be used in file names: {why}")]
    InvalidRealm { realm: String, why: &'static str },

    #[error("users per file must be at least 1")]
    InvalidUsersPerFile,

    /// A previous export for the same realm is in the directory: `kc.sh import --dir` would
    /// read its leftover user files too.
    #[error(
        "{path} already exists: a previous export for this realm is in the directory; \
         choose an empty directory or remove the old files"
    )]
    StaleExport { path: PathBuf },

    /// A user Keycloak's file import would fail on or silently skip.
    #[error("user cannot be exported: {why}")]
    InvalidUser { why: &'static str },
}
