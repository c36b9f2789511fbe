//! The invariants every target asserts, and the behaviour summary the driver uses as cheap
//! feedback (which item kinds and message shapes an input produced).
//!
//! Secret checks work with a planted marker: seeds put a hash containing [`NEEDLE`] in the
//! format's secret fields. A mutated input may move the marker into an ordinary field (a
//! display name is allowed to be quoted in a message), so the marker is only treated as a
//! secret while *every* occurrence still sits in a secret position ([`Plant`]).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::Path;

use kcm_model::{SourceItem, SourceResult};
use kcm_source_io::SourceError;

/// The recognisable text planted inside every seed password hash, salt and literal secret.
/// Longer than the 16 characters `PasswordHash::from_encoded` may quote of a scheme name.
pub const NEEDLE: &str = "FuzzPlantedSecret";

/// Items allowed beyond one per input byte (end-of-stream reports, an empty file's error).
pub const ITEM_SLACK: usize = 16;

/// Largest decompressed size the checks look at; beyond it line bounds are not checked.
const MAX_CONTENT_BYTES: usize = 64 * 1024 * 1024;

/// Longest message prefix used as a feedback feature.
const FEATURE_TEXT_CHARS: usize = 48;

/// What one run of a target produced, for the driver's feedback and statistics.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub items: usize,
    pub errors: usize,
    /// Hashes of (kind, message shape) pairs seen.
    pub features: Vec<u64>,
}

impl Summary {
    /// Record a behaviour: `tag` names the kind (`user`, `err:malformed`, ...), `text` is a
    /// message whose shape (digits and back-quoted values removed) distinguishes code paths.
    pub fn feature(&mut self, tag: &str, text: &str) {
        let mut h = DefaultHasher::new();
        tag.hash(&mut h);
        message_shape(text).hash(&mut h);
        self.features.push(h.finish());
    }
}

/// A message with its input-dependent parts removed: digits become `#`, text between back
/// quotes is dropped, and it is cut to a fixed length.
fn message_shape(text: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in text.chars() {
        if c == '`' {
            quoted = !quoted;
            out.push('`');
        } else if !quoted {
            out.push(if c.is_ascii_digit() { '#' } else { c });
        }
        if out.len() >= FEATURE_TEXT_CHARS {
            break;
        }
    }
    out
}

/// Where a format keeps secrets, so a planted marker can be recognised as still secret.
#[derive(Debug, Clone, Copy)]
pub enum Plant {
    /// The format carries no secrets: nothing to check.
    Nowhere,
    /// JSON string values right after one of these exact texts (a key with its context,
    /// such as `"credentials":{"password":{"value":"`): a key that moved elsewhere, where the
    /// format keeps unknown fields as metadata, is no longer a secret position. A text
    /// starting with `^` must run from the start of the input.
    JsonAfter(&'static [&'static str]),
    /// A whole CSV field in one of these 0-based columns (counted naively by commas),
    /// optionally only while the header line names that column as given.
    CsvColumns {
        columns: &'static [usize],
        header: Option<&'static str>,
        /// Only while no line before the marker's own has an unbalanced quote (for formats
        /// whose readers may join lines by their own rules).
        whole_lines: bool,
    },
    /// TOML string values of these keys, written `key = "value"` on their own line.
    TomlKeys(&'static [&'static str]),
    /// The whole input is secret (a password-hash string).
    Anywhere,
}

/// Whether the marker occurs in `content` and every occurrence sits in a secret position.
pub fn secret_is_guarded(content: &[u8], plant: Plant) -> bool {
    let needle = NEEDLE.as_bytes();
    let hits: Vec<usize> = content
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    if hits.is_empty() {
        return false;
    }
    match plant {
        Plant::Nowhere => false,
        Plant::Anywhere => true,
        Plant::CsvColumns {
            columns,
            header,
            whole_lines,
        } => {
            let fields = csv_fields(content);
            hits.iter().all(|&at| {
                csv_secret_field(content, &fields, at, columns, header)
                    && (!whole_lines || balanced_lines_up_to(content, at))
            })
        }
        _ => hits
            .iter()
            .all(|&at| in_secret_position(content, at, needle.len(), plant)),
    }
}

/// Characters of base64 and bcrypt hash strings (not `,`: it separates CSV fields).
fn hash_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/=.$-_".contains(&b)
}

