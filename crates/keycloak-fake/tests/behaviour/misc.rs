//! Required actions, execute-actions-email, identity providers, the standalone binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use kcm_keycloak_fake::{FakeConfig, RealmSettings};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn required_actions_list_builtin_aliases() {
    let env = start().await;
    let list = env.get("/authentication/required-actions").await.json();
    let aliases: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["alias"].as_str())
        .collect();
    for alias in [
        "VERIFY_EMAIL",
        "UPDATE_PROFILE",
        "CONFIGURE_TOTP",
        "UPDATE_PASSWORD",
        "TERMS_AND_CONDITIONS",
        "VERIFY_PROFILE",
        "delete_account",
        "webauthn-register",
    ] {
        assert!(aliases.contains(&alias), "{alias} missing");
    }
    let tac = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alias"] == "TERMS_AND_CONDITIONS")
        .unwrap();
    assert_eq!(tac["enabled"], false);
}

#[tokio::test]
async fn execute_actions_email_checks_and_records() {
    let mut mail = RealmSettings::new("mail");
    mail.smtp_configured = Some(true);
    let env = start_with(FakeConfig::default().with_realm(mail)).await;
    let no_email = env
        .create_user(json!({"username": "noemail", "enabled": true}))
        .await;
    let disabled = env
        .create_user(json!({"username": "off", "email": "off@example.com"}))
        .await;
    let fine = env
        .create_user(json!({"username": "fine", "email": "fine@example.com", "enabled": true}))
        .await;
    let path = |id: &str| format!("/users/{id}/execute-actions-email");

    let r = env.put(&path(&no_email), json!(["UPDATE_PASSWORD"])).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"errorMessage": "User email missing"}))
    );
    let r = env.put(&path(&disabled), json!(["UPDATE_PASSWORD"])).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (400, json!({"errorMessage": "User is disabled"}))
    );
    let r = env.put(&path(&fine), json!(["NOT_AN_ACTION"])).await;
    assert_eq!(
        r.json(),
        json!({"errorMessage": "Provided invalid required actions"})
    );
    let r = env.put(&path(&fine), json!(["UPDATE_PASSWORD"])).await;
    assert_eq!(r.status, 500, "no SMTP in realm acme");
    assert!(r.json()["errorMessage"]
        .as_str()
        .unwrap()
        .starts_with("Failed to send execute actions email"));
    assert!(env.fake.sent_emails(REALM).is_empty());

    let id = {
        let r = env
            .send(
                reqwest::Method::POST,
                &env.url("/admin/realms/mail/users"),
                Some(json!({"username": "fine", "email": "fine@example.com", "enabled": true})),
            )
            .await;
        r.location.unwrap().rsplit('/').next().unwrap().to_string()
    };
    let r = env
        .send(
            reqwest::Method::PUT,
            &env.url(&format!(
                "/admin/realms/mail/users/{id}/execute-actions-email?lifespan=3600"
            )),
            Some(json!(["UPDATE_PASSWORD", "VERIFY_EMAIL"])),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let sent = env.fake.sent_emails("mail");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].email, "fine@example.com");
    assert_eq!(sent[0].actions, ["UPDATE_PASSWORD", "VERIFY_EMAIL"]);
    assert_eq!(sent[0].lifespan, Some(3600));
}

#[tokio::test]
async fn identity_providers() {
    let env = start().await;
    let r = env
        .post(
            "/identity-provider/instances",
            json!({"alias": "google", "providerId": "google", "config": {"clientId": "x"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r
        .location
        .unwrap()
        .ends_with("/identity-provider/instances/google"));
    assert_eq!(
        env.post(
            "/identity-provider/instances",
            json!({"alias": "google", "providerId": "google"})
        )
        .await
        .status,
        409
    );
    let idp = env.get("/identity-provider/instances/google").await.json();
    assert_eq!(idp["providerId"], "google");
    assert_eq!(idp["enabled"], true);
    assert_eq!(
        env.get("/identity-provider/instances")
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        env.get("/identity-provider/instances/none").await.status,
        404
    );
}

#[tokio::test]
async fn standalone_binary_prints_its_url_and_serves() {
    let dir = std::env::temp_dir().join(format!("kc-fake-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pw_file = dir.join("pw");
    std::fs::write(&pw_file, "from-file\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kc-fake"))
        .args([
            "--realm",
            "acme",
            "--hash-provider",
            "pbkdf2-sha256",
            "--admin-password-file",
        ])
        .arg(&pw_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let http = client();
    let token = |pw: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            form(
                &http,
                &format!("{base}/realms/master/protocol/openid-connect/token"),
                &[
                    ("grant_type", "password"),
                    ("client_id", "admin-cli"),
                    ("username", "admin"),
                    ("password", pw),
                ],
            )
            .await
        }
    };
    assert_eq!(token("admin").await.status, 401);
    let r = token("from-file").await;
    assert_eq!(r.status, 200);
    let access = r.json()["access_token"].as_str().unwrap().to_string();
    let info = reply(
        http.get(format!("{base}/admin/serverinfo"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let providers = info.json()["providers"]["password-hashing"]["providers"].clone();
    assert_eq!(providers, json!({"pbkdf2-sha256": {"order": 0}}));
    let realm = reply(
        http.get(format!("{base}/admin/realms/acme"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(realm.status, 200);
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bodies_over_the_size_limit_are_413() {
    let env = start_with(FakeConfig {
        max_body_bytes: 2048,
        ..Default::default()
    })
    .await;
    let users: Vec<serde_json::Value> = (0..100)
        .map(|i| json!({"username": format!("user-{i}")}))
        .collect();
    let r = env.partial_import(json!({"users": users})).await;
    assert_eq!(r.status, 413);
    assert_eq!(env.fake.user_count(REALM), 0);
    assert_eq!(
        env.partial_import(json!({"users": [{"username": "small"}]}))
            .await
            .status,
        200
    );
}

#[test]
fn start_in_thread_serves_synchronous_callers_and_stops_on_drop() {
    use std::io::{Read, Write};
    let fake = kcm_keycloak_fake::FakeKeycloak::start_in_thread(FakeConfig::default()).unwrap();
    let addr = fake.base_url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /admin/serverinfo HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert_eq!(fake.stats().unauthorized, 1);
    drop(fake);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "the listener is closed after drop"
    );
}
