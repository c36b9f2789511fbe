//! The historical column layouts of the header-less `auth:export` CSV and how a line is
//! matched to one.
//!
//! Field counts alone are ambiguous (26 columns: v3.3–v3.11 or v4.1.2–v7.11; 27: v3.12–v4.1.1
//! or v7.12–v8.12), so every candidate layout is checked against the shape of the values:
//! `emailVerified` is `true`/`false`, timestamps are digits, phone numbers start with `+`,
//! photo URLs look like URLs, and so on. The same checks catch the column shift an unquoted
//! comma in a name causes; [`repair`] then tries to rejoin the split name by trying each
//! name column and keeps the result only if exactly one way fits.

use super::split::Field;

/// First column of each provider block (rawId, email, displayName, photoUrl) in every layout.
const BASE_PROVIDERS: [(usize, &str); 4] = [
    (7, "google.com"),
    (11, "facebook.com"),
    (15, "twitter.com"),
    (19, "github.com"),
];

/// Provider blocks added in v15.19.0 (52-column layout).
const EXTRA_PROVIDERS: [(usize, &str); 6] = [
    (28, "apple.com"),
    (32, "microsoft.com"),
    (36, "gc.apple.com"),
    (40, "playgames.google.com"),
    (44, "linkedin.com"),
    (48, "yahoo.com"),
];

/// Offset of the displayName inside a provider block.
const PROVIDER_NAME_OFFSET: usize = 2;

/// Column of the user's display name.
const DISPLAY_NAME: usize = 5;

/// The most surplus fields a repair tries to absorb; more commas than this in names of one
/// line is not worth guessing about.
const MAX_REPAIR_EXTRA: usize = 3;

/// One historical layout. Columns 0–22 are the same in all of them.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// firebase-tools versions that wrote it, for messages.
    pub versions: &'static str,
    pub columns: usize,
    pub disabled: Option<usize>,
    pub created_at: usize,
    pub last_login_at: usize,
    pub phone: Option<usize>,
    pub custom_attributes: Option<usize>,
    pub extra_providers: bool,
}

/// Every layout, older first within each column count: on a tie the older reading wins
/// (see [`classify`]).
pub(crate) static LAYOUTS: [Layout; 6] = [
    Layout {
        versions: "v3.3–v3.11",
        columns: 26,
        disabled: Some(23),
        created_at: 24,
        last_login_at: 25,
        phone: None,
        custom_attributes: None,
        extra_providers: false,
    },
    Layout {
        versions: "v4.1.2–v7.11",
        columns: 26,
        disabled: None,
        created_at: 23,
        last_login_at: 24,
        phone: Some(25),
        custom_attributes: None,
        extra_providers: false,
    },
    Layout {
        versions: "v3.12–v4.1.1",
        columns: 27,
        disabled: Some(23),
        created_at: 24,
        last_login_at: 25,
        phone: Some(26),
        custom_attributes: None,
        extra_providers: false,
    },
    Layout {
        versions: "v7.12–v8.12",
        columns: 27,
        disabled: Some(26),
        created_at: 23,
        last_login_at: 24,
        phone: Some(25),
        custom_attributes: None,
        extra_providers: false,
    },
    Layout {
        versions: "v8.13–v15.18",
        columns: 28,
        disabled: Some(26),
        created_at: 23,
        last_login_at: 24,
        phone: Some(25),
        custom_attributes: Some(27),
        extra_providers: false,
    },
    Layout {
        versions: "v15.19+",
        columns: 52,
        disabled: Some(26),
        created_at: 23,
        last_login_at: 24,
        phone: Some(25),
        custom_attributes: Some(27),
        extra_providers: true,
    },
];

/// Column counts that exist, for messages.
pub(crate) const KNOWN_COLUMN_COUNTS: &str = "26, 27, 28 or 52";

