//! Job files through the binary: values from the file, precedence flags > environment > file,
//! paths relative to the job file, secrets refused, errors with file:line:col.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, RealmSettings};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn kc_migrate() -> Command {
    let mut cmd = Command::cargo_bin("kc-migrate").unwrap();
    cmd.current_dir(repo());
    for var in [
        "RUST_LOG",
        "KEYCLOAK_URL",
        "KEYCLOAK_REALM",
        "KEYCLOAK_USER",
        "KEYCLOAK_PASSWORD",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn realm_of(out: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    v["realm"].as_str().unwrap().to_string()
}

/// A copy of the Okta example job in a temp dir, pointing back at the repository's files, so
/// relative paths are resolved against the job file's own directory.
fn job_in(dir: &Path, extra: &str) -> PathBuf {
    let mappings = repo().join("mappings");
    let text = std::fs::read_to_string(mappings.join("okta.job.toml"))
        .unwrap()
        .replace(
            "\"okta.toml\"",
            &format!("{:?}", mappings.join("okta.toml")),
        )
        .replace("\"../samples/", &format!("\"{}/samples/", repo().display()))
        .replace("\"../kc-migrate-out/okta\"", "\"out\"");
    let path = dir.join("job.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

#[test]
fn plan_reads_everything_from_the_job_file_with_paths_relative_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "");
    let o = kc_migrate()
        .args(["plan", "--offline", "--job"])
        .arg(&job)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(realm_of(&dir.path().join("out")), "acme");
}

#[test]
fn flags_override_environment_which_overrides_the_job_file() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "");
    let out = dir.path().join("env");
    kc_migrate()
        .args(["plan", "--offline", "--job"])
        .arg(&job)
        .arg("--out")
        .arg(&out)
        .env("KEYCLOAK_REALM", "from-env")
        .assert()
        .code(1);
    assert_eq!(realm_of(&out), "from-env");
    let out = dir.path().join("flag");
    kc_migrate()
        .args(["plan", "--offline", "--realm", "from-flag", "--job"])
        .arg(&job)
        .arg("--out")
        .arg(&out)
        .env("KEYCLOAK_REALM", "from-env")
        .assert()
        .code(1);
    assert_eq!(realm_of(&out), "from-flag");
}

#[test]
fn secrets_in_a_job_file_are_refused_without_echoing_them() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "");
    let text = std::fs::read_to_string(&job).unwrap().replace(
        "username = \"admin\"",
        "username = \"admin\"\npassword = \"hunter2-canary\"",
    );
    std::fs::write(&job, text).unwrap();
    let o = kc_migrate()
        .args(["plan", "--offline", "--job"])
        .arg(&job)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("looks like a secret") && !stderr.contains("hunter2-canary"),
        "{stderr}"
    );
}

#[test]
fn unknown_keys_are_errors_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "[load]\nbatchsize = 5\n");
    let o = kc_migrate()
        .args(["plan", "--offline", "--job"])
        .arg(&job)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("job.toml:")
            && (stderr.contains("batchsize") || stderr.contains("duplicate")),
        "{stderr}"
    );
}

#[test]
fn apply_with_a_job_file_takes_the_url_from_the_environment() {
    let server = FakeKeycloak::start_in_thread(
        FakeConfig {
            admin_username: "admin".into(),
            admin_password: "job-pw".into(),
            ..FakeConfig::default()
        }
        .with_realm(RealmSettings::new("acme")),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = job_in(dir.path(), "");
    // The job names http://localhost:8080; KEYCLOAK_URL (environment) wins over the file.
    let o = kc_migrate()
        .args(["apply", "--rate", "500", "--job"])
        .arg(&job)
        .env("KEYCLOAK_URL", &server.base_url)
        .env("KEYCLOAK_PASSWORD", "job-pw")
        .output()
        .unwrap();
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/apply-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        server.user_count("acme") as u64,
        report["plan"]["users_planned"].as_u64().unwrap()
    );
}