fn in_secret_position(content: &[u8], at: usize, len: usize, plant: Plant) -> bool {
    let mut start = at;
    while start > 0 && content.get(start - 1).copied().is_some_and(hash_char) {
        start -= 1;
    }
    let mut end = at + len;
    while content.get(end).copied().is_some_and(hash_char) {
        end += 1;
    }
    let before = content.get(..start).unwrap_or_default();
    let after = content.get(end..).unwrap_or_default();
    match plant {
        Plant::JsonAfter(prefixes) => {
            after.first() == Some(&b'"')
                && prefixes.iter().any(|p| match p.strip_prefix('^') {
                    Some(anchored) => before.trim_ascii_start() == anchored.as_bytes(),
                    None => before.ends_with(p.as_bytes()),
                })
        }
        // Decided field by field in `secret_is_guarded`.
        Plant::CsvColumns { .. } => false,
        Plant::TomlKeys(keys) => toml_key_before(before, after).is_some_and(|k| keys.contains(&k)),
        Plant::Nowhere => false,
        Plant::Anywhere => true,
    }
}

/// For a line `key = "` + value + `"`: the key.
fn toml_key_before<'a>(before: &'a [u8], after: &[u8]) -> Option<&'a str> {
    let quote = *before.last()?;
    if !(quote == b'"' || quote == b'\'') || after.first() != Some(&quote) {
        return None;
    }
    let rest = before.get(..before.len() - 1)?;
    let rest = rest.trim_ascii_end().strip_suffix(b"=")?.trim_ascii_end();
    let line_start = rest.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let key = rest.get(line_start..)?.trim_ascii_start();
    let valid = !key.is_empty()
        && key
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-');
    if valid {
        std::str::from_utf8(key).ok()
    } else {
        None
    }
}

/// Whether every line up to the one holding `at` has an even number of quotes.
fn balanced_lines_up_to(content: &[u8], at: usize) -> bool {
    let end = content
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        .map_or(content.len(), |i| at + i);
    content
        .get(..end)
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .all(|line| line.iter().filter(|&&b| b == b'"').count() % 2 == 0)
}

/// The raw span of one CSV field (quotes included) and its place.
struct CsvField {
    record: usize,
    column: usize,
    start: usize,
    end: usize,
}

/// Split `content` into fields the way the `csv` crate's default dialect does (`""` inside
/// quotes, CR, LF or CRLF ending records), so a quoted multi-line cell is one field.
fn csv_fields(content: &[u8]) -> Vec<CsvField> {
    let mut out = Vec::new();
    let (mut record, mut column, mut start) = (0, 0, 0);
    let (mut quoted, mut field_start) = (false, true);
    let mut i = 0;
    while let Some(&b) = content.get(i) {
        let next = content.get(i + 1).copied();
        if quoted {
            if b == b'"' && next == Some(b'"') {
                i += 1;
            } else if b == b'"' {
                quoted = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' if field_start => {
                quoted = true;
                field_start = false;
            }
            b',' => {
                out.push(CsvField {
                    record,
                    column,
                    start,
                    end: i,
                });
                column += 1;
                start = i + 1;
                field_start = true;
            }
            b'\n' | b'\r' => {
                out.push(CsvField {
                    record,
                    column,
                    start,
                    end: i,
                });
                if b == b'\r' && next == Some(b'\n') {
                    i += 1;
                }
                record += 1;
                column = 0;
                start = i + 1;
                field_start = true;
            }
            _ => field_start = false,
        }
        i += 1;
    }
    if start < content.len() || column > 0 {
        out.push(CsvField {
            record,
            column,
            start,
            end: content.len(),
        });
    }
    out
}

/// Whether the marker at `at` is a whole field (a hash value, optionally quoted) in one of
/// `columns`, below a header naming that column when `header` is given.
fn csv_secret_field(
    content: &[u8],
    fields: &[CsvField],
    at: usize,
    columns: &[usize],
    header: Option<&str>,
) -> bool {
    let Some(field) = fields.iter().find(|f| f.start <= at && at < f.end) else {
        return false;
    };
    let raw = content.get(field.start..field.end).unwrap_or_default();
    let unquoted = raw
        .strip_prefix(b"\"")
        .and_then(|r| r.strip_suffix(b"\""))
        .unwrap_or(raw);
    if unquoted.is_empty()
        || !unquoted.iter().all(|&b| hash_char(b))
        || !columns.contains(&field.column)
    {
        return false;
    }
    match header {
        None => true,
        Some(name) => {
            field.record >= 1
                && fields
                    .iter()
                    .find(|f| f.record == 0 && f.column == field.column)
                    .and_then(|f| content.get(f.start..f.end))
                    .is_some_and(|cell| cell.trim_ascii() == name.as_bytes())
        }
    }
}

