//! `kc-migrate inspect` as a user runs it: the real binary on the bundled samples (snapshotted
//! output, exit codes, accounting) and on broken inputs (clear one-line errors, no panics).

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn kc_migrate() -> Command {
    let mut cmd = Command::cargo_bin("kc-migrate").unwrap();
    cmd.current_dir(repo()).env_remove("RUST_LOG");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = kc_migrate().args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const AUTH0: &[&str] = &[
    "inspect",
    "--source",
    "auth0",
    "samples/auth0/users.ndjson.gz",
    "samples/auth0/users.csv",
    "--hashes",
    "samples/auth0/password-hashes.ndjson",
    "--roles",
    "samples/auth0/roles.json",
];
const OKTA: &[&str] = &[
    "inspect",
    "--source",
    "okta",
    "samples/okta/users.csv",
    "samples/okta/users-api-columns.csv",
    "samples/okta/users.json",
    "--memberships",
    "samples/okta/group-memberships.csv",
];
const FIREBASE: &[&str] = &[
    "inspect",
    "--source",
    "firebase",
    "samples/firebase/users.json",
    "samples/firebase/users.csv",
    "samples/firebase/users-2019.csv",
    "samples/firebase/emulator-accounts.json",
];

/// The JSON summary's counts add up to the records read.
fn assert_accounting(args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.extend(["--output-format", "json"]);
    let r = run(&args);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json summary");
    let n = |k: &str| v[k].as_u64().unwrap();
    assert_eq!(
        n("records_read"),
        n("users") + n("roles") + n("groups") + n("memberships") + n("merged_rows") + n("rejected"),
        "{v:#}"
    );
    assert_eq!(
        r.code == 1,
        n("rejected") > 0,
        "exit code follows rejections"
    );
    v
}

#[test]
fn auth0_samples_summary() {
    let r = run(AUTH0);
    assert_eq!(
        r.code, 1,
        "the samples contain deliberately broken records: {}",
        r.stderr
    );
    insta::assert_snapshot!("auth0_samples", r.stdout);
    let v = assert_accounting(AUTH0);
    assert_eq!(v["users"], 29);
    assert_eq!(v["merged_rows"], 11);
}

#[test]
fn okta_samples_summary() {
    let r = run(OKTA);
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!("okta_samples", r.stdout);
    let v = assert_accounting(OKTA);
    assert_eq!(v["users"], 35);
    assert_eq!(
        v["password_hashes"],
        serde_json::json!({}),
        "Okta never exports hashes"
    );
}

#[test]
fn firebase_samples_summary() {
    let r = run(FIREBASE);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    insta::assert_snapshot!("firebase_samples", r.stdout);
    assert_accounting(FIREBASE);
}

#[test]
fn missing_file_is_fatal_with_one_line_naming_it() {
    let r = run(&["inspect", "--source", "okta", "samples/okta/nope.csv"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("samples/okta/nope.csv"), "{}", r.stderr);
}

#[test]
fn directory_and_utf16_inputs_are_fatal_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["inspect", "--source", "auth0", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a directory"), "{}", r.stderr);

    let utf16 = dir.path().join("users.csv");
    let text: Vec<u8> = "login,email\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    std::fs::write(&utf16, [&[0xff, 0xfe][..], &text].concat()).unwrap();
    let r = run(&["inspect", "--source", "okta", utf16.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("UTF-16") && r.stderr.contains("users.csv"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_records_are_reported_with_file_and_line_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.ndjson");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, r#"{{"user_id":"auth0|1","email":"a@example.com"}}"#).unwrap();
    writeln!(f, r#"{{"user_id":"auth0|2","email":"b@exa"#).unwrap();
    f.write_all(b"{\"user_id\":\"auth0|3\",\"name\":\"\xff\"}\n")
        .unwrap();
    // A single 5 MB line.
    writeln!(
        f,
        r#"{{"user_id":"auth0|4","pad":"{}"}}"#,
        "x".repeat(5 * 1024 * 1024)
    )
    .unwrap();
    writeln!(f, r#"{{"user_id":"auth0|5","email":"e@example.com"}}"#).unwrap();
    drop(f);
    let p = path.to_str().unwrap();
    let r = run(&["inspect", "--source", "auth0", p, "--output-format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["users"], 2);
    assert_eq!(v["rejected"], 3);
    let places: Vec<&str> = v["rejected_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["place"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = [2, 3, 4].iter().map(|l| format!("{p}:{l}")).collect();
    assert_eq!(places, expected);
    assert_eq!(v["rejected_by_reason"]["too_large"], 1);
    assert_eq!(v["rejected_by_reason"]["invalid_utf8"], 1);
}

#[test]
fn truncated_gzip_is_reported_not_a_panic() {
    use flate2::write::GzEncoder;
    let dir = tempfile::tempdir().unwrap();
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..3000 {
        writeln!(
            enc,
            r#"{{"user_id":"auth0|{i}","email":"u{i}@example.com","padding":"{}"}}"#,
            "p".repeat(40)
        )
        .unwrap();
    }
    let gz = enc.finish().unwrap();
    let path = dir.path().join("export.json"); // misleading name: gzip is detected by content
    std::fs::write(&path, &gz[..gz.len() * 2 / 3]).unwrap();
    let r = run(&[
        "inspect",
        "--source",
        "auth0",
        path.to_str().unwrap(),
        "--output-format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["users"].as_u64().unwrap() > 1000);
    assert_eq!(v["rejected_by_reason"]["truncated"], 1, "{v:#}");
}

#[test]
fn missing_required_csv_column_is_fatal_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(&path, "firstName,lastName\nAda,Lovelace\n").unwrap();
    let r = run(&["inspect", "--source", "okta", path.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("people.csv"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    assert_eq!(run(&["inspect"]).code, 2);
    assert_eq!(run(&["inspect", "--source", "ldap", "x"]).code, 2);
    let help = run(&["inspect", "--help"]);
    assert_eq!(help.code, 0);
    insta::assert_snapshot!("inspect_help", help.stdout);
}
