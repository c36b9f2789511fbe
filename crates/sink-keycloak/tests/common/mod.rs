//! Shared set-up for the tests against the in-process Keycloak emulator.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, RealmSettings};
use kcm_keycloak_types::{CredentialRepresentation, UserRepresentation};
use kcm_sink_keycloak::{
    Auth, ConnectionSettings, KeycloakClient, LoadSettings, LoadTargets, RetrySettings, RoleSpec,
    TrafficSettings, UserToLoad,
};

pub const REALM: &str = "acme";
/// Canary values: none of them may appear in a journal, report, error or Debug output.
pub const ADMIN_PASSWORD: &str = "AdminPw-Canary-5150";
pub const CLIENT_SECRET: &str = "ClientSecret-Canary-8086";
/// base64("HashCanary42"), the stored hash value of every test user.
pub const HASH_CANARY: &str = "SGFzaENhbmFyeTQy";
pub const SALT_CANARY: &str = "c2FsdENhbmFyeQ==";

pub fn fake_config() -> FakeConfig {
    FakeConfig {
        admin_password: ADMIN_PASSWORD.into(),
        ..Default::default()
    }
    .with_realm(RealmSettings::new(REALM))
}

pub async fn start(config: FakeConfig) -> FakeKeycloak {
    FakeKeycloak::start(config)
        .await
        .expect("the emulator starts")
}

/// Fast settings: high rate, millisecond backoff (tests never wait seconds).
pub fn connection(fake: &FakeKeycloak, realm: &str) -> ConnectionSettings {
    let mut s = ConnectionSettings::new(
        fake.base_url.clone(),
        realm,
        Auth::Password {
            username: "admin".into(),
            password: ADMIN_PASSWORD.into(),
        },
    );
    s.request_timeout = Duration::from_secs(10);
    s.traffic = TrafficSettings {
        rate: 2_000.0,
        concurrency: 3,
        retry: RetrySettings {
            max_attempts: 10,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            seed: 11,
        },
    };
    s
}

pub async fn connect(fake: &FakeKeycloak, realm: &str) -> KeycloakClient {
    KeycloakClient::connect(connection(fake, realm))
        .await
        .expect("connects")
}

pub fn load_settings(dir: &tempfile::TempDir, name: &str, batch_size: usize) -> LoadSettings {
    let mut s = LoadSettings::new(dir.path().join(name));
    s.batch_size = batch_size;
    s.plan_fingerprint = "plan-1".into();
    s
}

pub fn username(i: usize) -> String {
    format!("user{i:05}")
}

/// A complete planned user: pre-hashed password, attribute, realm + client role, group.
pub fn user(i: usize) -> UserToLoad {
    let credential = CredentialRepresentation {
        type_: Some("password".into()),
        secret_data: Some(format!(
            r#"{{"value":"{HASH_CANARY}","salt":"{SALT_CANARY}","additionalParameters":{{}}}}"#
        )),
        credential_data: Some(
            r#"{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}"#
                .into(),
        ),
        ..Default::default()
    };
    let user = UserRepresentation {
        username: Some(username(i)),
        email: Some(format!("{}@example.com", username(i))),
        first_name: Some(format!("First{i}")),
        last_name: Some("Tester".into()),
        enabled: Some(true),
        email_verified: Some(i.is_multiple_of(2)),
        attributes: Some(BTreeMap::from([(
            "dept".to_string(),
            vec![format!("d{}", i % 3)],
        )])),
        credentials: Some(vec![credential]),
        realm_roles: Some(vec!["member".into()]),
        client_roles: Some(BTreeMap::from([(
            "billing".to_string(),
            vec!["viewer".to_string()],
        )])),
        groups: Some(vec!["/staff/eng".into()]),
        ..Default::default()
    };
    UserToLoad::new(format!("src-{i}"), user)
}

pub fn users(range: std::ops::Range<usize>) -> impl Iterator<Item = UserToLoad> + Send {
    range.map(user)
}

pub fn targets() -> LoadTargets {
    LoadTargets {
        realm_roles: vec![RoleSpec {
            name: "member".into(),
            description: Some("Migrated members".into()),
            attributes: None,
        }],
        clients: vec!["billing".into()],
        client_roles: BTreeMap::from([("billing".to_string(), vec![RoleSpec::named("viewer")])]),
        groups: vec!["/staff/eng".into()],
        attribute_names: ["dept".to_string()].into_iter().collect(),
        ..Default::default()
    }
}

pub const PARTIAL_IMPORT: &str = "/admin/realms/{realm}/partialImport";

pub fn partial_imports(fake: &FakeKeycloak) -> u64 {
    fake.stats().count("POST", PARTIAL_IMPORT)
}

/// True when `text` holds a run of 64 hex digits (the emulator's token format).
pub fn has_token_like(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run += 1;
            if run >= 64 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

pub fn assert_no_secrets(what: &str, text: &str) {
    for canary in [ADMIN_PASSWORD, CLIENT_SECRET, HASH_CANARY, SALT_CANARY] {
        assert!(
            !text.contains(canary),
            "{what} contains the canary {canary}"
        );
    }
    assert!(
        !has_token_like(text),
        "{what} contains something token-like"
    );
}
