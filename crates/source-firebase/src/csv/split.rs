//! Splitting one Firebase CSV record into fields.
//!
//! The exporter never used a real CSV writer, so no CSV library reads every version: names
//! were unquoted before v6.11, then wrapped in `"` without doubling inner quotes, then (user
//! display name only, v15.19+) properly escaped; `customAttributes` was raw JSON (commas
//! inside) until v11.25.2 and then quoted with `""` doubling except after a backslash.
//!
//! [`Mode::Quoted`] reads all of these in one pass: a quoted field honours `""`, treats a
//! quote not followed by `,` as a literal (the no-doubling era) and, when it holds a JSON
//! object, keeps backslash escapes intact; an unquoted field starting with `{` runs to its
//! matching `}`. What it cannot tell apart (a `",` inside an undoubled name, an unquoted
//! comma) is left to the layout step, which repairs from the raw spans kept per field.
//! [`Mode::Plain`] splits on every comma, for lines whose quotes or braces are just text.

/// How quotes and braces are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Quoted,
    Plain,
}

/// A field's value and where its raw text sits in the record (quotes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    pub fields: Vec<Field>,
    /// The record ends with the exporter's trailing comma (its last field is that empty one).
    pub trailing_comma: bool,
    /// A quoted field is still open at the end of the text: the record goes on on the next
    /// line, or the quote was literal text.
    pub open_quote: bool,
}

impl Split {
    /// The data columns: the fields without the empty one after the trailing comma.
    pub(crate) fn columns(&self) -> &[Field] {
        match self.fields.split_last() {
            Some((_, init)) if self.trailing_comma => init,
            _ => &self.fields,
        }
    }

    /// The column values, owned.
    pub(crate) fn into_columns(mut self) -> Vec<String> {
        if self.trailing_comma {
            self.fields.pop();
        }
        self.fields.into_iter().map(|f| f.value).collect()
    }
}

/// Split `text` (one record, final line terminator removed; inner line breaks kept).
pub(crate) fn split(text: &str, mode: Mode) -> Split {
    let bytes = text.as_bytes();
    let mut fields = Vec::new();
    let mut pos = 0;
    let mut open_quote = false;
    loop {
        let start = pos;
        let (value, end) = match (mode, bytes.get(pos)) {
            (Mode::Quoted, Some(b'"')) => match quoted(bytes, pos) {
                Some(found) => found,
                None => {
                    open_quote = true;
                    (lossy(bytes.get(pos + 1..).unwrap_or_default()), bytes.len())
                }
            },
            (Mode::Quoted, Some(b'{')) => match json_object_end(bytes, pos) {
                Some(end) => plain_from(bytes, pos, end),
                None => plain_from(bytes, pos, pos),
            },
            _ => plain_from(bytes, pos, pos),
        };
        fields.push(Field { value, start, end });
        match bytes.get(end) {
            Some(b',') => pos = end + 1,
            _ => break,
        }
    }
    let trailing_comma = !open_quote && bytes.last() == Some(&b',');
    Split {
        fields,
        trailing_comma,
        open_quote,
    }
}

/// An unquoted field from `start`, whose first `skip_to - start` bytes are kept whatever they
/// contain (a balanced JSON object); it ends at the next comma or the end of the text.
fn plain_from(bytes: &[u8], start: usize, skip_to: usize) -> (String, usize) {
    let end = bytes
        .get(skip_to..)
        .and_then(|rest| rest.iter().position(|&b| b == b','))
        .map_or(bytes.len(), |i| skip_to + i);
    (lossy(bytes.get(start..end).unwrap_or_default()), end)
}

/// A quoted field whose opening quote is at `start`. Returns its value and the position just
/// after the closing quote, or `None` if it is not closed before the end of the text.
fn quoted(bytes: &[u8], start: usize) -> Option<(String, usize)> {
    let json = bytes.get(start + 1) == Some(&b'{');
    let mut out = Vec::new();
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if json => {
                // The exporter doubled only quotes not preceded by a backslash, so an escape
                // pair is JSON text, copied as is.
                out.push(b);
                if let Some(&next) = bytes.get(i + 1) {
                    out.push(next);
                }
                i += 2;
            }
            b'"' => match bytes.get(i + 1) {
                Some(b'"') => {
                    out.push(b'"');
                    i += 2;
                }
                None | Some(b',') => return Some((lossy(&out), i + 1)),
                // Undoubled inner quote (v6.11–v15.18 names): literal text.
                Some(_) => {
                    out.push(b'"');
                    i += 1;
                }
            },
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// Position just after the `}` matching the `{` at `start`, if it closes on this line.
/// Strings are skipped so braces and commas inside JSON values do not count.
fn json_object_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth: usize = 0;
    let mut in_string = false;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                b'\n' | b'\r' => return None,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return (b == b'}').then_some(i + 1);
                    }
                }
                b'\n' | b'\r' => return None,
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Bytes cut at ASCII delimiters of valid UTF-8 stay valid; lossy only guards against panics.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, mode: Mode) -> Vec<String> {
        split(text, mode)
            .fields
            .into_iter()
            .map(|f| f.value)
            .collect()
    }

    #[test]
    fn plain_fields_and_trailing_comma() {
        let s = split("a,,b,", Mode::Quoted);
        assert!(s.trailing_comma && !s.open_quote);
        let cols: Vec<&str> = s.columns().iter().map(|f| f.value.as_str()).collect();
        assert_eq!(cols, vec!["a", "", "b"]);
        assert!(!split("a,b", Mode::Quoted).trailing_comma);
    }

    #[test]
    fn doubled_quotes_and_commas_in_quotes() {
        assert_eq!(
            values(r#"1,"Foo ""Bar"" Baz",x,"#, Mode::Quoted),
            vec!["1", r#"Foo "Bar" Baz"#, "x", ""]
        );
        assert_eq!(values(r#""a, b",c"#, Mode::Quoted), vec!["a, b", "c"]);
    }

    #[test]
    fn undoubled_inner_quote_is_literal() {
        assert_eq!(
            values(r#""Jo "JJ" Smith, Jr",x"#, Mode::Quoted),
            vec![r#"Jo "JJ" Smith, Jr"#, "x"]
        );
    }

    #[test]
    fn quoted_json_keeps_backslash_escapes() {
        // customAttributes `{"n":"a\",b"}` as v11.25.2+ writes it: quotes doubled unless
        // preceded by a backslash.
        let line = r#"u,"{""n"":""a\",b""}",z,"#;
        assert_eq!(values(line, Mode::Quoted)[1], r#"{"n":"a\",b"}"#);
    }

    #[test]
    fn unquoted_json_runs_to_its_matching_brace() {
        let line = r#"u,{"roles":["a","b"],"x":"},{"},z,"#;
        assert_eq!(
            values(line, Mode::Quoted),
            vec!["u", r#"{"roles":["a","b"],"x":"},{"}"#, "z", ""]
        );
        assert_eq!(
            values("u,{broken,z", Mode::Quoted),
            vec!["u", "{broken", "z"]
        );
    }

    #[test]
    fn open_quote_and_plain_mode() {
        let s = split("a,\"multi\nline", Mode::Quoted);
        assert!(s.open_quote && !s.trailing_comma);
        assert_eq!(
            values("a,\"b,c\",", Mode::Plain),
            vec!["a", "\"b", "c\"", ""]
        );
    }

    #[test]
    fn raw_spans_cover_quotes() {
        let text = r#"x,"a, b",y"#;
        let s = split(text, Mode::Quoted);
        assert_eq!(&text[s.fields[1].start..s.fields[1].end], r#""a, b""#);
    }
}
