//! Header-less CSV: every historical layout, every quoting rule, layout ambiguity resolved by
//! value shape, repairs of unescaped commas, multi-line names and exact line numbering.

mod common;

use common::{line, line52, read_text};
use kcm_model::Reason;

const CREATED: &str = "1508893925000";
const LOGIN: &str = "1508893926000";

fn providers(u: &kcm_model::User) -> Vec<(String, String, Option<String>)> {
    u.identities
        .iter()
        .map(|i| (i.provider.clone(), i.user_id.clone(), i.email.clone()))
        .collect()
}

#[test]
fn layout_26_columns_v3_3_has_disabled_at_23() {
    let run = read_text(
        "old.csv",
        &line(
            26,
            &[
                (0, "u1"),
                (1, "a@x.test"),
                (2, "true"),
                (23, "true"),
                (24, CREATED),
                (25, LOGIN),
            ],
        ),
    );
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let u = run.user("u1");
    assert_eq!((u.enabled, u.status.as_str()), (false, "disabled"));
    assert_eq!(
        (u.created_at, u.last_login_at, u.phone.as_deref()),
        (Some(1508893925000), Some(1508893926000), None)
    );
    assert_eq!(u.email_verified, Some(true));
}

#[test]
fn layout_26_columns_v4_1_2_has_created_at_at_23() {
    let run = read_text(
        "v4.csv",
        &line(
            26,
            &[(0, "u1"), (23, CREATED), (24, LOGIN), (25, "+15555550100")],
        ),
    );
    let u = run.user("u1");
    assert_eq!(
        (u.created_at, u.last_login_at),
        (Some(1508893925000), Some(1508893926000))
    );
    assert_eq!(u.phone.as_deref(), Some("+15555550100"));
    assert!(u.enabled);
}

#[test]
fn layout_27_columns_v3_12_has_disabled_at_23_and_phone_at_26() {
    let run = read_text(
        "v3-12.csv",
        &line(
            27,
            &[
                (0, "u1"),
                (23, "false"),
                (24, CREATED),
                (25, LOGIN),
                (26, "+441234567890"),
            ],
        ),
    );
    let u = run.user("u1");
    assert_eq!(
        (u.created_at, u.last_login_at),
        (Some(1508893925000), Some(1508893926000))
    );
    assert_eq!(u.phone.as_deref(), Some("+441234567890"));
    assert_eq!(u.status, "active");
}

#[test]
fn layout_27_columns_v7_12_has_disabled_at_26() {
    let run = read_text(
        "v7.csv",
        &line(
            27,
            &[
                (0, "u1"),
                (23, CREATED),
                (24, LOGIN),
                (25, "+15555550100"),
                (26, "true"),
            ],
        ),
    );
    let u = run.user("u1");
    assert_eq!(
        (u.created_at, u.last_login_at),
        (Some(1508893925000), Some(1508893926000))
    );
    assert_eq!(u.phone.as_deref(), Some("+15555550100"));
    assert!(!u.enabled);
}

#[test]
fn ambiguous_field_counts_are_resolved_by_value_shape_line_by_line() {
    // 28 fields twice: the same count, two layouts, told apart by what column 23 holds.
    let text = [
        line(
            27,
            &[(0, "old"), (23, ""), (24, CREATED), (25, LOGIN), (26, "")],
        ),
        line(
            27,
            &[
                (0, "new"),
                (23, CREATED),
                (24, LOGIN),
                (25, ""),
                (26, "true"),
            ],
        ),
        line(
            26,
            &[(0, "old26"), (23, "true"), (24, CREATED), (25, LOGIN)],
        ),
        line(26, &[(0, "new26"), (23, CREATED), (24, LOGIN), (25, "")]),
    ]
    .concat();
    let run = read_text("mixed.csv", &text);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let old = run.user("old");
    assert_eq!(
        (old.created_at, old.last_login_at, old.enabled),
        (Some(1508893925000), Some(1508893926000), true)
    );
    let new = run.user("new");
    assert_eq!(
        (new.created_at, new.last_login_at, new.enabled),
        (Some(1508893925000), Some(1508893926000), false)
    );
    assert!(!run.user("old26").enabled);
    assert_eq!(run.user("new26").created_at, Some(1508893925000));
}

#[test]
fn empty_column_23_prefers_the_reading_with_a_creation_time() {
    let run = read_text("a.csv", &line(27, &[(0, "u"), (24, CREATED)]));
    let u = run.user("u");
    assert_eq!((u.created_at, u.last_login_at), (Some(1508893925000), None));
}

