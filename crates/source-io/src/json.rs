//! Streaming the records of a JSON export without loading the file.
//!
//! Providers ship users as a top-level array (`[{…},{…}]`), inside a wrapper object
//! (`{"users": [...]}`, Firebase's `{"kind": …, "users": [...]}`, Auth0's paged
//! `{"start": 0, "users": [...]}`), as NDJSON, or as concatenated pretty objects. This module
//! splits the byte stream into one text per record with a small lexical scanner (strings,
//! escapes, nesting), so memory holds one record at a time and a broken record does not stop
//! the rest: the scanner reports it and resynchronises on the next line that starts a record.
//! Each record is parsed by `serde_json` afterwards ([`RawRecord::parse`]).
//!
//! The scanner works on whole runs of the read buffer rather than byte by byte: string bodies
//! are skipped with `memchr` and structure with a byte table, because at millions of records
//! this loop is a large share of a run's time.
//!
//! Records that hold one huge array (an Auth0 role listing every member) can be split:
//! [`JsonRecords::split_arrays`] names the keys whose array value is handed over element by
//! element ([`Piece`]), so the record size limit applies to each element, not to the role.

use std::io::{self, Read};
use std::sync::Arc;

use kcm_model::{Provenance, Reason, RecordError};
use serde::de::{Deserialize, DeserializeOwned};

use crate::pipeline::{read_ahead, ReadAhead};
use crate::{io_reason, record_error, Input};

/// Size of the read buffer. At least the `BufReader` capacity of [`crate::open_input`], so
/// reads bypass that reader's own buffer instead of copying through it.
const CHUNK: usize = 256 * 1024;

/// Bytes of a string looked at one by one before a vectorised search takes over.
const SHORT_STRING: usize = 24;

/// Bytes that end a run of uninteresting bytes inside an object or array: string and
/// bracket delimiters, and line breaks (counted for line numbers).
const STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'"' as usize] = true;
    table[b'{' as usize] = true;
    table[b'}' as usize] = true;
    table[b'[' as usize] = true;
    table[b']' as usize] = true;
    table[b'\n' as usize] = true;
    table
};

/// The text of one record with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub text: String,
    /// 1-based line where the record starts.
    pub line: u64,
    /// 1-based record number within the file.
    pub record: u64,
}

impl RawRecord {
    /// A borrowed view of this record.
    pub fn as_text(&self) -> RecordText<'_> {
        RecordText {
            text: &self.text,
            line: self.line,
            record: self.record,
        }
    }

    pub fn provenance(&self, file: &Arc<str>) -> Provenance {
        Provenance::new(file.clone(), self.line, self.record)
    }

    /// Parse the record; errors name the absolute line in the file.
    pub fn parse<T: DeserializeOwned>(&self, file: &Arc<str>) -> Result<T, RecordError> {
        self.as_text().parse(file)
    }

    /// Turn a `serde_json` error about this record's text into a [`RecordError`] whose line
    /// is absolute in the file.
    pub fn serde_error(&self, file: &Arc<str>, e: &serde_json::Error) -> RecordError {
        self.as_text().serde_error(file, e)
    }
}

/// The text of one record (or [`Piece`] of one) borrowed from the reader's buffer, valid
/// until the next call to [`JsonRecords::next_text`]. Parsing it into types that borrow
/// (`&str`, `Cow<str>`) avoids an allocation per field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordText<'a> {
    pub text: &'a str,
    /// 1-based line where the text starts.
    pub line: u64,
    /// 1-based record number within the file (pieces share their record's number).
    pub record: u64,
}

impl<'a> RecordText<'a> {
    pub fn provenance(&self, file: &Arc<str>) -> Provenance {
        Provenance::new(file.clone(), self.line, self.record)
    }

    /// Parse the text; errors name the absolute line in the file.
    pub fn parse<T: Deserialize<'a>>(&self, file: &Arc<str>) -> Result<T, RecordError> {
        serde_json::from_str(self.text).map_err(|e| self.serde_error(file, &e))
    }

    /// Turn a `serde_json` error about this text into a [`RecordError`] whose line is
    /// absolute in the file.
    pub fn serde_error(&self, file: &Arc<str>, e: &serde_json::Error) -> RecordError {
        let line = self.line + (e.line().max(1) as u64) - 1;
        let reason = match e.classify() {
            serde_json::error::Category::Data => Reason::InvalidField,
            serde_json::error::Category::Eof => Reason::Truncated,
            _ => Reason::Malformed,
        };
        let full = e.to_string();
        let msg = match full.rfind(" at line ") {
            Some(i) => &full[..i],
            None => full.as_str(),
        };
        record_error(
            file,
            line,
            self.record,
            reason,
            format!("{msg} (column {})", e.column()),
        )
    }

    pub fn to_raw(&self) -> RawRecord {
        RawRecord {
            text: self.text.to_string(),
            line: self.line,
            record: self.record,
        }
    }
}

/// Which part of a record a text is. Without [`JsonRecords::split_arrays`] every text is a
/// [`Piece::Whole`] record.
///
/// A split record comes as one [`Piece::Head`], its array's [`Piece::Element`]s, then one
/// [`Piece::Tail`]. A record-level failure after the head (broken structure, truncation)
/// ends the record with one error instead of the remaining pieces; an element that is too
/// large or not UTF-8 is an error of its own and the record goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// A whole record.
    Whole,
    /// The members of an object before its split array, as an object (`{"id": …, "name": …}`).
    Head,
    /// One element of the split array; `index` counts from 0. Its line is the element's own.
    Element { index: u64 },
    /// The members after the split array, as an object (often `{}`); ends the record. Its
    /// line is that of the array's closing `]`.
    Tail,
}

