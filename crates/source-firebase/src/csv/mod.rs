//! `firebase auth:export --format=csv`: header-less lines in any of the historical layouts,
//! one account per record, each line ending with a trailing comma.
//!
//! Records are assembled from physical lines ([`lines`]): a record continues on the next line
//! while a quoted field is open (v15.19+ multi-line display names) or while an unquoted line
//! is too short to be a record and lacks the trailing comma (a raw line break in a name in
//! older files). If the joined lines fit no layout, the first line is retried alone and the
//! others are read again as records of their own, so one stray quote never swallows the
//! accounts after it. Each record is split ([`split`]) and matched to a layout ([`layout`]).

mod layout;
mod lines;
mod split;

use std::collections::VecDeque;
use std::sync::Arc;

use kcm_model::{Diagnostic, Provenance, Reason, RecordError, SourceItem, SourceResult};
use kcm_source_io::{record_error, Input};

use crate::account::{codes, identity, non_empty, parse_millis, Account, CustomAttributes};
use layout::{Layout, Match, Repair, KNOWN_COLUMN_COUNTS};
use lines::{strip_eol, Line, LineReader};
use split::{split, Mode, Split};

/// Fewest columns of any layout: a shorter unquoted line without the trailing comma is the
/// first part of a record broken by a raw line break in a name.
const MIN_COLUMNS: usize = 26;

/// Most physical lines one record may span. Display names are short; a quote that never
/// closes must not pull in the rest of the file.
const MAX_RECORD_LINES: usize = 32;

/// Users of one CSV export, in file order.
pub(crate) struct CsvUsers {
    path: Arc<str>,
    lines: LineReader,
    /// Lines read ahead for a record they turned out not to belong to, read again first.
    pending: VecDeque<Line>,
    record: u64,
    max_record_bytes: usize,
    failed: bool,
}

/// A record's lines, joined.
struct Assembled {
    first_line: u64,
    last_line: u64,
    /// Each physical line with its terminator.
    lines: Vec<(u64, String)>,
    /// The record text without its final terminator.
    text: String,
    /// The input ended while the record still looked incomplete.
    cut_at_end: bool,
    /// `text` split in [`Mode::Quoted`].
    split: Split,
}

/// A record matched to a layout: its columns in that layout's order.
struct Resolved {
    layout: &'static Layout,
    columns: Vec<String>,
    repaired: bool,
}

impl CsvUsers {
    pub(crate) fn new(input: Input, max_record_bytes: usize) -> Self {
        Self {
            path: input.path,
            lines: LineReader::new(input.reader, max_record_bytes),
            pending: VecDeque::new(),
            record: 0,
            max_record_bytes,
            failed: false,
        }
    }

    fn next_line(&mut self) -> Option<Line> {
        if let Some(line) = self.pending.pop_front() {
            return Some(line);
        }
        if self.failed {
            return None;
        }
        self.lines.next_line()
    }

    fn error(&self, line: u64, reason: Reason, message: impl Into<String>) -> RecordError {
        record_error(&self.path, line, self.record, reason, message)
    }

    /// Read further lines while the record is visibly incomplete.
    fn assemble(&mut self, number: u64, text: String) -> Assembled {
        let mut joined = text.clone();
        let mut lines = vec![(number, text)];
        let mut cut_at_end = false;
        // Always the split of the current `joined`: lines are appended only right before
        // the next iteration splits again.
        let mut s;
        loop {
            s = split(strip_eol(&joined), Mode::Quoted);
            let incomplete = s.open_quote || (!s.trailing_comma && s.fields.len() < MIN_COLUMNS);
            if !incomplete || lines.len() >= MAX_RECORD_LINES || !joined.ends_with('\n') {
                cut_at_end = incomplete && !joined.ends_with('\n');
                break;
            }
            match self.next_line() {
                None => {
                    cut_at_end = true;
                    break;
                }
                Some(Line::Text { number, text })
                    if joined.len() + text.len() <= self.max_record_bytes =>
                {
                    joined.push_str(&text);
                    lines.push((number, text));
                }
                Some(other) => {
                    self.pending.push_front(other);
                    break;
                }
            }
        }
        let last_line = lines.last().map_or(number, |(n, _)| *n);
        let text = strip_eol(&joined).to_string();
        Assembled {
            first_line: number,
            last_line,
            lines,
            text,
            cut_at_end,
            split: s,
        }
    }

