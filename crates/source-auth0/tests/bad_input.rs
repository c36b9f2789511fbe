//! Broken inputs: each problem is a clear record error (file, line, reason) or, for a file that
//! is not an Auth0 export at all, a fatal error naming the file. Never a panic.

mod common;

use common::*;
use kcm_model::Reason;
use kcm_source_io::{ReadOptions, SourceError, SourceInputs};

const FIVE_MB: usize = 5 * 1024 * 1024;

#[test]
fn truncated_json_array_keeps_the_users_before_the_cut() {
    let items = users_from(
        "u.json",
        "[\n{\"user_id\":\"auth0|1\"},\n{\"user_id\":\"auth0|2\",\"email\":\"b@",
    );
    assert_eq!(shape(&items), "UE");
    let e = errors(&items)[0];
    assert_eq!((e.reason, e.provenance.line), (Reason::Truncated, 3));
    assert!(e.provenance.file.ends_with("u.json"));
}

#[test]
fn truncated_gzip_is_reported_as_truncated_after_the_readable_users() {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!("{{\"user_id\":\"auth0|{i:05}\",\"email\":\"user{i}@example.com\",\"name\":\"User {i}\"}}\n"));
    }
    let zipped = gz(&text);
    let items = users_from("u.ndjson.gz", &zipped[..zipped.len() / 2]);
    let errs = errors(&items);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].reason, Reason::Truncated);
    assert!(users(&items).len() > 100);
    assert_eq!(shape(&items).chars().last(), Some('E'));

    let mut csv = String::from("user_id,email\n");
    for i in 0..3000 {
        csv.push_str(&format!("\"'auth0|{i:05}\",\"'user{i}@example.com\"\n"));
    }
    let zipped = gz(&csv);
    let items = users_from("u.csv.gz", &zipped[..zipped.len() / 2]);
    assert_eq!(
        errors(&items).last().map(|e| e.reason),
        Some(Reason::Truncated)
    );
}

#[test]
fn invalid_utf8_names_the_line_and_the_next_record_is_read() {
    let items = users_from(
        "u.ndjson",
        b"{\"user_id\":\"auth0|1\"}\n{\"user_id\":\"auth0|\xff\"}\n{\"user_id\":\"auth0|3\"}\n",
    );
    assert_eq!(shape(&items), "UEU");
    let e = errors(&items)[0];
    assert_eq!((e.reason, e.provenance.line), (Reason::InvalidUtf8, 2));

    let items = users_from(
        "u.csv",
        b"user_id,name\n\"'auth0|1\",\"'A\"\n\"'auth0|2\",\"'\xe9\"\n\"'auth0|3\",\"'C\"\n",
    );
    assert_eq!(shape(&items), "UEU");
    let e = errors(&items)[0];
    assert_eq!((e.reason, e.provenance.line), (Reason::InvalidUtf8, 3));
}

#[test]
fn a_five_megabyte_line_is_rejected_as_too_large_and_the_next_record_read() {
    let big = "x".repeat(FIVE_MB);
    let json = format!(
        "{{\"user_id\":\"auth0|big\",\"pad\":\"{big}\"}}\n{{\"user_id\":\"auth0|next\"}}\n"
    );
    let items = users_from("u.ndjson", json);
    assert_eq!(shape(&items), "EU");
    let e = errors(&items)[0];
    assert_eq!((e.reason, e.provenance.line), (Reason::TooLarge, 1));
    assert_eq!(users(&items)[0].source_id, "auth0|next");

    let csv = format!("user_id,pad\n\"'auth0|big\",\"'{big}\"\n\"'auth0|next\",x\n");
    let items = users_from("u.csv", csv);
    assert_eq!(shape(&items), "EU");
    assert_eq!(
        (errors(&items)[0].reason, errors(&items)[0].provenance.line),
        (Reason::TooLarge, 2)
    );
}

#[test]
fn the_record_size_limit_comes_from_the_options() {
    let dir = tempfile::tempdir().unwrap();
    let u = write(
        dir.path(),
        "u.ndjson",
        "{\"user_id\":\"auth0|1\",\"name\":\"a fairly long name\"}\n{\"user_id\":\"auth0|2\"}\n",
    );
    let items = run_with(
        &inputs(&[&u]),
        &ReadOptions {
            max_record_bytes: 30,
        },
    );
    assert_eq!(shape(&items), "EU");
}