/// Why the lexical scanner gave up on a record.
enum Lex {
    /// The input ended inside the record.
    Eof,
    /// Reading failed (truncated gzip, I/O error).
    Io(io::Error),
    /// Structure is broken at this line: mismatched bracket, raw line break in a string,
    /// unexpected byte.
    Broken { line: u64, what: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level values.
    Top,
    /// Inside an array of records, before an element (after `[` or `,`).
    ArrayElement {
        wrapped: bool,
    },
    /// After an element, expecting `,` or `]`.
    ArrayAfter {
        wrapped: bool,
    },
    /// The records array of a wrapper object has closed; skip the wrapper's other keys.
    WrapperRest,
    /// Inside a split array, before an element.
    SplitElement,
    /// Inside a split array, after an element.
    SplitAfter,
    /// The split array has closed; the record's remaining members are next.
    SplitRest,
    Done,
}

/// The record whose array is being split.
#[derive(Debug, Clone, Copy)]
struct Split {
    /// Where the record starts.
    line: u64,
    record: u64,
    /// Whether the record is a top-level value (NDJSON rules for line breaks apply).
    strict: bool,
    /// The state to return to once the record is done.
    resume: State,
    /// Index of the next element.
    index: u64,
    /// Set when the head was rejected: the rest of the record is read but not handed out.
    skip: bool,
}

/// How scanning an object ended.
enum ObjectEnd {
    /// The closing `}` was consumed: a complete record.
    Record,
    /// A wrapper key with an array value is next (the `[` not yet consumed).
    Wrapper,
    /// A split key with an array value is next (the `[` not yet consumed); the key's
    /// opening quote is at `key_start` in the capture.
    Split { key_start: usize },
}

/// What one scanning step produced.
enum Next {
    /// A piece whose bytes are in the capture buffer.
    Piece(Piece, u64, u64),
    Fail(RecordError),
}

/// Bytes captured for the current record, bounded by the maximum record size. Bytes read
/// while capturing stay in the read buffer (from `start`) until the buffer is refilled or
/// the capture stops, and are then copied in one go: copying run by run costs more than
/// the scanning.
struct Capture {
    buf: Vec<u8>,
    max: usize,
    overflow: bool,
    on: bool,
    /// Where the bytes not yet copied start in the read buffer.
    start: usize,
}

/// An iterator over the records of a JSON input. See the module docs for accepted shapes.
///
/// With a spare core the scanning runs on a helper thread ([`crate::read_ahead`]), a few
/// batches of record texts ahead; parsing them stays with the caller.
pub struct JsonRecords {
    path: Arc<str>,
    source: Source,
    /// Next item of the current batch.
    at: usize,
    /// [`Scanner::in_split_record`] as of the last item handed out from a batch.
    in_split: bool,
}

enum Source {
    /// Not started yet (the thread starts with the first record).
    Pending(Box<Scanner>),
    Direct(Box<Scanner>),
    Ahead(ReadAhead<TextBatch>),
    /// Only while switching modes.
    Gone,
}

/// Items in one batch, at most.
const BATCH_ITEMS: usize = 256;
/// Text in one batch, at most (unless one record is larger).
const BATCH_BYTES: usize = 256 * 1024;

/// Record texts found ahead of the caller, back to back in one buffer.
#[derive(Default)]
struct TextBatch {
    text: String,
    items: Vec<Item>,
}

enum Item {
    Text {
        piece: Piece,
        start: usize,
        end: usize,
        line: u64,
        record: u64,
        in_split: bool,
    },
    Error {
        error: Option<RecordError>,
        in_split: bool,
    },
}

impl TextBatch {
    /// Fill from the scanner; false once it is exhausted.
    fn fill(&mut self, scanner: &mut Scanner) -> bool {
        self.text.clear();
        self.items.clear();
        while self.items.len() < BATCH_ITEMS && self.text.len() < BATCH_BYTES {
            match scanner.next_text() {
                None => return false,
                Some(Ok((piece, t))) => {
                    let (line, record) = (t.line, t.record);
                    let start = self.text.len();
                    self.text.push_str(t.text);
                    let end = self.text.len();
                    self.items.push(Item::Text {
                        piece,
                        start,
                        end,
                        line,
                        record,
                        in_split: scanner.in_split_record(),
                    });
                }
                Some(Err(error)) => self.items.push(Item::Error {
                    error: Some(error),
                    in_split: scanner.in_split_record(),
                }),
            }
        }
        true
    }
}

impl JsonRecords {
    /// Stream records from `input`. `wrapper_keys` names the keys of a wrapper object whose
    /// array value holds the records (e.g. `["users"]`); an object without such a key is a
    /// record itself.
    pub fn new(input: Input, wrapper_keys: &[&str], max_record_bytes: usize) -> Self {
        Self {
            path: input.path.clone(),
            source: Source::Pending(Box::new(Scanner::new(
                input,
                wrapper_keys,
                max_record_bytes,
            ))),
            at: 0,
            in_split: false,
        }
    }

    /// Hand over the array value of these keys, in record objects, element by element (see
    /// [`Piece`]); read the pieces with [`JsonRecords::next_text`]. Only the first such key
    /// of a record is split; an array under a later one stays in the tail. Call before
    /// reading.
    pub fn split_arrays(mut self, keys: &[&str]) -> Self {
        if let Source::Pending(scanner) = &mut self.source {
            scanner.split_keys = keys.iter().map(|k| k.to_string()).collect();
        }
        self
    }

    pub fn path(&self) -> &Arc<str> {
        &self.path
    }

    /// Whether the last piece or error handed out belongs to a split record that goes on
    /// (more elements or its tail follow). After an error this tells an element's own
    /// problem (true) from the end of a broken record (false).
    pub fn in_split_record(&self) -> bool {
        match &self.source {
            Source::Direct(scanner) => scanner.in_split_record(),
            _ => self.in_split,
        }
    }

    /// The next record (or piece of a split record) as text borrowed from the reader; `None`
    /// at the end of the input. Unlike the [`Iterator`] implementation this allocates
    /// nothing per record.
    pub fn next_text(&mut self) -> Option<Result<(Piece, RecordText<'_>), RecordError>> {
        if let Source::Pending(_) = self.source {
            let Source::Pending(mut scanner) = std::mem::replace(&mut self.source, Source::Gone)
            else {
                return None;
            };
            self.source = if crate::pipeline::have_spare_core() {
                Source::Ahead(read_ahead(
                    "kcm-scan",
                    Box::new(move |batch: &mut TextBatch| batch.fill(&mut scanner)),
                ))
            } else {
                Source::Direct(scanner)
            };
        }
        let ahead = match &mut self.source {
            Source::Direct(scanner) => return scanner.next_text(),
            Source::Ahead(ahead) => ahead,
            Source::Pending(_) | Source::Gone => return None,
        };
        loop {
            let len = ahead.current().map_or(0, |b| b.items.len());
            if self.at < len {
                break;
            }
            ahead.next_batch()?;
            self.at = 0;
        }
        let batch = ahead.current()?;
        let item = batch.items.get_mut(self.at)?;
        self.at += 1;
        match item {
            Item::Text {
                piece,
                start,
                end,
                line,
                record,
                in_split,
            } => {
                self.in_split = *in_split;
                let text = batch.text.get(*start..*end).unwrap_or_default();
                Some(Ok((
                    *piece,
                    RecordText {
                        text,
                        line: *line,
                        record: *record,
                    },
                )))
            }
            Item::Error { error, in_split } => {
                self.in_split = *in_split;
                error.take().map(Err)
            }
        }
    }
}

/// The lexical scanner behind [`JsonRecords`].
struct Scanner {
    path: Arc<str>,
    reader: Box<dyn io::BufRead + Send>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// Line of the next unread byte (1-based).
    line: u64,
    /// Column of the next unread byte (0-based).
    col: u64,
    /// True while only white space has been read since the last line break.
    at_line_start: bool,
    wrapper_keys: Vec<String>,
    split_keys: Vec<String>,
    state: State,
    records: u64,
    /// Column where elements of the current array start, when they start their own lines.
    element_col: Option<u64>,
    cap: Capture,
    /// The last text handed out; its allocation is reused for the next capture.
    text: String,
    /// Closing brackets expected by the value being scanned.
    stack: Vec<u8>,
    split: Option<Split>,
}

impl Scanner {
    fn new(input: Input, wrapper_keys: &[&str], max_record_bytes: usize) -> Self {
        Self {
            path: input.path,
            reader: input.reader,
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            line: 1,
            col: 0,
            at_line_start: true,
            wrapper_keys: wrapper_keys.iter().map(|k| k.to_string()).collect(),
            split_keys: Vec::new(),
            state: State::Top,
            records: 0,
            element_col: None,
            cap: Capture {
                buf: Vec::new(),
                max: max_record_bytes,
                overflow: false,
                on: false,
                start: 0,
            },
            text: String::new(),
            stack: Vec::new(),
            split: None,
        }
    }