#[test]
fn layout_28_columns_v8_13_has_raw_unquoted_custom_attributes_with_commas() {
    let claims = r#"{"roles":["editor","viewer"],"org":{"id":7,"name":"a,b}"}}"#;
    let run = read_text(
        "v8.csv",
        &line(
            28,
            &[
                (0, "u1"),
                (5, "Ann Lee"),
                (23, CREATED),
                (24, LOGIN),
                (26, "false"),
                (27, claims),
            ],
        ),
    );
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let u = run.user("u1");
    assert_eq!(
        u.metadata["customAttributes"]["roles"],
        serde_json::json!(["editor", "viewer"])
    );
    assert_eq!(u.metadata["customAttributes"]["org"]["name"], "a,b}");
    assert_eq!(u.display_name.as_deref(), Some("Ann Lee"));
}

#[test]
fn layout_28_columns_v11_25_2_quotes_custom_attributes_doubling_quotes_but_not_after_backslash() {
    // Claims {"nick":"The \"Boss\", Jr","admin":true} as the exporter writes them.
    let cell = r#""{""nick"":""The \"Boss\", Jr"",""admin"":true}""#;
    let run = read_text(
        "v11.csv",
        &line(28, &[(0, "u1"), (23, CREATED), (27, cell)]),
    );
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let claims = &run.user("u1").metadata["customAttributes"];
    assert_eq!(claims["nick"], "The \"Boss\", Jr");
    assert_eq!(claims["admin"], true);
}

