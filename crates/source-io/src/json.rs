//! Streaming the records of a JSON export without loading the file.
//!
//! Providers ship users as a top-level array (`[{…},{…}]`), inside a wrapper object
//! (`{"users": [...]}`, Firebase's `{"kind": …, "users": [...]}`, Auth0's paged
//! `{"start": 0, "users": [...]}`), as NDJSON, or as concatenated pretty objects. This module
//! splits the byte stream into one text per record with a small lexical scanner (strings,
//! escapes, nesting), so memory holds one record at a time and a broken record does not stop
//! the rest: the scanner reports it and resynchronises on the next line that starts a record.
//! Each record is parsed by `serde_json` afterwards ([`RawRecord::parse`]).

use std::io::{self, Read};
use std::sync::Arc;

use kcm_model::{Provenance, Reason, RecordError};
use serde::de::DeserializeOwned;

use crate::{io_reason, record_error, Input};

const CHUNK: usize = 256 * 1024;

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
    pub fn provenance(&self, file: &Arc<str>) -> Provenance {
        Provenance::new(file.clone(), self.line, self.record)
    }

    /// Parse the record; errors name the absolute line in the file.
    pub fn parse<T: DeserializeOwned>(&self, file: &Arc<str>) -> Result<T, RecordError> {
        serde_json::from_str(&self.text).map_err(|e| self.serde_error(file, &e))
    }

    /// Turn a `serde_json` error about this record's text into a [`RecordError`] whose line
    /// is absolute in the file.
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
    Done,
}

/// Bytes captured for the current record, bounded by the maximum record size.
struct Capture {
    buf: Vec<u8>,
    max: usize,
    overflow: bool,
    on: bool,
}

impl Capture {
    #[inline]
    fn push(&mut self, b: u8) {
        if self.on && !self.overflow {
            if self.buf.len() < self.max {
                self.buf.push(b);
            } else {
                self.overflow = true;
            }
        }
    }
}

/// An iterator over the records of a JSON input. See the module docs for accepted shapes.
pub struct JsonRecords {
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
    state: State,
    records: u64,
    /// Column where elements of the current array start, when they start their own lines.
    element_col: Option<u64>,
    cap: Capture,
}

