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
use kcm_source_io::{io_reason, read_ahead, record_error, Input, ReadAhead, SourceError};

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
/// Smallest limit on a row still open at the end of a read (the memory guard).
const OPEN_ROW_MIN_CAP: usize = 64 * 1024;

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
    /// A tracker at the start of `inner`, before any byte is read.
    fn new(inner: Box<dyn io::BufRead + Send>, max_row_bytes: usize) -> Self {
        QuoteTracker {
            inner,
            state: Quote::FieldStart,
            offset: 0,
            line: 1,
            at_row_boundary: true,
            row_starts: VecDeque::new(),
            row_bytes: 0,
            max_row_bytes,
            overflowed: false,
            eof: false,
        }
    }

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
    }

    /// [`QuoteTracker::observe`] over a whole buffer, skipping runs that cannot change the
    /// state (the inside of a quoted cell, the plain text of an unquoted one) in one step:
    /// this reader sees every byte of the file.
    fn observe_all(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while let Some(rest) = bytes.get(i..).filter(|r| !r.is_empty()) {
            let plain = match self.state {
                _ if self.at_row_boundary => 0,
                Quote::Quoted => memchr::memchr(b'"', rest).unwrap_or(rest.len()),
                // Outside quotes only a quote or a line end can matter; commas in between
                // only decide whether a quote right after them opens a quoted field.
                Quote::FieldStart | Quote::Unquoted => {
                    memchr::memchr3(b'"', b'\n', b'\r', rest).unwrap_or(rest.len())
                }
                Quote::ClosingOrDoubled => 0,
            };
            if plain > 0 {
                let run = &rest[..plain];
                if self.state == Quote::Quoted {
                    self.line += memchr::memchr_iter(b'\n', run).count() as u64;
                } else if run.last() == Some(&b',') {
                    self.state = Quote::FieldStart;
                } else {
                    self.state = Quote::Unquoted;
                }
                self.offset += plain as u64;
                self.row_bytes += plain;
                i += plain;
            }
            if let Some(&b) = bytes.get(i) {
                self.observe(b);
                i += 1;
            }
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
        self.observe_all(&buf[..n]);
        // Only the row still open at the end of this chunk matters here: it is the one the
        // parser would keep buffering. Complete rows are checked one by one as parsed.
        // The margin keeps a row just over a small limit that happens to straddle two chunks
        // from stopping the file: the per-row check rejects it on its own.
        self.overflowed =
            self.row_bytes > self.max_row_bytes.saturating_mul(2).max(OPEN_ROW_MIN_CAP);
        Ok(n)
    }
}

/// The data rows of one CSV file, after its header. With a spare core the parsing (and the
/// quote tracking and UTF-8 checks) runs on a helper thread, a few batches ahead
/// ([`kcm_source_io::read_ahead`]); the cells become `String`s on the caller's thread.
pub(crate) struct CsvRows {
    path: Arc<str>,
    headers: Vec<String>,
    /// The parser until the first row is asked for.
    reader: Option<Box<RowReader>>,
    ahead: Option<ReadAhead<RowBatch>>,
    /// Next row of the current batch.
    at: usize,
}

/// Rows parsed ahead of the caller: their cells back to back in one buffer.
#[derive(Default)]
struct RowBatch {
    text: String,
    /// End of each cell in `text`.
    cell_ends: Vec<usize>,
    rows: Vec<BatchRow>,
}

enum BatchRow {
    Row {
        /// Range of the row's cells in `cell_ends`.
        cells: std::ops::Range<usize>,
        line: u64,
        record: u64,
    },
    Error(Option<RecordError>),
}

/// Rows in one batch, at most.
const BATCH_ROWS: usize = 256;
/// Cell text in one batch, at most (unless one row is larger).
const BATCH_BYTES: usize = 256 * 1024;

/// A row read but not yet handed on: the file may still turn out to end inside its quotes.
enum Pending {
    Row {
        record: ByteRecord,
        line: u64,
        number: u64,
    },
    Error(RecordError),
}

/// The parser side of [`CsvRows`].
struct RowReader {
    path: Arc<str>,
    reader: csv::Reader<QuoteTracker>,
    headers: Vec<String>,
    max_row_bytes: usize,
    rows: u64,
    /// A row buffer not in use, for the next row.
    spare: Option<ByteRecord>,
    /// One row of look-ahead: the last row is only known to be cut short once the input ends.
    pending: Option<Pending>,
    done: bool,
}

