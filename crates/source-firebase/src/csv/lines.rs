//! Physical lines of a CSV input, with their numbers, a size limit and per-line UTF-8 checks.
//!
//! A line longer than the limit is skipped without being held in memory; a line that is not
//! UTF-8 is reported on its own. Either way the next line is read normally.

use std::io::{self, BufRead};

use kcm_model::Reason;
use kcm_source_io::io_reason;

/// One physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// The text including its terminator (`\n` or `\r\n`; none on a last line without one).
    Text { number: u64, text: String },
    /// A line that cannot be used; `fatal` when reading cannot go on (I/O error).
    Bad {
        number: u64,
        reason: Reason,
        message: String,
        fatal: bool,
    },
}

pub(crate) struct LineReader {
    reader: Box<dyn BufRead + Send>,
    next_number: u64,
    max_bytes: usize,
    done: bool,
}

impl LineReader {
    pub(crate) fn new(reader: Box<dyn BufRead + Send>, max_bytes: usize) -> Self {
        Self {
            reader,
            next_number: 1,
            max_bytes,
            done: false,
        }
    }

    pub(crate) fn next_line(&mut self) -> Option<Line> {
        if self.done {
            return None;
        }
        let number = self.next_number;
        let mut bytes: Vec<u8> = Vec::new();
        let mut total: usize = 0;
        let mut overflow = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    let reason = io_reason(&e);
                    let message = match reason {
                        Reason::Truncated => format!("the input ends in the middle of this line ({e}); is the file or gzip stream cut short?"),
                        _ => format!("reading failed: {e}"),
                    };
                    return Some(Line::Bad {
                        number,
                        reason,
                        message,
                        fatal: true,
                    });
                }
            };
            if buf.is_empty() {
                self.done = true;
                if total == 0 {
                    return None;
                }
                break;
            }
            let (chunk, found_newline) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            let n = chunk.len();
            total = total.saturating_add(n);
            if !overflow {
                if total > self.max_bytes {
                    overflow = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(chunk);
                }
            }
            self.reader.consume(n);
            if found_newline {
                break;
            }
        }
        self.next_number += 1;
        if overflow {
            return Some(Line::Bad {
                number,
                reason: Reason::TooLarge,
                message: format!(
                    "line is {total} bytes, more than the {} bytes allowed for one record (raise --max-record-size if this is a real account)",
                    self.max_bytes
                ),
                fatal: false,
            });
        }
        match String::from_utf8(bytes) {
            Ok(text) => Some(Line::Text { number, text }),
            Err(e) => Some(Line::Bad {
                number,
                reason: Reason::InvalidUtf8,
                message: format!(
                    "line is not valid UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
                fatal: false,
            }),
        }
    }
}

/// The line without its final `\n` / `\r\n`.
pub(crate) fn strip_eol(text: &str) -> &str {
    let t = text.strip_suffix('\n').unwrap_or(text);
    t.strip_suffix('\r').unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8], max: usize) -> Vec<Line> {
        let mut r = LineReader::new(Box::new(std::io::Cursor::new(data.to_vec())), max);
        std::iter::from_fn(|| r.next_line()).collect()
    }

    #[test]
    fn numbers_terminators_and_last_line_without_newline() {
        let got = lines(b"a,\r\nb,\n\nc", 100);
        let texts: Vec<(u64, String)> = got
            .into_iter()
            .map(|l| match l {
                Line::Text { number, text } => (number, text),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                (1, "a,\r\n".into()),
                (2, "b,\n".into()),
                (3, "\n".into()),
                (4, "c".into())
            ]
        );
    }

    #[test]
    fn long_and_non_utf8_lines_are_reported_and_skipped() {
        let mut data = vec![b'x'; 50];
        data.extend(b"\n\xff,\nok,\n");
        let got = lines(&data, 10);
        assert!(matches!(
            got[0],
            Line::Bad {
                number: 1,
                reason: Reason::TooLarge,
                ..
            }
        ));
        assert!(matches!(
            got[1],
            Line::Bad {
                number: 2,
                reason: Reason::InvalidUtf8,
                ..
            }
        ));
        assert_eq!(
            got[2],
            Line::Text {
                number: 3,
                text: "ok,\n".into()
            }
        );
    }
}
