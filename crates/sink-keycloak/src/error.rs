//! Errors of the Keycloak sink. None of them carries a secret: request bodies, tokens and
//! passwords are never formatted into a message.

use std::path::PathBuf;

/// A failure that stops an operation (per-user problems are outcomes in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("invalid settings: {0}")]
    InvalidSettings(String),

    #[error("cannot read CA certificate {path}: {message}")]
    CaCert { path: PathBuf, message: String },

    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),

    /// The token endpoint refused the credentials (or the client).
    #[error("authentication against realm {realm} failed (HTTP {status}): {message}")]
    Auth {
        realm: String,
        status: u16,
        message: String,
    },

    #[error("{method} {path}: forbidden (HTTP 403): the admin lacks a required role{}", hint(.message))]
    Forbidden {
        method: String,
        path: String,
        message: String,
    },

    #[error("realm {realm} does not exist (use create-realm to create it)")]
    RealmNotFound { realm: String },

    /// An unexpected status for this request.
    #[error("{method} {path}: HTTP {status}{}", hint(.message))]
    Api {
        method: String,
        path: String,
        status: u16,
        message: String,
    },

    /// Transient failures did not stop within the configured attempts.
    #[error("{method} {path}: gave up after {attempts} attempts, last: {last}")]
    RetriesExhausted {
        method: String,
        path: String,
        attempts: u32,
        last: String,
    },

    /// The request may or may not have been applied (timeout / dropped connection after sending).
    #[error("{method} {path}: outcome unknown: {detail}")]
    UnknownOutcome {
        method: String,
        path: String,
        detail: String,
    },

    #[error("{method} {path}: unexpected response body: {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },

    #[error("journal {path}: {source}")]
    Journal {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("journal {path} line {line}: {message}")]
    JournalCorrupt {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// The journal belongs to another run.
    #[error("journal {path} was written for {field} {found:?}, this run has {expected:?}")]
    JournalMismatch {
        path: PathBuf,
        field: &'static str,
        expected: String,
        found: String,
    },

    #[error("journal {path} already exists: resume the run or choose another journal path")]
    JournalExists { path: PathBuf },

    /// The realm has no mail server (`smtpServer.host` empty or missing): every
    /// execute-actions e-mail would fail with a 500.
    #[error("realm {realm} has no SMTP server configured: configure Realm settings → Email before sending e-mails")]
    SmtpNotConfigured { realm: String },
}

fn hint(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}
