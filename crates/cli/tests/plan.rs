//! `kc-migrate plan`, `export` and `check-hash` as a user runs them: the real binary on the
//! bundled samples with the bundled mappings, checking the report files, the accounting
//! identity, masking, secret hygiene and the Firebase scrypt vectors.

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
    cmd.current_dir(repo())
        .env_remove("RUST_LOG")
        .env_remove("KEYCLOAK_URL")
        .env_remove("KC_MIGRATE_WORKERS")
        .env_remove("FIREBASE_SIGNER_KEY")
        .env_remove("FIREBASE_SALT_SEPARATOR");
    cmd
}

fn samples(provider: &str) -> Vec<String> {
    let v: &[&str] = match provider {
        "auth0" => &[
            "samples/auth0/users.ndjson.gz",
            "samples/auth0/users.csv",
            "--hashes",
            "samples/auth0/password-hashes.ndjson",
            "--roles",
            "samples/auth0/roles.json",
        ],
        "okta" => &[
            "samples/okta/users.csv",
            "samples/okta/users-api-columns.csv",
            "samples/okta/users.json",
            "--memberships",
            "samples/okta/group-memberships.csv",
        ],
        _ => &[
            "samples/firebase/users.json",
            "samples/firebase/users.csv",
            "samples/firebase/users-2019.csv",
            "samples/firebase/emulator-accounts.json",
        ],
    };
    v.iter().map(|s| s.to_string()).collect()
}

/// The sample Firebase project's hash config (samples/firebase/README.md; a made-up project).
const SAMPLE_SIGNER_KEY: &str =
    "KMvhjc3QWFrDVy2DefLtNBQP/lhONzYiIyP52SdoyrI7zrJVQSyUimgV4vYobS2DurgtT0yAcjxuPqVpymjavg==";

fn plan(provider: &str, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = kc_migrate();
    cmd.args([
        "plan",
        "--mapping",
        &format!("mappings/{provider}.toml"),
        "--out",
    ])
    .arg(out)
    .args(samples(provider))
    .args(extra);
    if provider == "firebase" {
        cmd.env("FIREBASE_SIGNER_KEY", SAMPLE_SIGNER_KEY)
            .env("FIREBASE_SALT_SEPARATOR", "Bw==");
    }
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every bcrypt hash and Firebase hash/salt in the samples: none may appear in any output.
fn sample_secrets() -> Vec<String> {
    let mut secrets = Vec::new();
    let hashes =
        std::fs::read_to_string(repo().join("samples/auth0/password-hashes.ndjson")).unwrap();
    for line in hashes.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(h) = v["passwordHash"].as_str() {
            secrets.push(h.to_string());
        }
    }
    let fb = read_json(&repo().join("samples/firebase/users.json"));
    for u in fb["users"].as_array().unwrap() {
        for k in ["passwordHash", "salt"] {
            if let Some(v) = u[k].as_str().filter(|v| v.len() > 8) {
                secrets.push(v.to_string());
            }
        }
    }
    secrets.push(SAMPLE_SIGNER_KEY.to_string());
    assert!(secrets.len() > 20);
    secrets
}

