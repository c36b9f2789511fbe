//! Every input the fuzzer found a problem with, kept under `regressions/<target>/` and run
//! through its target. Inputs for bugs not fixed yet are listed in [`KNOWN_BUGS`]: the sweep
//! skips them and each has its own ignored test, so the suite stays green until the owner
//! fixes the bug and removes the `#[ignore]`.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use kcm_model::SourceItem;
use kcm_source_io::{Input, JsonRecords, ReadOptions, SourceInputs};

/// `<target>/<file>` of inputs for open bugs, with the crate that owns the fix.
const KNOWN_BUGS: &[(&str, &str)] = &[
    (
        "auth0-json/non-ascii-key-char-boundary.bin",
        "kcm-source-auth0",
    ),
    (
        "auth0-json/non-ascii-key-char-boundary-app.bin",
        "kcm-source-auth0",
    ),
    ("auth0-csv/gzip-crc-error-line-0.bin", "kcm-source-auth0"),
    (
        "okta-json/header-error-quotes-password.bin",
        "kcm-source-okta",
    ),
];

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions")
}

/// Every regression file as (`target/file`, target name, path).
fn all_files() -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(targets) = std::fs::read_dir(regressions_dir()) else {
        return out;
    };
    for dir in targets.flatten() {
        let target = dir.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            out.push((format!("{target}/{name}"), target.clone(), f.path()));
        }
    }
    out.sort();
    out
}

/// Run one regression file through its target; `Err` carries the panic message.
fn run(target: &str, path: &Path) -> Result<(), String> {
    let t = kcm_fuzz::target(target)
        .unwrap_or_else(|| panic!("regressions/{target}: no such fuzz target"));
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    panic::catch_unwind(AssertUnwindSafe(|| (t.run)(&data)))
        .map(|_| ())
        .map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
}

fn run_known(key: &str) {
    let (_, target, path) = all_files()
        .into_iter()
        .find(|(k, _, _)| k == key)
        .unwrap_or_else(|| panic!("regression file {key} is missing"));
    if let Err(msg) = run(&target, &path) {
        panic!("{key}: {msg}");
    }
}

