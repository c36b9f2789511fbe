//! The runbook's example script (docs/cutover.md, between the `runbook-script` markers) runs
//! end to end against the emulator, so the document cannot drift from the tool.

use std::path::{Path, PathBuf};

use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, RealmSettings};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn script_from_runbook() -> String {
    let doc = std::fs::read_to_string(repo().join("docs/cutover.md")).unwrap();
    let start = doc
        .find("<!-- runbook-script:start -->")
        .expect("start marker");
    let end = doc.find("<!-- runbook-script:end -->").expect("end marker");
    let block = &doc[start..end];
    let body = block.split_once("```bash\n").expect("bash block").1;
    body.rsplit_once("```")
        .expect("closing fence")
        .0
        .to_string()
}

#[test]
fn the_runbook_script_runs_end_to_end() {
    let mut realm = RealmSettings::new("acme");
    realm.smtp_configured = Some(true);
    let server = FakeKeycloak::start_in_thread(
        FakeConfig {
            admin_username: "admin".into(),
            admin_password: "runbook-pw".into(),
            ..FakeConfig::default()
        }
        .with_realm(realm),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cutover.sh");
    std::fs::write(&script, script_from_runbook()).unwrap();
    let work = dir.path().join("work");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .current_dir(repo())
        .env("KC_MIGRATE", assert_cmd::cargo::cargo_bin("kc-migrate"))
        .env("JOB", "mappings/okta.job.toml")
        .env("WORK", &work)
        .env("KEYCLOAK_URL", &server.base_url)
        .env("KEYCLOAK_USER", "admin")
        .env("KEYCLOAK_PASSWORD", "runbook-pw")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("cutover complete"), "{stderr}");

    // The rehearsal was rolled back, the cutover loaded everything once, and every user who
    // must reset got exactly one e-mail.
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.join("cutover/apply/apply-report.json")).unwrap(),
    )
    .unwrap();
    let planned = report["plan"]["users_planned"].as_u64().unwrap();
    assert_eq!(
        report["apply"]["users"]["added"].as_u64().unwrap(),
        planned,
        "the rehearsal left nothing behind"
    );
    assert_eq!(server.user_count("acme") as u64, planned);
    let eligible = server.users_due_a_reset_email("acme").len();
    assert_eq!(server.sent_emails("acme").len(), eligible);
    let verify: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(work.join("cutover/verify/verify-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(verify["missing_count"], 0);
    assert_eq!(verify["with_differences"], 0);
}
