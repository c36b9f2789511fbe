//! Auth0 bulk-export CSV (and the old User Import/Export Extension's tab-separated variant).
//!
//! The header names each column by its `export_as` name, else by its field name
//! (`user_id`, `identities[0].connection`, `user_metadata.consent.given`), or — for the
//! extension — by a label (`Id`, `Given Name`, `Email Verified`, …). Known names are matched
//! case-insensitively and folded into the JSON key space of `user`, so CSV and JSON users go
//! through one mapping; unknown columns become attributes.
//!
//! Auth0 escapes string cells against CSV injection as `"'value"`: one leading `'` is
//! stripped from any cell that has it. An escaped cell is a string; an unescaped one is a
//! bool, number or date (raw), and is typed accordingly inside metadata.
//!
//! Line numbers come from the `csv` crate, which skips blank lines: a record that follows
//! blank lines is reported at the first of them.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kcm_model::{Attributes, Reason, RecordError, User};
use kcm_source_io::{io_reason, record_error, Input, SourceError};
use serde_json::{Map, Value};

use crate::user::user_from_object;

/// Longest column list quoted in an "unknown format" error.
const MAX_COLUMNS_SHOWN: usize = 40;
/// Longest column name quoted in an error (a binary file read as CSV has absurd "names").
const MAX_COLUMN_NAME_SHOWN: usize = 60;