impl Layout {
    pub(crate) fn providers(&self) -> impl Iterator<Item = (usize, &'static str)> {
        let extra: &'static [(usize, &'static str)] = if self.extra_providers {
            &EXTRA_PROVIDERS
        } else {
            &[]
        };
        BASE_PROVIDERS.iter().chain(extra).copied()
    }

    /// The provider block column `i` falls in: (first column of the block, provider).
    fn provider_at(&self, i: usize) -> Option<(usize, &'static str)> {
        self.providers().find(|(p, _)| (*p..*p + 4).contains(&i))
    }

    fn is_name_column(&self, i: usize) -> bool {
        i == DISPLAY_NAME
            || self
                .provider_at(i)
                .is_some_and(|(p, _)| i == p + PROVIDER_NAME_OFFSET)
    }

    /// The shape column `i` must have, if it is typed.
    fn shape_of(&self, i: usize) -> Option<Shape> {
        match i {
            1 => Some(Shape::Email),
            2 => Some(Shape::Bool),
            3 | 4 => Some(Shape::Base64),
            6 => Some(Shape::Url),
            _ if Some(i) == self.disabled => Some(Shape::OptionalBool),
            _ if i == self.created_at || i == self.last_login_at => Some(Shape::Millis),
            _ if Some(i) == self.phone => Some(Shape::Phone),
            _ if Some(i) == self.custom_attributes => Some(Shape::JsonObject),
            _ => match i - self.provider_at(i)?.0 {
                0 => Some(Shape::Token),
                1 => Some(Shape::Email),
                3 => Some(Shape::Url),
                _ => None,
            },
        }
    }

    /// Columns that may hold free text (and so a comma or a line break): the display names.
    fn name_columns(&self) -> Vec<usize> {
        std::iter::once(DISPLAY_NAME)
            .chain(self.providers().map(|(p, _)| p + PROVIDER_NAME_OFFSET))
            .collect()
    }

    /// What column `i` holds, for messages.
    fn column_name(&self, i: usize) -> &'static str {
        const BLOCK: [&str; 4] = ["rawId", "email", "displayName", "photoUrl"];
        match i {
            0 => "localId",
            1 => "email",
            2 => "emailVerified",
            3 => "passwordHash",
            4 => "salt",
            5 => "displayName",
            6 => "photoUrl",
            _ if Some(i) == self.disabled => "disabled",
            _ if i == self.created_at => "createdAt",
            _ if i == self.last_login_at => "lastLoginAt",
            _ if Some(i) == self.phone => "phoneNumber",
            _ if Some(i) == self.custom_attributes => "customAttributes",
            _ => self
                .provider_at(i)
                .and_then(|(p, _)| BLOCK.get(i - p).copied())
                .unwrap_or("unknown"),
        }
    }
}

/// Why a line's values do not fit a layout: the first column that is out of shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub layout: &'static Layout,
    pub column: usize,
    pub expected: &'static str,
}

impl Mismatch {
    pub(crate) fn describe(&self) -> String {
        format!(
            "column {} ({}) {} for the {}-column layout of firebase-tools {}",
            self.column + 1,
            self.layout.column_name(self.column),
            self.expected,
            self.layout.columns,
            self.layout.versions
        )
    }
}