    fn in_split_record(&self) -> bool {
        self.split.is_some()
    }

    /// See [`JsonRecords::next_text`].
    fn next_text(&mut self) -> Option<Result<(Piece, RecordText<'_>), RecordError>> {
        let (piece, line, record) = match self.step()? {
            Next::Fail(e) => return Some(Err(e)),
            Next::Piece(piece, line, record) => (piece, line, record),
        };
        let bytes = std::mem::take(&mut self.cap.buf);
        match String::from_utf8(bytes) {
            Ok(text) => {
                self.text = text;
                Some(Ok((
                    piece,
                    RecordText {
                        text: &self.text,
                        line,
                        record,
                    },
                )))
            }
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let newlines = bytes
                    .get(..valid)
                    .unwrap_or_default()
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                self.cap.buf = bytes;
                if piece == Piece::Head {
                    if let Some(split) = &mut self.split {
                        split.skip = true;
                    }
                }
                Some(Err(record_error(
                    &self.path,
                    line + newlines as u64,
                    record,
                    Reason::InvalidUtf8,
                    "invalid UTF-8 byte sequence (is the file in another encoding?)",
                )))
            }
        }
    }

    /// Make sure a byte is buffered; false at the end of the input.
    #[inline]
    fn fill(&mut self) -> Result<bool, Lex> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.flush_capture();
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    self.cap.start = 0;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    return Err(Lex::Io(e));
                }
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> Result<Option<u8>, Lex> {
        if self.pos < self.len || self.fill()? {
            Ok(Some(self.buf[self.pos]))
        } else {
            Ok(None)
        }
    }

    /// Copy the captured bytes still in the read buffer into the capture.
    #[inline]
    fn flush_capture(&mut self) {
        if !self.cap.on {
            return;
        }
        let pending = self.buf.get(self.cap.start..self.pos).unwrap_or_default();
        if !self.cap.overflow {
            if self.cap.buf.len() + pending.len() <= self.cap.max {
                self.cap.buf.extend_from_slice(pending);
            } else {
                self.cap.overflow = true;
            }
        }
        self.cap.start = self.pos;
    }

    /// Bytes captured so far, copied or not.
    fn captured_len(&self) -> usize {
        self.cap.buf.len() + (self.pos - self.cap.start)
    }

    fn stop_capture(&mut self) {
        self.flush_capture();
        self.cap.on = false;
    }

    /// Consume the byte last peeked.
    #[inline]
    fn bump(&mut self, b: u8) {
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 0;
            self.at_line_start = true;
        } else {
            self.col += 1;
            if !b.is_ascii_whitespace() {
                self.at_line_start = false;
            }
        }
    }

    /// Consume the next `n` buffered bytes, which contain no line break.
    #[inline]
    fn consume_run(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let run = &self.buf[self.pos..self.pos + n];
        if self.at_line_start && run.iter().any(|b| !b.is_ascii_whitespace()) {
            self.at_line_start = false;
        }
        self.col += n as u64;
        self.pos += n;
    }

    /// Broken structure: `found` where `expected` should be.
    fn unexpected(&self, expected: &str, found: u8) -> Lex {
        Lex::Broken {
            line: self.line,
            what: format!("expected {expected}, found `{}`", found as char),
        }
    }

    /// The `:` after an object key, with any whitespace before it.
    fn expect_colon(&mut self) -> Result<(), Lex> {
        match self.skip_ws()? {
            Some(b':') => {
                self.bump(b':');
                Ok(())
            }
            None => Err(Lex::Eof),
            Some(b) => Err(self.unexpected("`:`", b)),
        }
    }

    fn skip_ws(&mut self) -> Result<Option<u8>, Lex> {
        loop {
            let Some(b) = self.peek()? else {
                return Ok(None);
            };
            if b == b'\n' {
                self.bump(b);
            } else if b.is_ascii_whitespace() {
                let avail = &self.buf[self.pos..self.len];
                let n = avail
                    .iter()
                    .position(|&c| c == b'\n' || !c.is_ascii_whitespace())
                    .unwrap_or(avail.len());
                self.consume_run(n);
            } else {
                return Ok(Some(b));
            }
        }
    }

    fn expect_some(&mut self) -> Result<u8, Lex> {
        self.peek()?.ok_or(Lex::Eof)
    }

    /// Scan a string whose opening quote is next. `strict_lines` rejects raw line breaks,
    /// which is how a truncated NDJSON line glued to the next one shows up.
    fn scan_string(&mut self, strict_lines: bool) -> Result<(), Lex> {
        self.bump(b'"');
        loop {
            if !self.fill()? {
                return Err(Lex::Eof);
            }
            let avail = &self.buf[self.pos..self.len];
            // Most strings are short keys and values: a plain loop finds their end sooner
            // than setting up a vectorised search.
            let head = avail.len().min(SHORT_STRING);
            let special = |b: &u8| matches!(*b, b'"' | b'\\' | b'\n');
            let found = match avail[..head].iter().position(special) {
                Some(i) => Some(i),
                None => memchr::memchr3(b'"', b'\\', b'\n', &avail[head..]).map(|i| i + head),
            };
            let Some(i) = found else {
                let n = avail.len();
                self.consume_run(n);
                continue;
            };
            let b = avail[i];
            self.consume_run(i);
            match b {
                b'"' => {
                    self.bump(b);
                    return Ok(());
                }
                b'\\' => {
                    self.bump(b);
                    let e = self.expect_some()?;
                    if e == b'\n' && strict_lines {
                        // JSON has no escaped line break: a line cut right after a backslash.
                        // Leave the break unconsumed so the next record is not swallowed.
                        return Err(Lex::Broken {
                            line: self.line,
                            what: "line break after a backslash inside a string (is the record cut short?)".into(),
                        });
                    }
                    self.bump(e);
                }
                _ if strict_lines => {
                    return Err(Lex::Broken {
                        line: self.line,
                        what: "line break inside a string (is the record cut short?)".into(),
                    })
                }
                _ => self.bump(b),
            }
        }
    }

    /// Consume bytes up to the next structural byte (see [`STRUCTURAL`]) and return it,
    /// unconsumed.
    fn next_structural(&mut self) -> Result<u8, Lex> {
        loop {
            if !self.fill()? {
                return Err(Lex::Eof);
            }
            let avail = &self.buf[self.pos..self.len];
            match avail.iter().position(|&b| STRUCTURAL[usize::from(b)]) {
                Some(i) => {
                    let b = avail[i];
                    self.consume_run(i);
                    return Ok(b);
                }
                None => {
                    let n = avail.len();
                    self.consume_run(n);
                }
            }
        }
    }

    /// Scan one JSON value (object, array, string or scalar) starting at the next byte.
    fn scan_value(&mut self, strict_lines: bool) -> Result<(), Lex> {
        let first = self.expect_some()?;
        match first {
            b'{' | b'[' => {
                self.stack.clear();
                loop {
                    let b = self.next_structural()?;
                    match b {
                        b'"' => self.scan_string(strict_lines)?,
                        b'{' if strict_lines && self.col == 0 => {
                            // Top-level mode: pretty printers indent nested objects, so a `{`
                            // at column 0 inside an open record is the next NDJSON record and
                            // this one was cut short. Leave it unconsumed for resync.
                            return Err(Lex::Broken {
                                line: self.line,
                                what: format!(
                                    "the record is cut short: a new record starts on line {}",
                                    self.line
                                ),
                            });
                        }
                        b'{' => {
                            self.stack.push(b'}');
                            self.bump(b);
                        }
                        b'[' => {
                            self.stack.push(b']');
                            self.bump(b);
                        }
                        b'}' | b']' => {
                            if self.stack.pop() != Some(b) {
                                return Err(Lex::Broken {
                                    line: self.line,
                                    what: format!("unexpected `{}`", b as char),
                                });
                            }
                            self.bump(b);
                            if self.stack.is_empty() {
                                return Ok(());
                            }
                        }
                        _ => self.bump(b),
                    }
                }
            }
            b'"' => self.scan_string(strict_lines),
            _ => {
                // A bare scalar: read to the next delimiter.
                while let Some(b) = self.peek()? {
                    if b == b',' || b == b']' || b == b'}' || b.is_ascii_whitespace() {
                        break;
                    }
                    self.bump(b);
                }
                Ok(())
            }
        }
    }

    fn start_capture(&mut self) {
        if self.cap.buf.capacity() == 0 {
            self.cap.buf = std::mem::take(&mut self.text).into_bytes();
        }
        self.cap.buf.clear();
        self.cap.overflow = false;
        self.cap.on = true;
        self.cap.start = self.pos;
    }

    fn next_record_number(&mut self) -> u64 {
        self.records += 1;
        self.records
    }

    fn too_large(&self, line: u64, record: u64, what: &str) -> RecordError {
        record_error(
            &self.path,
            line,
            record,
            Reason::TooLarge,
            format!(
                "{what} is larger than the maximum record size of {} bytes (see --max-record-size)",
                self.cap.max
            ),
        )
    }

    /// Finish the captured record that began on `line`.
    fn finish(&mut self, line: u64) -> Next {
        self.stop_capture();
        let record = self.next_record_number();
        if self.cap.overflow {
            return Next::Fail(self.too_large(line, record, "record"));
        }
        Next::Piece(Piece::Whole, line, record)
    }

    /// Report a lexical failure of the record that began on `line` and decide how to go on.
    fn fail(&mut self, line: u64, lex: Lex) -> RecordError {
        let record = self.next_record_number();
        self.fail_record(line, record, lex)
    }

    fn fail_record(&mut self, line: u64, record: u64, lex: Lex) -> RecordError {
        self.cap.on = false;
        self.cap.buf.clear();
        match lex {
            Lex::Eof => {
                self.state = State::Done;
                record_error(
                    &self.path,
                    line,
                    record,
                    Reason::Truncated,
                    format!("the input ends inside the record that starts on line {line} (truncated file?)"),
                )
            }
            Lex::Io(e) => {
                self.state = State::Done;
                record_error(
                    &self.path,
                    self.line,
                    record,
                    io_reason(&e),
                    format!("reading stopped at line {}: {e}", self.line),
                )
            }
            Lex::Broken { line: at, what } => {
                let err = record_error(
                    &self.path,
                    line,
                    record,
                    Reason::Malformed,
                    format!("broken JSON structure at line {at}: {what}"),
                );
                if let Err(lex) = self.resync() {
                    self.state = State::Done;
                    if let Lex::Io(e) = lex {
                        return record_error(
                            &self.path,
                            self.line,
                            record,
                            io_reason(&e),
                            e.to_string(),
                        );
                    }
                }
                err
            }
        }
    }

    /// A lexical failure inside a split record: the record ends with this error (none when
    /// its head was already rejected) and scanning resumes where the record would have.
    fn fail_split(&mut self, lex: Lex) -> Option<RecordError> {
        let split = self.split.take()?;
        self.state = split.resume;
        let err = self.fail_record(split.line, split.record, lex);
        (!split.skip).then_some(err)
    }

    /// Skip to the start of the next record: the next line whose first significant byte is
    /// `{` (at the element column when inside an array of pretty-printed elements).
    fn resync(&mut self) -> Result<(), Lex> {
        let in_array = matches!(
            self.state,
            State::ArrayElement { .. } | State::ArrayAfter { .. }
        );
        let want_col = if in_array { self.element_col } else { None };
        if in_array && want_col.is_none() {
            // Elements do not start their own lines (compact array): nothing to resync on.
            while let Some(b) = self.peek()? {
                self.bump(b);
            }
            self.state = State::Done;
            return Ok(());
        }
        loop {
            let Some(b) = self.peek()? else {
                return Ok(());
            };
            if self.at_line_start && b == b'{' && want_col.is_none_or(|c| c == self.col) {
                if let State::ArrayAfter { wrapped } = self.state {
                    self.state = State::ArrayElement { wrapped };
                }
                return Ok(());
            }
            self.bump(b);
        }
    }

    fn is_wrapper_key(&self, key: &[u8]) -> bool {
        self.wrapper_keys.iter().any(|k| k.as_bytes() == key)
    }

    fn is_split_key(&self, key: &[u8]) -> bool {
        self.split_keys.iter().any(|k| k.as_bytes() == key)
    }

    /// Scan an object whose `{` is next, member by member. Stops early, before an array
    /// value, at a wrapper key (when `wrappers`) or a split key.
    fn scan_object(&mut self, strict_lines: bool, wrappers: bool) -> Result<ObjectEnd, Lex> {
        self.bump(b'{');
        loop {
            match self.skip_ws()? {
                None => return Err(Lex::Eof),
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(ObjectEnd::Record);
                }
                Some(b'"') => {}
                Some(b) => return Err(self.unexpected("a key", b)),
            }
            let key_start = self.captured_len();
            self.scan_string(strict_lines)?;
            let key_end = self.captured_len();
            self.expect_colon()?;
            let next = self.skip_ws()?.ok_or(Lex::Eof)?;
            if next == b'[' {
                self.flush_capture();
            }
            if next == b'[' && !self.cap.overflow && key_end >= key_start + 2 {
                let key = self
                    .cap
                    .buf
                    .get(key_start + 1..key_end - 1)
                    .unwrap_or_default();
                if wrappers && self.is_wrapper_key(key) {
                    return Ok(ObjectEnd::Wrapper);
                }
                if self.is_split_key(key) {
                    return Ok(ObjectEnd::Split { key_start });
                }
            }
            self.scan_value(strict_lines)?;
            match self.skip_ws()? {
                Some(b',') => self.bump(b','),
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(ObjectEnd::Record);
                }
                None => return Err(Lex::Eof),
                Some(b) => return Err(self.unexpected("`,` or `}`", b)),
            }
        }
    }

    /// A split key was found: hand out the members before it as the head and enter the
    /// array.
    fn start_split(&mut self, line: u64, key_start: usize, strict: bool, resume: State) -> Next {
        let record = self.next_record_number();
        self.stop_capture();
        let buf = &mut self.cap.buf;
        buf.truncate(key_start);
        while buf.last().is_some_and(|b| b.is_ascii_whitespace()) {
            buf.pop();
        }
        if buf.last() == Some(&b',') {
            buf.pop();
        }
        buf.push(b'}');
        self.bump(b'[');
        self.split = Some(Split {
            line,
            record,
            strict,
            resume,
            index: 0,
            skip: false,
        });
        self.state = State::SplitElement;
        Next::Piece(Piece::Head, line, record)
    }

    /// After a split array's `]`: the remaining members up to the object's `}`, captured
    /// as an object of their own (the capture already holds its `{`).
    fn scan_object_rest(&mut self, strict_lines: bool) -> Result<(), Lex> {
        let mut first = true;
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(());
                }
                Some(b',') => {
                    self.bump(b',');
                    if first && self.cap.on {
                        self.flush_capture();
                        if !self.cap.overflow {
                            // `{,` is not an object: the comma belonged to the array before.
                            self.cap.buf.pop();
                        }
                    }
                    first = false;
                    match self.skip_ws()? {
                        Some(b'"') => {}
                        None => return Err(Lex::Eof),
                        Some(b) => return Err(self.unexpected("a key", b)),
                    }
                    self.scan_string(strict_lines)?;
                    self.expect_colon()?;
                    self.skip_ws()?.ok_or(Lex::Eof)?;
                    self.scan_value(strict_lines)?;
                }
                None => return Err(Lex::Eof),
                Some(b) => return Err(self.unexpected("`,` or `}`", b)),
            }
        }
    }

    /// After a wrapper's records array: skip its remaining keys up to the closing `}`.
    fn skip_wrapper_rest(&mut self) -> Result<(), Lex> {
        loop {
            match self.skip_ws()? {
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(());
                }
                Some(b',') => {
                    self.bump(b',');
                    self.skip_ws()?.ok_or(Lex::Eof)?;
                    self.scan_string(false)?;
                    self.expect_colon()?;
                    self.skip_ws()?.ok_or(Lex::Eof)?;
                    self.scan_value(false)?;
                }
                None => return Err(Lex::Eof),
                Some(b) => return Err(self.unexpected("`,` or `}`", b)),
            }
        }
    }

    fn step(&mut self) -> Option<Next> {
        loop {
            match self.state {
                State::Done => return None,
                State::Top => {
                    let b = match self.skip_ws() {
                        Ok(Some(b)) => b,
                        Ok(None) => {
                            self.state = State::Done;
                            return None;
                        }
                        Err(lex) => return Some(Next::Fail(self.fail(self.line, lex))),
                    };
                    let line = self.line;
                    match b {
                        b'[' => {
                            self.bump(b);
                            self.element_col = None;
                            self.state = State::ArrayElement { wrapped: false };
                        }
                        b'{' => {
                            self.start_capture();
                            match self.scan_object(true, true) {
                                Ok(ObjectEnd::Record) => return Some(self.finish(line)),
                                Ok(ObjectEnd::Wrapper) => {
                                    self.cap.on = false;
                                    self.cap.buf.clear();
                                    self.bump(b'[');
                                    self.element_col = None;
                                    self.state = State::ArrayElement { wrapped: true };
                                }
                                Ok(ObjectEnd::Split { key_start }) => {
                                    return Some(self.start_split(
                                        line,
                                        key_start,
                                        true,
                                        State::Top,
                                    ))
                                }
                                Err(lex) => return Some(Next::Fail(self.fail(line, lex))),
                            }
                        }
                        other => {
                            let lex = Lex::Broken {
                                line,
                                what: format!("expected a JSON object, found `{}`", other as char),
                            };
                            // Consume the offending byte so resync makes progress.
                            self.bump(other);
                            return Some(Next::Fail(self.fail(line, lex)));
                        }
                    }
                }
                State::ArrayElement { wrapped } => {
                    let b = match self.skip_ws() {
                        Ok(Some(b)) => b,
                        Ok(None) => return Some(Next::Fail(self.fail(self.line, Lex::Eof))),
                        Err(lex) => return Some(Next::Fail(self.fail(self.line, lex))),
                    };
                    if b == b']' {
                        // Empty array, or a trailing comma before `]` (tolerated).
                        self.bump(b);
                        self.state = if wrapped {
                            State::WrapperRest
                        } else {
                            State::Top
                        };
                        continue;
                    }
                    let line = self.line;
                    if b == b',' {
                        // `[{},,{}]`: an element is missing between two commas.
                        self.bump(b);
                        let record = self.next_record_number();
                        let err = record_error(
                            &self.path,
                            line,
                            record,
                            Reason::Malformed,
                            "an empty array element (two commas in a row)",
                        );
                        return Some(Next::Fail(err));
                    }
                    if self.element_col.is_none() && self.at_line_start {
                        self.element_col = Some(self.col);
                    }
                    self.start_capture();
                    let after = State::ArrayAfter { wrapped };
                    self.state = after;
                    if b == b'{' && !self.split_keys.is_empty() {
                        return Some(match self.scan_object(false, false) {
                            Ok(ObjectEnd::Split { key_start }) => {
                                self.start_split(line, key_start, false, after)
                            }
                            Ok(_) => self.finish(line),
                            Err(lex) => Next::Fail(self.fail(line, lex)),
                        });
                    }
                    return Some(match self.scan_value(false) {
                        Ok(()) => self.finish(line),
                        Err(lex) => Next::Fail(self.fail(line, lex)),
                    });
                }
                State::ArrayAfter { wrapped } => match self.skip_ws() {
                    Ok(Some(b',')) => {
                        self.bump(b',');
                        self.state = State::ArrayElement { wrapped };
                    }
                    Ok(Some(b']')) => {
                        self.bump(b']');
                        self.state = if wrapped {
                            State::WrapperRest
                        } else {
                            State::Top
                        };
                    }
                    Ok(Some(b)) => {
                        let line = self.line;
                        let lex = self.unexpected("`,` or `]` between records", b);
                        if !(self.at_line_start && b == b'{') {
                            self.bump(b);
                        }
                        return Some(Next::Fail(self.fail(line, lex)));
                    }
                    Ok(None) => return Some(Next::Fail(self.fail(self.line, Lex::Eof))),
                    Err(lex) => return Some(Next::Fail(self.fail(self.line, lex))),
                },
                State::WrapperRest => {
                    let line = self.line;
                    match self.skip_wrapper_rest() {
                        Ok(()) => self.state = State::Top,
                        Err(lex) => {
                            self.state = State::Top;
                            return Some(Next::Fail(self.fail(line, lex)));
                        }
                    }
                }
                State::SplitElement => {
                    let split = self.split?;
                    let b = match self.skip_ws() {
                        Ok(Some(b)) => b,
                        Ok(None) => match self.fail_split(Lex::Eof) {
                            Some(e) => return Some(Next::Fail(e)),
                            None => continue,
                        },
                        Err(lex) => match self.fail_split(lex) {
                            Some(e) => return Some(Next::Fail(e)),
                            None => continue,
                        },
                    };
                    if b == b']' {
                        // Empty array, or a trailing comma before `]` (tolerated).
                        self.bump(b);
                        self.state = State::SplitRest;
                        continue;
                    }
                    let line = self.line;
                    if split.skip {
                        self.cap.on = false;
                    } else {
                        self.start_capture();
                    }
                    if let Err(lex) = self.scan_value(split.strict) {
                        match self.fail_split(lex) {
                            Some(e) => return Some(Next::Fail(e)),
                            None => continue,
                        }
                    }
                    self.stop_capture();
                    self.state = State::SplitAfter;
                    if let Some(s) = &mut self.split {
                        s.index += 1;
                    }
                    if split.skip {
                        continue;
                    }
                    if self.cap.overflow {
                        let what = format!("element {} of the record's array", split.index);
                        return Some(Next::Fail(self.too_large(line, split.record, &what)));
                    }
                    return Some(Next::Piece(
                        Piece::Element { index: split.index },
                        line,
                        split.record,
                    ));
                }
                State::SplitAfter => {
                    let lex = match self.skip_ws() {
                        Ok(Some(b',')) => {
                            self.bump(b',');
                            self.state = State::SplitElement;
                            continue;
                        }
                        Ok(Some(b']')) => {
                            self.bump(b']');
                            self.state = State::SplitRest;
                            continue;
                        }
                        Ok(Some(b)) => {
                            let lex = self.unexpected("`,` or `]` between array elements", b);
                            if !(self.at_line_start && b == b'{') {
                                self.bump(b);
                            }
                            lex
                        }
                        Ok(None) => Lex::Eof,
                        Err(lex) => lex,
                    };
                    match self.fail_split(lex) {
                        Some(e) => return Some(Next::Fail(e)),
                        None => continue,
                    }
                }
                State::SplitRest => {
                    let split = self.split?;
                    let line = self.line;
                    if split.skip {
                        self.cap.on = false;
                    } else {
                        self.start_capture();
                        self.cap.buf.push(b'{');
                    }
                    if let Err(lex) = self.scan_object_rest(split.strict) {
                        match self.fail_split(lex) {
                            Some(e) => return Some(Next::Fail(e)),
                            None => continue,
                        }
                    }
                    self.stop_capture();
                    self.split = None;
                    self.state = split.resume;
                    if split.skip {
                        continue;
                    }
                    if self.cap.overflow {
                        return Some(Next::Fail(self.too_large(
                            line,
                            split.record,
                            "the rest of the record",
                        )));
                    }
                    return Some(Next::Piece(Piece::Tail, line, split.record));
                }
            }
        }
    }
}

