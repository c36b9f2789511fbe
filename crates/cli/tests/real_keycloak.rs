//! The load scenario against a REAL Keycloak, when one is configured:
//! `KEYCLOAK_URL`, `KEYCLOAK_USER`, `KEYCLOAK_PASSWORD` (e.g. `docker compose up -d` with the
//! repository's docker-compose.yml, then `KEYCLOAK_URL=http://localhost:8080
//! KEYCLOAK_USER=admin KEYCLOAK_PASSWORD=admin cargo test -p kcm-cli --test real_keycloak`).
//! Without them the test says it was skipped. It works in a throw-away realm
//! `kcm-e2e-<pid>` (created with --create-realm, deleted at the end) and never touches others.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

struct Target {
    url: String,
    user: String,
    password: String,
}

fn target() -> Option<Target> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(Target {
        url: var("KEYCLOAK_URL")?,
        user: var("KEYCLOAK_USER")?,
        password: var("KEYCLOAK_PASSWORD")?,
    })
}

fn run(t: &Target, realm: &str, args: &[&str], out: &Path) -> (i32, String) {
    let o = Command::cargo_bin("kc-migrate")
        .unwrap()
        .current_dir(repo())
        .env("KEYCLOAK_URL", &t.url)
        .env("KEYCLOAK_USER", &t.user)
        .env("KEYCLOAK_PASSWORD", &t.password)
        .args(args)
        .args(["--mapping", "mappings/okta.toml", "--realm", realm, "--out"])
        .arg(out)
        .args([
            "samples/okta/users.csv",
            "samples/okta/users-api-columns.csv",
            "samples/okta/users.json",
            "--memberships",
            "samples/okta/group-memberships.csv",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// Delete the throw-away realm with a plain admin token (best effort).
fn delete_realm(t: &Target, realm: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let base = t.url.trim_end_matches('/');
        let token: serde_json::Value = match http
            .post(format!(
                "{base}/realms/master/protocol/openid-connect/token"
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", &t.user),
                ("password", &t.password),
            ])
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => return,
        };
        if let Some(access) = token["access_token"].as_str() {
            let _ = http
                .delete(format!("{base}/admin/realms/{realm}"))
                .bearer_auth(access)
                .send()
                .await;
        }
    });
}

#[test]
fn okta_samples_load_verify_and_reload_on_a_real_keycloak() {
    let Some(t) = target() else {
        println!("skipped: KEYCLOAK_URL, KEYCLOAK_USER and KEYCLOAK_PASSWORD are not set (see docker-compose.yml)");
        return;
    };
    let realm = format!("kcm-e2e-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = run(
        &t,
        &realm,
        &["apply", "--create-realm"],
        &dir.path().join("a1"),
    );
    let result = std::panic::catch_unwind(|| {
        assert!(code == 0 || code == 1, "{text}");
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("a1/apply-report.json")).unwrap(),
        )
        .unwrap();
        let planned = report["plan"]["users_planned"].as_u64().unwrap();
        assert_eq!(
            report["apply"]["users"]["added"].as_u64().unwrap(),
            planned,
            "{text}"
        );
        let (code, text) = run(&t, &realm, &["verify", "--all"], &dir.path().join("v"));
        assert_eq!(code, 0, "{text}");
        let (_, text) = run(&t, &realm, &["apply"], &dir.path().join("a2"));
        let again: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("a2/apply-report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            again["apply"]["users"]["skipped"].as_u64().unwrap(),
            planned,
            "{text}"
        );
    });
    delete_realm(&t, &realm);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