impl CsvRows {
    /// Read the header row. A header that cannot be read is fatal for the file.
    pub(crate) fn open(input: Input, max_row_bytes: usize) -> Result<Self, SourceError> {
        let path = input.path.clone();
        let tracker = QuoteTracker::new(input.reader, max_row_bytes);
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
            path: path.clone(),
            headers: headers.clone(),
            reader: Some(Box::new(RowReader {
                path,
                reader,
                headers,
                max_row_bytes,
                rows: 0,
                spare: None,
                pending: None,
                done: false,
            })),
            ahead: None,
            at: 0,
        })
    }

    pub(crate) fn path(&self) -> &Arc<str> {
        &self.path
    }

    pub(crate) fn headers(&self) -> &[String] {
        &self.headers
    }
}

impl RowReader {
    /// Fill `batch` with the next rows; false once the file is exhausted.
    fn fill(&mut self, batch: &mut RowBatch) -> bool {
        batch.text.clear();
        batch.cell_ends.clear();
        batch.rows.clear();
        while batch.rows.len() < BATCH_ROWS && batch.text.len() < BATCH_BYTES {
            if self.done {
                if let Some(last) = self.pending.take() {
                    self.commit(last, batch);
                }
                return false;
            }
            match self.read_row() {
                None => {
                    self.done = true;
                    if self.reader.get_ref().ended_inside_quotes() {
                        if let Some(last) = self.pending.take() {
                            self.pending = Some(Pending::Error(self.truncated(&last)));
                        }
                    }
                }
                Some(row) => {
                    if let Some(previous) = self.pending.replace(row) {
                        self.commit(previous, batch);
                    }
                }
            }
        }
        true
    }