    fn record(&mut self, number: u64, text: String) -> SourceResult {
        let rec = self.assemble(number, text);
        let cut_in_quotes = rec.cut_at_end && rec.split.open_quote;
        // A genuine multi-line display name leaves its first line far too short for any
        // layout. If the first line fits one on its own, the lines were joined only because of
        // a stray quote (an undoubled `"` in an old export): keep the first line alone and read
        // the others again, so no account is swallowed silently.
        if rec.lines.len() > 1 {
            let single = strip_eol(&rec.lines[0].1).to_string();
            if let Ok(resolved) = resolve(&single, split(&single, Mode::Quoted)) {
                for (n, t) in rec.lines.into_iter().skip(1).rev() {
                    self.pending.push_front(Line::Text { number: n, text: t });
                }
                return self.finish(number, resolved);
            }
        }
        let result = match resolve(&rec.text, rec.split) {
            Ok(resolved) => Ok(resolved),
            Err((_, message)) if rec.lines.len() > 1 => {
                // The lines may not belong together: keep only the first and read the
                // others again on their own.
                let mut rest = rec.lines;
                let first = rest.remove(0);
                for (n, t) in rest.into_iter().rev() {
                    self.pending.push_front(Line::Text { number: n, text: t });
                }
                let span = format!(
                    "lines {}–{} do not form one record ({message})",
                    rec.first_line, rec.last_line
                );
                let single = strip_eol(&first.1);
                resolve(single, split(single, Mode::Quoted)).map_err(|(reason1, message1)| {
                    if cut_in_quotes {
                        (
                            Reason::Truncated,
                            format!("the input ends inside a quoted field that starts on this line ({message1})"),
                        )
                    } else {
                        (reason1, format!("{message1}; {span}"))
                    }
                })
            }
            Err((reason, message)) if rec.cut_at_end => Err((
                if cut_in_quotes {
                    Reason::Truncated
                } else {
                    reason
                },
                format!("{message} (the input ends here: is the file cut short?)"),
            )),
            Err(e) => Err(e),
        };
        let resolved = result.map_err(|(reason, message)| self.error(number, reason, message))?;
        self.finish(number, resolved)
    }

    /// Turn a resolved record into a user.
    fn finish(&mut self, number: u64, resolved: Resolved) -> SourceResult {
        let provenance = Provenance::new(self.path.clone(), number, self.record);
        let local_id = resolved.columns.first().cloned().unwrap_or_default();
        let account = account(resolved).map_err(|(reason, message)| {
            let e = self.error(number, reason, message);
            if local_id.is_empty() {
                e
            } else {
                e.with_source_id(local_id)
            }
        })?;
        Ok(SourceItem::User(Box::new(account.into_user(provenance))))
    }
}

impl Iterator for CsvUsers {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        loop {
            let line = self.next_line()?;
            match line {
                Line::Bad {
                    number,
                    reason,
                    message,
                    fatal,
                } => {
                    self.failed |= fatal;
                    self.record += 1;
                    return Some(Err(self.error(number, reason, message)));
                }
                Line::Text { text, .. } if strip_eol(&text).trim().is_empty() => continue,
                Line::Text { number, text } => {
                    self.record += 1;
                    return Some(self.record(number, text));
                }
            }
        }
    }
}