/// Column names (after lower-casing and `' '` → `_`) that are Auth0 user fields, with the
/// JSON key they fold into. Extension labels normalise onto the same names.
const KNOWN_COLUMNS: &[(&str, &str)] = &[
    ("user_id", "user_id"),
    ("id", "user_id"),
    ("email", "email"),
    ("email_verified", "email_verified"),
    ("username", "username"),
    ("given_name", "given_name"),
    ("family_name", "family_name"),
    ("name", "name"),
    ("nickname", "nickname"),
    ("picture", "picture"),
    ("phone_number", "phone_number"),
    ("phone", "phone"),
    ("phone_verified", "phone_verified"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
    ("last_login", "last_login"),
    ("last_password_reset", "last_password_reset"),
    ("last_ip", "last_ip"),
    ("logins_count", "logins_count"),
    ("blocked", "blocked"),
    ("multifactor", "multifactor"),
    ("connection", "connection"),
    ("password_hash", "password_hash"),
];

/// Known fields whose cells keep their text even when unescaped (ids, e-mails and names that
/// happen to look like numbers must not turn into numbers).
const TEXT_FIELDS: &[&str] = &[
    "user_id",
    "email",
    "username",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "phone_number",
    "phone",
    "connection",
    "password_hash",
];

enum Column {
    /// Folds into the user object under this key; `text` keeps the cell a string.
    Key { key: String, text: bool },
    /// Unknown column: becomes an attribute named by the header.
    Attribute(String),
}

/// Streams the users of one CSV/TSV export.
pub struct CsvUsers {
    /// Set by [`RowGuard`] when the input ended inside an open quote.
    ended_in_quote: Arc<AtomicBool>,
    file: Arc<str>,
    reader: csv::Reader<RowGuard<CrlfToLf<Box<dyn BufRead + Send>>>>,
    columns: Vec<Column>,
    row: csv::ByteRecord,
    records: u64,
    max_record_bytes: usize,
    done: bool,
}

impl CsvUsers {
    /// Read the header now, so a file that is not an Auth0 CSV fails before anything streams.
    pub fn open(mut input: Input, max_record_bytes: usize) -> Result<Self, SourceError> {
        let file = input.path.clone();
        let delimiter = detect_delimiter(&mut input)?;
        let guard_state = Arc::new(AtomicBool::new(false));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(RowGuard::new(
                CrlfToLf::new(input.reader),
                max_record_bytes,
                guard_state.clone(),
            ));
        let header = reader
            .byte_headers()
            .map_err(|e| SourceError::UnknownFormat {
                path: file.to_string(),
                why: format!("cannot read the CSV header: {e}"),
            })?;
        let names: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        let columns: Vec<Column> = names.iter().map(|n| classify(n)).collect();
        // Two columns for the same field (`user_id` and `Id`, or `email` twice) would let the
        // last cell silently win: refuse the file and name them.
        let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
        for (column, name) in columns.iter().zip(&names) {
            let key = match column {
                Column::Key { key, .. } => key.to_lowercase(),
                Column::Attribute(a) => format!("attribute:{}", a.to_lowercase()),
            };
            if let Some(first) = seen.insert(key, name) {
                return Err(SourceError::UnknownFormat {
                    path: file.to_string(),
                    why: format!(
                        "the header has two columns for the same field: {} and {}",
                        describe_columns(&[first.to_string()]),
                        describe_columns(std::slice::from_ref(name))
                    ),
                });
            }
        }
        let has_id = columns
            .iter()
            .any(|c| matches!(c, Column::Key { key, .. } if key == "user_id"));
        if !has_id {
            return Err(SourceError::UnknownFormat {
                path: file.to_string(),
                why: format!(
                    "not an Auth0 user export: no user id column (`user_id` or `Id`); the header has {}",
                    describe_columns(&names)
                ),
            });
        }
        Ok(Self {
            file,
            reader,
            columns,
            row: csv::ByteRecord::new(),
            records: 0,
            max_record_bytes,
            done: false,
            ended_in_quote: guard_state,
        })
    }

    fn error(&self, line: u64, reason: Reason, message: impl Into<String>) -> RecordError {
        record_error(&self.file, line, self.records, reason, message)
    }

    fn convert(&self, line: u64) -> Result<User, RecordError> {
        let mut obj = Map::new();
        let mut attributes = Attributes::new();
        for (i, (column, cell)) in self.columns.iter().zip(self.row.iter()).enumerate() {
            let cell = std::str::from_utf8(cell).map_err(|_| {
                self.error(
                    line,
                    Reason::InvalidUtf8,
                    format!(
                        "column {} is not valid UTF-8 (is the file in another encoding?)",
                        i + 1
                    ),
                )
            })?;
            let (text, escaped) = match cell.strip_prefix('\'') {
                Some(rest) => (rest, true),
                None => (cell, false),
            };
            if text.is_empty() && !escaped {
                continue;
            }
            match column {
                Column::Attribute(name) => {
                    if !text.trim().is_empty() {
                        attributes.insert(name.clone(), vec![text.to_string()]);
                    }
                }
                Column::Key {
                    key,
                    text: keep_text,
                } => {
                    let value = if escaped || *keep_text {
                        Value::String(text.to_string())
                    } else {
                        infer(text)
                    };
                    obj.insert(key.clone(), value);
                }
            }
        }
        let mut user = user_from_object(
            obj,
            kcm_model::Provenance::new(self.file.clone(), line, self.records),
        )?;
        user.attributes.extend(attributes);
        Ok(user)
    }
}

impl Iterator for CsvUsers {
    type Item = Result<User, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = self.reader.read_byte_record(&mut self.row);
        self.records += 1;
        match result {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.row.position().map_or(0, |p| p.line());
                if self.ended_in_quote.load(Ordering::Relaxed) {
                    // The guard saw the end of the input inside a quoted field: this last
                    // record swallowed everything after its opening quote.
                    self.done = true;
                    return Some(Err(self.error(
                        line,
                        Reason::Truncated,
                        "a quoted field is never closed: the file ends inside this record (truncated file, or a stray `\"`?)",
                    )));
                }
                if self.row.as_slice().len() > self.max_record_bytes {
                    return Some(Err(self.error(
                        line,
                        Reason::TooLarge,
                        format!(
                            "record is larger than the maximum record size of {} bytes (see --max-record-size)",
                            self.max_record_bytes
                        ),
                    )));
                }
                Some(self.convert(line))
            }
            Err(e) => {
                // An I/O error (a truncated or corrupt gzip stream) carries no position: name
                // the line the reader had reached.
                let line = e
                    .position()
                    .map(|p| p.line())
                    .unwrap_or_else(|| self.reader.position().line().max(1));
                let shown = e.to_string();
                Some(Err(match e.into_kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => self.error(
                        line,
                        Reason::Malformed,
                        format!("the row has {len} fields but the header has {expected_len}"),
                    ),
                    csv::ErrorKind::Io(io) => {
                        self.done = true;
                        self.error(line, io_reason(&io), format!("reading stopped: {io}"))
                    }
                    _ => self.error(line, Reason::Malformed, shown),
                }))
            }
        }
    }
}