impl JsonRecords {
    /// Stream records from `input`. `wrapper_keys` names the keys of a wrapper object whose
    /// array value holds the records (e.g. `["users"]`); an object without such a key is a
    /// record itself.
    pub fn new(input: Input, wrapper_keys: &[&str], max_record_bytes: usize) -> Self {
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
            state: State::Top,
            records: 0,
            element_col: None,
            cap: Capture {
                buf: Vec::new(),
                max: max_record_bytes,
                overflow: false,
                on: false,
            },
        }
    }

    pub fn path(&self) -> &Arc<str> {
        &self.path
    }

    #[inline]
    fn peek(&mut self) -> Result<Option<u8>, Lex> {
        if self.pos < self.len {
            return Ok(Some(self.buf[self.pos]));
        }
        if self.eof {
            return Ok(None);
        }
        loop {
            match self.reader.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(None);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(Some(self.buf[0]));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    return Err(Lex::Io(e));
                }
            }
        }
    }

    /// Consume the byte last peeked.
    #[inline]
    fn bump(&mut self, b: u8) {
        self.pos += 1;
        self.cap.push(b);
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

    fn skip_ws(&mut self) -> Result<Option<u8>, Lex> {
        while let Some(b) = self.peek()? {
            if b.is_ascii_whitespace() {
                self.bump(b);
            } else {
                return Ok(Some(b));
            }
        }
        Ok(None)
    }

    fn expect_some(&mut self) -> Result<u8, Lex> {
        self.peek()?.ok_or(Lex::Eof)
    }

    /// Scan a string whose opening quote is next. `strict_lines` rejects raw line breaks,
    /// which is how a truncated NDJSON line glued to the next one shows up.
    fn scan_string(&mut self, strict_lines: bool) -> Result<(), Lex> {
        self.bump(b'"');
        loop {
            let b = self.expect_some()?;
            match b {
                b'"' => {
                    self.bump(b);
                    return Ok(());
                }
                b'\\' => {
                    self.bump(b);
                    let e = self.expect_some()?;
                    self.bump(e);
                }
                b'\n' if strict_lines => {
                    return Err(Lex::Broken {
                        line: self.line,
                        what: "line break inside a string (is the record cut short?)".into(),
                    })
                }
                _ => self.bump(b),
            }
        }
    }

    /// Scan one JSON value (object, array, string or scalar) starting at the next byte.
    fn scan_value(&mut self, strict_lines: bool) -> Result<(), Lex> {
        let first = self.expect_some()?;
        match first {
            b'{' | b'[' => {
                let mut stack: Vec<u8> = Vec::new();
                loop {
                    let b = self.expect_some()?;
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
                            stack.push(b'}');
                            self.bump(b);
                        }
                        b'[' => {
                            stack.push(b']');
                            self.bump(b);
                        }
                        b'}' | b']' => {
                            if stack.pop() != Some(b) {
                                return Err(Lex::Broken {
                                    line: self.line,
                                    what: format!("unexpected `{}`", b as char),
                                });
                            }
                            self.bump(b);
                            if stack.is_empty() {
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
        self.cap.buf.clear();
        self.cap.overflow = false;
        self.cap.on = true;
    }

    fn next_record_number(&mut self) -> u64 {
        self.records += 1;
        self.records
    }

    /// Finish the captured record that began on `line`.
    fn finish(&mut self, line: u64) -> Result<RawRecord, RecordError> {
        self.cap.on = false;
        let record = self.next_record_number();
        if self.cap.overflow {
            return Err(record_error(
                &self.path,
                line,
                record,
                Reason::TooLarge,
                format!(
                    "record is larger than the maximum record size of {} bytes (see --max-record-size)",
                    self.cap.max
                ),
            ));
        }
        let bytes = std::mem::take(&mut self.cap.buf);
        match String::from_utf8(bytes) {
            Ok(text) => Ok(RawRecord { text, line, record }),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let bytes = e.into_bytes();
                let bad_line = line + bytes[..valid].iter().filter(|&&b| b == b'\n').count() as u64;
                Err(record_error(
                    &self.path,
                    bad_line,
                    record,
                    Reason::InvalidUtf8,
                    "invalid UTF-8 byte sequence (is the file in another encoding?)",
                ))
            }
        }
    }

    /// Report a lexical failure of the record that began on `line` and decide how to go on.
    fn fail(&mut self, line: u64, lex: Lex) -> RecordError {
        self.cap.on = false;
        self.cap.buf.clear();
        let record = self.next_record_number();
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

    /// Skip to the start of the next record: the next line whose first significant byte is
    /// `{` (at the element column when inside an array of pretty-printed elements).
    fn resync(&mut self) -> Result<(), Lex> {
        let in_array = matches!(
            self.state,
            State::ArrayElement { .. } | State::ArrayAfter { .. }
        );
        let want_col = if in_array {
            self.element_col
        } else {
            Some(0).filter(|_| false)
        };
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

    /// Scan a top-level object. Returns `Ok(true)` if it turned out to be a wrapper whose
    /// records array is next (the `[` not yet consumed), `Ok(false)` if it was a record.
    fn scan_top_object(&mut self) -> Result<bool, Lex> {
        self.bump(b'{');
        loop {
            match self.skip_ws()? {
                None => return Err(Lex::Eof),
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(false);
                }
                Some(b'"') => {}
                Some(b) => {
                    return Err(Lex::Broken {
                        line: self.line,
                        what: format!("expected a key, found `{}`", b as char),
                    })
                }
            }
            let key_start = self.cap.buf.len();
            self.scan_string(true)?;
            let key_end = self.cap.buf.len();
            match self.skip_ws()? {
                Some(b':') => self.bump(b':'),
                None => return Err(Lex::Eof),
                Some(b) => {
                    return Err(Lex::Broken {
                        line: self.line,
                        what: format!("expected `:`, found `{}`", b as char),
                    })
                }
            }
            let next = self.skip_ws()?.ok_or(Lex::Eof)?;
            let is_wrapper = !self.cap.overflow
                && key_end >= key_start + 2
                && self.is_wrapper_key(&self.cap.buf[key_start + 1..key_end - 1]);
            if next == b'[' && is_wrapper {
                return Ok(true);
            }
            self.scan_value(true)?;
            match self.skip_ws()? {
                Some(b',') => self.bump(b','),
                Some(b'}') => {
                    self.bump(b'}');
                    return Ok(false);
                }
                None => return Err(Lex::Eof),
                Some(b) => {
                    return Err(Lex::Broken {
                        line: self.line,
                        what: format!("expected `,` or `}}`, found `{}`", b as char),
                    })
                }
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
                    match self.skip_ws()? {
                        Some(b':') => self.bump(b':'),
                        None => return Err(Lex::Eof),
                        Some(b) => {
                            return Err(Lex::Broken {
                                line: self.line,
                                what: format!("expected `:`, found `{}`", b as char),
                            })
                        }
                    }
                    self.skip_ws()?.ok_or(Lex::Eof)?;
                    self.scan_value(false)?;
                }
                None => return Err(Lex::Eof),
                Some(b) => {
                    return Err(Lex::Broken {
                        line: self.line,
                        what: format!("expected `,` or `}}`, found `{}`", b as char),
                    })
                }
            }
        }
    }

    fn step(&mut self) -> Option<Result<RawRecord, RecordError>> {
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
                        Err(lex) => return Some(Err(self.fail(self.line, lex))),
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
                            match self.scan_top_object() {
                                Ok(false) => return Some(self.finish(line)),
                                Ok(true) => {
                                    self.cap.on = false;
                                    self.cap.buf.clear();
                                    self.bump(b'[');
                                    self.element_col = None;
                                    self.state = State::ArrayElement { wrapped: true };
                                }
                                Err(lex) => return Some(Err(self.fail(line, lex))),
                            }
                        }
                        other => {
                            let lex = Lex::Broken {
                                line,
                                what: format!("expected a JSON object, found `{}`", other as char),
                            };
                            // Consume the offending byte so resync makes progress.
                            self.bump(other);
                            return Some(Err(self.fail(line, lex)));
                        }
                    }
                }
                State::ArrayElement { wrapped } => {
                    let b = match self.skip_ws() {
                        Ok(Some(b)) => b,
                        Ok(None) => return Some(Err(self.fail(self.line, Lex::Eof))),
                        Err(lex) => return Some(Err(self.fail(self.line, lex))),
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
                    if self.element_col.is_none() && self.at_line_start {
                        self.element_col = Some(self.col);
                    }
                    self.start_capture();
                    self.state = State::ArrayAfter { wrapped };
                    return Some(match self.scan_value(false) {
                        Ok(()) => self.finish(line),
                        Err(lex) => Err(self.fail(line, lex)),
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
                        let lex = Lex::Broken {
                            line,
                            what: format!(
                                "expected `,` or `]` between records, found `{}`",
                                b as char
                            ),
                        };
                        if !(self.at_line_start && b == b'{') {
                            self.bump(b);
                        }
                        return Some(Err(self.fail(line, lex)));
                    }
                    Ok(None) => return Some(Err(self.fail(self.line, Lex::Eof))),
                    Err(lex) => return Some(Err(self.fail(self.line, lex))),
                },
                State::WrapperRest => {
                    let line = self.line;
                    match self.skip_wrapper_rest() {
                        Ok(()) => self.state = State::Top,
                        Err(lex) => {
                            self.state = State::Top;
                            return Some(Err(self.fail(line, lex)));
                        }
                    }
                }
            }
        }
    }
}

impl Iterator for JsonRecords {
    type Item = Result<RawRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step()
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
}