/// The outcome of matching columns against the layouts of their count.
#[derive(Debug)]
pub(crate) enum Match {
    Fits(&'static Layout),
    /// No layout has this many columns.
    NoLayout,
    /// Layouts exist for the count but the values do not fit; the candidate that got furthest.
    Mismatch(Mismatch),
}

/// Pick the layout for these columns. When several fit (only possible when column 23 is
/// empty), prefer the reading that yields a creation time, then the older layout.
pub(crate) fn classify(cols: &[&str]) -> Match {
    let mut best: Option<(&'static Layout, u32)> = None;
    let mut furthest: Option<Mismatch> = None;
    for layout in LAYOUTS.iter().filter(|l| l.columns == cols.len()) {
        match check(layout, cols) {
            Ok(score) => {
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((layout, score));
                }
            }
            Err(m) => {
                if furthest.as_ref().is_none_or(|f| m.column > f.column) {
                    furthest = Some(m);
                }
            }
        }
    }
    match (best, furthest) {
        (Some((layout, _)), _) => Match::Fits(layout),
        (None, Some(m)) => Match::Mismatch(m),
        (None, None) => Match::NoLayout,
    }
}

/// Check every typed column in column order; `Ok(score)` ranks equally valid readings.
fn check(layout: &'static Layout, cols: &[&str]) -> Result<u32, Mismatch> {
    for (i, value) in cols.iter().enumerate() {
        let mismatch = |expected| Mismatch {
            layout,
            column: i,
            expected,
        };
        // A record spans lines only through a display name; a line break anywhere else
        // means lines were glued together that are not one record.
        if !layout.is_name_column(i) && value.contains(['\n', '\r']) {
            return Err(mismatch("contains a line break"));
        }
        if let Some(shape) = layout.shape_of(i) {
            if !shape.fits(value) {
                return Err(mismatch(shape.expected()));
            }
        }
    }
    let created = cols.get(layout.created_at).is_some_and(|c| !c.is_empty());
    Ok(u32::from(created))
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `true` or `false` (the exporter writes `emailVerified || false`).
    Bool,
    /// `true`, `false` or empty.
    OptionalBool,
    /// Empty or an address with `@` and no white space.
    Email,
    /// Empty or standard/url-safe base64 characters.
    Base64,
    /// Empty or something with a scheme.
    Url,
    /// Empty or a single word (provider user id).
    Token,
    /// Empty or digits (epoch milliseconds).
    Millis,
    /// Empty or E.164 (`+` then digits).
    Phone,
    /// Empty or `{…}`.
    JsonObject,
}

impl Shape {
    fn fits(self, v: &str) -> bool {
        if v.is_empty() {
            return !matches!(self, Shape::Bool);
        }
        match self {
            Shape::Bool | Shape::OptionalBool => v == "true" || v == "false",
            Shape::Email => v.contains('@') && !v.contains(char::is_whitespace),
            Shape::Base64 => v.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
            }),
            Shape::Url => {
                !v.contains(char::is_whitespace) && (v.contains("://") || v.starts_with("data:"))
            }
            Shape::Token => !v.contains(char::is_whitespace),
            Shape::Millis => v.len() <= 16 && v.bytes().all(|b| b.is_ascii_digit()),
            Shape::Phone => {
                v.len() > 1 && v.starts_with('+') && v.bytes().skip(1).all(|b| b.is_ascii_digit())
            }
            Shape::JsonObject => {
                let t = v.trim();
                t.starts_with('{') && t.ends_with('}')
            }
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Shape::Bool => "is not `true` or `false`",
            Shape::OptionalBool => "is not `true`, `false` or empty",
            Shape::Email => "is not an e-mail address",
            Shape::Base64 => "is not base64",
            Shape::Url => "is not a URL",
            Shape::Token => "contains white space",
            Shape::Millis => "is not epoch milliseconds",
            Shape::Phone => "is not an E.164 phone number",
            Shape::JsonObject => "is not a JSON object",
        }
    }
}