#[test]
fn csv_without_a_user_id_column_is_a_clear_fatal_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "people.csv",
        "email,Given Name,Family Name\na@x.io,A,B\n",
    );
    let err = kcm_source_auth0::read(&inputs(&[&path]), &ReadOptions::default())
        .err()
        .expect("fatal");
    match &err {
        SourceError::UnknownFormat { path, why } => {
            assert!(path.ends_with("people.csv"));
            assert!(
                why.contains("`email`, `Given Name`, `Family Name`"),
                "{why}"
            );
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("people.csv"));
}

#[test]
fn binary_and_utf16_files_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let zip = write(
        dir.path(),
        "export.zip",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe\x00\x01garbage\n\x00\x00",
    );
    let err = kcm_source_auth0::read(&inputs(&[&zip]), &ReadOptions::default())
        .err()
        .expect("fatal");
    assert!(
        matches!(&err, SourceError::UnknownFormat { path, .. } if path.ends_with("export.zip")),
        "{err}"
    );
    let u16 = write(dir.path(), "u16.json", b"\xff\xfe{\x00\"\x00");
    let err = kcm_source_auth0::read(&inputs(&[&u16]), &ReadOptions::default())
        .err()
        .expect("fatal");
    assert!(err.to_string().contains("UTF-16"), "{err}");
}

#[test]
fn csv_rows_with_the_wrong_field_count_name_their_line() {
    let items = users_from("u.csv", "user_id,email\n\"'auth0|1\",\"'a@x\"\n\"'auth0|2\"\n\"'auth0|3\",\"'c@x\",extra\n\"'auth0|4\",\n");
    assert_eq!(shape(&items), "UEEU");
    let lines: Vec<_> = errors(&items)
        .iter()
        .map(|e| (e.reason, e.provenance.line, e.provenance.record))
        .collect();
    assert_eq!(
        lines,
        [(Reason::Malformed, 3, 2), (Reason::Malformed, 4, 3)]
    );
}

/// Prefixes of realistic inputs (every third cut point) and many byte-flipped variants
/// are read without panicking, in all three roles a file can have.
#[test]
fn cut_and_corrupted_inputs_never_panic() {
    let users_text = "{\"user_id\":\"auth0|1\",\"email\":\"a@x.io\",\"identities\":[{\"provider\":\"auth0\",\"user_id\":1}],\"app_metadata\":{\"roles\":[\"a\"]},\"created_at\":\"2023-01-25T17:48:14.784Z\"}\n\
                      {\"user_id\":\"samlp|c|d\",\"blocked\":\"true\",\"email_verified\":\"false\"}\n";
    let csv_text = "user_id,email,identities[0].connection,user_metadata.a.b\r\n\"'auth0|1\",\"'a@x\",\"'db\",true\r\n";
    let hash_text = format!("{{\"_id\":{{\"$oid\":\"1\"}},\"alt_id\":\"z\",\"passwordHash\":\"{BCRYPT_HELLO}\",\"identifiers\":[{{\"type\":\"email\",\"value\":\"a@x.io\"}}]}}\n");
    let roles_text = "{\"groups\":[{\"_id\":\"g\",\"name\":\"G\",\"members\":[\"auth0|1\"],\"nested\":[\"g\"]}],\"roles\":[{\"_id\":\"r\",\"name\":\"R\",\"users\":[{\"email\":\"a@x\"}]}]}";
    let dir = tempfile::tempdir().unwrap();
    // Deterministic pseudo-random flips (xorshift, fixed seed).
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut runs = 0;
    for (name, text) in [
        ("u.ndjson", users_text.as_bytes()),
        ("u.csv", csv_text.as_bytes()),
        ("h.ndjson", hash_text.as_bytes()),
        ("r.json", roles_text.as_bytes()),
    ] {
        for cut in (0..=text.len()).step_by(3) {
            let mut bytes = text[..cut].to_vec();
            if cut % 2 == 1 && !bytes.is_empty() {
                let at = (next() as usize) % bytes.len();
                bytes[at] = (next() & 0xff) as u8;
            }
            let file = write(dir.path(), name, &bytes);
            let users_file = write(dir.path(), "base.ndjson", users_text);
            let inputs = match name {
                "h.ndjson" => SourceInputs {
                    hashes: Some(file),
                    ..inputs(&[&users_file])
                },
                "r.json" => SourceInputs {
                    roles: Some(file),
                    ..inputs(&[&users_file])
                },
                _ => inputs(&[&file]),
            };
            if let Ok(stream) = kcm_source_auth0::read(&inputs, &ReadOptions::default()) {
                for item in stream {
                    if let Err(e) = item {
                        assert!(!e.to_string().contains("nFgu"), "{e}");
                    }
                }
            }
            runs += 1;
        }
    }
    assert!(runs > 200, "{runs}");
}
