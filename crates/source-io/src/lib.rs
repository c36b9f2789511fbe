//! Input plumbing shared by the source adapters.
//!
//! - [`open_input`] opens a file, transparently gunzips it when it starts with the gzip magic
//!   bytes (whatever its name), skips a UTF-8 byte-order mark, and refuses UTF-16 up front.
//! - [`JsonRecords`] streams the records of a JSON export without loading it: a top-level
//!   array, a wrapper object such as `{"users": [...]}`, NDJSON, or concatenated objects.
//!   Each record comes with its start line and record number; a malformed, oversized or
//!   truncated record is reported and the stream goes on where it can.
//! - [`read_ahead`] fills batches (record texts, CSV rows) on a helper thread while the
//!   caller converts the previous ones; [`JsonRecords`] uses it by itself.
//! - [`ReadOptions`] carries limits shared by all sources.

mod input;
mod json;
mod pipeline;

pub use input::{open_input, Input, OpenError};
pub use json::{JsonRecords, Piece, RawRecord, RecordText};
pub use pipeline::{have_spare_core, read_ahead, spawn_with, Fill, ReadAhead};

use kcm_model::{Provenance, Reason, RecordError};
use std::sync::Arc;

/// Default largest record accepted, in bytes. Real user records are a few KiB; a larger one
/// is almost always a broken file (a whole export on one line, a binary file).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Limits shared by every source.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Largest record accepted, in bytes; larger ones are rejected with [`Reason::TooLarge`]
    /// without being held in memory.
    pub max_record_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

/// Build a [`RecordError`] for a place in a file.
pub fn record_error(
    file: &Arc<str>,
    line: u64,
    record: u64,
    reason: Reason,
    message: impl Into<String>,
) -> RecordError {
    RecordError::new(Provenance::new(file.clone(), line, record), reason, message)
}

/// Classify an I/O error met while reading: a gzip stream or file that ends early is
/// [`Reason::Truncated`], invalid UTF-8 reported by a decoder is [`Reason::InvalidUtf8`],
/// anything else [`Reason::Io`].
pub fn io_reason(err: &std::io::Error) -> Reason {
    match err.kind() {
        std::io::ErrorKind::UnexpectedEof => Reason::Truncated,
        std::io::ErrorKind::InvalidData if err.to_string().contains("UTF-8") => Reason::InvalidUtf8,
        _ => Reason::Io,
    }
}

/// The files one source run reads. Every source accepts the same shape; options a source
/// does not support are refused with [`SourceError::Unsupported`].
#[derive(Debug, Clone, Default)]
pub struct SourceInputs {
    /// User exports, read in order.
    pub users: Vec<std::path::PathBuf>,
    /// Password-hash export to merge into users (Auth0 support export).
    pub hashes: Option<std::path::PathBuf>,
    /// Roles file (roles with their members).
    pub roles: Option<std::path::PathBuf>,
    /// Group membership file.
    pub memberships: Option<std::path::PathBuf>,
}

/// A problem that stops a source before it yields anything: the input cannot be opened or
/// is not in any format the source reads. Record-level problems are [`RecordError`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("{path}: unrecognised format: {why}")]
    UnknownFormat { path: String, why: String },
    #[error("{0}")]
    Unsupported(String),
}

/// What a source returns: every record as an item or a record error, in input order
/// (side files such as roles and memberships first, then users, then end-of-stream reports
/// such as unmatched hash rows).
pub type SourceStream = Box<dyn Iterator<Item = kcm_model::SourceResult> + Send>;

/// A JSON object key, borrowed from the record text when it has no escapes (the common case),
/// owned otherwise. Sources that read a record straight into fields use it to match keys
/// without allocating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorrowedKey<'a>(pub std::borrow::Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for BorrowedKey<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BorrowedKey<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<BorrowedKey<'de>, E> {
                Ok(BorrowedKey(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<BorrowedKey<'de>, E> {
                Ok(BorrowedKey(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<BorrowedKey<'de>, E> {
                Ok(BorrowedKey(std::borrow::Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}