/// Outcome of trying to rejoin a name split by an unescaped comma.
#[derive(Debug)]
pub(crate) enum Repair {
    Fixed(&'static Layout, Vec<String>),
    Ambiguous,
    None,
}

/// Try to rejoin surplus fields into name columns. `text` is the record the fields' raw spans
/// point into. A rejoined name is taken from the raw text (so an undoubled `",` inside a
/// quoted name comes back as written) with its outer quotes removed.
pub(crate) fn repair(text: &str, fields: &[Field]) -> Repair {
    let mut found: Option<(&'static Layout, Vec<String>)> = None;
    for layout in LAYOUTS.iter().filter(|l| l.columns < fields.len()) {
        let extra = fields.len() - layout.columns;
        if extra > MAX_REPAIR_EXTRA {
            continue;
        }
        let names = layout.name_columns();
        for shares in compositions(extra, names.len()) {
            let Some(cols) = rejoin(text, fields, &names, &shares) else {
                continue;
            };
            let view: Vec<&str> = cols.iter().map(String::as_str).collect();
            if check(layout, &view).is_ok() {
                match &found {
                    Some((l, c)) if *l != layout || *c != cols => return Repair::Ambiguous,
                    Some(_) => {}
                    None => found = Some((layout, cols)),
                }
            }
        }
    }
    match found {
        Some((layout, cols)) => Repair::Fixed(layout, cols),
        None => Repair::None,
    }
}

/// Every way to split `total` surplus fields among `parts` name columns.
fn compositions(total: usize, parts: usize) -> Vec<Vec<usize>> {
    if parts == 0 {
        return if total == 0 {
            vec![Vec::new()]
        } else {
            Vec::new()
        };
    }
    let mut out = Vec::new();
    for first in 0..=total {
        for mut rest in compositions(total - first, parts - 1) {
            rest.insert(0, first);
            out.push(rest);
        }
    }
    out
}

/// Columns with `shares[j]` surplus fields merged into name column `names[j]`; `None` when a
/// merge would only join empty fields (an unescaped comma sits inside a name, so at least
/// one side of it has text).
fn rejoin(text: &str, fields: &[Field], names: &[usize], shares: &[usize]) -> Option<Vec<String>> {
    let mut cols = Vec::with_capacity(fields.len());
    let mut i = 0;
    while i < fields.len() {
        let column = cols.len();
        let take = names
            .iter()
            .position(|&n| n == column)
            .and_then(|j| shares.get(j).copied())
            .unwrap_or(0);
        let last = (i + take).min(fields.len() - 1);
        match (fields.get(i), fields.get(last)) {
            (Some(first), Some(end)) if take > 0 => {
                if fields
                    .get(i..=last)
                    .is_none_or(|group| group.iter().all(|f| f.value.is_empty()))
                {
                    return None;
                }
                let raw = text.get(first.start..end.end).unwrap_or_default();
                let inner = raw
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .filter(|_| raw.len() >= 2)
                    .unwrap_or(raw);
                cols.push(inner.to_string());
            }
            (Some(f), _) => cols.push(f.value.clone()),
            _ => {}
        }
        i = last + 1;
    }
    Some(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cols: usize, set: &[(usize, &'static str)]) -> Vec<&'static str> {
        let mut v = vec![""; cols];
        v[0] = "uid";
        v[2] = "false";
        for &(i, s) in set {
            v[i] = s;
        }
        v
    }

    fn fits(cols: &[&str]) -> Option<&'static str> {
        match classify(cols) {
            Match::Fits(l) => Some(l.versions),
            _ => None,
        }
    }

    #[test]
    fn twenty_six_columns_by_shape() {
        assert_eq!(
            fits(&row(26, &[(23, "true"), (24, "1508893925000")])),
            Some("v3.3–v3.11")
        );
        assert_eq!(
            fits(&row(26, &[(23, "1508893925000"), (25, "+15555550100")])),
            Some("v4.1.2–v7.11")
        );
        // Empty col 23 and a timestamp in 24: the older reading has a creation time.
        assert_eq!(fits(&row(26, &[(24, "1508893925000")])), Some("v3.3–v3.11"));
    }

    #[test]
    fn twenty_seven_columns_by_shape() {
        let legacy = row(27, &[(24, "1508893925000"), (25, "1508893925000")]);
        assert_eq!(fits(&legacy), Some("v3.12–v4.1.1"));
        let newer = row(
            27,
            &[(23, "1508893925000"), (24, "1508893925001"), (26, "true")],
        );
        assert_eq!(fits(&newer), Some("v7.12–v8.12"));
    }

    #[test]
    fn mismatch_names_the_column() {
        let bad = row(28, &[(2, "yes")]);
        match classify(&bad) {
            Match::Mismatch(m) => assert!(
                m.describe().starts_with("column 3 (emailVerified)"),
                "{}",
                m.describe()
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(classify(&row(30, &[])), Match::NoLayout));
    }

    #[test]
    fn compositions_cover_every_split() {
        assert_eq!(compositions(2, 2), vec![vec![0, 2], vec![1, 1], vec![2, 0]]);
        assert_eq!(compositions(3, 11).len(), 286);
    }
}
