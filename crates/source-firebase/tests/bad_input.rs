//! Broken inputs: truncated files and gzip streams, invalid UTF-8, oversized lines,
//! impossible field counts, refused side files and unopenable inputs. Never a panic, every
//! problem names its file and line, later records are still read where possible.

mod common;

use std::io::Write as _;

use common::{line52, read_bytes, read_text, try_read_files};
use kcm_model::Reason;
use kcm_source_io::{ReadOptions, SourceError, SourceInputs};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn json_users(n: usize) -> String {
    let users: Vec<String> = (0..n)
        .map(|i| format!("{{\n  \"localId\": \"u{i}\",\n  \"email\": \"u{i}@x.test\",\n  \"createdAt\": \"1708892666907\",\n  \"providerUserInfo\": []\n}}"))
        .collect();
    format!("{{\"users\": [\n{}]}}", users.join(",\n"))
}

fn csv_users(n: usize) -> String {
    (0..n)
        .map(|i| {
            line52(&[
                (0, &format!("u{i}")),
                (1, &format!("u{i}@x.test")),
                (23, "1708892666907"),
            ])
        })
        .collect()
}

#[test]
fn truncated_json_cut_mid_user_keeps_earlier_users_and_reports_the_cut() {
    let full = json_users(3);
    let cut = &full[..full.find("\"u2@x.test\"").unwrap()];
    let run = read_text("cut.json", cut);
    assert_eq!(run.ids(), vec!["u0", "u1"]);
    assert_eq!(run.errors.len(), 1);
    let e = &run.errors[0];
    assert_eq!((e.reason, e.provenance.record), (Reason::Truncated, 3));
    assert!(e.to_string().contains("cut.json:"), "{e}");
}

#[test]
fn truncated_gzip_json_and_csv_report_truncation_after_the_readable_users() {
    for (name, text) in [
        ("big.json.gz", json_users(3000)),
        ("big.csv.gz", csv_users(3000)),
    ] {
        let gz = gzip(text.as_bytes());
        let run = read_bytes(name, &gz[..gz.len() / 2]);
        assert!(run.users.len() > 100, "{name}: {}", run.users.len());
        let last = run
            .errors
            .last()
            .unwrap_or_else(|| panic!("{name}: no error"));
        assert_eq!(last.reason, Reason::Truncated, "{name}: {last}");
        assert!(last.to_string().contains(name), "{last}");
    }
}

#[test]
fn invalid_utf8_is_reported_for_its_record_and_the_rest_is_read() {
    // A Latin-1 é in a display name on line 2.
    let bad = line52(&[(0, "bad"), (5, "JosX")]).replace("JosX", "Jos\u{1}");
    let mut csv = csv_users(1).into_bytes();
    csv.extend(bad.bytes().map(|b| if b == 1 { 0xe9 } else { b }));
    csv.extend(line52(&[(0, "u2")]).bytes());
    let run = read_bytes("latin1.csv", &csv);
    assert_eq!(run.ids(), vec!["u0", "u2"]);
    let e = &run.errors[0];
    assert_eq!(
        (e.reason, e.provenance.line, e.provenance.record),
        (Reason::InvalidUtf8, 2, 2)
    );
    assert!(e.to_string().contains("latin1.csv:2"), "{e}");

    let mut json =
        b"{\"users\": [\n{\"localId\": \"a\"},\n{\"localId\": \"b\", \"displayName\": \"Jos"
            .to_vec();
    json.extend(b"\xe9\"},\n{\"localId\": \"c\"}]}");
    let run = read_bytes("latin1.json", &json);
    assert_eq!(run.ids(), vec!["a", "c"]);
    assert_eq!(
        (run.errors[0].reason, run.errors[0].provenance.line),
        (Reason::InvalidUtf8, 3)
    );
}

#[test]
fn a_5_mb_single_line_is_too_large_and_the_next_records_are_read() {
    let huge = format!(
        "u-huge,{},false,{}\n",
        "x".repeat(5 * 1024 * 1024),
        ",".repeat(50)
    );
    let csv = format!("{}{huge}{}", csv_users(1), line52(&[(0, "after")]));
    let run = read_text("huge.csv", &csv);
    assert_eq!(run.ids(), vec!["u0", "after"]);
    let e = &run.errors[0];
    assert_eq!(
        (e.reason, e.provenance.line, e.provenance.record),
        (Reason::TooLarge, 2, 2)
    );
    assert!(e.message.contains("bytes"), "{}", e.message);
    assert_eq!(run.user("after").provenance.line, 3);

    let json = format!(
        "{{\"users\": [\n{{\"localId\": \"a\"}},\n{{\"localId\": \"huge\", \"displayName\": \"{}\"}},\n{{\"localId\": \"c\"}}]}}",
        "y".repeat(5 * 1024 * 1024)
    );
    let run = read_text("huge.json", &json);
    assert_eq!(run.ids(), vec!["a", "c"]);
    assert_eq!(
        (run.errors[0].reason, run.errors[0].provenance.line),
        (Reason::TooLarge, 3)
    );
}