/// Bounds what one CSV row can make the `csv` crate hold, and notices an unclosed quote.
///
/// It tracks quoting (`""` toggles twice, so escaped quotes need no special case) and the
/// bytes since the last row boundary (a newline outside quotes). Past `cap` bytes the rest of
/// the row is dropped up to its boundary, so the crate sees a cut row — which the size check
/// then rejects as too large — and reading goes on with the next row. At the end of the input
/// inside an open quote it sets `ended_in_quote`.
struct RowGuard<R> {
    inner: R,
    cap: usize,
    /// Quote state of the input read so far.
    in_quote: bool,
    /// Quote state of what was passed on (differs from `in_quote` while a row is being cut).
    emitted_in_quote: bool,
    since_boundary: usize,
    /// Bytes processed but not yet handed out.
    pending: std::collections::VecDeque<u8>,
    scratch: Vec<u8>,
    ended_in_quote: Arc<AtomicBool>,
}

impl<R: Read> RowGuard<R> {
    fn new(inner: R, max_record_bytes: usize, ended_in_quote: Arc<AtomicBool>) -> Self {
        // Cells exclude separators and quotes, so let through a margin above the limit: the
        // cut row must still measure over `max_record_bytes` to be rejected.
        let cap = max_record_bytes.saturating_mul(2).saturating_add(4096);
        Self {
            inner,
            cap,
            in_quote: false,
            emitted_in_quote: false,
            since_boundary: 0,
            pending: std::collections::VecDeque::new(),
            scratch: vec![0; 64 * 1024],
            ended_in_quote,
        }
    }

    fn process(&mut self, n: usize) {
        for i in 0..n {
            let b = self.scratch[i];
            if b == b'"' {
                self.in_quote = !self.in_quote;
            }
            let boundary = b == b'\n' && !self.in_quote;
            if boundary {
                if self.since_boundary > self.cap && self.emitted_in_quote {
                    // The cut removed the field's closing quote: close it for the parser.
                    self.pending.push_back(b'"');
                    self.emitted_in_quote = false;
                }
                self.since_boundary = 0;
                self.pending.push_back(b);
                continue;
            }
            self.since_boundary += 1;
            if self.since_boundary <= self.cap {
                if b == b'"' {
                    self.emitted_in_quote = !self.emitted_in_quote;
                }
                self.pending.push_back(b);
            }
        }
    }
}

impl<R: Read> Read for RowGuard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            let n = self.inner.read(&mut self.scratch)?;
            if n == 0 {
                if self.in_quote {
                    self.ended_in_quote.store(true, Ordering::Relaxed);
                }
                return Ok(0);
            }
            self.process(n);
        }
        let k = out.len().min(self.pending.len());
        for (slot, b) in out.iter_mut().zip(self.pending.drain(..k)) {
            *slot = b;
        }
        Ok(k)
    }
}

/// Turns CRLF into LF before the `csv` crate sees the bytes: with CRLF, `csv` reports each
/// record one line too early (it counts the `\n` of the previous terminator late).
/// A lone `\r` is kept.
struct CrlfToLf<R> {
    inner: R,
    /// A `\r` ended the previous chunk; whether it is dropped depends on the next byte.
    pending_cr: bool,
}

impl<R: BufRead> CrlfToLf<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            pending_cr: false,
        }
    }
}

