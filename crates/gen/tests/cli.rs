//! The `kcm-gen` binary: arguments, summary line on stderr, exit codes.

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn writes_files_and_prints_a_one_line_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    Command::cargo_bin("kcm-gen")
        .unwrap()
        .args(["--provider", "auth0", "--users", "25", "--seed", "3", "--gzip", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout("")
        .stderr(
            predicate::str::is_match(
                r"^kcm-gen: 25 users \(auth0\) in [0-9.]+ s, [0-9]+ bytes: .*users\.ndjson\.gz \([0-9]+ bytes\), .*password-hashes\.ndjson \([0-9]+ bytes\), .*roles\.json \([0-9]+ bytes\)\n$",
            )
            .unwrap(),
        );
    assert!(out.join("users.ndjson.gz").is_file());
}

#[test]
fn seed_is_optional() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("kcm-gen")
        .unwrap()
        .args(["--provider", "firebase", "--users", "3", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("users.json").is_file());
}

#[test]
fn bad_arguments_exit_2() {
    Command::cargo_bin("kcm-gen")
        .unwrap()
        .args(["--provider", "ldap", "--users", "3", "--out", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'ldap'"));
    Command::cargo_bin("kcm-gen")
        .unwrap()
        .args(["--provider", "okta", "--users", "-1", "--out", "x"])
        .assert()
        .code(2);
}

#[test]
fn write_errors_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"").unwrap();
    Command::cargo_bin("kcm-gen")
        .unwrap()
        .args(["--provider", "okta", "--users", "3", "--out"])
        .arg(file.join("sub"))
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("kcm-gen: error: "));
}
