//! Firebase Auth source: auth:export JSON and header-less CSV (every historical layout) and emulator exports, streamed into the shared model.
//!
//! [`read`] opens every user export up front and decides its format from the first
//! significant byte (`{`/`[` → JSON, anything else → CSV), so an unreadable or unrecognisable
//! file stops the run before anything is migrated. The returned stream then yields one
//! [`SourceItem::User`](kcm_model::SourceItem::User) or one
//! [`RecordError`](kcm_model::RecordError) per account record, file after file.
//!
//! Firebase keeps everything in the user export: password hashes (Firebase-scrypt; the
//! project's hash parameters come from configuration, not the file) and custom claims
//! (`customAttributes`, kept parsed in `metadata.customAttributes` for the mapping to turn
//! into roles). Separate hash, roles or membership files are therefore refused.

mod account;
mod csv;
mod json;

use std::io::BufRead as _;

use kcm_model::SourceResult;
use kcm_source_io::{
    open_input, Input, OpenError, ReadOptions, SourceError, SourceInputs, SourceStream,
};

/// How much of a CSV file's start is looked at to refuse binary files.
const SNIFF_BYTES: usize = 64 * 1024;

/// Stream the users of Firebase Auth exports (`auth:export` JSON or CSV, emulator exports).
///
/// Fatal (before streaming): no user export given, a side file given (hashes, roles,
/// memberships: Firebase has none), a file that cannot be opened, or one that is neither JSON
/// nor text CSV.
pub fn read(inputs: &SourceInputs, opts: &ReadOptions) -> Result<SourceStream, SourceError> {
    if inputs.hashes.is_some() {
        return Err(SourceError::Unsupported(
            "firebase: a separate password-hash file is not used: Firebase exports carry each user's passwordHash and salt inside the user export; give the project's hash parameters (signer key, salt separator, rounds, memory cost) in the configuration instead".into(),
        ));
    }
    if inputs.roles.is_some() {
        return Err(SourceError::Unsupported(
            "firebase: Firebase Auth has no roles file: roles come from custom claims (customAttributes, read from the user export); map them in the mapping file".into(),
        ));
    }
    if inputs.memberships.is_some() {
        return Err(SourceError::Unsupported(
            "firebase: Firebase Auth has no groups or membership file: derive groups from custom claims (customAttributes) in the mapping file".into(),
        ));
    }
    if inputs.users.is_empty() {
        return Err(SourceError::Unsupported(
            "firebase: no user export given (expected the output of `firebase auth:export` as JSON or CSV, or an emulator accounts.json)".into(),
        ));
    }
    let mut files: Vec<Box<dyn Iterator<Item = SourceResult> + Send>> =
        Vec::with_capacity(inputs.users.len());
    for path in &inputs.users {
        let mut input = open_input(path)?;
        let stream: Box<dyn Iterator<Item = SourceResult> + Send> = match sniff(&mut input)? {
            Format::Json => Box::new(json::JsonUsers::new(input, opts.max_record_bytes)),
            Format::Csv => Box::new(csv::CsvUsers::new(input, opts.max_record_bytes)),
        };
        files.push(stream);
    }
    Ok(Box::new(files.into_iter().flatten()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

/// Decide the format without consuming anything.
fn sniff(input: &mut Input) -> Result<Format, SourceError> {
    let path = input.path.to_string();
    let io_err = |source| {
        SourceError::Open(OpenError::Io {
            path: path.clone(),
            error: source,
        })
    };
    let first = input.first_significant_byte().map_err(io_err)?;
    if matches!(first, Some(b'{' | b'[')) {
        return Ok(Format::Json);
    }
    let head = input.reader.fill_buf().map_err(io_err)?;
    let head = head.get(..SNIFF_BYTES).unwrap_or(head);
    let unknown = |why: &str| SourceError::UnknownFormat {
        path: path.clone(),
        why: why.to_string(),
    };
    if head.contains(&0) {
        return Err(unknown(
            "binary data (NUL bytes); expected `firebase auth:export` JSON (starting with `{`) or CSV",
        ));
    }
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line_complete = head.contains(&b'\n');
    if line_complete && !first_line.trim_ascii().is_empty() && !first_line.contains(&b',') {
        return Err(unknown(
            "neither JSON (does not start with `{` or `[`) nor a Firebase CSV export (the first line has no comma)",
        ));
    }
    Ok(Format::Csv)
}