#[test]
fn every_fixed_regression_input_passes_its_target() {
    let files = all_files();
    assert!(
        files.len() >= KNOWN_BUGS.len(),
        "the regression corpus is missing"
    );
    let mut failures = Vec::new();
    let mut ran = 0;
    for (key, target, path) in &files {
        if KNOWN_BUGS.iter().any(|(k, _)| k == key) {
            continue;
        }
        ran += 1;
        if let Err(msg) = run(target, path) {
            failures.push(format!("{key}: {msg}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {ran} regression inputs fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn known_bugs_name_existing_files() {
    let files = all_files();
    for (key, owner) in KNOWN_BUGS {
        assert!(
            files.iter().any(|(k, _, _)| k == key),
            "{key} (owner {owner}) has no file"
        );
    }
}

#[test]
fn auth0_json_non_ascii_user_metadata_key() {
    run_known("auth0-json/non-ascii-key-char-boundary.bin");
}

#[test]
fn auth0_json_non_ascii_app_metadata_key() {
    run_known("auth0-json/non-ascii-key-char-boundary-app.bin");
}

#[test]
fn auth0_csv_read_error_has_a_line() {
    run_known("auth0-csv/gzip-crc-error-line-0.bin");
}

#[test]
fn okta_header_error_does_not_quote_a_password() {
    run_known("okta-json/header-error-quotes-password.bin");
}

/// An empty element between two commas is a syntax error, not an input that ends early.
#[test]
fn json_empty_array_element_is_malformed_not_truncated() {
    let path = regressions_dir().join("json-records/empty-array-element.bin");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let input = Input::from_reader("e.json", std::io::Cursor::new(data)).unwrap();
    let file: std::sync::Arc<str> = "e.json".into();
    let reasons: Vec<String> = JsonRecords::new(input, &["users"], 1 << 20)
        .map(
            |r| match r.and_then(|raw| raw.parse::<serde_json::Value>(&file)) {
                Ok(_) => "ok".to_string(),
                Err(e) => e.reason.to_string(),
            },
        )
        .collect();
    assert_eq!(reasons, ["ok", "malformed", "ok"]);
}

/// An NDJSON line cut right after a backslash must not swallow the next line: JSON has no
/// escaped raw line break, so the string (and the record) ends there.
#[test]
fn json_cut_after_backslash_keeps_the_next_line() {
    let path = regressions_dir().join("json-records/ndjson-cut-after-backslash.bin");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let input = Input::from_reader("b.json", std::io::Cursor::new(data)).unwrap();
    let got: Vec<String> = JsonRecords::new(input, &["users"], 1 << 20)
        .map(|r| match r {
            Ok(raw) => format!("ok {}", raw.line),
            Err(e) => format!("err {}", e.provenance.line),
        })
        .collect();
    assert_eq!(got, ["ok 1", "err 2", "ok 3", "ok 4"]);
}

/// Two ordinary 28-column (firebase-tools v8.13–v15.18) lines: the first has the era's
/// undoubled inner quotes (`"Brown, Emmett "Doc""`, as in samples/firebase/users-2019.csv),
/// the second a quoted name. Each line is one account, so two users must come out.
#[test]
fn firebase_csv_undoubled_quotes_do_not_swallow_the_next_account() {
    let path = regressions_dir().join("firebase-csv/undoubled-quote-swallows-next-record.bin");
    let inputs = SourceInputs {
        users: vec![path],
        ..SourceInputs::default()
    };
    let got: Vec<String> = kcm_source_firebase::read(&inputs, &ReadOptions::default())
        .expect("readable")
        .map(|r| match r {
            Ok(SourceItem::User(u)) => format!("user {} line {}", u.source_id, u.provenance.line),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("error line {}", e.provenance.line),
        })
        .collect();
    assert_eq!(got, ["user AAA1 line 1", "user BBB2 line 2"]);
}

/// Set in the child process that runs a check which may abort the process.
const CHILD_ENV: &str = "KCM_FUZZ_REGRESSION_CHILD";

/// `verify` on an Argon2 hash asking for 2 TiB: it must refuse the parameters, not try to
/// allocate them. The allocation failure aborts the process (not a catchable panic), so the
/// check runs in a child process.
#[test]
fn verify_refuses_argon2_memory_it_cannot_allocate() {
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "child_verify_huge_argon2",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the child");
    assert!(
        out.status.success(),
        "verify aborted or failed: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child side of [`verify_refuses_argon2_memory_it_cannot_allocate`]; does nothing
/// unless started by it.
#[test]
#[ignore = "run by verify_refuses_argon2_memory_it_cannot_allocate in a child process"]
fn child_verify_huge_argon2() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let path = regressions_dir().join("password-hash/argon2-huge-memory.bin");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let hash = kcm_fuzz::hashgen::password_hash_from(&data);
    assert!(matches!(hash, kcm_model::PasswordHash::Argon2 { .. }));
    assert!(kcm_credentials::verify(&hash, b"password", None).is_err());
}

/// A users NDJSON split by size (`split -b`) gives a chunk that starts inside a record: it is
/// read as CSV and refused, and the refusal must not quote the password hash on that line.
#[test]
fn auth0_header_error_does_not_quote_a_hash() {
    let path = regressions_dir().join("auth0-json/split-chunk-header-error-quotes-hash.bin");
    let inputs = SourceInputs {
        users: vec![path],
        ..SourceInputs::default()
    };
    let shown = match kcm_source_auth0::read(&inputs, &ReadOptions::default()) {
        Err(e) => format!("{e} {e:?}"),
        Ok(stream) => stream.map(|r| format!("{r:?}")).collect(),
    };
    assert!(!shown.contains(kcm_fuzz::check::NEEDLE), "{shown}");
}