/// Match a record to a layout: the quote-aware split first, then the comma-only split (for
/// quotes and braces that were plain text), then the same two with split names rejoined.
fn resolve(text: &str, quoted: Split) -> Result<Resolved, (Reason, String)> {
    let mut first_failure = match fit(&quoted) {
        Ok(layout) => {
            return Ok(Resolved {
                layout,
                columns: quoted.into_columns(),
                repaired: false,
            })
        }
        Err(failure) => failure,
    };
    let plain = text.contains(['"', '{']).then(|| split(text, Mode::Plain));
    if let Some(plain) = plain.as_ref() {
        match fit(plain) {
            Ok(layout) => {
                return Ok(Resolved {
                    layout,
                    columns: plain.columns().iter().map(|f| f.value.clone()).collect(),
                    repaired: false,
                })
            }
            Err(failure) if first_failure.0 == Reason::Malformed => first_failure = failure,
            Err(_) => {}
        }
    }
    let mut ambiguous = false;
    for s in std::iter::once(&quoted).chain(plain.as_ref()) {
        if s.open_quote {
            continue;
        }
        match layout::repair(text, s.columns()) {
            Repair::Fixed(layout, columns) => {
                return Ok(Resolved {
                    layout,
                    columns,
                    repaired: true,
                })
            }
            Repair::Ambiguous => ambiguous = true,
            Repair::None => {}
        }
    }
    if ambiguous {
        return Err((
            Reason::InvalidField,
            format!(
                "{} fields: a name contains an unquoted comma and more than one way of rejoining the columns fits; quote the name and read the file again",
                quoted.fields.len()
            ),
        ));
    }
    Err(first_failure)
}

/// The layout a split fits, or why not.
fn fit(s: &Split) -> Result<&'static Layout, (Reason, String)> {
    if s.open_quote {
        return Err((
            Reason::Malformed,
            "a quoted field is never closed".to_string(),
        ));
    }
    let cols = s.columns();
    let values: Vec<&str> = cols.iter().map(|f| f.value.as_str()).collect();
    match layout::classify(&values) {
        Match::Fits(layout) => Ok(layout),
        Match::NoLayout => Err((
            Reason::InvalidField,
            count_message(cols.len(), s.trailing_comma),
        )),
        Match::Mismatch(m) => Err((
            Reason::InvalidField,
            format!(
                "{} fields: {} (an unquoted comma in a name shifts the columns after it)",
                s.fields.len(),
                m.describe()
            ),
        )),
    }
}

fn count_message(columns: usize, trailing_comma: bool) -> String {
    let fields = columns + usize::from(trailing_comma);
    let tail = if trailing_comma {
        " plus the trailing comma"
    } else {
        ", no trailing comma"
    };
    let hint = if columns > MIN_COLUMNS {
        "; a name with an unquoted comma adds a field (firebase-tools before v6.11 did not quote names), so quote it if that is the cause"
    } else {
        ""
    };
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{} ({}{tail}): no Firebase CSV layout has {} (known: {KNOWN_COLUMN_COUNTS}, each line ending with a comma){hint}",
        plural(fields, "field"),
        plural(columns, "column"),
        plural(columns, "column"),
    )
}

/// The account in a matched record.
fn account(r: Resolved) -> Result<Account, (Reason, String)> {
    let layout = r.layout;
    let mut cols = r.columns;
    let mut take = |i: Option<usize>| {
        i.and_then(|i| cols.get_mut(i))
            .map(std::mem::take)
            .unwrap_or_default()
    };
    let local_id = take(Some(0));
    if local_id.trim().is_empty() {
        return Err((Reason::MissingField, "column 1 (localId) is empty".into()));
    }
    let mut account = Account {
        local_id,
        email: non_empty(take(Some(1))),
        email_verified: Some(take(Some(2)) == "true"),
        password_hash: non_empty(take(Some(3))),
        salt: non_empty(take(Some(4))),
        display_name: non_empty(take(Some(5))),
        photo_url: non_empty(take(Some(6))),
        created_at: parse_millis(&take(Some(layout.created_at))),
        last_login_at: parse_millis(&take(Some(layout.last_login_at))),
        phone: non_empty(take(layout.phone)),
        disabled: match take(layout.disabled).as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        custom_attributes: non_empty(take(layout.custom_attributes)).map(CustomAttributes::Text),
        ..Account::default()
    };
    for (p, provider) in layout.providers() {
        let raw_id = take(Some(p));
        if raw_id.is_empty() {
            continue;
        }
        account
            .identities
            .extend(identity(provider, &raw_id, non_empty(take(Some(p + 1)))));
    }
    if r.repaired {
        account.diagnostics.push(Diagnostic::new(
            codes::CSV_COLUMNS_REPAIRED,
            format!(
                "a name in this line holds a comma the exporter did not escape (firebase-tools before v6.11, or a quote in a name before v15.19); the columns were rejoined by value shape ({}-column layout, firebase-tools {})",
                layout.columns, layout.versions
            ),
        ));
    }
    Ok(account)
}
