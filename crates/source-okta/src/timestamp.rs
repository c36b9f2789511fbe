//! Okta timestamps to milliseconds since the Unix epoch.
//!
//! The Users API writes ISO-8601 with a `Z` offset (`2022-04-04T15:56:05.000Z`). Console
//! reports are documented as UTC on one help page and Pacific time on another (gotcha 6), and
//! spreadsheet round trips drop the offset; a time without an offset is therefore read as
//! UTC and flagged, so the caller can say so on the user.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// A parsed timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Millis {
    pub(crate) millis: i64,
    /// The text had no UTC offset and was taken as UTC.
    pub(crate) assumed_utc: bool,
}

/// Parse an Okta timestamp; `None` when the text is not a date-time in a known layout.
pub(crate) fn parse(raw: &str) -> Option<Millis> {
    let text = raw.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(Millis {
            millis: to_millis(at),
            assumed_utc: false,
        });
    }
    let layouts = [
        format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        ),
        format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
        ),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ];
    for layout in layouts {
        if let Ok(at) = PrimitiveDateTime::parse(text, layout) {
            return Some(Millis {
                millis: to_millis(at.assume_utc()),
                assumed_utc: true,
            });
        }
    }
    let date = time::Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
    Some(Millis {
        millis: to_millis(date.midnight().assume_utc()),
        assumed_utc: true,
    })
}

fn to_millis(at: OffsetDateTime) -> i64 {
    // Years 1..9999 in milliseconds fit an i64 many times over.
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_timestamps_and_offsetless_ones() {
        let api = parse("2022-04-04T15:56:05.000Z").unwrap();
        assert_eq!(
            api,
            Millis {
                millis: 1_649_087_765_000,
                assumed_utc: false
            }
        );
        assert_eq!(
            parse("2022-04-04T08:56:05-07:00").unwrap().millis,
            1_649_087_765_000
        );
        let bare = parse("2022-04-04 15:56:05").unwrap();
        assert_eq!(
            bare,
            Millis {
                millis: 1_649_087_765_000,
                assumed_utc: true
            }
        );
        assert_eq!(parse("2022-04-04").unwrap().millis, 1_649_030_400_000);
        assert_eq!(parse("yesterday"), None);
    }
}
