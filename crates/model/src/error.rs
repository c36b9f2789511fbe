//! Record-level errors: one bad record is reported with its place and reason, and the stream
//! goes on.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Provenance;

/// Why a record was rejected. The `as_str` codes are stable: reports and `rejected.ndjson`
/// use them as field values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Not valid JSON / CSV syntax.
    Malformed,
    /// Valid syntax but a field has the wrong type or an impossible value.
    InvalidField,
    /// A field the format requires is missing (e.g. no user id).
    MissingField,
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// The record is larger than the configured maximum record size.
    TooLarge,
    /// The input ended in the middle of a record (truncated file or gzip stream).
    Truncated,
    /// Reading the input failed mid-stream.
    Io,
    /// A secondary row (hash export, membership) matched no user.
    Unmatched,
    /// The same source record appears more than once.
    Duplicate,
    /// Rejected by a mapping rule or a Keycloak constraint (used by later stages).
    Invalid,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::InvalidField => "invalid_field",
            Reason::MissingField => "missing_field",
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::TooLarge => "too_large",
            Reason::Truncated => "truncated",
            Reason::Io => "io",
            Reason::Unmatched => "unmatched",
            Reason::Duplicate => "duplicate",
            Reason::Invalid => "invalid",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected record: where it is, whose it is (when known), why, and a message that never
/// contains secret material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{provenance}: {reason}: {message}")]
pub struct RecordError {
    pub provenance: Provenance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    pub reason: Reason,
    pub message: String,
}

impl RecordError {
    pub fn new(provenance: Provenance, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            provenance,
            source_id: None,
            reason,
            message: message.into(),
        }
    }

    pub fn with_source_id(mut self, id: impl Into<String>) -> Self {
        self.source_id = Some(id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn display_names_file_line_and_reason() {
        let e = RecordError::new(
            Provenance::new(Arc::from("users.ndjson"), 7, 6),
            Reason::Malformed,
            "expected `,` or `}` at column 12",
        );
        assert_eq!(
            e.to_string(),
            "users.ndjson:7 (record 6): malformed: expected `,` or `}` at column 12"
        );
    }
}
