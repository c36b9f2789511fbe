//! Broken and unusual inputs: each gives a clear error or a correct parse, never a panic.

mod common;

use std::io::Write;

use common::{fatal_for, run, run_users, users_from, Dir, Run};
use kcm_model::{Reason, RecordError};
use kcm_source_io::{ReadOptions, SourceError, SourceInputs};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[test]
fn truncated_csv_with_a_quote_never_closed_rejects_the_last_row() {
    let run = users_from(
        "cut.csv",
        "\"id\",\"login\",\"lastName\"\n\"00u1\",\"a\",\"Alpha\"\n\"00u2\",\"b\",\"Bra",
    );
    assert_eq!(run.users().len(), 1);
    let e = run.errors()[0];
    assert_eq!(
        (e.reason, e.provenance.line, e.provenance.record),
        (Reason::Truncated, 3, 2)
    );
    assert!(e.message.contains("never closed"), "{}", e.message);

    // The unclosed quote swallows the following rows into one cell: still one error.
    let run = users_from(
        "cut2.csv",
        "id,login,lastName\n00u1,a,\"Alpha\n00u2,b,Beta\n00u3,c,Gamma\n",
    );
    assert!(run.users().is_empty());
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].reason, errors[0].provenance.line),
        (Reason::Truncated, 2)
    );
}

#[test]
fn an_unclosed_quote_in_a_large_file_stops_at_the_record_limit() {
    let dir = Dir::new();
    let mut text = String::from("id,login,lastName\n00u0,first,\"Open\n");
    for i in 1..5000 {
        text.push_str(&format!("00u{i},user{i},Name{i}\n"));
    }
    let path = dir.file("big.csv", text);
    let inputs = SourceInputs {
        users: vec![path],
        ..SourceInputs::default()
    };
    let results: Vec<_> = kcm_source_okta::read(
        &inputs,
        &ReadOptions {
            max_record_bytes: 4096,
        },
    )
    .unwrap()
    .collect();
    assert_eq!(results.len(), 1, "{results:?}");
    let e = results[0].as_ref().unwrap_err();
    assert_eq!(e.reason, Reason::TooLarge);
    assert!(
        e.message.contains("larger than 4096 bytes"),
        "{}",
        e.message
    );
}

/// The users `a` and `c` are kept and `b` is rejected as not UTF-8; its error.
fn only_b_rejected_for_utf8(run: &Run) -> &RecordError {
    let logins: Vec<_> = run
        .users()
        .iter()
        .map(|u| u.username.clone().unwrap())
        .collect();
    assert_eq!(logins, ["a", "c"]);
    let e = run.errors()[0];
    assert_eq!(e.reason, Reason::InvalidUtf8);
    e
}

#[test]
fn invalid_utf8_in_a_cell_rejects_that_row_naming_line_and_column() {
    let dir = Dir::new();
    let path = dir.file(
        "latin1.csv",
        b"id,login,lastName,city\n00u1,a,Alpha,Paris\n00u2,b,\"Two\nLines\",M\xfcnchen\n00u3,c,Gamma,Rome\n".as_slice(),
    );
    let run = run_users(&[&path]);
    let e = only_b_rejected_for_utf8(&run);
    assert_eq!(
        e.provenance.line, 4,
        "the bad cell is on the line after the two-line cell"
    );
    assert!(e.message.contains("`city`"), "{}", e.message);
}

#[test]
fn a_character_split_across_two_cells_rejects_the_row() {
    // `é` is C3 A9: its halves in two cells make each cell invalid, though the cells'
    // bytes put together (what the parser hands over) are valid UTF-8.
    let dir = Dir::new();
    let path = dir.file(
        "split.csv",
        b"id,login,lastName,city\n00u1,a,Alpha,Paris\n00u2,b,Caf\xc3,\xa9Lyon\n00u3,c,Gamma,Ren\xc3\xa9s\n"
            .as_slice(),
    );
    let run = run_users(&[&path]);
    let e = only_b_rejected_for_utf8(&run);
    assert_eq!(e.provenance.line, 3);
    assert!(e.message.contains("`lastName`"), "{}", e.message);
    assert_eq!(
        run.users()[1].attributes.get("city"),
        Some(&vec!["Renés".to_string()])
    );
}

#[test]
fn a_csv_without_a_login_column_is_fatal_and_lists_the_columns() {
    let msg = fatal_for("people.csv", b"id,email,First name\n00u1,a@example.com,A\n");
    assert!(msg.contains("people.csv"), "{msg}");
    assert!(msg.contains("no login column"), "{msg}");
    assert!(msg.contains("`id`, `email`, `First name`"), "{msg}");
}

#[test]
fn duplicate_headers_are_fatal_and_named() {
    let msg = fatal_for(
        "dup.csv",
        b"login,email,Email\na,a@example.com,b@example.com\n",
    );
    assert!(msg.contains("duplicate columns"), "{msg}");
    assert!(
        msg.contains("`email` (column 2) and `Email` (column 3)"),
        "{msg}"
    );
    let msg = fatal_for("dup2.csv", b"login,Username\na,a\n");
    assert!(
        msg.contains("`login` (column 1) and `Username` (column 2)"),
        "{msg}"
    );
}