/// The bytes a parser sees after `open_input`: gunzipped when gzip, without a UTF-8 BOM.
pub struct Content {
    pub bytes: Vec<u8>,
    /// False when a gzip stream broke or was too large: `bytes` is then only a prefix, and
    /// how much more a parser decodes before the error depends on its buffer sizes.
    pub complete: bool,
}

impl Content {
    /// `bytes` when they are everything the parser can see.
    pub fn known(&self) -> Option<&[u8]> {
        self.complete.then_some(self.bytes.as_slice())
    }
}

pub fn content(data: &[u8]) -> Content {
    let mut out = Vec::new();
    let mut complete = true;
    if data.starts_with(&[0x1f, 0x8b]) {
        let mut dec = flate2::read::MultiGzDecoder::new(data).take(MAX_CONTENT_BYTES as u64 + 1);
        let mut buf = [0u8; 8192];
        loop {
            match dec.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(_) => {
                    complete = false;
                    break;
                }
            }
        }
        if out.len() > MAX_CONTENT_BYTES {
            complete = false;
        }
    } else {
        out.extend_from_slice(data);
    }
    if out.starts_with(&[0xef, 0xbb, 0xbf]) {
        out.drain(..3);
    }
    Content {
        bytes: out,
        complete,
    }
}

/// An upper bound for line numbers in `content`: every CR or LF may end a line.
pub fn max_line(content: &[u8]) -> u64 {
    content
        .iter()
        .filter(|&&b| b == b'\n' || b == b'\r')
        .count() as u64
        + 1
}

/// One input file of a source run, as the checks need it.
pub struct InputFile<'a> {
    pub path: &'a Path,
    pub data: &'a [u8],
    pub plant: Plant,
}

/// Checks the stream of a source run against the invariants in the module docs.
pub struct SourceCheck {
    files: Vec<(String, Option<u64>)>,
    max_items: usize,
    guarded: bool,
    pub summary: Summary,
}