impl<R: BufRead> Read for CrlfToLf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let capacity = out.len();
        loop {
            let buf = self.inner.fill_buf()?;
            let mut written = 0;
            let mut put = |b: u8, written: &mut usize| {
                if let Some(slot) = out.get_mut(*written) {
                    *slot = b;
                    *written += 1;
                }
            };
            if buf.is_empty() {
                if std::mem::take(&mut self.pending_cr) {
                    put(b'\r', &mut written);
                }
                return Ok(written);
            }
            if std::mem::take(&mut self.pending_cr) && buf.first() != Some(&b'\n') {
                put(b'\r', &mut written);
            }
            let mut used = 0;
            while written < capacity {
                let Some(&b) = buf.get(used) else { break };
                used += 1;
                if b == b'\r' {
                    match buf.get(used) {
                        Some(b'\n') => continue,
                        Some(_) => put(b, &mut written),
                        None => self.pending_cr = true,
                    }
                } else {
                    put(b, &mut written);
                }
            }
            self.inner.consume(used);
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// Tab-separated when the header line has tabs and no commas (the old extension's
/// "Tab Separated Value file (*.csv)"), else comma-separated.
fn detect_delimiter(input: &mut Input) -> Result<u8, SourceError> {
    let buf = input.reader.fill_buf().map_err(|source| {
        SourceError::Open(kcm_source_io::OpenError::Io {
            path: input.path.to_string(),
            error: source,
        })
    })?;
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let header = buf.get(..end).unwrap_or_default();
    Ok(if header.contains(&b'\t') && !header.contains(&b',') {
        b'\t'
    } else {
        b','
    })
}

fn classify(name: &str) -> Column {
    let norm = name.trim().to_lowercase().replace([' ', '-'], "_");
    if let Some((_, key)) = KNOWN_COLUMNS.iter().find(|(n, _)| *n == norm) {
        return Column::Key {
            key: (*key).to_string(),
            text: TEXT_FIELDS.contains(key),
        };
    }
    if norm.starts_with("identities[") && norm.contains("].") {
        let text = !norm.ends_with(".issocial");
        return Column::Key { key: norm, text };
    }
    for root in ["user_metadata.", "app_metadata."] {
        if norm.starts_with(root) {
            // Keep the sub-path's case: metadata keys are case-sensitive.
            let rest = name.trim().get(root.len()..).unwrap_or_default();
            return Column::Key {
                key: format!("{root}{rest}"),
                text: false,
            };
        }
    }
    Column::Attribute(name.trim().to_string())
}

/// Type an unescaped cell: JSON booleans, numbers that print back identically (so `007`
/// stays text), JSON arrays/objects; anything else is a string.
fn infer(text: &str) -> Value {
    let t = text.trim();
    match t {
        "true" | "TRUE" | "True" => return Value::Bool(true),
        "false" | "FALSE" | "False" => return Value::Bool(false),
        _ => {}
    }
    if t.starts_with('[') || t.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            return v;
        }
    }
    if let Ok(n) = t.parse::<i64>() {
        if n.to_string() == t {
            return Value::from(n);
        }
    }
    if let Ok(f) = t.parse::<f64>() {
        if let Some(n) = serde_json::Number::from_f64(f) {
            if n.to_string() == t {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_string())
}

fn describe_columns(names: &[String]) -> String {
    if names.iter().all(|n| n.is_empty()) {
        return "no columns".to_string();
    }
    let mut shown: Vec<String> = names
        .iter()
        .take(MAX_COLUMNS_SHOWN)
        .map(|n| {
            // Only cells that look like column names are quoted: when a data line is taken for
            // a header (a misdetected or cut file), its cells may hold hashes or secrets.
            let looks_like_name = n.chars().count() <= MAX_COLUMN_NAME_SHOWN
                && n.chars()
                    .all(|c| c.is_alphanumeric() || " _-.[]'();,|#".contains(c));
            if looks_like_name {
                format!("`{}`", n.escape_debug())
            } else {
                format!("<{}-character value not shown>", n.chars().count())
            }
        })
        .collect();
    if names.len() > MAX_COLUMNS_SHOWN {
        shown.push(format!("… ({} columns in all)", names.len()));
    }
    format!("columns {}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crlf_becomes_lf_across_chunk_boundaries() {
        let data = b"a\r\nb\rc\r\n\r".to_vec();
        // A 1-byte buffer puts every `\r` at a chunk end.
        let inner = std::io::BufReader::with_capacity(1, std::io::Cursor::new(data));
        let mut out = Vec::new();
        CrlfToLf::new(inner).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"a\nb\rc\n\r");
    }

    #[test]
    fn infer_types_only_unambiguous_values() {
        assert_eq!(infer("true"), json!(true));
        assert_eq!(infer("42"), json!(42));
        assert_eq!(infer("1.5"), json!(1.5));
        assert_eq!(infer("007"), json!("007"));
        assert_eq!(infer("+14155550100"), json!("+14155550100"));
        assert_eq!(infer("[\"a\",\"b\"]"), json!(["a", "b"]));
        assert_eq!(
            infer("2023-01-25T17:48:14.784Z"),
            json!("2023-01-25T17:48:14.784Z")
        );
    }

    #[test]
    fn extension_labels_and_field_names_classify_alike() {
        for (header, want) in [
            ("Id", "user_id"),
            ("Given Name", "given_name"),
            ("Email Verified", "email_verified"),
            ("identities[0].Connection", "identities[0].connection"),
            ("User_Metadata.favoriteColor", "user_metadata.favoriteColor"),
        ] {
            match classify(header) {
                Column::Key { key, .. } => assert_eq!(key, want),
                Column::Attribute(a) => panic!("{header} became attribute {a}"),
            }
        }
        assert!(matches!(classify("department"), Column::Attribute(a) if a == "department"));
    }
}