fn assert_no_secrets_in(dir: &Path, also: &[&str]) {
    let secrets = sample_secrets();
    let mut texts: Vec<(String, String)> = also
        .iter()
        .map(|t| ("stdio".to_string(), t.to_string()))
        .collect();
    for entry in walk(dir) {
        texts.push((
            entry.display().to_string(),
            std::fs::read_to_string(&entry).unwrap(),
        ));
    }
    for (name, text) in &texts {
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{name} contains a secret");
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[test]
fn plan_on_each_provider_writes_balanced_reports() {
    for provider in ["auth0", "okta", "firebase"] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = plan(provider, dir.path(), &[]);
        assert!(code == 0 || code == 1, "{provider}: exit {code}: {stderr}");
        for f in ["report.md", "report.html", "report.json", "rejected.ndjson"] {
            assert!(dir.path().join(f).is_file(), "{provider}: {f} missing");
        }
        let report = read_json(&dir.path().join("report.json"));
        let acc = &report["accounting"];
        assert_eq!(acc["balanced"], true, "{provider}: {acc:#}");
        let n = |k: &str| acc[k].as_u64().unwrap();
        let rejected_lines = std::fs::read_to_string(dir.path().join("rejected.ndjson"))
            .unwrap()
            .lines()
            .count() as u64;
        assert_eq!(rejected_lines, n("rejected") + n("filtered"), "{provider}");
        assert_eq!(
            code == 1,
            n("rejected") > 0,
            "{provider}: exit code follows rejections"
        );
        assert!(stdout.contains("Records read:"), "{stdout}");
        let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
        assert!(
            !html.contains("<script") && !html.contains("src=\"http"),
            "{provider}: html not self-contained"
        );
        assert_no_secrets_in(dir.path(), &[&stdout, &stderr]);
    }
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn reports_and_exports_do_not_depend_on_the_number_of_planning_threads() {
    for provider in ["auth0", "okta", "firebase"] {
        let mut runs = Vec::new();
        // The same output path each time: it appears in the output.
        let dir = tempfile::tempdir().unwrap();
        for workers in ["0", "1", "3"] {
            let mut cmd = kc_migrate();
            cmd.env("KC_MIGRATE_WORKERS", workers)
                .args(["export", "--mapping", &format!("mappings/{provider}.toml")])
                .args(["--users-per-file", "7", "--out"])
                .arg(dir.path().join("out"))
                .args(samples(provider));
            if provider == "firebase" {
                cmd.env("FIREBASE_SIGNER_KEY", SAMPLE_SIGNER_KEY)
                    .env("FIREBASE_SALT_SEPARATOR", "Bw==");
            }
            let o = cmd.output().unwrap();
            let code = o.status.code().unwrap_or(-1);
            assert!(
                code == 0 || code == 1,
                "{provider}, {workers} workers: {o:?}"
            );
            let files = tree(&dir.path().join("out"));
            std::fs::remove_dir_all(dir.path().join("out")).unwrap();
            assert!(files.len() > 3, "{provider}: {} files", files.len());
            runs.push((workers, o.stdout, files));
        }
        let (_, stdout, files) = &runs[0];
        for (workers, other_stdout, other_files) in &runs[1..] {
            assert!(
                stdout == other_stdout,
                "{provider}, {workers} workers: stdout differs"
            );
            assert_eq!(
                files.len(),
                other_files.len(),
                "{provider}, {workers} workers"
            );
            for ((path, bytes), (other_path, other_bytes)) in files.iter().zip(other_files) {
                assert_eq!(path, other_path, "{provider}, {workers} workers");
                assert!(
                    bytes == other_bytes,
                    "{provider}, {workers} workers: {} differs",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn a_bad_number_of_planning_threads_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let o = kc_migrate()
        .env("KC_MIGRATE_WORKERS", "many")
        .args(["plan", "--mapping", "mappings/okta.toml", "--out"])
        .arg(dir.path())
        .args(samples("okta"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("KC_MIGRATE_WORKERS=\"many\""), "{stderr}");
}

#[test]
fn plan_summaries_are_stable() {
    for provider in ["auth0", "okta", "firebase"] {
        let dir = tempfile::tempdir().unwrap();
        let (_, stdout, _) = plan(provider, dir.path(), &[]);
        let stdout = stdout.replace(&dir.path().display().to_string(), "[OUT]");
        insta::assert_snapshot!(format!("plan_{provider}"), stdout);
    }
}

#[test]
fn bcrypt_carried_only_when_the_target_has_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    plan("auth0", dir.path(), &[]);
    let with = read_json(&dir.path().join("report.json"));
    let carried = &with["passwords"]["kept_by_provider"];
    assert!(carried.to_string().contains("bcrypt"), "{carried}");

    // The same plan against a target without the bcrypt plugin: everyone resets.
    let mapping = std::fs::read_to_string(repo().join("mappings/auth0.toml")).unwrap();
    let no_plugin = mapping.replace("providers = [\"bcrypt\"]", "providers = []");
    assert_ne!(mapping, no_plugin);
    let m = dir.path().join("no-bcrypt.toml");
    std::fs::write(&m, no_plugin).unwrap();
    let out = dir.path().join("without");
    let o = kc_migrate()
        .args(["plan", "--mapping"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .args(samples("auth0"))
        .output()
        .unwrap();
    assert!(
        o.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let without = read_json(&out.join("report.json"));
    assert!(!without["passwords"]["kept_by_provider"]
        .to_string()
        .contains("bcrypt"));
    assert!(
        without["passwords"]["reset_by_reason"]
            .to_string()
            .contains("no_provider"),
        "{}",
        without["passwords"]
    );
}

#[test]
fn reports_are_masked_unless_unmasked() {
    let dir = tempfile::tempdir().unwrap();
    plan("auth0", dir.path(), &[]);
    let masked = std::fs::read_to_string(dir.path().join("report.md")).unwrap()
        + &std::fs::read_to_string(dir.path().join("rejected.ndjson")).unwrap();
    assert!(
        !masked.contains("alice.martin@example.com"),
        "personal data in a masked report"
    );
    let dir2 = tempfile::tempdir().unwrap();
    plan("auth0", dir2.path(), &["--unmasked"]);
    let unmasked = std::fs::read_to_string(dir2.path().join("report.json")).unwrap();
    assert!(
        unmasked.contains("\"personal_data\": \"unmasked\""),
        "{unmasked}"
    );
}

#[test]
fn firebase_without_project_parameters_resets_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let o = kc_migrate()
        .args(["plan", "--mapping", "mappings/firebase.toml", "--out"])
        .arg(dir.path())
        .args(samples("firebase"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("FIREBASE_SIGNER_KEY"), "{stderr}");
    let report = read_json(&dir.path().join("report.json"));
    assert!(
        report["passwords"]["reset_by_reason"]
            .to_string()
            .contains("missing_firebase_params"),
        "{}",
        report["passwords"]
    );
    assert_eq!(report["accounting"]["balanced"], true);
}

#[test]
fn export_writes_kc_import_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("import");
    let o = kc_migrate()
        .args([
            "export",
            "--mapping",
            "mappings/okta.toml",
            "--users-per-file",
            "10",
            "--out",
        ])
        .arg(&out)
        .args(samples("okta"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let realm = read_json(&out.join("acme-realm.json"));
    assert_eq!(realm["realm"], "acme");
    let mut users = 0;
    for i in 0.. {
        let f = out.join(format!("acme-users-{i}.json"));
        if !f.exists() {
            break;
        }
        let v = read_json(&f);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["realm", "users"]);
        users += v["users"].as_array().unwrap().len();
    }
    let report = read_json(&out.join("report/report.json"));
    assert_eq!(
        users as u64,
        report["accounting"]["users_planned"].as_u64().unwrap()
    );
    assert!(users > 10, "split over several files");
    // A second export into the same directory is refused rather than mixing two runs.
    let again = kc_migrate()
        .args(["export", "--mapping", "mappings/okta.toml", "--out"])
        .arg(&out)
        .args(samples("okta"))
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn mapping_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("bad.toml");
    std::fs::write(
        &m,
        "source = \"okta\"\nrealm = \"acme\"\n[username]\nfrom = [\"login\"]\ncolour = 3\n",
    )
    .unwrap();
    let o = kc_migrate()
        .args(["plan", "--mapping"])
        .arg(&m)
        .arg("--out")
        .arg(dir.path().join("o"))
        .args(samples("okta"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("bad.toml:") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

/// Every Firebase scrypt vector (firebase/scrypt's own tests) through `check-hash`.
#[test]
fn check_hash_verifies_the_firebase_scrypt_vectors() {
    let data =
        read_json(&repo().join("crates/credentials/tests/data/firebase-scrypt-vectors.json"));
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for suite in data["suites"].as_array().unwrap() {
        let vectors = suite["vectors"].as_array().unwrap();
        let users: Vec<serde_json::Value> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| serde_json::json!({"localId": format!("u{i}"), "email": format!("u{i}@example.com"), "passwordHash": v["hash"], "salt": v["salt"]}))
            .collect();
        let export = dir.path().join("export.json");
        std::fs::write(
            &export,
            serde_json::to_string_pretty(&serde_json::json!({"users": users})).unwrap(),
        )
        .unwrap();
        for (i, v) in vectors.iter().enumerate() {
            let password = v["password"].as_str().unwrap();
            for (input, expect) in [(password.to_string(), 0), (format!("{password}x"), 1)] {
                let o = kc_migrate()
                    .args([
                        "check-hash",
                        "--source",
                        "firebase",
                        "--password-stdin",
                        "--user",
                        &format!("u{i}"),
                        "--input",
                    ])
                    .arg(&export)
                    .env(
                        "FIREBASE_SIGNER_KEY",
                        suite["base64_signer_key"].as_str().unwrap(),
                    )
                    .env(
                        "FIREBASE_SALT_SEPARATOR",
                        suite["base64_salt_separator"].as_str().unwrap(),
                    )
                    .env("FIREBASE_ROUNDS", suite["rounds"].to_string())
                    .env("FIREBASE_MEM_COST", suite["mem_cost"].to_string())
                    .write_stdin(format!("{input}\n"))
                    .output()
                    .unwrap();
                assert_eq!(
                    o.status.code(),
                    Some(expect),
                    "{} vector {i}: {}",
                    suite["name"],
                    String::from_utf8_lossy(&o.stderr)
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 28);
}

#[test]
fn check_hash_bcrypt_from_the_auth0_hash_export() {
    let run = |password: &str| {
        kc_migrate()
            .args([
                "check-hash",
                "--source",
                "auth0",
                "--input",
                "samples/auth0/users.ndjson.gz",
            ])
            .args([
                "--hashes",
                "samples/auth0/password-hashes.ndjson",
                "--user",
                "alice.martin@example.com",
                "--password-stdin",
            ])
            .write_stdin(format!("{password}\n"))
            .output()
            .unwrap()
    };
    assert_eq!(run("correct-horse-battery-staple").status.code(), Some(0));
    let wrong = run("Tr0ub4dor&3");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stdout).starts_with("no match"));
}

#[test]
fn check_hash_without_firebase_parameters_says_what_is_missing() {
    let o = kc_migrate()
        .args([
            "check-hash",
            "--source",
            "firebase",
            "--input",
            "samples/firebase/users.json",
            "--user",
            "x",
            "--password-stdin",
        ])
        .write_stdin("pw\n")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("FIREBASE_SIGNER_KEY"));
}