    /// Read the next row from the parser; `None` at the end of the input.
    fn read_row(&mut self) -> Option<Pending> {
        let mut record = self.spare.take().unwrap_or_default();
        let result = self.reader.read_byte_record(&mut record);
        match result {
            Ok(false) => {
                self.spare = Some(record);
                None
            }
            Ok(true) => {
                self.rows += 1;
                let line = match record.position() {
                    Some(p) => self.reader.get_mut().line_at(p.byte()),
                    None => 0,
                };
                // A row that fits in the parser's buffer never trips the tracker's open-row
                // limit: check each complete row's size here.
                if record.as_slice().len() > self.max_row_bytes {
                    self.spare = Some(record);
                    return Some(Pending::Error(record_error(
                        &self.path,
                        line,
                        self.rows,
                        Reason::TooLarge,
                        format!(
                            "the row is larger than the maximum record size of {} bytes (see --max-record-size)",
                            self.max_row_bytes
                        ),
                    )));
                }
                Some(Pending::Row {
                    record,
                    line,
                    number: self.rows,
                })
            }
            Err(err) => {
                self.spare = Some(record);
                let start = err
                    .position()
                    .map_or_else(|| self.reader.position().byte(), |p| p.byte());
                let line = self.reader.get_mut().line_at(start);
                match err.kind() {
                    ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        self.rows += 1;
                        Some(Pending::Error(record_error(
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
                        Some(Pending::Error(record_error(
                            &self.path,
                            line,
                            self.rows + 1,
                            reason,
                            message,
                        )))
                    }
                    _ => {
                        self.rows += 1;
                        Some(Pending::Error(record_error(
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

    /// Hand a row on: its cells into the batch, or its error. A cell that is not UTF-8
    /// rejects the row, naming the column and the line the cell is on (cells may span
    /// lines).
    fn commit(&mut self, row: Pending, batch: &mut RowBatch) {
        let (record, line, number) = match row {
            Pending::Error(e) => return batch.rows.push(BatchRow::Error(Some(e))),
            Pending::Row {
                record,
                line,
                number,
            } => (record, line, number),
        };
        let (text_start, cells_start) = (batch.text.len(), batch.cell_ends.len());
        // Fast path: the whole row is UTF-8 and every cell ends on a character boundary, so
        // each cell is UTF-8 on its own; one check instead of one per cell.
        if let Ok(text) = std::str::from_utf8(record.as_slice()) {
            let mut end = 0;
            let whole_cells = record.iter().all(|raw| {
                end += raw.len();
                text.is_char_boundary(end)
            });
            if whole_cells {
                batch.text.push_str(text);
                let mut end = text_start;
                for raw in record.iter() {
                    end += raw.len();
                    batch.cell_ends.push(end);
                }
                self.spare = Some(record);
                return batch.rows.push(BatchRow::Row {
                    cells: cells_start..batch.cell_ends.len(),
                    line,
                    record: number,
                });
            }
        }
        let mut bad = None;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    batch.text.push_str(text);
                    batch.cell_ends.push(batch.text.len());
                }
                Err(_) => {
                    // The cell's line: the row's plus the line breaks of the cells before.
                    let before: usize = record
                        .iter()
                        .take(i)
                        .map(|c| memchr::memchr_iter(b'\n', c).count())
                        .sum();
                    bad = Some((i, line + before as u64));
                    break;
                }
            }
        }
        self.spare = Some(record);
        match bad {
            None => batch.rows.push(BatchRow::Row {
                cells: cells_start..batch.cell_ends.len(),
                line,
                record: number,
            }),
            Some((i, cell_line)) => {
                batch.text.truncate(text_start);
                batch.cell_ends.truncate(cells_start);
                let column = self
                    .headers
                    .get(i)
                    .map_or_else(|| format!("{}", i + 1), |h| format!("`{h}`"));
                batch.rows.push(BatchRow::Error(Some(record_error(
                    &self.path,
                    cell_line,
                    number,
                    Reason::InvalidUtf8,
                    format!("the cell in column {column} is not valid UTF-8 (is the file in another encoding?)"),
                ))));
            }
        }
    }

    /// The last row turned into a truncation error: the file ended inside its quotes.
    fn truncated(&self, last: &Pending) -> RecordError {
        let (line, record) = match last {
            Pending::Row { line, number, .. } => (*line, *number),
            Pending::Error(e) => (e.provenance.line, e.provenance.record),
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
        if let Some(mut reader) = self.reader.take() {
            self.ahead = Some(read_ahead(
                "kcm-csv",
                Box::new(move |batch: &mut RowBatch| reader.fill(batch)),
            ));
        }
        let ahead = self.ahead.as_mut()?;
        loop {
            let len = ahead.current().map_or(0, |b| b.rows.len());
            if self.at < len {
                break;
            }
            ahead.next_batch()?;
            self.at = 0;
        }
        let batch = ahead.current()?;
        let row = batch.rows.get_mut(self.at)?;
        self.at += 1;
        match row {
            BatchRow::Error(e) => e.take().map(Err),
            BatchRow::Row {
                cells,
                line,
                record,
            } => {
                let mut start = match cells.start {
                    0 => 0,
                    i => batch.cell_ends.get(i - 1).copied().unwrap_or(0),
                };
                let ends = batch.cell_ends.get(cells.clone()).unwrap_or_default();
                let mut out = Vec::with_capacity(ends.len());
                for &end in ends {
                    out.push(batch.text.get(start..end).unwrap_or_default().to_string());
                    start = end;
                }
                Some(Ok(Row {
                    cells: out,
                    line: *line,
                    record: *record,
                }))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(max_row_bytes: usize) -> QuoteTracker {
        QuoteTracker::new(Box::new(io::empty()), max_row_bytes)
    }

    fn summary(t: &QuoteTracker) -> String {
        format!(
            "{:?} {} {} {} {:?} {} {}",
            t.state, t.offset, t.line, t.at_row_boundary, t.row_starts, t.row_bytes, t.overflowed
        )
    }

    #[test]
    fn skipping_runs_tracks_exactly_what_byte_by_byte_does() {
        const ALPHABET: &[u8] = b"ab,\"\n\r  \xc3\xa9x\"\"";
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for round in 0..200 {
            let len = 1 + round * 7;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    ALPHABET[(seed >> 33) as usize % ALPHABET.len()]
                })
                .collect();
            let max = 5 + round % 40;
            let mut one = tracker(max);
            for &b in &bytes {
                one.observe(b);
            }
            let mut runs = tracker(max);
            for chunk in bytes.chunks(1 + round % 13) {
                runs.observe_all(chunk);
            }
            assert_eq!(summary(&runs), summary(&one), "round {round}");
        }
    }
}