impl SourceCheck {
    pub fn new(files: &[InputFile<'_>]) -> Self {
        let mut guarded = false;
        let mut max_items = ITEM_SLACK;
        let mut shown = Vec::new();
        for f in files {
            let content = content(f.data);
            // Gzip makes the parser see more bytes than the file has.
            let seen = content.known().map_or(MAX_CONTENT_BYTES, <[u8]>::len);
            guarded |= secret_is_guarded(&content.bytes, f.plant);
            max_items += seen.max(f.data.len());
            shown.push((f.path.display().to_string(), content.known().map(max_line)));
        }
        Self {
            files: shown,
            max_items,
            guarded,
            summary: Summary::default(),
        }
    }

    /// Whether the planted secret is present and still in secret positions.
    pub fn guarded(&self) -> bool {
        self.guarded
    }

    /// Panic if `text` shows the planted secret.
    pub fn no_secret(&self, what: &str, text: &str) {
        assert!(
            !(self.guarded && text.contains(NEEDLE)),
            "the planted password hash leaked into {what}: {text}"
        );
    }

    /// A fatal error from `read`.
    pub fn source_error(&mut self, e: &SourceError) {
        let text = e.to_string();
        self.no_secret("a SourceError message", &text);
        self.no_secret("a SourceError Debug", &format!("{e:?}"));
        self.summary.feature("fatal", &text);
    }

    fn provenance(&self, what: &str, p: &kcm_model::Provenance) {
        let Some((_, max)) = self.files.iter().find(|(f, _)| **f == *p.file) else {
            panic!(
                "{what} names file {:?}, which is none of the inputs {:?}",
                p.file,
                self.files.iter().map(|(f, _)| f).collect::<Vec<_>>()
            );
        };
        assert!(p.line >= 1, "{what} has line {} (< 1): {p}", p.line);
        if let Some(max) = max {
            assert!(
                p.line <= *max,
                "{what} has line {}, but its file has at most {max} lines: {p}",
                p.line
            );
        }
    }

    /// One item of the stream.
    pub fn result(&mut self, r: &SourceResult) {
        self.summary.items += 1;
        assert!(
            self.summary.items <= self.max_items,
            "runaway stream: more than {} items from the input bytes",
            self.max_items
        );
        match r {
            Err(e) => {
                self.summary.errors += 1;
                self.provenance("a RecordError", &e.provenance);
                self.no_secret("a RecordError message", &e.message);
                self.no_secret("a RecordError Debug", &format!("{e:?}"));
                self.summary
                    .feature(&format!("err:{}", e.reason), &e.message);
            }
            Ok(item) => {
                self.provenance("an item", item.provenance());
                let tag = match item {
                    SourceItem::User(u) => {
                        self.no_secret("a User's Debug", &format!("{u:?}"));
                        for d in &u.diagnostics {
                            self.summary.feature("diag", &d.code);
                        }
                        "user"
                    }
                    SourceItem::Role(_) => "role",
                    SourceItem::Group(_) => "group",
                    SourceItem::Membership(_) => "membership",
                    SourceItem::Merged { .. } => "merged",
                };
                self.summary.feature(tag, "");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "FuzzPlantedSecretAAAA==";

    #[test]
    fn json_marker_counts_only_after_its_key_context() {
        let plant = Plant::JsonAfter(&["\"passwordHash\":\""]);
        let ok = format!("{{\"passwordHash\":\"{HASH}\"}}");
        assert!(secret_is_guarded(ok.as_bytes(), plant));
        let moved = format!("{{\"passwordHash\":\"{HASH}\",\"name\":\"{HASH}\"}}");
        assert!(!secret_is_guarded(moved.as_bytes(), plant));
        let anchored = Plant::JsonAfter(&["^{\"h\":\""]);
        assert!(secret_is_guarded(
            format!(" {{\"h\":\"{HASH}\"}}").as_bytes(),
            anchored
        ));
        assert!(!secret_is_guarded(
            format!("[{{\"h\":\"{HASH}\"}}").as_bytes(),
            anchored
        ));
        assert!(
            !secret_is_guarded(b"{\"passwordHash\":\"x\"}", plant),
            "no marker, nothing to guard"
        );
    }

    #[test]
    fn csv_marker_must_be_a_whole_field_in_its_column_below_its_header() {
        let plant = Plant::CsvColumns {
            columns: &[1],
            header: Some("pw"),
            whole_lines: false,
        };
        assert!(secret_is_guarded(
            format!("id,pw\n1,{HASH}\r\n2,\"{HASH}\"\n").as_bytes(),
            plant
        ));
        // Inside a quoted multi-line cell of column 0 it is display text, not a secret.
        let swallowed = format!("id,pw\n\"a\n1,{HASH}\",x\n");
        assert!(!secret_is_guarded(swallowed.as_bytes(), plant));
        assert!(!secret_is_guarded(
            format!("id,name\n1,{HASH}\n").as_bytes(),
            plant
        ));
        assert!(!secret_is_guarded(
            format!("id,pw\n1,x{HASH} y\n").as_bytes(),
            plant
        ));
    }

    #[test]
    fn toml_marker_counts_only_as_the_value_of_its_key() {
        let plant = Plant::TomlKeys(&["signer_key"]);
        assert!(secret_is_guarded(
            format!("[a]\n  signer_key = \"{HASH}\"\n").as_bytes(),
            plant
        ));
        assert!(!secret_is_guarded(
            format!("realm = \"{HASH}\"\n").as_bytes(),
            plant
        ));
    }

    #[test]
    fn gzip_content_is_complete_only_when_the_stream_ends_cleanly() {
        let zipped = crate::seeds::gzip(b"a\nb\n");
        let full = content(&zipped);
        assert!(full.complete);
        assert_eq!(full.known(), Some(&b"a\nb\n"[..]));
        let cut = content(zipped.get(..zipped.len() - 4).unwrap_or_default());
        assert!(cut.known().is_none());
        assert_eq!(
            max_line(b"a\r\nb"),
            3,
            "CR and LF both count as possible line ends"
        );
    }

    #[test]
    fn message_shapes_drop_digits_and_quoted_values() {
        assert_eq!(message_shape("line 12: `abc` is bad"), "line ##: `` is bad");
    }
}
