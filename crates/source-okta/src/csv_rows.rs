//! Streaming the rows of a CSV file with their line numbers, for the user and membership
//! readers.
//!
//! On top of the `csv` crate this adds what a migration needs from a hand-edited or cut-off
//! export: every cell is checked for UTF-8 separately (a bad cell rejects its row, naming the
//! line and column, and the file goes on); a row with the wrong number of cells is rejected
//! with its line; a file that ends inside a quoted field (a quote never closed) has its last
//! row rejected as truncated instead of silently swallowing the rest of the file into one
//! cell; and a row larger than the record-size limit stops the file before it is held in
//! memory, since after an unclosed quote there is no reliable place to resume.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

use csv::{ByteRecord, ErrorKind};
use kcm_model::{Reason, RecordError};
use kcm_source_io::{io_reason, record_error, Input, SourceError};

/// One data row: its cells as text, where it starts, and its 1-based number among the rows.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) cells: Vec<String>,
    pub(crate) line: u64,
    pub(crate) record: u64,
}

pub(crate) type RowResult = Result<Row, RecordError>;

/// Where a CSV parser is within the current row, mirrored byte by byte from the `csv`
/// crate's default dialect (`,`, `"` quoting with doubled quotes, CR/LF/CRLF endings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: either a doubled quote or the closing one.
    ClosingOrDoubled,
}

/// The marker inside the I/O error raised when a row outgrows the record-size limit.
#[derive(Debug)]
struct RowTooLarge;

impl std::fmt::Display for RowTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("row too large")
    }
}

impl std::error::Error for RowTooLarge {}

/// A reader that watches the bytes the CSV parser reads: whether the input ended inside a
/// quoted field, how long the current row is, and where the line breaks are.
struct QuoteTracker {
    inner: Box<dyn io::BufRead + Send>,
    state: Quote,
    /// Offset of the next byte read.
    offset: u64,
    /// Line of the next byte read (1-based).
    line: u64,
    /// Whether the last byte ended a row (or nothing has been read yet).
    at_row_boundary: bool,
    /// Offset and line of each row start read but not yet asked about. Bounded by the
    /// parser's read-ahead.
    row_starts: VecDeque<(u64, u64)>,
    row_bytes: usize,
    max_row_bytes: usize,
    overflowed: bool,
    eof: bool,
}

impl QuoteTracker {
    fn ended_inside_quotes(&self) -> bool {
        self.eof && self.state == Quote::Quoted
    }

    /// The 1-based line of the row the `csv` crate says starts at byte `start`; rows must be
    /// asked about in order. The crate's own position is where the previous row ended: before
    /// any blank lines, and at the `\n` of a `\r\n` (its line count is one short after
    /// CRLF). The row really starts at the first row start at or after that offset.
    fn line_at(&mut self, start: u64) -> u64 {
        while self.row_starts.front().is_some_and(|&(at, _)| at < start) {
            self.row_starts.pop_front();
        }
        self.row_starts.front().map_or(self.line, |&(_, line)| line)
    }

    fn observe(&mut self, b: u8) {
        let ends_row = |b: u8| b == b'\n' || b == b'\r';
        self.state = match (self.state, b) {
            (Quote::FieldStart, b'"') => Quote::Quoted,
            (Quote::Quoted, b'"') => Quote::ClosingOrDoubled,
            (Quote::Quoted, _) => Quote::Quoted,
            (Quote::ClosingOrDoubled, b'"') => Quote::Quoted,
            (_, b',') => Quote::FieldStart,
            (_, b) if ends_row(b) => {
                self.row_bytes = 0;
                self.at_row_boundary = true;
                Quote::FieldStart
            }
            _ => Quote::Unquoted,
        };
        if self.at_row_boundary && !ends_row(b) {
            self.row_starts.push_back((self.offset, self.line));
            self.at_row_boundary = false;
        }
        if b == b'\n' {
            self.line += 1;
        }
        self.offset += 1;
        self.row_bytes += 1;
        if self.row_bytes > self.max_row_bytes {
            self.overflowed = true;
        }
    }
}

impl Read for QuoteTracker {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.overflowed {
            return Err(io::Error::new(io::ErrorKind::InvalidData, RowTooLarge));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.eof = true;
        }
        for &b in buf.iter().take(n) {
            self.observe(b);
        }
        Ok(n)
    }
}

/// The data rows of one CSV file, after its header.
pub(crate) struct CsvRows {
    path: Arc<str>,
    reader: csv::Reader<QuoteTracker>,
    headers: Vec<String>,
    max_row_bytes: usize,
    rows: u64,
    /// One row of look-ahead: the last row is only known to be cut short once the input ends.
    pending: Option<RowResult>,
    done: bool,
}