#[test]
fn layout_52_columns_v15_19_reads_every_provider_block() {
    let blocks = [
        (7, "google.com"),
        (11, "facebook.com"),
        (15, "twitter.com"),
        (19, "github.com"),
        (28, "apple.com"),
        (32, "microsoft.com"),
        (36, "gc.apple.com"),
        (40, "playgames.google.com"),
        (44, "linkedin.com"),
        (48, "yahoo.com"),
    ];
    let ids: Vec<String> = blocks.iter().map(|(i, _)| format!("id{i}")).collect();
    let mut set: Vec<(usize, &str)> = vec![(0, "u1"), (23, CREATED), (26, "false")];
    for ((i, _), id) in blocks.iter().zip(&ids) {
        set.push((*i, id));
        set.push((i + 1, "p@x.test"));
        set.push((i + 3, "https://x.test/p.png"));
    }
    let run = read_text("v15.csv", &line52(&set));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let got = providers(run.user("u1"));
    let want: Vec<(String, String, Option<String>)> = blocks
        .iter()
        .map(|(i, p)| {
            (
                p.to_string(),
                format!("id{i}"),
                Some("p@x.test".to_string()),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn quoting_v15_19_display_name_uses_doubled_quotes() {
    let run = read_text(
        "q.csv",
        &line52(&[(0, "u1"), (5, r#""Foo ""Bar"", Baz""#), (23, CREATED)]),
    );
    assert_eq!(
        run.user("u1").display_name.as_deref(),
        Some(r#"Foo "Bar", Baz"#)
    );
    assert!(run.user("u1").diagnostics.is_empty());
}

#[test]
fn quoting_v15_19_provider_display_names_keep_the_comma_only_rule() {
    let run = read_text(
        "q.csv",
        &line52(&[
            (0, "u1"),
            (32, "ms-1"),
            (34, r#""Ivanova, Olga""#),
            (23, CREATED),
        ]),
    );
    assert_eq!(
        providers(run.user("u1")),
        vec![("microsoft.com".into(), "ms-1".into(), None)]
    );
}

#[test]
fn quoting_v6_11_wraps_names_with_commas_without_doubling_inner_quotes() {
    let text = [
        line(
            27,
            &[
                (0, "plain"),
                (5, r#""Doe, Jane""#),
                (23, CREATED),
                (24, LOGIN),
            ],
        ),
        line(
            27,
            &[
                (0, "inner"),
                (5, r#""Jo "JJ" Smith, Jr""#),
                (23, CREATED),
                (24, LOGIN),
            ],
        ),
        // A quote right before the comma closes the field early; the repair rejoins it.
        line(
            28,
            &[
                (0, "early"),
                (5, r#""Jean "JJ", Dupont""#),
                (23, CREATED),
                (24, LOGIN),
            ],
        ),
        line(
            28,
            &[
                (0, "end"),
                (5, r#""Brown, Emmett "Doc"""#),
                (23, CREATED),
                (24, LOGIN),
            ],
        ),
    ]
    .concat();
    let run = read_text("v6.csv", &text);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(run.user("plain").display_name.as_deref(), Some("Doe, Jane"));
    assert_eq!(
        run.user("inner").display_name.as_deref(),
        Some(r#"Jo "JJ" Smith, Jr"#)
    );
    assert_eq!(
        run.user("early").display_name.as_deref(),
        Some(r#"Jean "JJ", Dupont"#)
    );
    assert_eq!(
        run.user("end").display_name.as_deref(),
        Some(r#"Brown, Emmett "Doc""#)
    );
    assert_eq!(
        run.user("early").diagnostics[0].code,
        "csv_columns_repaired"
    );
    assert_eq!(run.user("end").diagnostics[0].code, "csv_columns_repaired");
    assert!(run.user("plain").diagnostics.is_empty());
}

#[test]
fn quoting_before_v6_11_unquoted_comma_in_name_is_rejoined_by_value_shape() {
    // Name and Google display name both "Smith, John", unquoted: 2 surplus fields.
    let text = line(
        26,
        &[
            (0, "u1"),
            (5, "Smith, John"),
            (6, "https://x.test/me.png"),
            (7, "1234567890"),
            (8, "john@x.test"),
            (9, "Smith, John"),
            (23, CREATED),
            (24, LOGIN),
        ],
    );
    let run = read_text("v4.csv", &text);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let u = run.user("u1");
    assert_eq!(u.display_name.as_deref(), Some("Smith, John"));
    assert_eq!(
        u.attributes["picture"],
        vec!["https://x.test/me.png".to_string()]
    );
    assert_eq!(
        providers(u),
        vec![(
            "google.com".into(),
            "1234567890".into(),
            Some("john@x.test".into())
        )]
    );
    assert_eq!(u.created_at, Some(1508893925000));
    assert_eq!(u.diagnostics[0].code, "csv_columns_repaired");
}

#[test]
fn quoting_before_v6_11_name_ending_in_a_comma_reads_as_the_next_layout_without_losing_data() {
    // "Smith," unquoted in a 26-column line gives 27 well-shaped columns: indistinguishable
    // from the v3.12 layout. Only the trailing comma of the name is lost.
    let run = read_text(
        "v4.csv",
        &line(26, &[(0, "u1"), (5, "Smith,"), (23, CREATED), (24, LOGIN)]),
    );
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let u = run.user("u1");
    assert_eq!(u.display_name.as_deref(), Some("Smith"));
    assert_eq!(
        (u.created_at, u.last_login_at, u.phone.as_deref()),
        (Some(1508893925000), Some(1508893926000), None)
    );
}

#[test]
fn quoting_before_v6_11_unresolvable_commas_are_rejected_with_a_clear_message() {
    // Four unquoted commas: more than a repair guesses at.
    let text = [
        line(
            26,
            &[
                (0, "u1"),
                (5, "Smith, John, Jr, PhD, MD"),
                (23, CREATED),
                (24, LOGIN),
            ],
        ),
        line(26, &[(0, "u2"), (23, CREATED), (24, LOGIN)]),
    ]
    .concat();
    let run = read_text("v4.csv", &text);
    assert_eq!(run.ids(), vec!["u2"]);
    let e = &run.errors[0];
    assert_eq!(
        (e.reason, e.provenance.line, e.provenance.record),
        (Reason::InvalidField, 1, 1)
    );
    assert!(
        e.message
            .starts_with("31 fields (30 columns plus the trailing comma)"),
        "{}",
        e.message
    );
    assert!(e.message.contains("unquoted comma"), "{}", e.message);
    assert!(e.to_string().contains("v4.csv:1"), "{e}");
}

#[test]
fn multiline_quoted_display_name_keeps_exact_line_and_record_numbers() {
    let first = line52(&[(0, "u1"), (5, "\"Anna\r\nMaria, PhD\""), (23, CREATED)])
        .replace('\n', "\r\n")
        .replace("\r\r\n", "\r\n");
    let text = format!(
        "{first}{}{}",
        line52(&[(0, "u2"), (5, "\"Line1\nLine2\nLine3\""), (23, CREATED)]),
        line52(&[(0, "u3"), (23, CREATED)])
    );
    let run = read_text("ml.csv", &text);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let places: Vec<(&str, u64, u64)> = run
        .users
        .iter()
        .map(|u| (u.source_id.as_str(), u.provenance.line, u.provenance.record))
        .collect();
    assert_eq!(places, vec![("u1", 1, 1), ("u2", 3, 2), ("u3", 6, 3)]);
    assert_eq!(
        run.user("u1").display_name.as_deref(),
        Some("Anna\r\nMaria, PhD")
    );
    assert_eq!(
        run.user("u2").display_name.as_deref(),
        Some("Line1\nLine2\nLine3")
    );
}

#[test]
fn multiline_unquoted_display_name_in_old_files_is_joined() {
    let broken = line(
        27,
        &[(0, "u1"), (5, "Test\nUser 1"), (24, CREATED), (25, LOGIN)],
    );
    let text = format!("{broken}{}", line(27, &[(0, "u2"), (24, CREATED)]));
    let run = read_text("legacy.csv", &text);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(run.user("u1").display_name.as_deref(), Some("Test\nUser 1"));
    assert_eq!(
        (
            run.user("u2").provenance.line,
            run.user("u2").provenance.record
        ),
        (3, 2)
    );
}

#[test]
fn stray_quote_does_not_swallow_the_records_after_it() {
    // Before v6.11 a name starting with a quote was written as is.
    let text = [
        line(26, &[(0, "u1"), (5, "\"Bob the builder"), (23, CREATED)]),
        line(26, &[(0, "u2"), (23, CREATED)]),
        line(26, &[(0, "u3"), (23, CREATED)]),
    ]
    .concat();
    let run = read_text("stray.csv", &text);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(run.ids(), vec!["u1", "u2", "u3"]);
    assert_eq!(
        run.user("u1").display_name.as_deref(),
        Some("\"Bob the builder")
    );
    assert_eq!(run.user("u3").provenance.line, 3);
}

#[test]
fn garbage_line_is_reported_alone_and_the_next_record_is_read() {
    let text = format!(
        "{}hello there\n{}",
        line52(&[(0, "u1"), (23, CREATED)]),
        line52(&[(0, "u3"), (23, CREATED)])
    );
    let run = read_text("g.csv", &text);
    assert_eq!(run.ids(), vec!["u1", "u3"]);
    assert_eq!(
        (
            run.user("u3").provenance.line,
            run.user("u3").provenance.record
        ),
        (3, 3)
    );
    let e = &run.errors[0];
    assert_eq!((e.provenance.line, e.provenance.record), (2, 2));
}

#[test]
fn impossible_field_count_names_the_count_the_file_and_the_line() {
    let text = [
        line(26, &[(0, "u1"), (23, CREATED)]),
        line(30, &[(0, "bad")]),
        line(26, &[(0, "u3"), (23, CREATED)]),
    ]
    .concat();
    let run = read_text("count.csv", &text);
    assert_eq!(run.ids(), vec!["u1", "u3"]);
    let e = &run.errors[0];
    assert_eq!(
        (e.reason, e.provenance.line, e.provenance.record),
        (Reason::InvalidField, 2, 2)
    );
    assert!(
        e.message
            .starts_with("31 fields (30 columns plus the trailing comma)"),
        "{}",
        e.message
    );
    assert!(e.to_string().contains("count.csv:2"), "{e}");
    assert_eq!(run.user("u3").provenance.record, 3);
}

#[test]
fn right_count_with_wrong_values_names_the_column() {
    let run = read_text(
        "shape.csv",
        &line52(&[(0, "u1"), (2, "yes"), (23, CREATED)]),
    );
    let e = &run.errors[0];
    assert_eq!(e.reason, Reason::InvalidField);
    assert!(
        e.message.contains("column 3 (emailVerified)"),
        "{}",
        e.message
    );
}

#[test]
fn empty_local_id_is_a_missing_field() {
    let run = read_text("id.csv", &line52(&[(23, CREATED)]));
    assert_eq!(run.errors[0].reason, Reason::MissingField);
}

#[test]
fn blank_lines_are_not_records_and_a_missing_trailing_comma_is_tolerated() {
    let no_comma =
        line52(&[(0, "u2"), (23, CREATED), (51, "https://x.test/y.png")]).replace(",\n", "\n");
    let text = format!("\n{}\r\n\n{no_comma}", line52(&[(0, "u1"), (23, CREATED)]));
    let run = read_text("b.csv", &text);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let places: Vec<(u64, u64)> = run
        .users
        .iter()
        .map(|u| (u.provenance.line, u.provenance.record))
        .collect();
    assert_eq!(places, vec![(2, 1), (5, 2)]);
}

#[test]
fn email_verified_and_disabled_values() {
    let text = [
        line52(&[(0, "a"), (1, "a@x.test"), (2, "true"), (26, "true")]),
        line52(&[(0, "b"), (1, "b@x.test"), (2, "false"), (26, "false")]),
        line52(&[(0, "c"), (2, "false"), (26, "")]),
    ]
    .concat();
    let run = read_text("f.csv", &text);
    let got: Vec<(Option<bool>, bool, &str)> = run
        .users
        .iter()
        .map(|u| (u.email_verified, u.enabled, u.status.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(true), false, "disabled"),
            (Some(false), true, "active"),
            (Some(false), true, "active")
        ]
    );
}