#[test]
fn impossible_field_count_is_a_clear_error_naming_file_and_line() {
    let csv = format!(
        "{}u-bad,a@x.test,false,,,\n{}",
        csv_users(1),
        line52(&[(0, "after")])
    );
    let run = read_text("short.csv", &csv);
    assert_eq!(run.ids(), vec!["u0", "after"]);
    let e = &run.errors[0];
    assert_eq!((e.reason, e.provenance.line), (Reason::InvalidField, 2));
    assert!(
        e.message
            .starts_with("6 fields (5 columns plus the trailing comma)"),
        "{}",
        e.message
    );
    assert!(
        e.to_string()
            .starts_with(&format!("{}:2 (record 2)", e.provenance.file)),
        "{e}"
    );
}

#[test]
fn unterminated_quote_at_the_end_of_the_file_is_truncated() {
    let csv = format!("{}u-cut,a@x.test,false,,,\"Anna\nMar", csv_users(1));
    let run = read_text("cut.csv", &csv);
    assert_eq!(run.ids(), vec!["u0"]);
    let e = &run.errors[0];
    assert_eq!((e.reason, e.provenance.line), (Reason::Truncated, 2));
    // The continuation line cannot be told from a record of its own, so it is reported too.
    let places: Vec<(Reason, u64)> = run
        .errors
        .iter()
        .map(|e| (e.reason, e.provenance.line))
        .collect();
    assert_eq!(
        places,
        vec![(Reason::Truncated, 2), (Reason::InvalidField, 3)]
    );
    assert!(
        run.errors[1].message.contains("cut short"),
        "{}",
        run.errors[1].message
    );
}

#[test]
fn seeded_garbage_never_panics_and_every_error_has_a_place() {
    // xorshift64, fixed seed: deterministic noise built from the format's own bytes.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b",,,,\"\"{}[]\\\n\r\nab1@+:truefalse \xc3\xa9\xff";
    for round in 0..40 {
        let mut data = if round % 2 == 0 {
            b"u0,".to_vec()
        } else {
            b"{\"users\": [".to_vec()
        };
        for _ in 0..2000 {
            data.push(alphabet[(next() % alphabet.len() as u64) as usize]);
        }
        let run = read_bytes(if round % 2 == 0 { "g.csv" } else { "g.json" }, &data);
        assert!(
            run.errors
                .iter()
                .all(|e| e.provenance.line >= 1 && e.provenance.record >= 1),
            "round {round}"
        );
    }
}

#[test]
fn side_files_and_empty_input_lists_are_refused_before_streaming() {
    let base = SourceInputs {
        users: vec!["u.json".into()],
        ..SourceInputs::default()
    };
    let cases = [
        (
            SourceInputs {
                roles: Some("roles.json".into()),
                ..base.clone()
            },
            "custom claims",
        ),
        (
            SourceInputs {
                memberships: Some("m.csv".into()),
                ..base.clone()
            },
            "custom claims",
        ),
        (
            SourceInputs {
                hashes: Some("h.csv".into()),
                ..base.clone()
            },
            "passwordHash",
        ),
        (SourceInputs::default(), "no user export"),
    ];
    for (inputs, needle) in cases {
        match kcm_source_firebase::read(&inputs, &ReadOptions::default()) {
            Err(SourceError::Unsupported(msg)) => assert!(msg.contains(needle), "{msg}"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("must be refused: {needle}"),
        }
    }
}

#[test]
fn unopenable_or_unrecognisable_files_fail_before_anything_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, json_users(1)).unwrap();
    let missing = dir.path().join("missing.json");
    let binary = dir.path().join("photo.png");
    std::fs::write(&binary, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").unwrap();
    let prose = dir.path().join("notes.txt");
    std::fs::write(
        &prose,
        "These are not the users you are looking for\nnope\n",
    )
    .unwrap();
    let utf16 = dir.path().join("u16.csv");
    std::fs::write(&utf16, b"\xff\xfeu\x000\x00,\x00").unwrap();
    let opts = ReadOptions::default();
    let err = try_read_files(&[good.clone(), missing.clone()], &opts).unwrap_err();
    assert!(
        matches!(err, SourceError::Open(_)) && err.to_string().contains("missing.json"),
        "{err}"
    );
    let err = try_read_files(&[binary], &opts).unwrap_err();
    assert!(
        matches!(err, SourceError::UnknownFormat { .. }) && err.to_string().contains("photo.png"),
        "{err}"
    );
    let err = try_read_files(&[prose], &opts).unwrap_err();
    assert!(
        matches!(err, SourceError::UnknownFormat { .. }) && err.to_string().contains("notes.txt"),
        "{err}"
    );
    let err = try_read_files(&[utf16], &opts).unwrap_err();
    assert!(err.to_string().contains("UTF-16"), "{err}");
    let err = try_read_files(&[dir.path().to_path_buf()], &opts).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let run = try_read_files(&[empty, good], &opts).unwrap();
    assert_eq!((run.users.len(), run.errors.len()), (1, 0));
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let run = read_bytes("export.csv", &gzip(csv_users(2).as_bytes()));
    assert_eq!(run.ids(), vec!["u0", "u1"]);
    let run = read_bytes("export.dat", &gzip(json_users(2).as_bytes()));
    assert_eq!(run.ids(), vec!["u0", "u1"]);
}