impl CsvRows {
    /// Read the header row. A header that cannot be read is fatal for the file.
    pub(crate) fn open(input: Input, max_row_bytes: usize) -> Result<Self, SourceError> {
        let path = input.path.clone();
        let tracker = QuoteTracker {
            inner: input.reader,
            state: Quote::FieldStart,
            offset: 0,
            line: 1,
            at_row_boundary: true,
            row_starts: VecDeque::new(),
            row_bytes: 0,
            max_row_bytes,
            overflowed: false,
            eof: false,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(tracker);
        let unknown = |why: String| SourceError::UnknownFormat {
            path: path.to_string(),
            why,
        };
        let raw = reader
            .byte_headers()
            .map_err(|e| {
                unknown(format!(
                    "cannot read the header row: {}",
                    describe_csv_error(&e)
                ))
            })?
            .clone();
        if raw.is_empty() {
            return Err(unknown("the file is empty (no header row)".into()));
        }
        let mut headers = Vec::with_capacity(raw.len());
        for (i, cell) in raw.iter().enumerate() {
            let text = std::str::from_utf8(cell)
                .map_err(|_| unknown(format!("header cell {} is not valid UTF-8", i + 1)))?;
            headers.push(text.to_string());
        }
        Ok(Self {
            path,
            reader,
            headers,
            max_row_bytes,
            rows: 0,
            pending: None,
            done: false,
        })
    }

    pub(crate) fn path(&self) -> &Arc<str> {
        &self.path
    }

    pub(crate) fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Read the next row from the parser; `None` at the end of the input.
    fn read_row(&mut self) -> Option<RowResult> {
        let mut record = ByteRecord::new();
        let result = self.reader.read_byte_record(&mut record);
        match result {
            Ok(false) => None,
            Ok(true) => {
                self.rows += 1;
                let line = match record.position() {
                    Some(p) => self.reader.get_mut().line_at(p.byte()),
                    None => 0,
                };
                Some(self.cells(&record, line))
            }
            Err(err) => {
                let start = err
                    .position()
                    .map_or_else(|| self.reader.position().byte(), |p| p.byte());
                let line = self.reader.get_mut().line_at(start);
                match err.kind() {
                    ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        self.rows += 1;
                        Some(Err(record_error(
                            &self.path,
                            line,
                            self.rows,
                            Reason::Malformed,
                            format!(
                                "the row has {len} cells but the header has {expected_len} (unquoted comma, or a missing or extra cell?)"
                            ),
                        )))
                    }
                    ErrorKind::Io(io_err) => {
                        // Nothing after a read failure can be trusted to start a row.
                        self.done = true;
                        let too_large = io_err
                            .get_ref()
                            .is_some_and(|inner| inner.is::<RowTooLarge>());
                        let (reason, message) = if too_large {
                            (
                                Reason::TooLarge,
                                format!(
                                    "a row is larger than {} bytes (is a quote never closed?); the rest of this file is not read",
                                    self.max_row_bytes
                                ),
                            )
                        } else {
                            (
                                io_reason(io_err),
                                format!(
                                    "reading failed: {io_err}; the rest of this file is not read"
                                ),
                            )
                        };
                        Some(Err(record_error(
                            &self.path,
                            line,
                            self.rows + 1,
                            reason,
                            message,
                        )))
                    }
                    _ => {
                        self.rows += 1;
                        Some(Err(record_error(
                            &self.path,
                            line,
                            self.rows,
                            Reason::Malformed,
                            describe_csv_error(&err),
                        )))
                    }
                }
            }
        }
    }

    /// Decode the cells of a row; a cell that is not UTF-8 rejects the row, naming the
    /// column and the line the cell is on (cells may span lines).
    fn cells(&self, record: &ByteRecord, line: u64) -> RowResult {
        let mut cells = Vec::with_capacity(record.len());
        let mut cell_line = line;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(text) => cells.push(text.to_string()),
                Err(_) => {
                    let column = self
                        .headers
                        .get(i)
                        .map_or_else(|| format!("{}", i + 1), |h| format!("`{h}`"));
                    return Err(record_error(
                        &self.path,
                        cell_line,
                        self.rows,
                        Reason::InvalidUtf8,
                        format!("the cell in column {column} is not valid UTF-8 (is the file in another encoding?)"),
                    ));
                }
            }
            cell_line += raw.iter().filter(|&&b| b == b'\n').count() as u64;
        }
        Ok(Row {
            cells,
            line,
            record: self.rows,
        })
    }

    /// The last row turned into a truncation error: the file ended inside its quotes.
    fn truncated(&self, last: &RowResult) -> RecordError {
        let (line, record) = match last {
            Ok(row) => (row.line, row.record),
            Err(e) => (e.provenance.line, e.provenance.record),
        };
        record_error(
            &self.path,
            line,
            record,
            Reason::Truncated,
            "the file ends inside a quoted cell: a `\"` opened in this row is never closed (is the file cut short?)",
        )
    }
}

impl Iterator for CsvRows {
    type Item = RowResult;

    fn next(&mut self) -> Option<RowResult> {
        loop {
            if self.done {
                return self.pending.take();
            }
            match self.read_row() {
                None => {
                    self.done = true;
                    if self.reader.get_ref().ended_inside_quotes() {
                        if let Some(last) = self.pending.take() {
                            self.pending = Some(Err(self.truncated(&last)));
                        }
                    }
                }
                Some(row) => {
                    if let Some(previous) = self.pending.replace(row) {
                        return Some(previous);
                    }
                }
            }
        }
    }
}

fn describe_csv_error(err: &csv::Error) -> String {
    match err.kind() {
        ErrorKind::Io(e) => format!("reading failed: {e}"),
        _ => {
            let full = err.to_string();
            // The csv crate appends its own position; ours is in the provenance already.
            match full.find(" (line ") {
                Some(i) => full.get(..i).unwrap_or(&full).to_string(),
                None => full,
            }
        }
    }
}