impl Iterator for JsonRecords {
    type Item = Result<RawRecord, RecordError>;

    /// The next record, copied out of the reader. Meant for readers that do not split
    /// arrays (pieces lose their [`Piece`] kind here); see [`JsonRecords::next_text`].
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_text()?.map(|(_, text)| text.to_raw()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8], max: usize) -> Vec<Result<RawRecord, RecordError>> {
        let input = Input::from_reader("t.json", std::io::Cursor::new(text.to_vec())).unwrap();
        JsonRecords::new(input, &["users"], max).collect()
    }

    fn ok_texts(text: &[u8]) -> Vec<String> {
        records(text, 1 << 20)
            .into_iter()
            .map(|r| r.expect("record").text)
            .collect()
    }

    #[test]
    fn array_wrapper_ndjson_and_concatenated_objects() {
        assert_eq!(
            ok_texts(b"[{\"a\":1}, {\"a\":[2]}]"),
            vec!["{\"a\":1}", "{\"a\":[2]}"]
        );
        assert_eq!(
            ok_texts(b"{\"kind\":\"x\",\"users\":[{\"a\":1},{\"b\":\"}\"}],\"next\":{\"c\":[]}}"),
            vec!["{\"a\":1}", "{\"b\":\"}\"}"]
        );
        assert_eq!(
            ok_texts(b"{\"a\":1}\n\n{\"a\":2}\n"),
            vec!["{\"a\":1}", "{\"a\":2}"]
        );
        assert_eq!(
            ok_texts(b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}"),
            vec!["{\n  \"a\": 1\n}", "{\n  \"a\": 2\n}"]
        );
        assert!(ok_texts(b"").is_empty());
        assert!(ok_texts(b"{\"users\": []}").is_empty());
    }

    #[test]
    fn object_with_non_array_users_key_is_a_record() {
        assert_eq!(ok_texts(b"{\"users\": 3}"), vec!["{\"users\": 3}"]);
    }

    #[test]
    fn lines_and_record_numbers_are_reported() {
        let recs = records(
            b"{\"users\": [\r\n  {\r\n    \"a\": 1\r\n  },\r\n  {\"b\": 2}\r\n]}",
            1 << 20,
        );
        let got: Vec<(u64, u64)> = recs
            .iter()
            .map(|r| r.as_ref().map(|r| (r.line, r.record)).unwrap())
            .collect();
        assert_eq!(got, vec![(2, 1), (5, 2)]);
    }

    #[test]
    fn truncated_ndjson_line_is_reported_and_the_next_line_read() {
        let recs = records(
            b"{\"a\":1}\n{\"a\": {\"b\": 1}\n{\"a\":3}\n{\"a\": \"cut\n{\"a\":5}\n",
            1 << 20,
        );
        let summary: Vec<String> = recs
            .iter()
            .map(|r| match r {
                Ok(r) => format!("ok {} {}", r.line, r.text),
                Err(e) => format!("err {} {}", e.provenance.line, e.reason),
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                "ok 1 {\"a\":1}",
                "err 2 malformed",
                "ok 3 {\"a\":3}",
                "err 4 malformed",
                "ok 5 {\"a\":5}",
            ]
        );
    }

    #[test]
    fn ndjson_line_cut_inside_a_nested_object_does_not_swallow_the_next() {
        let recs = records(
            b"{\"a\":1}\n{\"_id\":{\"$oid\":\"aa\"\n{\"a\":3}\n",
            1 << 20,
        );
        let summary: Vec<String> = recs
            .iter()
            .map(|r| match r {
                Ok(r) => format!("ok {}", r.line),
                Err(e) => format!("err {} {}", e.provenance.line, e.reason),
            })
            .collect();
        assert_eq!(summary, vec!["ok 1", "err 2 malformed", "ok 3"]);
    }

    #[test]
    fn truncated_array_ends_with_a_truncated_error() {
        let recs = records(b"[\n {\"a\":1},\n {\"a\":", 1 << 20);
        assert!(recs[0].is_ok());
        let err = recs[1].as_ref().unwrap_err();
        assert_eq!((err.reason, err.provenance.line), (Reason::Truncated, 3));
        assert_eq!(recs.len(), 2);
    }

    #[test]
    fn broken_element_in_pretty_array_resyncs_on_indentation() {
        let text = b"[\n  {\n    \"a\": [1}\n  },\n  {\n    \"a\": {\"n\": 2}\n  }\n]\n";
        let recs = records(text, 1 << 20);
        assert_eq!(recs.len(), 2, "{recs:?}");
        assert_eq!(recs[0].as_ref().unwrap_err().provenance.line, 2);
        assert_eq!(recs[1].as_ref().unwrap().line, 5);
    }

    #[test]
    fn oversized_record_is_rejected_without_being_kept() {
        let mut text = b"{\"a\":\"".to_vec();
        text.extend(std::iter::repeat_n(b'x', 5000));
        text.extend(b"\"}\n{\"a\":2}\n");
        let recs = records(&text, 1000);
        assert_eq!(recs[0].as_ref().unwrap_err().reason, Reason::TooLarge);
        assert_eq!(recs[1].as_ref().unwrap().text, "{\"a\":2}");
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let recs = records(b"{\"a\":1}\n{\"a\":\n\"\xff\"}\n", 1 << 20);
        let err = recs[1].as_ref().unwrap_err();
        assert_eq!((err.reason, err.provenance.line), (Reason::InvalidUtf8, 3));
    }

    #[test]
    fn garbage_top_level_is_reported_and_skipped() {
        let recs = records(b"hello\n{\"a\":1}\n", 1 << 20);
        assert_eq!(recs[0].as_ref().unwrap_err().provenance.line, 1);
        assert_eq!(recs[1].as_ref().unwrap().text, "{\"a\":1}");
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let mut text = vec![b'['; 20_000];
        text.extend(vec![b']'; 20_000]);
        let text = [b"{\"a\":".as_slice(), &text, b"}"].concat();
        let recs = records(&text, 1 << 20);
        assert!(recs[0].is_ok());
    }

    #[test]
    fn parse_errors_carry_absolute_lines() {
        let recs = records(b"\n\n{\n \"a\": xyz\n}", 1 << 20);
        let raw = recs[0].as_ref().unwrap();
        let err = raw
            .parse::<serde_json::Value>(&Arc::from("t.json"))
            .unwrap_err();
        assert_eq!(err.provenance.line, 4);
        assert_eq!(err.reason, Reason::Malformed);
        assert!(!err.message.contains("at line"), "{}", err.message);
    }

    #[test]
    fn truncated_gzip_is_reported_as_truncated() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for i in 0..2000 {
            writeln!(enc, "{{\"id\":{i},\"pad\":\"{}\"}}", "y".repeat(50)).unwrap();
        }
        let gz = enc.finish().unwrap();
        let cut = gz[..gz.len() / 2].to_vec();
        let recs = records(&cut, 1 << 20);
        let last = recs.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.reason, Reason::Truncated, "{last}");
        assert!(recs.iter().filter(|r| r.is_ok()).count() > 100);
    }

    /// A reader that hands out at most `step` bytes per read, so every scanner path meets
    /// buffer boundaries.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Make the reader scan on the caller's thread, as on a single core.
    fn direct(mut records: JsonRecords) -> JsonRecords {
        if let Source::Pending(scanner) = std::mem::replace(&mut records.source, Source::Gone) {
            records.source = Source::Direct(scanner);
        }
        records
    }

    /// One line per piece or error: kind, line, record, text (or reason).
    fn pieces_from(input: Input, max: usize, split: &[&str]) -> Vec<String> {
        pieces_of(JsonRecords::new(input, &["roles"], max).split_arrays(split))
    }

    fn pieces_of(mut records: JsonRecords) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(next) = records.next_text() {
            out.push(match next {
                Ok((piece, t)) => {
                    let kind = match piece {
                        Piece::Whole => "W".to_string(),
                        Piece::Head => "H".to_string(),
                        Piece::Element { index } => format!("E{index}"),
                        Piece::Tail => "T".to_string(),
                    };
                    format!("{kind} {} {} {}", t.line, t.record, t.text)
                }
                Err(e) => format!(
                    "err {} {} {}",
                    e.provenance.line, e.provenance.record, e.reason
                ),
            });
        }
        out
    }

    fn pieces(text: &[u8], max: usize, split: &[&str]) -> Vec<String> {
        let input = Input::from_reader("t.json", std::io::Cursor::new(text.to_vec())).unwrap();
        pieces_from(input, max, split)
    }

    #[test]
    fn results_do_not_depend_on_read_boundaries() {
        let mut long = b"{\"a\":\"".to_vec();
        long.extend(std::iter::repeat_n(b'x', 3000));
        long.extend(b"\"}\n");
        let inputs: Vec<Vec<u8>> = vec![
            b"[{\"a\":1}, {\"a\":[2, {\"b\": \"]}\\\"\"}]}]".to_vec(),
            b"{\"kind\":\"x\",\"users\":[{\"a\":1},{\"b\":\"}\"}],\"next\":{\"c\":[]}}".to_vec(),
            b"{\"a\":1}\n{\"a\": {\"b\": 1}\n{\"a\":3}\n{\"a\": \"cut\n{\"a\":5}\n".to_vec(),
            b"[\n  {\n    \"a\": [1}\n  },\n  {\n    \"a\": {\"n\": 2}\n  }\n]\n".to_vec(),
            b"{\"a\":1}\n{\"a\":\n\"\xff\"}\n  \t {\"x\": \"caf\xc3\xa9\"}".to_vec(),
            b"{\"roles\": [\n {\"name\": \"r\", \"users\": [\n  \"u1\",\n  {\"email\": \"e\"}\n ], \"x\": 1},\n {\"name\": \"s\"}\n]}".to_vec(),
            long,
        ];
        for text in inputs {
            let expected = pieces(&text, 1000, &["users"]);
            let input = Input::from_reader("t.json", std::io::Cursor::new(text.clone())).unwrap();
            let on_one_core =
                direct(JsonRecords::new(input, &["roles"], 1000).split_arrays(&["users"]));
            assert_eq!(pieces_of(on_one_core), expected);
            for step in [1, 2, 3, 7, 64] {
                let reader = Trickle {
                    data: text.clone(),
                    at: 0,
                    step,
                };
                let input = Input::from_reader("t.json", reader).unwrap();
                assert_eq!(
                    pieces_from(input, 1000, &["users"]),
                    expected,
                    "step {step}"
                );
            }
        }
    }

    #[test]
    fn split_arrays_hand_over_head_elements_and_tail() {
        let text = b"{\"roles\": [\n  {\"id\": \"r1\", \"name\": \"a\",\n   \"users\": [\n    \"u1\",\n    {\"user_id\": \"u2\"}\n   ], \"description\": \"d\"},\n  {\"users\": [], \"name\": \"b\"},\n  {\"name\": \"c\"}\n]}";
        assert_eq!(
            pieces(text, 1 << 20, &["users"]),
            vec![
                "H 2 1 {\"id\": \"r1\", \"name\": \"a\"}",
                "E0 4 1 \"u1\"",
                "E1 5 1 {\"user_id\": \"u2\"}",
                "T 6 1 { \"description\": \"d\"}",
                "H 7 2 {}",
                "T 7 2 { \"name\": \"b\"}",
                "W 8 3 {\"name\": \"c\"}",
            ]
        );
        // NDJSON records split the same way; a non-array value is not split.
        let text =
            b"{\"name\":\"a\",\"users\":[\"u1\",\"u2\"]}\n{\"name\":\"b\",\"users\":\"u3\"}\n";
        assert_eq!(
            pieces(text, 1 << 20, &["users"]),
            vec![
                "H 1 1 {\"name\":\"a\"}",
                "E0 1 1 \"u1\"",
                "E1 1 1 \"u2\"",
                "T 1 1 {}",
                "W 2 2 {\"name\":\"b\",\"users\":\"u3\"}",
            ]
        );
    }

    #[test]
    fn split_array_elements_obey_the_size_limit_not_the_record() {
        let mut text = b"{\"roles\":[{\"name\":\"big\",\"users\":[".to_vec();
        for i in 0..5000 {
            text.extend(format!("\"auth0|{i:024}\",").as_bytes());
        }
        text.extend(b"\"");
        text.extend(std::iter::repeat_n(b'x', 200));
        text.extend(b"\"]}]}");
        let got = pieces(&text, 100, &["users"]);
        assert_eq!(got.len(), 1 + 5000 + 1 + 1);
        assert_eq!(got[1], "E0 1 1 \"auth0|000000000000000000000000\"");
        assert_eq!(got[5001], "err 1 1 too_large");
        assert_eq!(got[5002], "T 1 1 {}");
    }

    #[test]
    fn broken_split_record_ends_with_one_error_and_the_next_record_is_read() {
        let text = b"{\"name\":\"a\",\"users\":[\"u1\", \"u2\n{\"name\":\"b\",\"users\":[\"u3\"]}\n{\"name\":\"c\",\"users\":[\"u4\",";
        assert_eq!(
            pieces(text, 1 << 20, &["users"]),
            vec![
                "H 1 1 {\"name\":\"a\"}",
                "E0 1 1 \"u1\"",
                "err 1 1 malformed",
                "H 2 2 {\"name\":\"b\"}",
                "E0 2 2 \"u3\"",
                "T 2 2 {}",
                "H 3 3 {\"name\":\"c\"}",
                "E0 3 3 \"u4\"",
                "err 3 3 truncated",
            ]
        );
        // In a pretty array, resync happens on the next element.
        let text = b"[\n  {\"name\": \"a\", \"users\": [\"u1\" \"u2\"]},\n  {\"name\": \"b\"}\n]";
        assert_eq!(
            pieces(text, 1 << 20, &["users"]),
            vec![
                "H 2 1 {\"name\": \"a\"}",
                "E0 2 1 \"u1\"",
                "err 2 1 malformed",
                "W 3 2 {\"name\": \"b\"}"
            ]
        );
    }

    #[test]
    fn a_split_record_with_a_bad_head_is_one_error() {
        let text = b"{\"name\":\"\xff\",\"users\":[\"u1\",\"u2\"]}\n{\"name\":\"b\"}\n";
        assert_eq!(
            pieces(text, 1 << 20, &["users"]),
            vec!["err 1 1 invalid_utf8", "W 2 2 {\"name\":\"b\"}"]
        );
        // A head over the limit: the record is not split and is rejected whole.
        let text = b"{\"name\":\"a-long-role-name\",\"users\":[\"u1\"]}\n{\"name\":\"b\"}\n";
        assert_eq!(
            pieces(text, 15, &["users"]),
            vec!["err 1 1 too_large", "W 2 2 {\"name\":\"b\"}"]
        );
    }
}