#[test]
fn an_empty_file_is_a_clear_error() {
    let msg = fatal_for("empty.csv", b"");
    assert!(msg.contains("empty.csv") && msg.contains("empty"), "{msg}");
    let msg = fatal_for("blank.csv", b"\n \r\n");
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn a_header_only_csv_and_an_empty_json_array_have_no_users() {
    assert!(users_from("h.csv", "id,login\n").results.is_empty());
    assert!(users_from("a.json", "[]").results.is_empty());
    assert!(users_from("w.json", "{\"users\": []}").results.is_empty());
}

#[test]
fn bom_and_crlf_are_read_like_plain_text() {
    let run = users_from(
        "bom.csv",
        "\u{feff}User Id,Status,Username\r\n\"00u1\",\"Active\",\"a\"\r\n\"00u2\",\"Suspended\",\"b\"\r\n",
    );
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    let a = run.user("a");
    assert_eq!(
        (a.source_id.as_str(), a.status.as_str()),
        ("00u1", "ACTIVE")
    );
    let b = run.user("b");
    assert_eq!((b.provenance.line, b.enabled), (3, false));
    let crlf = users_from(
        "crlf.csv",
        "id,login\r\n\r\n00u1,a\r\n00u2,b,extra\r\n00u3,\"multi\r\nline\"\r\n00u4,\r\n",
    );
    let lines: Vec<_> = crlf
        .results
        .iter()
        .map(|r| match r {
            Ok(item) => item.provenance().line,
            Err(e) => e.provenance.line,
        })
        .collect();
    assert_eq!(
        lines,
        [3, 4, 5, 7],
        "blank line skipped, CRLF counted once, multi-line cell spans two"
    );
    let json = users_from(
        "bom.json",
        "\u{feff}[{\"id\":\"00u1\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"a\"}}]\r\n",
    );
    assert_eq!(json.users().len(), 1);
}

#[test]
fn gzip_csv_and_json_are_read_whatever_their_names() {
    let dir = Dir::new();
    let csv = dir.file("users.csv", gzip(b"id,login\n00u1,a\n"));
    let json = dir.file(
        "users.dat",
        gzip(b"{\"id\":\"00u2\",\"status\":\"ACTIVE\",\"profile\":{\"login\":\"b\"}}\n"),
    );
    let run = run_users(&[&csv, &json]);
    let ids: Vec<_> = run.users().iter().map(|u| u.source_id.clone()).collect();
    assert_eq!(ids, ["00u1", "00u2"]);
}

#[test]
fn a_truncated_gzip_ends_with_an_error_after_the_readable_rows() {
    let mut text = String::from("id,login\n");
    for i in 0..3000 {
        text.push_str(&format!("00u{i},user{i}-{}\n", "x".repeat(40)));
    }
    let gz = gzip(text.as_bytes());
    let dir = Dir::new();
    let path = dir.file("cut.csv.gz", &gz[..gz.len() / 2]);
    let run = run_users(&[&path]);
    assert!(run.users().len() > 100);
    let last = run.results.last().unwrap().as_ref().unwrap_err();
    assert!(
        matches!(last.reason, Reason::Truncated | Reason::Io),
        "{last}"
    );
}

#[test]
fn utf16_missing_files_and_directories_are_fatal_with_the_path() {
    let msg = fatal_for("u16.csv", b"\xff\xfel\x00o\x00g\x00");
    assert!(msg.contains("UTF-16"), "{msg}");
    let dir = Dir::new();
    let missing = dir.0.path().join("nope.csv");
    let err = run(&SourceInputs {
        users: vec![missing],
        ..SourceInputs::default()
    })
    .expect_err("fatal");
    assert!(err.to_string().contains("nope.csv"), "{err}");
    let err = run(&SourceInputs {
        users: vec![dir.0.path().to_path_buf()],
        ..SourceInputs::default()
    })
    .expect_err("fatal");
    assert!(err.to_string().contains("directory"), "{err}");
}

#[test]
fn every_file_is_opened_before_streaming() {
    let dir = Dir::new();
    let good = dir.file("good.csv", "id,login\n00u1,a\n");
    let bad = dir.file("bad.csv", "foo,bar\n1,2\n");
    let err = run(&SourceInputs {
        users: vec![good, bad],
        ..SourceInputs::default()
    })
    .expect_err("the second file's header is checked up front");
    assert!(err.to_string().contains("bad.csv"), "{err}");
}

#[test]
fn roles_are_refused_with_the_reason() {
    let dir = Dir::new();
    let users = dir.file("u.csv", "login\na\n");
    let roles = dir.file("roles.json", "[]");
    let err = run(&SourceInputs {
        users: vec![users],
        roles: Some(roles),
        ..SourceInputs::default()
    })
    .expect_err("refused");
    assert!(matches!(err, SourceError::Unsupported(_)));
    assert!(
        err.to_string()
            .contains("Okta admin roles are not migrated"),
        "{err}"
    );
}

#[test]
fn binary_garbage_never_panics() {
    // A deterministic byte soup: either a fatal error or per-record errors, no panic.
    let mut state: u32 = 0x1234_5678;
    let mut bytes = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.push((state & 0xff) as u8);
    }
    for (name, head) in [
        ("g.csv", &b"login,x\n"[..]),
        ("g.json", &b"[{"[..]),
        ("g2.csv", &b""[..]),
    ] {
        let dir = Dir::new();
        let path = dir.file(name, [head, &bytes].concat());
        if let Ok(stream) = kcm_source_okta::read(
            &SourceInputs {
                users: vec![path],
                ..SourceInputs::default()
            },
            &ReadOptions::default(),
        ) {
            let results: Vec<_> = stream.collect();
            assert!(
                results.iter().any(|r| r.is_err()),
                "{name}: garbage gives errors"
            );
        }
    }
}
